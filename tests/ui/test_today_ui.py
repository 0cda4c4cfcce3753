"""The Today view and the customer's history, walked as a user would: real widgets, a real
temporary SQLite database, a fixed day (Sunday 1 March 2026, see conftest). Rows are painted
by a delegate; a test clicks the painted main action, menu button and links where the user
sees them (`click_row_part`), and picks menu entries by their text."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from PySide6.QtCore import QDate, QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication

from crmcompanion.core import customer as cc
from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.core.occasions import Occasion
from crmcompanion.services.container import build_services
from crmcompanion.services.demo import fill_demo
from crmcompanion.services.today_support import AgendaSection
from crmcompanion.store import models as m
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.log_conversation import LogConversationDialog
from crmcompanion.ui.main_window import CUSTOMERS, TODAY
from crmcompanion.ui.today_view import PAGE, SkipDialog, SnoozeDialog, TodayView, when_text
from tests.ui.helpers import click_row_part, counted_statements, history_shown, save_shot

# Clock-sensitive: the Today page on a fixed day, over rows stamped with the real clock.
pytestmark = pytest.mark.clock_sensitive

TODAY_DATE = date(2026, 3, 1)


def birthday_person(services, first: str, month: int = 3, day: int = 1, year: int = 1986,
                    **kw) -> int:
    draft = CustomerDraft(
        first_name=first, last_name=kw.pop("last", "Lovelace"),
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, month, day, year),), **kw,
    )
    return services.customers.create(draft).customer.id


def click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def tick(qtbot, box) -> None:
    """Click a check box on its indicator (its middle may be past the text)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(6, box.height() // 2))


def make_view(qtbot, services) -> TodayView:
    view = TodayView(services, AppState())
    qtbot.addWidget(view)
    view.resize(1100, 760)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.ready)  # the first load runs off the GUI thread
    QApplication.processEvents()  # lay the rows out before clicking them
    return view


def menu_action(qtbot, view: TodayView, customer_id: int, *path: str):
    """Open a row's "⋯" menu with a click and find an entry by its text (through submenus)."""
    click_row_part(qtbot, view, customer_id, "menu")
    menu = view.menu
    assert menu is not None and menu.isVisible()
    action = None
    for text in path:
        action = next((a for a in menu.actions() if a.text().startswith(text)), None)
        assert action is not None, (text, [a.text() for a in menu.actions()])
        if action.menu() is not None:
            menu = action.menu()
    return action


def test_app_opens_on_today_with_a_due_birthday_done_and_in_history(qtbot, make_window,
                                                                    services):
    ada = birthday_person(services, "Ada")
    window = make_window()
    today = window.today
    assert window.pages.currentWidget() is today and window.nav.currentRow() == TODAY
    assert today.headers()[0] == "Today"

    row = today.row_for(ada, AgendaSection.TODAY)
    assert row is not None
    assert row.touchpoint.customer == "Ada Lovelace"
    assert row.reason == "Birthday: turns 40"
    assert when_text(row.touchpoint.date, today.today) == "today"
    assert today.model.section_total(AgendaSection.TODAY) == 1

    # Double-click opens the customer's page, with the birthday coming up "today".
    index = today.row_index(ada)
    rect = today.list.visualRect(today.model.index(index, 0))
    qtbot.mouseDClick(today.list.viewport(), Qt.MouseButton.LeftButton,
                      pos=QPoint(rect.left() + 80, rect.center().y()))
    assert window.nav.currentRow() == CUSTOMERS
    detail = window.customers.detail
    assert detail.isVisible() and detail.customer.id == ada
    activity = detail.activity
    assert [t.label for t in activity.upcoming][:1] == ["turns 40"]
    assert activity.history == []

    # Back on Today: Done (in the row's menu) removes the row and records it in her history.
    window.show_section(TODAY)
    menu_action(qtbot, today, ada, "Mark done").trigger()
    assert today.row_for(ada) is None
    assert today.model.section_total(AgendaSection.TODAY) == 0
    assert "Done: Ada Lovelace" in window.statusBar().currentMessage()
    # The open profile refreshed from the bus.
    assert len(activity.history) == 1
    assert activity.history[0].occasion is not None
    assert "turns 40" not in [t.label for t in activity.upcoming]
    # A new view (a restart) does not bring it back.
    assert make_view(qtbot, services).row_for(ada) is None


def test_today_leads_the_backlog_folds_into_catch_up_and_each_person_is_listed_once(
        qtbot, services):
    birthday_person(services, "Late", 2, 25)  # 4 days late: Catch up
    birthday_person(services, "Soon", 3, 4)
    birthday_person(services, "Later", 3, 20)  # beyond the week: not on Today at all
    loyal = services.customers.create(
        CustomerDraft(first_name="Loyal", customer_since=date(2016, 3, 3))).customer.id
    view = make_view(qtbot, services)
    # Loyal, a customer since 2016 with nothing logged, is due a check-in since 2016: far
    # more than a week late, so a count under Catch up, not a row at the top.
    assert view.headers() == ["Today", "Next 7 days", "Catch up"]
    texts = [(e.kind, e.text) for e in view.model.entries if e.kind in ("hint", "more")]
    assert texts == [("hint", "Nothing due today."),
                     ("more", "1 more than a week late: show all")]
    assert [(r.touchpoint.customer, r.reason) for r in view.rows(AgendaSection.NEXT_7_DAYS)] \
        == [("Loyal", "10 years as a customer"), ("Soon Lovelace", "Birthday: turns 40")]
    assert [r.touchpoint.customer for r in view.rows(AgendaSection.CATCH_UP)] == [
        "Late Lovelace"]
    assert view.model.section_total(AgendaSection.OLDER) == 1

    # "Show all": the old check-in joins Loyal's row as a second reason, not a second row.
    more = next(i for i, e in enumerate(view.model.entries) if e.kind == "more")
    rect = view.list.visualRect(view.model.index(more, 0))
    qtbot.mouseClick(view.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(rect.left() + 30, rect.center().y()))
    assert view.model.show_all
    assert [r.touchpoint.customer_id for r in view.rows()].count(loyal) == 1
    entry = view.entry_for(loyal)
    assert [a.reason for a in entry.also] == ["Keep in touch: never contacted"]
    # Its menu can mark either done.
    texts = [a.text() for a in view.build_menu(entry).actions()]
    assert "Mark done: Keep in touch: never contacted" in texts


def test_snooze_tomorrow_hides_until_that_day(qtbot, services):
    ada = birthday_person(services, "Ada")
    view = make_view(qtbot, services)
    menu_action(qtbot, view, ada, "Snooze", "Until tomorrow").trigger()
    assert view.row_for(ada) is None

    # Still hidden on a new view the same day; back (in Catch up) tomorrow.
    assert make_view(qtbot, services).row_for(ada) is None
    later = build_services(services.db, FixedClock(datetime(2026, 3, 2, 9)))
    tomorrow_view = make_view(qtbot, later)
    back = tomorrow_view.row_for(ada, AgendaSection.CATCH_UP)
    assert back is not None and when_text(back.touchpoint.date, date(2026, 3, 2)) == \
        "yesterday"


def test_snooze_pick_a_date_is_limited_and_hides_until_then(qtbot, services):
    ada = birthday_person(services, "Ada")
    view = make_view(qtbot, services)
    menu_action(qtbot, view, ada, "Snooze", "Pick a date").trigger()
    dialog = view.dialog
    assert isinstance(dialog, SnoozeDialog)
    # A birthday leaves the overdue list 30 days after its date: no later snooze is offered.
    assert dialog.date_edit.maximumDate() == QDate(2026, 3, 31)
    assert dialog.date_edit.minimumDate() == QDate(2026, 3, 2)
    dialog.date_edit.setDate(QDate(2026, 3, 5))
    click(qtbot, dialog.ok_button)
    assert view.row_for(ada) is None
    on_4th = build_services(services.db, FixedClock(datetime(2026, 3, 4, 9)))
    assert make_view(qtbot, on_4th).row_for(ada) is None
    on_5th = build_services(services.db, FixedClock(datetime(2026, 3, 5, 9)))
    assert make_view(qtbot, on_5th).row_for(ada, AgendaSection.CATCH_UP) is not None


def test_snooze_menu_shows_what_the_service_would_refuse_disabled(qtbot, services):
    old = birthday_person(services, "Old", 2, 1)  # 28 days late: 2 days of snooze left
    view = make_view(qtbot, services)
    view.show_all()
    QApplication.processEvents()
    assert view.row_for(old, AgendaSection.OLDER) is not None
    tomorrow = menu_action(qtbot, view, old, "Snooze", "Until tomorrow")
    week = menu_action(qtbot, view, old, "Snooze", "For a week")
    assert tomorrow.isEnabled() and tomorrow.isVisible()
    assert not week.isEnabled() and week.isVisible()  # shown, disabled, with the reason
    assert "skip it instead" in week.toolTip()


def test_skip_asks_a_reason_and_keeps_it(qtbot, services):
    ada = birthday_person(services, "Ada")
    view = make_view(qtbot, services)
    menu_action(qtbot, view, ada, "Skip").trigger()
    dialog = view.dialog
    assert isinstance(dialog, SkipDialog) and dialog.isVisible()
    qtbot.keyClicks(dialog.reason, "Saw her at the market yesterday")
    click(qtbot, dialog.skip_button)
    assert view.dialog is None
    assert view.row_for(ada) is None
    with services.db.read() as session:
        record = session.query(m.TouchpointRecord).filter_by(customer_id=ada).one()
        assert (record.state, record.reason) == ("skipped", "Saw her at the market yesterday")


def test_keep_in_touch_main_action_logs_with_the_preferred_channel(qtbot, services):
    abe = services.customers.create(CustomerDraft(
        first_name="Abe", customer_since=date(2025, 11, 20),
        preferred_channel=cc.Channel.PHONE)).customer.id
    services.interactions.log(abe, "Quoted the spring order", "email",
                              datetime(2025, 11, 28, 10).astimezone())
    view = make_view(qtbot, services)
    row = view.row_for(abe, AgendaSection.CATCH_UP)
    assert row is not None and row.reason.startswith("Keep in touch: last contact")
    assert row.glance.last_summary == "Quoted the spring order"
    assert view.list.delegate.main_text(view.entry_for(abe)) == "Log"

    click_row_part(qtbot, view, abe, "main")
    dialog = view.dialog
    assert isinstance(dialog, LogConversationDialog)
    assert dialog.when.dateTime().toPython().date() == TODAY_DATE
    assert dialog.channel.currentText() == "Phone call"  # the customer's preferred channel
    assert not dialog.mark_done.isVisible()  # any conversation answers keep-in-touch
    qtbot.keyClicks(dialog.summary, "Phoned about the spring order")
    click(qtbot, dialog.save_button)
    assert view.row_for(abe) is None
    history = services.interactions.history(abe)
    assert (history[0].summary, history[0].channel.value, history[0].staff_id) == (
        "Phoned about the spring order", "phone", services.staff_id)


def test_logging_from_a_birthday_row_offers_to_mark_it_done(qtbot, services):
    ada = birthday_person(services, "Ada")
    view = make_view(qtbot, services)
    click_row_part(qtbot, view, ada, "main")  # no greetings feature here: Log
    dialog = view.dialog
    assert dialog.mark_done.isVisible() and dialog.mark_done.isChecked()
    assert "Birthday: turns 40" in dialog.mark_done.text()
    qtbot.keyClicks(dialog.summary, "Called to wish her a happy birthday")
    click(qtbot, dialog.save_button)
    assert view.row_for(ada) is None  # not left overdue
    [entry] = services.interactions.history(ada)
    assert entry.summary == "Called to wish her a happy birthday"
    assert entry.occasion is Occasion.BIRTHDAY


def test_a_next_step_becomes_a_follow_up_on_today(qtbot, services):
    cal = services.customers.create(CustomerDraft(first_name="Cal")).customer.id
    services.interactions.log(cal, "First visit", "in_person")
    view = make_view(qtbot, services)
    assert view.row_for(cal) is None
    dialog = LogConversationDialog(services.interactions, services.clock, cal, "Cal",
                                   touchpoints=services.touchpoints)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.summary, "Wants a quote for the shelves")
    qtbot.keyClicks(dialog.next_note, "Send the quote")
    assert dialog.next_step.isChecked()  # typing a next step asks for one
    dialog.next_date.setDate(QDate(2026, 3, 3))
    click(qtbot, dialog.save_button)
    assert not dialog.isVisible()
    view.refresh()
    row = view.row_for(cal, AgendaSection.NEXT_7_DAYS)
    assert row is not None and row.reason == "Follow-up: Send the quote"
    assert row.touchpoint.date == date(2026, 3, 3)
    assert view.list.delegate.main_text(view.entry_for(cal)) == "Log"


def test_contact_links_open_mail_and_phone(qtbot, services):
    from PySide6.QtGui import QDesktopServices

    from tests.ui.helpers import UrlCatcher

    draft = CustomerDraft(first_name="Dee", emails=(cc.EmailAddress("dee@example.com"),),
                          phones=(cc.PhoneNumber("+33123456789"),),
                          special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 3, 1, 1990),))
    dee = services.customers.create(draft).customer.id
    view = make_view(qtbot, services)
    # The first rows come with the number as stored; formatted a moment later, off the GUI
    # thread (loading the phone library would delay the first rows by ~0.25 s).
    qtbot.waitUntil(lambda: view.model.formatted)
    assert view.row_for(dee).glance.phone == "+33 1 23 45 67 89"
    catcher = UrlCatcher()
    for scheme in ("mailto", "tel"):
        QDesktopServices.setUrlHandler(scheme, catcher, "open")
    try:
        click_row_part(qtbot, view, dee, "link0")
        click_row_part(qtbot, view, dee, "link1")
    finally:
        for scheme in ("mailto", "tel"):
            QDesktopServices.unsetUrlHandler(scheme)
    assert [u.toString() for u in catcher.urls] == ["mailto:dee@example.com",
                                                     "tel:+33123456789"]


def test_log_conversation_from_the_customer_page_shows_newest_first(qtbot, make_window,
                                                                   services):
    ada = birthday_person(services, "Ada", 7, 7)
    services.interactions.log(ada, "Met at the fair", "in_person",
                              datetime(2026, 2, 1, 15, 0).astimezone())
    window = make_window()
    window.open_customer(ada)
    activity = window.customers.detail.activity
    assert activity.history_summaries() == ["Met at the fair"]
    click(qtbot, activity.log_button)
    dialog = activity.dialog
    assert isinstance(dialog, LogConversationDialog)
    qtbot.keyClicks(dialog.summary, "Asked about gift wrapping")
    click(qtbot, dialog.save_button)
    assert activity.history_summaries() == ["Asked about gift wrapping", "Met at the fair"]
    shown = history_shown(activity)
    assert shown.index("Asked about gift wrapping") < shown.index("Met at the fair")


def test_log_conversation_rejects_an_unknown_customer_in_the_dialog(qtbot, services):
    dialog = LogConversationDialog(services.interactions, services.clock, 999, "Ghost")
    qtbot.addWidget(dialog)
    dialog.show()
    click(qtbot, dialog.save_button)
    assert dialog.logged is None and dialog.isVisible()
    assert "does not exist" in dialog.error.text() and dialog.error.isVisible()


def test_reach_out_settings_do_not_contact_and_opt_out(qtbot, make_window, services):
    ada = birthday_person(services, "Ada")
    window = make_window()
    assert window.today.row_for(ada) is not None
    window.open_customer(ada)
    activity = window.customers.detail.activity
    click(qtbot, activity.settings_button)
    dialog = activity.dialog
    assert next(iter(dialog.occasion_boxes)) is Occasion.BIRTHDAY
    tick(qtbot, dialog.occasion_boxes[Occasion.BIRTHDAY])
    tick(qtbot, dialog.own_cadence)
    dialog.cadence.setValue(14)
    click(qtbot, dialog.save_button)
    assert window.today.row_for(ada) is None
    assert services.touchpoints.opt_outs(ada) == frozenset({Occasion.BIRTHDAY})
    click(qtbot, activity.settings_button)
    dialog = activity.dialog
    assert dialog.own_cadence.isChecked() and dialog.cadence.value() == 14
    assert not dialog.occasion_boxes[Occasion.BIRTHDAY].isChecked()
    tick(qtbot, dialog.do_not_contact)
    click(qtbot, dialog.save_button)
    assert services.touchpoints.for_customer(ada) == []
    assert window.today.row_for(ada) is None


def test_draft_greeting_hook(qtbot, services):
    ada = birthday_person(services, "Ada")
    view = make_view(qtbot, services)
    asked = []
    # Until a greetings feature takes the hook, a birthday's main action is Log.
    assert view.list.delegate.main_text(view.entry_for(ada)) == "Log"
    view.draft_requested.connect(asked.append)
    view.enable_drafts()
    assert view.list.delegate.main_text(view.entry_for(ada)) == "Draft"
    click_row_part(qtbot, view, ada, "main")
    assert [(t.customer_id, t.label) for t in asked] == [(ada, "turns 40")]


def test_on_demo_data_today_leads_and_only_the_rows_on_screen_are_built(qtbot, make_window,
                                                                        services, tmp_path):
    fill_demo(services.db, services.clock, 400, staff_id=services.staff_id)
    window = make_window()
    window.resize(900, 600)
    today = window.today
    QApplication.processEvents()
    entries = today.model.entries
    assert entries[0].kind == "header" and entries[0].text == "Today"
    assert entries[1].section is AgendaSection.TODAY and entries[1].kind == "row"
    total = sum(today.model.counts.totals.values())
    assert total > 3 * PAGE
    # Only what the screen needs was read and built: one page, not the whole list.
    assert len(today.rows()) <= PAGE
    # Scrolling to the end fetches the next page, with a bounded number of statements.
    with counted_statements(services) as statements:
        today.list.scrollToBottom()
        QApplication.processEvents()
    assert PAGE < len(today.rows()) <= 3 * PAGE
    assert 0 < len(statements) <= 12 * 2, statements
    # Each customer once.
    ids = [r.touchpoint.customer_id for r in today.rows()]
    assert len(ids) == len(set(ids))
    save_shot(window, tmp_path, "today-900.png")


def test_first_load_runs_off_the_gui_thread_with_a_loading_state(qtbot, services, tmp_path):
    """Today is the first page: its first read (which may recompute the derived touchpoint
    tables after a bulk load) must neither delay the first paint nor freeze the window.
    Here a second program holds the write lock, so the load's recompute has to wait."""
    import sqlite3

    ada = birthday_person(services, "Ada")  # leaves the derived rows stale until read
    lock = sqlite3.connect(services.db.info.path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        view = TodayView(services, AppState())
        qtbot.addWidget(view)
        # Nothing was read while building the page: it starts in its loading state.
        assert not view.ready and view.stack.currentWidget() is view.loading_label
        view.resize(1100, 760)
        view.show()
        qtbot.waitExposed(view)
        qtbot.waitUntil(lambda: view.loading)
        ticks: list[int] = []
        timer = QTimer(view)
        timer.timeout.connect(lambda: ticks.append(1))
        timer.start(20)
        qtbot.wait(400)  # the GUI thread keeps running while the load waits for the lock
        assert len(ticks) >= 5 and view.loading and not view.ready
        assert view.loading_label.isVisible()
        save_shot(view, tmp_path, "today-loading.png")
        view.refresh()  # a change published meanwhile is redone after the load, not raced
        assert view.loading and not view.ready
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    with qtbot.waitSignal(view.loaded, timeout=15_000):
        pass
    qtbot.waitUntil(lambda: not view.loading)
    assert view.row_for(ada, AgendaSection.TODAY) is not None
    assert view.stack.currentWidget() is view.list


def test_when_text_counts_days_late_not_years():
    today = date(2026, 11, 22)
    assert when_text(date(2026, 11, 22), today) == "today"
    assert when_text(date(2026, 11, 23), today) == "tomorrow"
    assert when_text(date(2026, 11, 21), today) == "yesterday"
    assert when_text(date(2026, 11, 18), today).startswith("4 days late, ")
    assert when_text(date(2026, 11, 25), today).startswith("in 3 days, ")


def test_the_keyboard_reaches_a_rows_main_action(qtbot, services):
    abe = services.customers.create(CustomerDraft(
        first_name="Abe", customer_since=date(2025, 11, 25))).customer.id
    view = make_view(qtbot, services)
    row = view.row_index(abe)
    assert row >= 0
    view.list.setFocus()
    view.list.setCurrentIndex(view.model.index(row, 0))
    qtbot.keyClick(view.list, Qt.Key.Key_Return)
    dialog = view.dialog
    assert isinstance(dialog, LogConversationDialog) and dialog.customer_id == abe
    dialog.reject()
