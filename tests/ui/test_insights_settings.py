"""The Settings dialog's Insights page (issue 16): the segment thresholds as numbers the
owner reads (days, percent, a score out of 5), saved as the registered settings, and the
segments follow them."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.segments import (
    DEFAULT_RHYTHM_DAYS,
    HAPPY_SATISFACTION_TENTHS,
    OVERDUE_FACTOR_PERCENT,
)
from tests.ui.test_settings_pages import open_settings


def test_thresholds_page_saves_and_segments_follow(qtbot, services) -> None:
    # Joined 120 days before the fixed clock, rhythm 90 days: healthy while at risk means
    # 150 % of the rhythm (135 days), at risk once it means 100 % (90 days).
    cid = services.customers.create(CustomerDraft(
        first_name="Rita", last_name="Rhythm", customer_since=date(2025, 11, 1))).customer.id
    assert services.insights.health([cid])[cid][0].value == "healthy"
    dialog = open_settings(qtbot, services)
    page = dialog.show_page("Insights")
    from crmcompanion.ui.insights_settings import InsightThresholdsSection

    [section] = page.findChildren(InsightThresholdsSection)
    rhythm = section.editors[DEFAULT_RHYTHM_DAYS.key]
    assert rhythm.text() == "90 days"
    happy = section.editors[HAPPY_SATISFACTION_TENTHS.key]
    assert happy.text().replace(",", ".") == "4.5 of 5"
    overdue = section.editors[OVERDUE_FACTOR_PERCENT.key]
    assert overdue.text() == "150 % of their rhythm"
    overdue.lineEdit().selectAll()
    qtbot.keyClicks(overdue.lineEdit(), "100")
    happy.setValue(4.0)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert services.settings.get(OVERDUE_FACTOR_PERCENT) == 100
    assert services.settings.get(DEFAULT_RHYTHM_DAYS) == 90  # untouched
    assert services.settings.get(HAPPY_SATISFACTION_TENTHS) == 40
    health = services.insights.health([cid])[cid]
    assert health[0].value == "at_risk"
    assert "(you aim for every 90 days)" in health[1]
