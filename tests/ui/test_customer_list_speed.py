"""The customer list does as little as it can per keystroke and per paint (issue 13).

Guards counted in work done (pages read, statements run), never in time."""

from __future__ import annotations

from PySide6.QtCore import Qt

from crmcompanion.services.demo import fill_demo
from crmcompanion.ui.customer_model import NAME, CustomerTableModel


def test_roles_the_list_never_sets_are_answered_without_reading_a_row(qapp, services):
    """Painting a cell asks for seven roles; four (decoration, alignment, check state,
    background) are never set by this model and must not look the row up."""
    fill_demo(services.db, services.clock, 30, staff_id=services.staff_id)
    model = CustomerTableModel(services.customers)
    index = model.index(0, NAME)
    for role in (Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.TextAlignmentRole,
                 Qt.ItemDataRole.CheckStateRole, Qt.ItemDataRole.BackgroundRole):
        assert index.data(role) is None
    assert model.fetches == 0
    assert index.data(Qt.ItemDataRole.DisplayRole)  # the name: now the page is read
    assert model.fetches == 1


def test_a_keystroke_reads_the_list_once_and_painting_its_rows_reads_nothing(
        qtbot, make_window, services):
    """Issue 13: a keystroke counted its matches in one read, then the paint read the first
    page in another (and that page its plan's population again). Now the count and the first
    page come back together from one read transaction, and the repaint that shows them reads
    nothing more."""
    from crmcompanion.ui.main_window import CUSTOMERS
    from tests.ui.helpers import counted_statements

    fill_demo(services.db, services.clock, 120, staff_id=services.staff_id)
    window = make_window()
    window.show_section(CUSTOMERS)
    view = window.customers
    qtbot.waitUntil(lambda: view.model.rowCount() == 120)
    for typed in ("a", "an", "e"):  # many matches, a few, every customer
        view.search.clear()
        view.model.fetches = 0
        with counted_statements(services) as statements:
            qtbot.keyClicks(view.search, typed)  # one keystroke per letter
            view.table.viewport().repaint()  # the rows the user sees, painted now
        assert view.model.index(0, NAME).data(), typed
        begins = [s for s in statements if s.strip().upper().startswith("BEGIN")]
        assert len(begins) == len(typed), (typed, statements)  # one read a keystroke
        assert view.model.fetches == len(typed)  # each first page came with its count


def test_a_space_or_full_stop_after_a_word_reads_nothing_and_keeps_the_list(
        qtbot, make_window, services):
    """Issue 13: "sofia " searches what "sofia" searches (the words are the same), yet each
    such keystroke counted and read the list again and reset the view. Now nothing is read,
    and the rows, the selection and the scroll position stay; the next letter searches."""
    from crmcompanion.ui.main_window import CUSTOMERS
    from tests.ui.helpers import counted_statements

    fill_demo(services.db, services.clock, 120, staff_id=services.staff_id)
    window = make_window()
    window.show_section(CUSTOMERS)
    view = window.customers
    qtbot.waitUntil(lambda: view.model.rowCount() == 120)
    qtbot.keyClicks(view.search, "a")
    shown = view.model.rowCount()
    assert 0 < shown < 120
    view.table.selectRow(2)
    selected = view.selected_id()
    with counted_statements(services) as statements:
        qtbot.keyClicks(view.search, " ")
        qtbot.keyClicks(view.search, ".")
    assert statements == []
    assert view.search.text() == "a ."
    assert view.model.rowCount() == shown
    assert view.selected_id() == selected
    qtbot.keyClicks(view.search, "x")  # a new word: searched
    assert view.model.query.search == "a .x"
