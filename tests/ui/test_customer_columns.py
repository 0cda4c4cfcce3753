"""The customer list's columns (issue 14): the columns an owner uses, a chooser in the
header's right-click menu, and the arrangement kept across restarts (order, widths, hidden
columns), through the user's path on real widgets."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QPoint
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.ui import formatting
from crmcompanion.ui.customer_model import (
    COLUMNS,
    COMPANY,
    ID_ROLE,
    LAST_CONTACT,
    NAME,
    NEXT_OCCASION,
    PHONE,
    UPDATED,
)
from crmcompanion.ui.customers_view import COLUMNS_SETTING
from crmcompanion.ui.main_window import CUSTOMERS


def _customers_page(make_window):
    window = make_window()
    window.show_section(CUSTOMERS)
    return window, window.customers


def _right_click_header(qtbot, view, column: int):
    """Right-click the column's header section, as the mouse does; returns the menu."""
    header = view.table.horizontalHeader()
    position = QPoint(header.sectionViewportPosition(column) + 10, header.height() // 2)
    QApplication.sendEvent(header.viewport(), QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, position, header.viewport().mapToGlobal(position)))
    qtbot.waitUntil(lambda: view.column_menu is not None and view.column_menu.isVisible())
    return view.column_menu


def _action(menu, title: str):
    return next(a for a in menu.actions() if a.text() == title)


def test_the_list_shows_the_columns_an_owner_uses(qtbot, make_window, services):
    created = services.customers.create(CustomerDraft(
        first_name="Nora", last_name="Brown",
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 4, 12, 1980),),
    )).customer
    services.interactions.log(created.id, "Coffee", when=datetime(2026, 2, 20, 15, 0))
    _window, view = _customers_page(make_window)
    header = view.table.horizontalHeader()
    shown = [COLUMNS[header.logicalIndex(v)] for v in range(header.count())
             if not header.isSectionHidden(header.logicalIndex(v))]
    assert shown == ["Name", "Company", "Phone", "Email", "Tags", "Last contact",
                     "Next occasion", "Status"]
    qtbot.waitUntil(lambda: view.model.rowCount() == 1)
    # The locale's short date, through ui.formatting (which writes "20 Feb 2026" in C).
    short = formatting.short_date(date(2026, 2, 20))
    assert view.model.index(0, LAST_CONTACT).data() == short
    birthday = formatting.short_date(date(2026, 4, 12))
    assert view.model.index(0, NEXT_OCCASION).data() == f"Birthday · {birthday}"


def test_a_column_hidden_from_the_header_menu_stays_hidden_after_a_restart(
        qtbot, make_window, services):
    window, view = _customers_page(make_window)
    menu = _right_click_header(qtbot, view, PHONE)
    assert [a.text() for a in menu.actions() if a.text()][:len(COLUMNS)] == list(COLUMNS)
    assert not _action(menu, "Name").isEnabled()  # the list always says who
    assert _action(menu, "Phone").isChecked()
    assert not _action(menu, "Updated").isChecked()
    _action(menu, "Phone").trigger()  # untick
    _action(menu, "Updated").trigger()  # tick
    menu.close()
    assert view.table.isColumnHidden(PHONE)
    assert not view.table.isColumnHidden(UPDATED)
    window.close()

    window, view = _customers_page(make_window)  # the app started again
    assert view.table.isColumnHidden(PHONE)
    assert not view.table.isColumnHidden(UPDATED)
    menu = _right_click_header(qtbot, view, NAME)
    assert not _action(menu, "Phone").isChecked()
    _action(menu, "Reset columns").trigger()
    assert not view.table.isColumnHidden(PHONE)
    assert view.table.isColumnHidden(UPDATED)


def test_widths_and_order_are_kept(qtbot, make_window, services):
    window, view = _customers_page(make_window)
    header = view.table.horizontalHeader()
    menu = _right_click_header(qtbot, view, PHONE)
    _action(menu, "Move “Phone” left").trigger()  # now before Company
    menu.close()
    assert [header.logicalIndex(v) for v in range(3)] == [NAME, PHONE, COMPANY]
    menu = _right_click_header(qtbot, view, NAME)
    assert not _action(menu, "Move “Name” left").isEnabled()
    menu.close()
    header.resizeSection(NAME, 321)  # what dragging the section's edge does
    # Saved once the drag settles (not on every pixel of it).
    qtbot.waitUntil(lambda: '"Name": 321' in services.settings.get(COLUMNS_SETTING))
    window.close()

    window, view = _customers_page(make_window)
    header = view.table.horizontalHeader()
    assert header.sectionSize(NAME) == 321
    assert [header.logicalIndex(v) for v in range(3)] == [NAME, PHONE, COMPANY]


def test_the_profile_panel_hides_columns_for_a_while_without_forgetting_the_owners_choice(
        qtbot, make_window, services):
    services.customers.create(CustomerDraft(first_name="Ann"))
    _window, view = _customers_page(make_window)
    qtbot.waitUntil(lambda: view.model.rowCount() == 1)
    view.set_column_shown(UPDATED, True)
    view.open_customer(int(view.model.index(0, NAME).data(ID_ROLE)))
    assert view.table.isColumnHidden(UPDATED)  # room for the panel
    view.close_detail()
    assert not view.table.isColumnHidden(UPDATED)
    assert view.column_shown(UPDATED)
