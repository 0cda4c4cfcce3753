"""The profile shows the customer's health segment (issue 16): a badge and the reasons in
words under the lead line, and it follows a conversation logged on the profile."""

from __future__ import annotations

from datetime import date

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.ui.log_conversation import LogConversationDialog
from tests.ui.helpers import save_shot
from tests.ui.test_today_ui import click


def test_profile_shows_segment_and_follows_a_logged_conversation(qtbot, services, tmp_path,
                                                                   make_window) -> None:
    # Joined a year before the fixed clock (1 March 2026), never contacted: at risk.
    anna = services.customers.create(CustomerDraft(
        first_name="Anna", last_name="Weber", customer_since=date(2025, 3, 1))).customer.id
    window = make_window()
    window.open_customer(anna)
    activity = window.customers.detail.activity
    qtbot.waitUntil(lambda: activity.segment_line.isVisible())
    assert activity.segment_badge.text() == "At risk"
    reasons = activity.segment_reasons.text()
    assert reasons.startswith("No contact in the 365 days since joining"), reasons
    assert "(you aim for every 90 days)" in reasons
    save_shot(window.customers.detail, tmp_path, "profile_segment_at_risk.png")
    from PySide6.QtWidgets import QApplication

    from crmcompanion.ui import style

    app = QApplication.instance()
    style.apply_look(app, "dark")
    try:
        window.open_customer(anna)
        qtbot.waitUntil(lambda: activity.segment_line.isVisible())
        qtbot.wait(300)  # the re-shown profile painted, for the picture only
        save_shot(window.customers.detail, tmp_path, "profile_segment_dark.png")
    finally:
        style.apply_look(app, "light")

    click(qtbot, activity.log_button)
    dialog = activity.dialog
    assert isinstance(dialog, LogConversationDialog)
    qtbot.keyClicks(dialog.summary, "Called about the spring order")
    click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: activity.segment_badge.text() == "Healthy", timeout=15000)
    assert activity.segment_reasons.text().startswith("In touch within the last")
    assert services.insights.health([anna])[anna][0].value == "healthy"


def test_yearly_value_set_on_the_profile_orders_the_at_risk(qtbot, services, make_window,
                                                            tmp_path) -> None:
    from PySide6.QtCore import Qt

    from crmcompanion.ui.yearly_value import YearlyValueDialog

    since = date(2025, 3, 1)
    first = services.customers.create(CustomerDraft(
        first_name="Abe", last_name="Able", customer_since=since)).customer.id
    second = services.customers.create(CustomerDraft(
        first_name="Zoe", last_name="Zed", customer_since=since)).customer.id
    assert [m.customer_id for m in services.insights.members("at_risk")] == [first, second]
    window = make_window()
    window.open_customer(second)
    activity = window.customers.detail.activity
    qtbot.waitUntil(lambda: activity.segment_line.isVisible())
    assert activity.value_label.text() == "No yearly value"

    click(qtbot, activity.value_button)
    dialog = activity.dialog
    assert isinstance(dialog, YearlyValueDialog)
    assert dialog.value.text() == "Not set"
    dialog.value.lineEdit().selectAll()
    qtbot.keyClicks(dialog.value.lineEdit(), "12000")
    qtbot.keyClick(dialog.value.lineEdit(), Qt.Key.Key_Tab)
    click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: activity.value_label.text().startswith("Yearly value: 12"))
    assert "000" in activity.value_label.text()  # in the locale's digits and grouping
    assert services.insights.yearly_value(second) == 12000
    # Zoe now has the most at stake: first among the at-risk customers.
    assert [m.customer_id for m in services.insights.members("at_risk")] == [second, first]
    qtbot.wait(300)  # the list's refresh re-shows the profile: let it paint for the picture
    save_shot(window.customers.detail, tmp_path, "profile_yearly_value.png")
