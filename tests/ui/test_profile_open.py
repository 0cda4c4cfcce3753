"""Opening a profile does the least the first screen needs (issue 15: a customer with 2,000
timeline entries, first screen <= 100 ms): the profile is loaded once, the timeline reads its
newest page and counts the rest in SQL, and the panel's widgets are refilled in place, not
rebuilt. Guarded by what runs (statements, widgets), never by a timing."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import ClassVar

import shiboken6
from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from sqlalchemy import event

from crmcompanion.core import customer as c
from crmcompanion.services.container import Services
from crmcompanion.services.interactions import add_interaction
from crmcompanion.ui import timeline as timeline_ui
from crmcompanion.ui.timeline import PAGE
from tests.ui.helpers import add_customer

ENTRIES = 200


@contextmanager
def statements(services: Services, thread: threading.Thread | None = None,
               ) -> Iterator[list[tuple[str, object]]]:
    """Every SQL statement run (on either engine) inside the block (by `thread` only, when
    given)."""
    seen: list[tuple[str, object]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: object,
               *_rest: object) -> None:
        if thread is None or threading.current_thread() is thread:
            seen.append((" ".join(statement.split()), parameters))

    engines = {services.db.read_engine, services.db.write_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def with_history(services: Services, first: str, last: str, entries: int = ENTRIES) -> int:
    customer = add_customer(services, first, last)
    start = (services.clock.now() - timedelta(days=entries)).astimezone()
    with services.db.write() as session:
        for n in range(entries):
            add_interaction(session, customer_id=customer.id, summary=f"Talk {n:03d}",
                            when=start + timedelta(days=n), channel=None,
                            staff_id=services.staff_id)
    return customer.id


def test_opening_a_customer_loads_the_profile_once_and_reads_one_page(
        qtbot, services, make_window) -> None:
    busy = with_history(services, "Hilde", "Lang")
    other = with_history(services, "Ada", "Berg", 3)
    window = make_window()
    window.open_customer(other)
    activity = window.customers.detail.activity
    # Its segment brought up to date off the GUI thread: done before the statements count.
    qtbot.waitUntil(lambda: activity._segment_task is None or activity._segment_task.done)
    QApplication.processEvents()
    with statements(services) as seen:
        window.open_customer(busy)  # what a click on Today or in a reminder does
        QApplication.processEvents()
    assert activity.customer_id == busy
    newest = [f"Talk {ENTRIES - 1:03d}", f"Talk {ENTRIES - 2:03d}"]
    assert activity.history_summaries()[:2] == newest
    pages = [(s, p) for s, p in seen
             if s.startswith("SELECT interactions.id") and "ORDER BY" in s]
    # Once: selecting the row in the list after the profile opened does not load it again.
    assert len(pages) == 1, [s for s, _ in pages]
    # The newest page (and one more row, to know whether older ones exist), never all of them.
    statement, parameters = pages[0]
    assert "LIMIT" in statement
    assert PAGE < max(v for v in _values(parameters) if isinstance(v, int)
                      and v != busy) <= PAGE + 2
    counts = [s for s, _ in seen if re.match(r"SELECT count\(\*\) .*FROM interactions", s)]
    assert len(counts) == 1  # "Show older (170 more)" counted by the database
    assert activity.older_button.text() == f"Show older ({ENTRIES - PAGE} more)"
    # The customer record (with its e-mails, phones, tags...) read once for the profile.
    emails = [s for s, _ in seen if s.startswith("SELECT customer_emails.")]
    assert len(emails) == 1, emails


def _values(parameters: object) -> list[object]:
    if isinstance(parameters, dict):
        return list(parameters.values())
    if isinstance(parameters, list | tuple):
        return list(parameters)
    return [parameters]


class StyleEvents(QObject):
    """Counts the polish and style-change events of widgets inside one panel."""

    def __init__(self, panel: QWidget) -> None:
        super().__init__()
        self.panel = panel
        self.seen: list[str] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Polish, QEvent.Type.StyleChange) and isinstance(
                watched, QWidget) and self.panel.isAncestorOf(watched):
            self.seen.append(f"{type(watched).__name__} {watched.objectName()!r}")
        return False


def widgets_of(panel: QWidget) -> set[int]:
    return {shiboken6.getCppPointer(w)[0] for w in panel.findChildren(QWidget)}


def test_switching_profiles_refills_the_panel_without_building_or_polishing(
        qtbot, services, make_window) -> None:
    rich = services.customers.create(c.CustomerDraft(
        first_name="Ilse", last_name="Brandt", company="Brandt Blumen",
        emails=(c.EmailAddress("ilse@example.org"), c.EmailAddress("shop@example.org", "work")),
        phones=(c.PhoneNumber("+4930123456"),),
        address=c.PostalAddress("Hauptstraße 1", "Berlin", "", "10115", "DE"),
        tags=("VIP", "Wedding"), key_account=True, customer_since=date(2019, 5, 2),
        special_dates=(c.SpecialDate(c.SpecialDateKind.BIRTHDAY, 3, 14, 1980),),
        notes="Likes white lilies")).customer
    plain = add_customer(services, "Otto", "Lenz")
    with_history(services, "Hilde", "Lang", 40)
    window = make_window()
    detail = window.customers.detail

    def settle() -> None:  # the segment brought up to date off the GUI thread, shown
        qtbot.waitUntil(lambda: detail.activity._segment_task is None
                        or detail.activity._segment_task.done)
        QApplication.processEvents()

    for customer_id in (rich.id, plain.id, rich.id):  # every part has been needed once
        window.open_customer(customer_id)
        settle()
    built = widgets_of(detail)
    events = StyleEvents(detail)
    QApplication.instance().installEventFilter(events)
    try:
        for customer_id in (plain.id, rich.id, plain.id):
            window.open_customer(customer_id)
            settle()
            assert detail.customer is not None and detail.customer.id == customer_id
    finally:
        QApplication.instance().removeEventFilter(events)
    assert widgets_of(detail) == built  # the same widgets, none built or deleted
    assert events.seen == []  # and no style sheet applied again
    # What the user sees is the customer shown, nothing left over from the one before.
    texts = [label.text() for label in detail.findChildren(QLabel)]
    assert not any("lilies" in t or "ilse@example.org" in t or "Brandt" in t for t in texts)
    shown = [label.text() for label in detail.findChildren(QLabel) if label.isVisible()]
    assert "Otto Lenz" in shown and "No contact details yet." in shown
    assert "★ Key account" not in shown and "Active" in shown
    window.open_customer(rich.id)
    QApplication.processEvents()
    shown = [label.text() for label in detail.findChildren(QLabel) if label.isVisible()]
    assert {"Ilse Brandt", "Likes white lilies", "★ Key account", "TAGS", "NOTES"} <= set(shown)
    links = [label.text() for label in detail.findChildren(QLabel, "contactLink")
             if label.isVisible()]
    assert len(links) == 4 and any("mailto:shop@example.org" in link for link in links)


def test_another_customer_opens_at_the_top_the_same_one_stays_put(
        qtbot, services, make_window) -> None:
    """The panel's widgets are kept, so its scroll position would be too: another customer
    starts at the name, as when the panel was rebuilt."""
    first = with_history(services, "Hilde", "Lang", 40)
    second = with_history(services, "Ada", "Berg", 40)
    window = make_window()
    window.resize(1000, 600)
    window.open_customer(first)
    QApplication.processEvents()
    bar = window.customers.detail._scroll.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum())
    read_to = bar.value()
    window.customers.open_customer(first)  # shown again (after an edit): where it was
    QApplication.processEvents()
    assert bar.value() == read_to > 0  # (the page may have grown below it meanwhile)
    window.open_customer(second)
    QApplication.processEvents()
    assert bar.value() == 0


class CountingMetrics(QFontMetrics):
    """QFontMetrics that counts the texts it wraps (`boundingRect` with a rectangle)."""

    wrapped: ClassVar[list[str]] = []

    def boundingRect(self, *args: object) -> QRect:  # type: ignore[override]
        if len(args) == 3:
            CountingMetrics.wrapped.append(str(args[2]))
        return super().boundingRect(*args)  # type: ignore[call-overload]


def test_the_timeline_wraps_each_entry_of_its_page_once(
        qtbot, services, make_window, monkeypatch) -> None:
    """Issue 13 (`timeline_ms`): each entry of the newest page is wrapped once for its height
    (heading and text), whether the list's height, its layout or a paint asks; painting
    wraps nothing again, and an older entry is wrapped only once shown."""
    busy = with_history(services, "Hilde", "Lang")
    # Long enough for the profile's scroll bar too: the list keeps its width.
    other = with_history(services, "Ada", "Berg", 40)
    window = make_window()
    window.resize(1600, 1000)
    window.open_customer(other)
    QApplication.processEvents()
    monkeypatch.setattr(timeline_ui, "QFontMetrics", CountingMetrics)
    CountingMetrics.wrapped = []
    window.open_customer(busy)
    QApplication.processEvents()
    timeline = window.customers.detail.activity.timeline
    painted = [row for row in range(timeline.model.rowCount())
               if timeline.list.visualRect(timeline.model.index(row)).intersects(
                   timeline.list.rect())]
    detail = window.customers.detail
    detail._scroll.ensureWidgetVisible(timeline.list, 0, 0)
    timeline.list.repaint()  # its entries painted (offscreen, at once)
    QApplication.processEvents()
    assert painted and timeline.model.rowCount() == PAGE
    texts = [f"Talk {n:03d}" for n in range(ENTRIES - PAGE, ENTRIES)]
    assert sorted(t for t in CountingMetrics.wrapped if t.startswith("Talk")) == texts
    assert len(CountingMetrics.wrapped) == 2 * PAGE  # one heading and one text each


def test_the_timeline_follows_a_font_change(qtbot, services, make_window) -> None:
    """Heights are kept per entry: a larger font wraps them again, taller."""
    busy = with_history(services, "Hilde", "Lang", 40)
    window = make_window()
    window.open_customer(busy)
    QApplication.processEvents()
    listed = window.customers.detail.activity.timeline.list
    before = listed.height()
    font = listed.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    listed.setFont(font)
    QApplication.processEvents()
    assert listed.height() > before * 1.3


def test_scrolling_to_the_oldest_entry(qtbot, services, make_window) -> None:
    """The owner's path through a long history: open the customer, "Show older" until there
    is no more, scroll the profile to its end and read the oldest conversation there. The
    entries are rows of one list: the 200 of them build no widget of their own."""
    busy = with_history(services, "Hilde", "Lang")
    window = make_window()
    window.resize(1000, 600)
    window.open_customer(busy)
    QApplication.processEvents()
    detail = window.customers.detail
    timeline = detail.activity.timeline
    # The segment badge is built when its segment first arrives (off the GUI thread).
    activity = detail.activity
    qtbot.waitUntil(lambda: activity._segment_task is None or activity._segment_task.done)
    QApplication.processEvents()
    widgets = len(detail.findChildren(QWidget))
    while timeline.older_button.isVisible():
        qtbot.mouseClick(timeline.older_button, Qt.MouseButton.LeftButton)
        QApplication.processEvents()
    assert timeline.model.rowCount() == ENTRIES == timeline.model.total
    assert len(detail.findChildren(QWidget)) == widgets
    bar = detail._scroll.verticalScrollBar()
    bar.setValue(bar.maximum())
    QApplication.processEvents()
    oldest = timeline.model.index(ENTRIES - 1)
    assert timeline.model.data(oldest, Qt.ItemDataRole.DisplayRole).endswith("Talk 000")
    viewport = detail._scroll.viewport()
    rect = timeline.list.visualRect(oldest)
    top_left = timeline.list.viewport().mapTo(viewport, rect.topLeft())
    bottom_right = timeline.list.viewport().mapTo(viewport, rect.bottomRight())
    assert viewport.rect().contains(top_left) and viewport.rect().contains(bottom_right)
    # It is painted there: the list's picture of that row is not blank.
    image = timeline.list.viewport().grab(rect).toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 3)
               for y in range(0, image.height(), 3)}
    assert len(colours) > 2


def test_opening_a_customer_listed_in_a_page_read_counts_no_rows(
        qtbot, services, make_window) -> None:
    """Opening a customer (Today, a reminder) selects their row in the list; when a page
    already read holds it, that page gives its row: no count of the customers before it
    (a count over the sort index, ~11 ms at 100,000 customers, on every open)."""
    first = with_history(services, "Hilde", "Lang", 3)
    second = with_history(services, "Ada", "Berg", 3)
    window = make_window()
    window.open_customer(first)
    QApplication.processEvents()
    with statements(services) as seen:
        window.open_customer(second)
        QApplication.processEvents()
    # (The list's own total may be counted meanwhile, on its thread: not a position.)
    ahead = [s for s, _ in seen if re.match(r"SELECT count\(\*\) .*FROM customers", s)
             and re.search(r"customers\.id\) [<>]", s)]
    assert ahead == [], ahead
    table = window.customers.table
    selected = [index.row() for index in table.selectionModel().selectedRows()]
    assert len(selected) == 1
    name = window.customers.model.index(selected[0], 0).data()
    assert name == "Ada Berg" == window.customers.detail.customer.display_name


def test_the_lead_and_segment_lines_come_from_one_read(qtbot, services, make_window) -> None:
    """Under the name, what the profile knows at once (the last contact, do not contact,
    the stored segment and the yearly value) is one statement on the GUI thread, not four
    reads (the touchpoint preferences, the glance, the stored health, the yearly value)."""
    busy = with_history(services, "Hilde", "Lang", 5)
    other = with_history(services, "Ada", "Berg", 3)
    services.insights.set_yearly_value(busy, 1200)
    services.touchpoints.set_do_not_contact(busy, True)
    window = make_window()
    activity = window.customers.detail.activity

    def settle() -> None:  # the segments brought up to date off the GUI thread, stored
        qtbot.waitUntil(lambda: activity._segment_task is None or activity._segment_task.done)
        QApplication.processEvents()

    for customer_id in (busy, other):
        window.open_customer(customer_id)
        settle()
    with statements(services, threading.current_thread()) as seen:
        window.open_customer(busy)
    read_by_gui = [s for s, _ in seen]
    lines = [s for s in read_by_gui if "FROM customers LEFT OUTER JOIN contact_rhythm" in s]
    assert len(lines) == 1 and "customer_health" in lines[0], lines
    assert not [s for s in read_by_gui if s.startswith(("SELECT touchpoint_opt_outs.",
                                                        "SELECT customer_health."))]
    # What the owner sees, before the segment's refresh comes back.
    assert activity.segment_line.isVisibleTo(window)
    assert activity.value_label.text() == "Yearly value: 1,200"
    assert "Do not contact: no reminders for this customer." in activity.upcoming_lines()
    assert activity.lead.text().startswith("Last contacted")
    settle()
