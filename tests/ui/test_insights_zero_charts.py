"""Insights on a new, empty book (issue: "Customers by segment" and "Touchpoints done on time,
late, missed" drew a row of 0s with their labels, the segment chart still inviting "Click a
bar", and a click on a 0 bar's label opened an empty Customers list): a chart whose every
bar is 0 says in words what is missing, offers no bar to click, and the satisfaction chart's
note waits for ratings; "Why customers stay" says there are no customers yet instead of a
table of 0s and dashes. With customers the bars come back and are clicked as before."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from crmcompanion.services.changes import Changed
from crmcompanion.services.demo import fill_demo
from crmcompanion.ui.insights import (
    NO_CUSTOMERS_STAY_TEXT,
    NO_CUSTOMERS_TEXT,
    NO_TOUCHPOINTS_TEXT,
)
from tests.ui.helpers import save_shot
from tests.ui.test_insights_ui import _open_insights


def _click_everywhere(qtbot, chart) -> None:
    """Click across the chart's width, over its bars' and its labels' heights."""
    for x in range(8, chart.width(), 24):
        for y in (chart.height() // 2, chart.height() - 30, chart.height() - 10):
            qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=QPoint(x, y))


def test_zero_charts_say_so_and_offer_no_bars(qtbot, make_window, services,
                                               tmp_path: Path) -> None:
    window = make_window()
    window.resize(900, 600)
    view = _open_insights(qtbot, window)
    QApplication.processEvents()
    segments = view.segments_chart
    touchpoints = view.cards["touchpoints"].chart
    assert segments.empty_text == NO_CUSTOMERS_TEXT
    assert touchpoints.empty_text == NO_TOUCHPOINTS_TEXT
    for chart in (segments, touchpoints):
        assert not chart.has_figures()
        assert chart.bar_rect(0).isEmpty()
    assert segments.toolTip() == ""
    assert view.cards["satisfaction_by_month"].note.isHidden()
    # "Why customers stay" on no customer: one sentence, not a table of 0s and dashes.
    assert not view.why_comparison.isVisible()
    assert view.why_stay.chart.empty_text == NO_CUSTOMERS_STAY_TEXT
    assert view.why_stay.note.isHidden()
    save_shot(window, tmp_path, "insights_empty.png")
    with qtbot.assertNotEmitted(segments.bar_clicked):
        _click_everywhere(qtbot, segments)
    assert window.pages.currentWidget() is view  # no empty Customers list opened

    fill_demo(services.db, services.clock, 300)
    with qtbot.waitSignal(view.loaded, timeout=60_000):
        window.bus.publish(Changed(customer_list=True))
    assert segments.has_figures() and not segments.bar_rect(0).isEmpty()
    assert segments.toolTip() == "Click a bar to see those customers"
    assert view.why_comparison.isVisible()
    assert view.why_comparison.lines()[0][1] != "0"  # the happiest are counted
    with qtbot.waitSignal(segments.bar_clicked):
        qtbot.mouseClick(segments, Qt.MouseButton.LeftButton,
                         pos=segments.bar_rect(1).center().toPoint())
