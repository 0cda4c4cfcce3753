"""The customer list's cells are painted by its own delegate (ui.customer_cells), in half the
CPU of Qt's style-sheet item path, with the same pixels (issue 13: a keystroke repaints every
visible cell). Guards in pixels and in cells painted, never in time."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QStyledItemDelegate

from crmcompanion.services.demo import fill_demo
from crmcompanion.ui import style
from crmcompanion.ui.customer_cells import CustomerCellDelegate
from crmcompanion.ui.customer_model import COLUMNS, ID_ROLE, NAME, STATUS
from tests.ui.hostile import RLO_NAME, hostile_draft


def _viewport(view) -> QImage:
    return view.table.viewport().grab().toImage()


def _differing(a: QImage, b: QImage) -> int:
    assert a.size() == b.size()
    return sum(a.pixel(x, y) != b.pixel(x, y)
               for y in range(a.height()) for x in range(a.width()))


def _customers_page(qtbot, make_window, services, count: int = 60, listed: int | None = None):
    from crmcompanion.ui.main_window import CUSTOMERS

    fill_demo(services.db, services.clock, count, staff_id=services.staff_id, append=True)
    window = make_window()
    window.show_section(CUSTOMERS)
    view = window.customers
    qtbot.waitUntil(lambda: view.model.rowCount() == (listed or count))
    return window, view


@pytest.mark.parametrize("appearance", ["light", "dark"])
def test_the_list_cells_look_as_qts_own_item_path_drew_them(qtbot, qapp, make_window,
                                                            services, appearance):
    """Pixel for pixel against QStyledItemDelegate under the app's style sheet: plain,
    muted (dates, an archived customer), bold (a key account's ★ name), elided (a narrow
    column), right-to-left (Arabic, Hebrew, an unterminated override) and selected cells,
    every column shown, light and dark."""
    today = services.clock.today()
    for first, last, company in (("محمد", "العلي", "שלום בע״מ"), (RLO_NAME, "Ahmed", "Shop")):
        draft = hostile_draft(today, first=first, last=last)
        services.customers.create(type(draft)(**{**draft.__dict__, "company": company}))
    window, view = _customers_page(qtbot, make_window, services, 40, listed=42)
    first = int(view.model.index(0, NAME).data(ID_ROLE))
    services.customers.set_archived(first, True)
    view.archived_filter.setCurrentIndex(2)  # "Include archived": the archived one listed
    for column in range(len(COLUMNS)):
        view.set_column_shown(column, True)
    view.table.horizontalHeader().resizeSection(NAME, 90)  # names elided
    window.resize(2400, 1900)  # every row on screen
    style.apply_look(qapp, appearance)
    try:
        rows = [view.model.row_at(r) for r in range(view.model.rowCount())]
        assert view.table.rowViewportPosition(len(rows) - 1) < view.table.viewport().height()
        assert any(row.archived for row in rows) and any(row.key_account for row in rows)
        view.table.selectRow(1)
        view.search.setFocus()  # the focused cell is the style's to draw (its focus frame)
        qtbot.wait(20)
        assert isinstance(view.table.itemDelegate(), CustomerCellDelegate)
        view.cells.painted = 0
        ours = _viewport(view)
        assert view.cells.painted > 100  # the cells above were drawn by the list's delegate
        view.table.setItemDelegate(QStyledItemDelegate(view.table))
        stock = _viewport(view)
        assert _differing(ours, stock) == 0
    finally:
        style.apply_look(qapp, "light")


def test_a_keystroke_repaints_the_text_cells_without_qts_item_path(qtbot, make_window,
                                                                    services):
    """Each visible text cell of the new rows goes through the list's delegate (one call into
    the model a cell, not seven roles through Qt and the style sheet's item rules)."""
    _window, view = _customers_page(qtbot, make_window, services)
    view.cells.painted = 0
    qtbot.keyClicks(view.search, "a")
    view.table.viewport().repaint()
    table = view.table
    shown = [c for c in range(len(COLUMNS)) if not table.isColumnHidden(c) and c != STATUS
             and table.columnViewportPosition(c) < table.viewport().width()]
    rows = min(view.model.rowCount(), table.viewport().height() // table.rowHeight(0))
    assert rows > 5 and len(shown) > 3
    assert view.cells.painted >= rows * len(shown)
    assert table.itemDelegateForColumn(STATUS) is not view.cells  # the status pill stays
    assert view.model.index(0, NAME).data(Qt.ItemDataRole.DisplayRole)


def test_a_repaint_of_the_same_rows_measures_no_text_again(qtbot, make_window, services):
    """Eliding a cell's text measures it (~5-50 us a cell, the most of a cell's paint after
    drawing it): the elided texts are kept, so the rows a keystroke brings back and every
    repaint of the same rows (hover, scrolling back, the count arriving) draw without
    measuring; a narrower column measures again (its texts elide differently)."""
    _window, view = _customers_page(qtbot, make_window, services)
    qtbot.keyClicks(view.search, "a")
    view.table.viewport().repaint()
    assert view.cells.measured > 0
    view.cells.painted = view.cells.measured = 0
    view.table.viewport().repaint()
    assert view.cells.painted > 20 and view.cells.measured == 0
    view.table.horizontalHeader().resizeSection(NAME, 70)
    view.table.viewport().repaint()
    assert view.cells.measured > 0
