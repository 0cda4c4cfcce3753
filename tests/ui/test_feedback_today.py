"""The voice of the customer on Today, through the user's path: a resolved complaint's
check-back row asks "Is the customer satisfied now?" (its main action and its menu; no bare
"Mark done"), and the answer closes or reopens the complaint; a plan past its target date is
on Today with its reason."""

from __future__ import annotations

from datetime import date

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.feedback import FeedbackType
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.settings import CHECKBACK_DAYS
from crmcompanion.services.today_support import AgendaSection
from crmcompanion.ui.draft_dialog import DraftDialog
from crmcompanion.ui.feedback_checkback import QUESTION, CheckbackDialog
from crmcompanion.ui.log_conversation import LogConversationDialog
from tests.ui.helpers import click_row_part, save_shot
from tests.ui.test_today_ui import birthday_person, click, make_view, menu_action


def _resolved_complaint(services, first: str) -> tuple[int, int]:
    customer = services.customers.create(CustomerDraft(first_name=first,
                                                       last_name="Weber")).customer.id
    item = services.feedback.add(customer, "complaint", "The parcel came late").item.id
    for status in ("acknowledged", "planned", "in_progress", "resolved"):
        services.feedback.move(item, status)
    return customer, item


def _log_from_row(qtbot, view, customer: int) -> LogConversationDialog:
    """Log conversation from the customer's Today row: its main action, or its menu when
    the main action is Draft."""
    if view.list.delegate.main_text(view.entry_for(customer)) == "Log":
        click_row_part(qtbot, view, customer, "main")
    else:
        menu_action(qtbot, view, customer, "Log conversation").trigger()
    dialog = view.dialog
    assert isinstance(dialog, LogConversationDialog)
    return dialog


def _checkback_row(view, customer: int):
    item = view.row_for(customer)
    assert item is not None and item.touchpoint.occasion is Occasion.COMPLAINT_CHECKBACK
    return item


def test_checkback_row_asks_and_satisfied_closes_the_complaint(qtbot, services, tmp_path):
    services.settings.update({CHECKBACK_DAYS.key: 3})  # due within the next 7 days
    anna, item_id = _resolved_complaint(services, "Anna")
    view = make_view(qtbot, services)
    row = _checkback_row(view, anna)
    assert row.section is AgendaSection.NEXT_7_DAYS
    entry = view.entry_for(anna)
    assert view.list.delegate.main_text(entry) == "Ask"

    # The menu offers the question, never a bare "Mark done" for the check-back.
    action = menu_action(qtbot, view, anna, QUESTION[:-1])
    texts = [a.text() for a in view.menu.actions()]
    assert not [t for t in texts if t.startswith("Mark done")]
    assert "Log conversation…" in texts  # the call itself can still be logged
    view.menu.close()

    click_row_part(qtbot, view, anna, "main")
    dialog = view.dialog
    assert isinstance(dialog, CheckbackDialog)
    assert "The parcel came late" in dialog.complaint.text()
    save_shot(dialog, tmp_path, "checkback-dialog.png")
    qtbot.keyClicks(dialog.note, "All good now")
    click(qtbot, dialog.satisfied_button)

    assert services.feedback.get(item_id).item.status == "satisfied"
    qtbot.waitUntil(lambda: view.row_for(anna) is None)
    assert any("check-back: satisfied" in h.summary
               for h in services.interactions.history(anna))
    assert action is not None


def test_checkback_from_the_menu_not_satisfied_reopens(qtbot, services):
    services.settings.update({CHECKBACK_DAYS.key: 2})
    bob, item_id = _resolved_complaint(services, "Bob")
    view = make_view(qtbot, services)
    _checkback_row(view, bob)
    menu_action(qtbot, view, bob, QUESTION[:-1]).trigger()
    dialog = view.dialog
    assert isinstance(dialog, CheckbackDialog)
    click(qtbot, dialog.not_satisfied_button)
    assert services.feedback.get(item_id).item.status == "reopened"
    qtbot.waitUntil(lambda: view.row_for(bob) is None)


def test_a_late_plan_is_on_today_with_its_reason(qtbot, services):
    cleo = services.customers.create(CustomerDraft(first_name="Cleo",
                                                   last_name="Hart")).customer.id
    item = services.feedback.add(cleo, "complaint", "Booking lost").item.id
    services.feedback.move(item, "acknowledged")
    # The plan's target date was two days ago: the plan is late.
    services.feedback.move(item, "planned", goal="Rebook the table",
                           target_date=date(2026, 2, 27))
    view = make_view(qtbot, services)
    row = view.row_for(cleo)
    assert row is not None
    assert row.section is AgendaSection.CATCH_UP
    assert row.reason == "Complaint plan due: Rebook the table"
    assert [r.id for r in services.feedback.overdue_plans()] == [item]


def test_log_conversation_records_a_complaint_with_similar_ones_and_their_theme(
        qtbot, services, tmp_path):
    bob = services.customers.create(CustomerDraft(first_name="Bob",
                                                  last_name="Stone")).customer.id
    services.feedback.add(bob, "complaint", "My parcel arrived two weeks late",
                          themes=["Delivery"])
    anna = birthday_person(services, "Anna")  # her birthday is on Today
    view = make_view(qtbot, services)
    dialog = _log_from_row(qtbot, view, anna)
    capture = dialog.capture
    assert capture.isVisible() and not capture.similar.isVisible()
    qtbot.keyClicks(dialog.summary, "The parcel came late again")
    click(qtbot, capture.chips.buttons[FeedbackType.COMPLAINT])
    # Looked up off the GUI thread; Bob's complaint and its theme are offered.
    qtbot.waitUntil(lambda: bool(capture.suggestion_buttons), timeout=15000)
    assert capture.similar.isVisible()
    assert "Bob Stone" in capture.similar.item(0).text()
    save_shot(dialog, tmp_path, "log-with-complaint.png")
    # With the similar complaints shown, the dialog still fits a 900x600 screen.
    assert dialog.sizeHint().height() <= 600 and dialog.sizeHint().width() <= 900
    qtbot.waitUntil(capture.suggestion_buttons[0].isVisible)
    click(qtbot, capture.suggestion_buttons[0])
    assert capture.themes.text() == "Delivery"
    click(qtbot, dialog.save_button)
    # Saved off the GUI thread; then the dialog closes.
    qtbot.waitUntil(lambda: view.dialog is None, timeout=15000)

    complaints = services.feedback.list(customer_id=anna)
    assert [(r.kind, r.text, r.status, r.themes) for r in complaints] == [
        (FeedbackType.COMPLAINT, "The parcel came late again", "new", ("Delivery",))]
    assert [h.summary for h in services.interactions.history(anna)] == [
        "The parcel came late again"]


def test_a_feedback_chip_without_a_summary_asks_for_the_words(qtbot, services):
    anna = birthday_person(services, "Anna")
    view = make_view(qtbot, services)
    dialog = _log_from_row(qtbot, view, anna)
    click(qtbot, dialog.capture.chips.buttons[FeedbackType.PRAISE])
    click(qtbot, dialog.save_button)
    assert dialog.isVisible()
    assert dialog.error.text() == "Write what they said to save it as praise."
    assert services.interactions.history(anna) == []


def _answer_follow_ups(services, customer: int) -> list:
    return [t for t in services.touchpoints.for_customer(customer, days=30)
            if t.occasion is Occasion.FOLLOW_UP and "feedback request" in t.label]


def test_ask_for_feedback_from_a_today_row_drafts_and_leaves_a_follow_up(qtbot, services):
    anna = birthday_person(services, "Anna")
    view = make_view(qtbot, services)
    messages: list[str] = []
    view.message.connect(messages.append)
    menu_action(qtbot, view, anna, "Ask for feedback").trigger()
    dialog = view.dialog
    assert isinstance(dialog, DraftDialog)
    qtbot.waitExposed(dialog)
    assert "how things are going" in dialog.editor.draft.body
    assert [t.date for t in _answer_follow_ups(services, anna)] == [date(2026, 3, 8)]
    assert messages and "answer" in messages[-1]
    dialog.reject()


def test_ask_for_feedback_from_the_profile(qtbot, services, make_window, tmp_path):
    bob = services.customers.create(CustomerDraft(first_name="Bob",
                                                  last_name="Stone")).customer.id
    window = make_window()
    window.open_customer(bob)
    activity = window.customers.detail.activity
    click(qtbot, activity.ask_button)
    dialog = activity.dialog
    assert isinstance(dialog, DraftDialog)
    qtbot.waitExposed(dialog)
    assert "how things are going" in dialog.editor.draft.body
    assert [t.date for t in _answer_follow_ups(services, bob)] == [date(2026, 3, 8)]
    dialog.reject()
    save_shot(window, tmp_path, "profile-ask-for-feedback.png")


def test_a_checkback_beside_another_reason_is_asked_not_marked_done(qtbot, services):
    services.settings.update({CHECKBACK_DAYS.key: 1})
    anna = birthday_person(services, "Anna")  # her birthday leads her row
    item_id = services.feedback.add(anna, "complaint", "The parcel came late").item.id
    for status in ("acknowledged", "planned", "in_progress", "resolved"):
        services.feedback.move(item_id, status)
    view = make_view(qtbot, services)
    entry = view.entry_for(anna)
    assert [a.touchpoint.occasion for a in entry.also] == [Occasion.COMPLAINT_CHECKBACK]
    menu_action(qtbot, view, anna, "Mark done: Birthday")
    texts = [a.text() for a in view.menu.actions()]
    assert [t for t in texts if t.startswith("Mark done")] == [
        next(t for t in texts if t.startswith("Mark done: Birthday"))]
    ask = next(a for a in view.menu.actions() if a.text().startswith(QUESTION[:-1]))
    view.menu.close()
    ask.trigger()
    dialog = view.dialog
    assert isinstance(dialog, CheckbackDialog)
    click(qtbot, dialog.satisfied_button)
    assert services.feedback.get(item_id).item.status == "satisfied"
