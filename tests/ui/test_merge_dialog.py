"""The duplicates window through the user's path: Find duplicates… lists the pair with its
reason, the user takes one field from the other customer, merges, sees one customer, undoes."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.ui.main_window import CUSTOMERS
from tests.ui.helpers import add_customer, save_shot, shown_at, shown_names


def click_radio(qtbot, radio) -> None:
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))


def test_merge_takes_a_field_from_the_other_customer_and_undo_restores(
        qtbot, make_window, services, tmp_path):
    keep = services.customers.create(CustomerDraft(
        first_name="Anna", last_name="Weber", company="Weber GmbH", tags=("Bakery",),
        emails=(EmailAddress("anna@weber.example"),))).customer
    other = services.customers.create(CustomerDraft(
        first_name="Anna", last_name="Webber", company="Weber & Söhne", tags=("VIP",),
        emails=(EmailAddress("ANNA@weber.example"), EmailAddress("a.w@home.example")))).customer
    add_customer(services, "Carl", "Stone", email="carl@stone.example")
    window = make_window()
    window.show_section(CUSTOMERS)
    view = window.customers
    assert shown_names(view) == ["Anna Webber", "Anna Weber", "Carl Stone"]

    view.more_menu.actions()  # the action lives in the page's More menu
    view.duplicates_action.trigger()
    dialog = view.merge_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert dialog.group_list.count() == 1
    assert dialog.group_list.item(0).text() == ("Anna Weber · Anna Webber\n"
                                                "same email anna@weber.example")
    assert dialog.pair_label.text() == "Keep Anna Weber and merge Anna Webber into it."
    # Defaults: the kept customer's values, lists joined.
    assert dialog.choice_button("company", "keep").isChecked()
    assert dialog.choice_button("tags", "union").isChecked()

    click_radio(qtbot, dialog.choice_button("company", "other"))
    assert dialog.choices()["company"] == "other"
    save_shot(dialog, tmp_path, "merge_1_pair.png")
    with qtbot.waitSignal(dialog.merged):
        qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)

    merged = services.customers.get(keep.id)
    assert merged.company == "Weber & Söhne"
    assert merged.last_name == "Weber"
    assert set(merged.tags) == {"Bakery", "VIP"}
    assert [e.address for e in merged.emails] == ["anna@weber.example", "a.w@home.example"]
    assert shown_names(view) == ["Anna Weber", "Carl Stone"]
    assert dialog.group_list.count() == 0
    assert dialog.undo_button.isVisible()
    save_shot(dialog, tmp_path, "merge_2_done.png")

    with qtbot.waitSignal(dialog.undone):
        qtbot.mouseClick(dialog.undo_button, Qt.MouseButton.LeftButton)
    assert services.customers.get(keep.id).company == "Weber GmbH"
    assert services.customers.get(other.id).company == "Weber & Söhne"
    assert shown_names(view) == ["Anna Webber", "Anna Weber", "Carl Stone"]
    assert dialog.group_list.count() == 1
    assert dialog.status.text() == "Merge undone: both customers are back as they were."


def test_swap_keeps_the_other_record(qtbot, make_window, services):
    first = add_customer(services, "Bob", "Stone", email="bob@stone.example")
    second = add_customer(services, "Robert", "Stone", email="BOB@stone.example")
    window = make_window()
    dialog = window.customers.find_duplicates()
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(dialog.swap_button, Qt.MouseButton.LeftButton)
    assert dialog.preview.keep.id == second.id
    with qtbot.waitSignal(dialog.merged):
        qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
    assert services.customers.get(second.id).first_name == "Robert"
    assert shown_names(window.customers) == ["Robert Stone"]
    assert first.id not in [c.id for c in services.customers.search("stone")]


def test_groups_read_in_two_lines_that_fit_the_list(qtbot, services):
    """Same-name records say how many they are (not the name twice); a long reason is cut
    with "…" to the list's width (whole in the tooltip), and the list never scrolls
    sideways."""
    from crmcompanion.ui.bus import AppState
    from crmcompanion.ui.merge_dialog import MergeDialog

    long_email = "joao.silva.da.costa.pereira@correio.example.com.br"
    for _ in range(2):
        services.customers.create(CustomerDraft(
            first_name="João", last_name="Silva", emails=(EmailAddress(long_email),)))
    dialog = shown_at(qtbot, MergeDialog(services, AppState()), 900, 600)
    groups = dialog.group_list
    assert groups.count() == 1
    item = groups.item(0)
    assert item.text() == f"João Silva (2 records)\nsame email {long_email}, same name"
    assert item.toolTip() == item.text()
    assert groups.horizontalScrollBar().maximum() == 0
    assert not groups.wordWrap()  # cut, not wrapped onto lines the row has no room for
    # Both lines have room in the row.
    assert groups.visualItemRect(item).height() >= 2 * groups.fontMetrics().lineSpacing()
