"""The customer list beside an open profile fits its width: no sideways scrolling.

Found by an owner: with a profile open at 1366x768 the list scrolled sideways (its columns
kept the widths chosen for the whole page). Beside the profile the least useful columns are
hidden and the wide ones elided until the rest fit; closing the profile gives the owner's
widths back, and only those are ever saved.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from crmcompanion.services.demo import fill_demo
from crmcompanion.ui.customer_model import COLUMNS, EMAIL, ID_ROLE, NAME
from crmcompanion.ui.customers_view import COLUMNS_SETTING
from tests.ui.helpers import save_shot

SHOTS = Path("/tmp/shots/tidy6")


def _columns_width(table) -> int:
    header = table.horizontalHeader()
    return sum(header.sectionSize(c) for c in range(len(COLUMNS)) if not header.isSectionHidden(c))


@pytest.mark.parametrize("size", [(1366, 768), (1600, 1000)])
def test_list_beside_profile_needs_no_sideways_scroll(qtbot, services, window, monkeypatch,
                                                      size) -> None:
    monkeypatch.setenv("CRMCOMPANION_SHOTS", str(SHOTS))
    fill_demo(services.db, services.clock, 60, staff_id=services.staff_id)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    view = window.customers
    table = view.table
    chosen = {c: table.horizontalHeader().sectionSize(c) for c in (NAME, EMAIL)}
    first = view.model.index(0, NAME).data(ID_ROLE)  # the customer on the first row
    window.open_customer(first)
    QApplication.processEvents()
    assert view.detail.isVisible()
    bar = table.horizontalScrollBar()
    assert bar.maximum() == 0, (size, _columns_width(table), table.viewport().width())
    assert _columns_width(table) <= table.viewport().width()
    header = table.horizontalHeader()
    assert not header.isSectionHidden(NAME) and not header.isSectionHidden(EMAIL)
    save_shot(window, SHOTS, f"list_beside_profile_{size[0]}x{size[1]}.png")
    # The owner's widths come back when the profile closes, and are what is saved.
    view.close_detail()
    QApplication.processEvents()
    assert {c: header.sectionSize(c) for c in (NAME, EMAIL)} == chosen
    view._save_columns()
    saved = json.loads(str(services.settings.get(COLUMNS_SETTING) or "{}"))
    assert saved.get("widths", {}).get("Name", chosen[NAME]) == chosen[NAME]
