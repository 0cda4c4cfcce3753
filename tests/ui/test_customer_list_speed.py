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
