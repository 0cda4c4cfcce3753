"""The user's path through the Customers section: type, click, see."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind, Status
from crmcompanion.services.changes import Changed
from crmcompanion.store.customers import ListQuery, SortColumn
from crmcompanion.ui import customers_view
from crmcompanion.ui.customer_model import COMPANY, NAME, PAGE_SIZE, UPDATED
from crmcompanion.ui.main_window import CUSTOMERS, TODAY
from tests.ui.helpers import (
    add_customer,
    answer_message_boxes,
    click_header,
    click_save,
    column_texts,
    open_new_customer,
    shown_names,
)


def test_app_opens_on_today_with_a_friendly_empty_state(window):
    assert window.pages.currentIndex() == TODAY
    assert window.pages.currentWidget() is window.today
    assert window.today.empty.title.text() == "Nothing needs you today"
    sections = [window.nav.item(i).data(Qt.ItemDataRole.UserRole) for i in range(4)]
    assert sections == ["Today", "Customers", "Feedback & ideas", "Insights"]
    assert window.feedback.empty.text.text()  # not blank
    assert window._insights is None  # built when first shown (tests/ui/test_insights_ui.py)


def test_create_find_edit_delete_and_undo(qtbot, window, services, no_confirm):
    view = window.customers
    editor = open_new_customer(qtbot, window)
    qtbot.keyClicks(editor.first_name, "Ingrid")
    qtbot.keyClicks(editor.last_name, "Larsen")
    qtbot.keyClicks(editor.company, "Fjord Bakery")
    qtbot.keyClicks(editor.emails.rows[0].value, "ingrid@fjord.example")
    qtbot.keyClicks(editor.phones.rows[0].value, "+47 22 33 44 55")
    qtbot.keyClicks(editor.tags, "VIP, Bread club")
    qtbot.mouseClick(editor.key_account, Qt.MouseButton.LeftButton)
    click_save(qtbot, editor)

    assert view.editor is None
    stored = services.customers.search("Ingrid")
    assert [c.display_name for c in stored] == ["Ingrid Larsen"]
    ingrid = stored[0]
    assert ingrid.company == "Fjord Bakery"
    assert ingrid.phones[0].number == "+4722334455"
    assert ingrid.tags == ("Bread club", "VIP")
    assert ingrid.key_account
    # The list refreshed and selected the saved customer.
    assert view.selected_id() == ingrid.id
    add_customer(services, "Olaf", "Berg")
    window.bus.publish(Changed(customer_list=True))

    # Find her by typing.
    qtbot.keyClicks(view.search, "fjord")
    assert shown_names(view) == ["★ Ingrid Larsen"]
    assert view.stack.currentIndex() == customers_view.LIST_PAGE

    # Edit: select, open the editor from the profile panel, change the company.
    view.table.selectRow(0)
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert view.detail.isVisible()
    assert view.detail.customer.id == ingrid.id
    qtbot.mouseClick(view.detail.edit_button, Qt.MouseButton.LeftButton)
    editor = view.editor
    assert editor.first_name.text() == "Ingrid"
    editor.company.selectAll()
    qtbot.keyClicks(editor.company, "Fjord Bakery & Cafe")
    click_save(qtbot, editor)
    assert services.customers.get(ingrid.id).company == "Fjord Bakery & Cafe"
    assert column_texts(view, COMPANY) == ["Fjord Bakery & Cafe"]

    # Delete with the Delete key, then Undo from the bar.
    view.table.setFocus()
    view.table.selectRow(0)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert services.customers.search("Ingrid") == []
    assert view.stack.currentIndex() == customers_view.NO_MATCH_PAGE
    assert view.undo_bar.isVisible()
    assert "Ingrid Larsen" in view.undo_bar.label.text()
    qtbot.mouseClick(view.undo_bar.undo_button, Qt.MouseButton.LeftButton)
    assert [c.id for c in services.customers.search("Ingrid")] == [ingrid.id]
    assert shown_names(view) == ["★ Ingrid Larsen"]
    assert not view.undo_bar.isVisible()


def test_ctrl_z_undoes_a_delete_while_offered(qtbot, window, services, no_confirm):
    anna = add_customer(services, "Anna", "Berg")
    window.show_section(CUSTOMERS)
    view = window.customers
    view.clear_filters()
    assert view.select_customer(anna.id)
    view.delete_selected()
    assert services.customers.total() == 0
    assert view.undo_offered
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert services.customers.total() == 1
    assert not view.undo_offered
    assert shown_names(view) == ["Anna Berg"]


def test_delete_asks_first_when_the_setting_is_on(qtbot, window, services, monkeypatch):
    anna = add_customer(services, "Anna", "Berg")
    view = window.customers
    view.clear_filters()
    asked = answer_message_boxes(monkeypatch, QMessageBox.StandardButton.No)
    view.delete_customer(anna.id)
    assert asked and "Anna Berg" in asked[0]
    assert services.customers.total() == 1  # said No: nothing deleted
    answer_message_boxes(monkeypatch, QMessageBox.StandardButton.Yes)
    view.delete_customer(anna.id)
    assert services.customers.total() == 0


def test_invalid_email_is_shown_next_to_the_field_and_nothing_is_saved(qtbot, window, services):
    editor = open_new_customer(qtbot, window)
    qtbot.keyClicks(editor.first_name, "Bob")
    qtbot.keyClicks(editor.emails.rows[0].value, "bob@@example")
    click_save(qtbot, editor)

    assert services.customers.total() == 0
    assert window.customers.editor is editor and editor.isVisible()
    row = editor.emails.rows[0]
    assert row.error.isVisible()
    assert "@" in row.error.text()
    assert row.value.property("invalid") is True
    assert editor.first_name.property("invalid") is not True

    # Fixing it clears the message and saves.
    row.value.clear()
    qtbot.keyClicks(row.value, "bob@example.com")
    click_save(qtbot, editor)
    assert [c.emails[0].address for c in services.customers.search("bob")] == ["bob@example.com"]


def test_missing_name_is_shown_under_the_name(qtbot, window, services):
    editor = open_new_customer(qtbot, window)
    click_save(qtbot, editor)
    assert services.customers.total() == 0
    assert editor.error_labels["name"].isVisible()
    assert "name" in editor.error_labels["name"].text().lower()
    assert editor.first_name.property("invalid") is True


def test_special_dates_29_february_without_year_and_an_impossible_one(qtbot, window, services):
    editor = open_new_customer(qtbot, window)
    qtbot.keyClicks(editor.first_name, "Leap")
    qtbot.mouseClick(editor.special_dates.add_button, Qt.MouseButton.LeftButton)
    row = editor.special_dates.rows[0]
    row.day.setCurrentIndex(28)  # 29
    row.month.setCurrentIndex(1)  # February
    qtbot.keyClicks(row.year, "2025")
    click_save(qtbot, editor)
    assert services.customers.total() == 0
    assert row.error.isVisible() and "2025" in row.error.text()

    row.year.clear()  # year unknown: 29 February is a valid yearly date
    click_save(qtbot, editor)
    (leap,) = services.customers.search("Leap")
    assert leap.special_dates == (SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, None, ""),)


def test_saving_over_a_newer_version_shows_a_clear_conflict(qtbot, window, services):
    anna = add_customer(services, "Anna", "Berg")
    view = window.customers
    view.clear_filters()
    editor = view.edit_customer(anna.id)
    # Someone else saves Anna meanwhile.
    elsewhere = replace(anna.to_draft(), company="Elsewhere")
    services.customers.update(anna.id, elsewhere, anna.version)
    editor.company.setText("Mine")
    click_save(qtbot, editor)
    # Theirs vs mine to choose from (tests/ui/test_conflict_dialog.py goes on from here).
    qtbot.waitUntil(lambda: editor.conflict_dialog is not None)
    dialog = editor.conflict_dialog
    assert "Elsewhere" in dialog.choice_button("company", "theirs").text()
    assert "Mine" in dialog.choice_button("company", "mine").text()
    assert services.customers.get(anna.id).company == "Elsewhere"


def test_clicking_headers_sorts_through_the_service(qtbot, window, services):
    add_customer(services, "Cleo", company="Bravo")
    add_customer(services, "Adam", company="Charlie")
    add_customer(services, "Bea", company="Alpha")
    view = window.customers
    view.clear_filters()
    window.show_section(CUSTOMERS)
    assert shown_names(view) == ["Adam", "Bea", "Cleo"]

    click_header(qtbot, view, COMPANY)
    assert view.model.query.sort == SortColumn.COMPANY
    assert column_texts(view, COMPANY) == ["Alpha", "Bravo", "Charlie"]
    click_header(qtbot, view, COMPANY)
    assert view.model.query.descending
    assert column_texts(view, COMPANY) == ["Charlie", "Bravo", "Alpha"]
    # Tags has no index: clicking it keeps the current order.
    click_header(qtbot, view, 4)
    assert view.model.query.sort == SortColumn.COMPANY
    assert view.table.horizontalHeader().sortIndicatorSection() == COMPANY


def test_filter_by_tag_status_and_archived(qtbot, window, services):
    vip = add_customer(services, "Vera", tags=["VIP"])
    add_customer(services, "Norm", tags=["Newsletter"])
    lead = services.customers.create(CustomerDraft(first_name="Lee", status=Status.LEAD)).customer
    view = window.customers
    window.bus.publish(Changed(customer_list=True, tags=True))
    assert [view.tag_filter.itemData(i) for i in range(view.tag_filter.count())] == [
        "", "Newsletter", "VIP"]

    view.tag_filter.setCurrentIndex(view.tag_filter.findData("VIP"))
    assert shown_names(view) == ["Vera"]
    view.tag_filter.setCurrentIndex(0)
    view.status_filter.setCurrentIndex(view.status_filter.findData("lead"))
    assert shown_names(view) == ["Lee"]
    view.status_filter.setCurrentIndex(0)

    view.set_archived(vip.id, True)
    assert "Vera" not in shown_names(view)
    view.archived_filter.setCurrentIndex(1)  # only archived
    assert shown_names(view) == ["Vera (archived)"]
    view.archived_filter.setCurrentIndex(2)  # all
    assert shown_names(view) == ["Lee", "Norm", "Vera (archived)"]
    assert services.customers.get(lead.id).status is Status.LEAD  # a filter changes nothing


def test_empty_database_offers_sample_customers(qtbot, window, services):
    view = window.customers
    window.show_section(CUSTOMERS)
    assert view.stack.currentIndex() == customers_view.EMPTY_PAGE
    assert view.sample_button.isVisible()
    qtbot.mouseClick(view.sample_button, Qt.MouseButton.LeftButton)
    assert services.customers.total() == customers_view.SAMPLE_CUSTOMERS
    assert view.stack.currentIndex() == customers_view.LIST_PAGE
    assert view.model.rowCount() == customers_view.SAMPLE_CUSTOMERS
    assert view.tag_filter.count() > 1  # the sample tags appeared in the filter


def test_keyboard_ctrl_n_and_ctrl_f(qtbot, window, services):
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentIndex() == CUSTOMERS
    assert window.customers.search.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    editor = window.customers.editor
    assert editor is not None and editor.windowTitle() == "New customer"
    editor.reject()


def test_ctrl_end_jumps_to_the_last_of_5000_customers(qtbot, services, make_window):
    from crmcompanion.services.demo import fill_demo

    fill_demo(services.db, services.clock, 5000, staff_id=services.staff_id)
    window = make_window()
    window.show_section(CUSTOMERS)
    view = window.customers
    assert view.model.rowCount() == 5000
    view.table.setFocus()
    view.table.selectRow(0)
    view.model.fetches = 0
    qtbot.keyClick(view.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(10)
    assert view.table.currentIndex().row() == 4999
    # The name shown in the last row is the last name in sort order, read independently
    # (first row of the reversed order) from the service.
    expected = services.customers.page_after(
        ListQuery(sort=SortColumn.NAME, descending=True), None, 1
    ).rows[0]
    shown = view.model.index(4999, NAME).data()
    assert shown.endswith(expected.display_name)
    assert view.selected_id() == expected.id
    # Only the pages around the end were read, not the 25 pages before them.
    assert 1 <= view.model.fetches <= 2
    assert 2 * view.model.fetches < 5000 // PAGE_SIZE


@pytest.mark.clock_sensitive  # stamps from the real clock decide the order
def test_sort_by_updated_puts_the_newest_first(qtbot, window, services):
    first = add_customer(services, "Old")
    add_customer(services, "New")
    view = window.customers
    view.clear_filters()
    services.customers.set_archived(first.id, False)  # touches "Old": now the newest
    window.bus.publish(Changed(customer_list=True))
    view.set_column_shown(UPDATED, True)  # hidden at first (the header's menu shows it)
    view.table.scrollTo(view.model.index(0, UPDATED))  # the last column: scrolled to
    click_header(qtbot, view, UPDATED)
    assert view.model.query.sort == SortColumn.UPDATED and view.model.query.descending
    assert shown_names(view) == ["Old", "New"]
    click_header(qtbot, view, UPDATED)
    assert not view.model.query.descending
    assert shown_names(view) == ["New", "Old"]


def test_status_column_paints_a_pill_and_new_customers_default_to_active(qtbot, window, services):
    from crmcompanion.ui.customer_model import STATUS
    from crmcompanion.ui.widgets import STATUS_ROLE

    add_customer(services, "Anna")
    view = window.customers
    view.clear_filters()
    assert Status(view.model.index(0, STATUS).data(STATUS_ROLE)) is Status.ACTIVE
    editor = open_new_customer(qtbot, window)
    assert editor.status.currentData() == Status.ACTIVE
    editor.reject()
