"""Export customers… on a 600 px high screen (issue: its 25 column check boxes ran in four
columns of 180 px in a 620 px dialog, so the list scrolled sideways and "UID", "Segment" and
"Segment reasons" were cut to "UI", "Se"): every column's name is in view, whole, with no
scroll bar; and when a search lists no one the dialog says so and Export is disabled
instead of offering "The 0 customers listed now"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionButton

from crmcompanion.core.csv_export import COLUMNS
from crmcompanion.ui.main_window import CUSTOMERS
from tests.ui.helpers import add_customer, save_shot
from tests.ui.test_export_dialog import open_export


def test_every_column_name_is_in_view_and_whole(qtbot, make_window, services,
                                               tmp_path: Path) -> None:
    add_customer(services, "Anna", "Weber")
    window = make_window()
    window.resize(900, 600)
    dialog = open_export(qtbot, window)
    dialog.resize(dialog.width(), 600)  # what a 900x600 screen leaves it
    QApplication.processEvents()
    save_shot(dialog, tmp_path, "export_900x600.png")
    box = dialog.columns_list
    assert box.count() == len(COLUMNS)
    assert dialog.width() <= 900 and dialog.height() <= 600
    assert box.horizontalScrollBar().maximum() == 0
    assert box.verticalScrollBar().maximum() == 0
    option = QStyleOptionButton()
    check = box.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth, option, box)
    metrics = box.fontMetrics()
    view = box.viewport().rect()
    for row in range(box.count()):
        item = box.item(row)
        rect = box.visualItemRect(item)
        assert view.contains(rect), (item.text(), rect, view)
        # The name and its check box fit the item's cell, not cut with "…".
        assert check + metrics.horizontalAdvance(item.text()) < rect.width(), item.text()


def test_a_search_that_lists_no_one_offers_no_export(qtbot, make_window, services) -> None:
    add_customer(services, "Anna", "Weber")
    window = make_window()
    window.show_section(CUSTOMERS)
    view = window.customers
    qtbot.keyClicks(view.search, "Zebedee")
    qtbot.waitUntil(lambda: view.model.count() == 0)
    dialog = open_export(qtbot, window)
    assert "0 customers" not in dialog.listed_radio.text()
    assert dialog.listed_radio.text() == ("No customers listed now (with the current search "
                                          "and filters)")
    assert not dialog.export_button.isEnabled()
    assert dialog.export_button.toolTip() == "No customers are listed: nothing to export"
