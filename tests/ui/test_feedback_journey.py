"""The voice of the customer's whole loop, as the owner walks it (issue 15's end-to-end
test): log a conversation with a complaint on the profile, plan it and resolve it on
Feedback & ideas, answer the check-back "satisfied" from Today, and see each step on the
customer's timeline, with the feedback icons and kind filters."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.feedback import FeedbackType
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.settings import CHECKBACK_DAYS
from crmcompanion.services.feedback_timeline import FEEDBACK, FEEDBACK_STEP
from crmcompanion.services.timeline import OCCASION
from crmcompanion.ui.feedback_checkback import CheckbackDialog
from crmcompanion.ui.log_conversation import LogConversationDialog
from crmcompanion.ui.main_window import FEEDBACK as FEEDBACK_SECTION
from crmcompanion.ui.main_window import TODAY
from crmcompanion.ui.timeline import heading, icon_for
from tests.ui.helpers import click_row_part, save_shot
from tests.ui.test_today_ui import click


def _button(qtbot, panel, text: str):
    qtbot.waitUntil(lambda: any(b.text() == text for b in panel.action_buttons.values()))
    return next(b for b in panel.action_buttons.values() if b.text() == text)


def test_complaint_logged_planned_resolved_and_checked_back_is_told_on_the_timeline(
        qtbot, services, make_window, tmp_path):
    services.settings.update({CHECKBACK_DAYS.key: 3})  # the check-back within a week
    anna = services.customers.create(CustomerDraft(first_name="Anna",
                                                   last_name="Weber")).customer.id
    window = make_window()

    # 1. On her profile: log the conversation, with what she said as a complaint.
    window.open_customer(anna)
    activity = window.customers.detail.activity
    click(qtbot, activity.log_button)
    dialog = activity.dialog
    assert isinstance(dialog, LogConversationDialog)
    qtbot.keyClicks(dialog.summary, "The parcel came late again")
    click(qtbot, dialog.capture.chips.buttons[FeedbackType.COMPLAINT])
    qtbot.keyClicks(dialog.capture.themes, "Delivery")
    click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: any(e.kind == FEEDBACK for e in activity.history), timeout=15000)
    [item] = services.feedback.list(customer_id=anna)
    assert (item.kind, item.status, item.themes) == (FeedbackType.COMPLAINT, "new",
                                                    ("Delivery",))

    # 2. On Feedback & ideas: acknowledge, agree a plan, work on it, resolve it.
    window.show_section(FEEDBACK_SECTION)
    page = window.feedback_page
    qtbot.waitUntil(lambda: page.ready and bool(page.complaints.records))
    assert page.complaints.select(item.id)
    panel = page.complaints.panel
    click(qtbot, _button(qtbot, panel, "Acknowledge"))
    qtbot.keyClicks(panel.goal, "Deliver by courier on Friday")
    panel.has_target.setChecked(True)
    panel.target.setDate(QDate(2026, 3, 6))
    click(qtbot, _button(qtbot, panel, "Agree a plan"))
    click(qtbot, _button(qtbot, panel, "Start work"))
    click(qtbot, _button(qtbot, panel, "Resolve"))
    assert services.feedback.get(item.id).item.status == "resolved"

    # 3. On Today: the check-back row asks, and she is satisfied.
    window.show_section(TODAY)
    today = window.today
    qtbot.waitUntil(lambda: today.ready and today.row_for(anna) is not None)
    row = today.row_for(anna)
    assert row.touchpoint.occasion is Occasion.COMPLAINT_CHECKBACK
    assert row.touchpoint.date == date(2026, 3, 4)
    click_row_part(qtbot, today, anna, "main")
    answer = today.dialog
    assert isinstance(answer, CheckbackDialog)
    click(qtbot, answer.satisfied_button)
    assert services.feedback.get(item.id).item.status == "satisfied"
    qtbot.waitUntil(lambda: today.row_for(anna) is None)

    # 4. Her timeline tells the story, newest first, each with its icon.
    window.open_customer(anna)
    activity = window.customers.detail.activity
    qtbot.waitUntil(lambda: any("satisfied" in e.text for e in activity.history))
    save_shot(window, tmp_path, "timeline-complaint-journey.png")
    texts = [e.text for e in activity.history]
    story = ["The parcel came late again", "Complaint: The parcel came late again",
             "Complaint acknowledged", "Complaint planned: Deliver by courier on Friday",
             "Complaint in progress",
             "Complaint resolved", "Complaint check-back: satisfied", "Complaint satisfied"]
    for step in story:
        assert any(t.startswith(step) for t in texts), (step, texts)
    positions = {step: next(i for i, t in enumerate(texts) if t.startswith(step))
                 for step in ("Complaint acknowledged", "Complaint planned",
                              "Complaint in progress", "Complaint resolved")}
    # Newest first: resolved above in progress above planned above acknowledged.
    assert (positions["Complaint resolved"] < positions["Complaint in progress"]
            < positions["Complaint planned"] < positions["Complaint acknowledged"])
    icons = {e.kind: icon_for(e) for e in activity.history}
    assert icons[FEEDBACK] == "“" and icons[FEEDBACK_STEP] == "↻"
    step = next(e for e in activity.history if e.kind == FEEDBACK_STEP)
    assert "Progress" in heading(step, activity.timeline.model.titles)

    # The filter offers the feedback kinds and shows only them.
    timeline = activity.timeline
    assert timeline.filter.findData(FEEDBACK) >= 0
    timeline.filter.setCurrentIndex(timeline.filter.findData(FEEDBACK_STEP))
    kinds = {e.kind for e in activity.history}
    assert kinds == {FEEDBACK_STEP}
    timeline.filter.setCurrentIndex(timeline.filter.findData(FEEDBACK))
    assert [e.text for e in activity.history] == ["Complaint: The parcel came late again"]
    timeline.filter.setCurrentIndex(timeline.filter.findData(OCCASION))
    assert any(e.text.startswith("Complaint check-back: satisfied")
               for e in activity.history)
