"""The screens an owner lives in, walked as the user does: a new database's Today leads to
the ways of starting; the profile leads with how things stand, links its contact details and
filters its timeline; a next step logged on the profile is on Today; and at 900x600 (and
1366x768, 1600x1000) no widget of Today, its Skip and Snooze dialogs, the profile or the Log
conversation dialog sits outside its parent's visible area (nothing clipped), with the
painted Today rows' buttons inside the list."""

from __future__ import annotations

from datetime import datetime

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QLabel, QWidget

from crmcompanion.core import customer as cc
from crmcompanion.services.demo import fill_demo
from crmcompanion.services.timeline import NEXT_STEP
from crmcompanion.services.today_support import AgendaSection
from crmcompanion.ui.log_conversation import LogConversationDialog
from crmcompanion.ui.main_window import CUSTOMERS, TODAY
from tests.ui.helpers import UrlCatcher, save_shot

pytestmark = pytest.mark.clock_sensitive


def outside_parents(root: QWidget) -> list[str]:
    """Visible widgets under `root` that stick out of their parent's rectangle. The contents
    of a scroll area's viewport may be taller than the viewport (that is what scrolling is
    for), never wider: the page would be cut off or scroll sideways."""
    bad = []
    for widget in root.findChildren(QWidget):
        parent = widget.parentWidget()
        if parent is None or not widget.isVisibleTo(root) or widget.isWindow():
            continue
        holder = parent.parentWidget()
        if isinstance(holder, QAbstractScrollArea) and parent is holder.viewport():
            if widget.x() + widget.width() > parent.width() or widget.x() < 0:
                bad.append(f"{widget.objectName() or type(widget).__name__} wider than the "
                           f"visible part of {type(holder).__name__}: "
                           f"{widget.width()} > {parent.width()}")
            continue
        if not parent.rect().contains(widget.geometry()):
            name = widget.objectName() or type(widget).__name__
            text = widget.text()[:30] if hasattr(widget, "text") else ""
            bad.append(f"{name} {text!r} {widget.geometry().getRect()} outside "
                       f"{parent.objectName() or type(parent).__name__} "
                       f"{parent.rect().getRect()}")
    return bad


def settle(qtbot) -> None:
    for _ in range(3):
        QApplication.processEvents()
    qtbot.wait(20)


def today_rows_fit(today) -> list[str]:
    """The painted parts (main action, menu, links) of every Today row on screen lie inside
    the list's visible width."""
    bad = []
    viewport = today.list.viewport().rect()
    for row in range(today.model.rowCount()):
        rect = today.list.visualRect(today.model.index(row, 0))
        if not rect.intersects(viewport) or today.model.entries[row].kind != "row":
            continue
        for part in ("main", "menu", "link0", "link1"):
            where = today.list.part_rect(row, part)
            if where is not None and not (where.left() >= 0
                                          and where.right() <= viewport.right()):
                bad.append(f"row {row} {part} {where.getRect()} beyond {viewport.getRect()}")
    return bad


def test_a_new_database_opens_on_a_today_that_leads_to_starting(qtbot, make_window,
                                                                 services, tmp_path):
    window = make_window()
    today = window.today
    assert today.stack.currentWidget() is today.welcome
    buttons = [today.welcome_add.text(), today.welcome_import.text(),
               today.welcome_samples.text()]
    assert buttons == ["Add customer", "Import contacts", "Add sample customers"]
    window.resize(900, 600)
    settle(qtbot)
    assert outside_parents(window) == []
    save_shot(window, tmp_path, "today-empty-900.png")
    qtbot.mouseClick(today.welcome_samples, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: today.stack.currentWidget() is today.list)
    assert today.headers()[0] == "Today"
    assert today.rows()  # the samples bring something to do


def test_the_profile_leads_links_and_filters_and_a_next_step_is_on_today(
        qtbot, make_window, services):
    customer = services.customers.create(cc.CustomerDraft(
        first_name="Ines", last_name="Moreau", preferred_channel=cc.Channel.EMAIL,
        emails=(cc.EmailAddress("ines@example.com"),),
        address=cc.PostalAddress(street="1 Rue de la Paix", postcode="75002", city="Paris",
                           country="FR"),
    )).customer
    services.interactions.log(customer.id, "Talked about the wedding flowers", "phone",
                              datetime(2025, 11, 28, 10, 0).astimezone())
    window = make_window()
    window.open_customer(customer.id)
    detail = window.customers.detail
    activity = detail.activity
    assert activity.lead.text() == "Last contacted 93 days ago · prefers email"
    assert activity.lead.isVisible()

    # Contact details are links: mail, map.
    catcher = UrlCatcher()
    for scheme in ("mailto", "https"):
        QDesktopServices.setUrlHandler(scheme, catcher, "open")
    try:
        for label in detail.findChildren(QLabel, "contactLink"):
            qtbot.mouseClick(label, Qt.MouseButton.LeftButton, pos=QPoint(4, 8))
    finally:
        for scheme in ("mailto", "https"):
            QDesktopServices.unsetUrlHandler(scheme)
    urls = [u.toString() for u in catcher.urls]
    assert urls[0] == "mailto:ines@example.com"
    assert urls[1].startswith("https://www.openstreetmap.org/search?query=1 Rue de la Paix")
    # The country reads as its name, never as the stored ISO code.
    shown = [label.text() for label in detail.findChildren(QLabel, "contactLink")]
    assert any("75002 Paris, France" in text for text in shown), shown
    assert not any(text.rstrip("<>/a ").endswith(", FR") for text in shown), shown

    # Log conversation with a next step, from the profile.
    qtbot.mouseClick(activity.log_button, Qt.MouseButton.LeftButton)
    dialog = activity.dialog
    assert isinstance(dialog, LogConversationDialog)
    assert dialog.channel.currentText() == "Email"  # her preferred channel
    qtbot.keyClicks(dialog.summary, "Sent the flower options")
    qtbot.keyClicks(dialog.next_note, "Call about her choice")
    dialog.next_date.setDate(dialog.next_date.date().addDays(-4))  # in 3 days
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    # The timeline: newest first, with the author; the filter shows one kind.
    entries = activity.history
    assert entries[0].kind == NEXT_STEP and entries[0].text == "Call about her choice"
    assert entries[1].text == "Sent the flower options"
    assert entries[1].author == services.staff.current().name
    assert activity.history_summaries() == ["Sent the flower options",
                                            "Talked about the wedding flowers"]
    timeline = activity.timeline
    timeline.filter.setCurrentIndex(timeline.filter.findData(NEXT_STEP))
    assert [e.kind for e in activity.history] == [NEXT_STEP]
    assert activity.lead.text() == "Last contacted today · prefers email"

    # On Today, in the next 7 days, with its reason.
    window.show_section(TODAY)
    row = window.today.row_for(customer.id, AgendaSection.NEXT_7_DAYS)
    assert row is not None and row.reason == "Follow-up: Call about her choice"


@pytest.mark.parametrize("size", [(900, 600), (1366, 768), (1600, 1000)])
def test_today_profile_and_log_dialog_fit_the_window(qtbot, make_window, services, tmp_path,
                                                     size):
    fill_demo(services.db, services.clock, 200, staff_id=services.staff_id)
    window = make_window()
    window.resize(*size)
    settle(qtbot)
    assert window.today.rows()
    assert outside_parents(window) == []
    assert today_rows_fit(window.today) == []
    save_shot(window, tmp_path, f"today-{size[0]}.png")

    # The row's Skip and Snooze dialogs fit too.
    item = window.today.rows()[0].touchpoint
    for dialog in (window.today.ask_skip(item), window.today.ask_snooze_date(item)):
        qtbot.waitExposed(dialog)
        settle(qtbot)
        assert outside_parents(dialog) == []
        assert dialog.width() <= size[0] and dialog.height() <= size[1]
        dialog.reject()

    first = window.today.rows()[0].touchpoint.customer_id
    window.open_customer(first)
    settle(qtbot)
    assert window.nav.currentRow() == CUSTOMERS
    assert outside_parents(window) == []
    detail = window.customers.detail
    assert detail.width() >= 380  # room for the story, not 340 px
    save_shot(window, tmp_path, f"profile-{size[0]}.png")

    dialog = detail.activity.log_conversation()
    qtbot.waitExposed(dialog)
    settle(qtbot)
    assert outside_parents(dialog) == []
    screen = QRect(0, 0, *size)
    assert dialog.width() <= screen.width() and dialog.height() <= screen.height()
    dialog.reject()
