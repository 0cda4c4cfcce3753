"""Several customers selected at once, through the user's path on real widgets: Ctrl+click,
Shift+click, Ctrl+A, the "N customers selected" panel, Export…, Delete with one Undo, Archive,
and the keys (Enter, Delete, Esc)."""

from __future__ import annotations

import csv
from pathlib import Path

import vobject
from icalendar import Calendar
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox

from crmcompanion.core.customer import CustomerDraft, EmailAddress, SpecialDate, SpecialDateKind
from crmcompanion.services.changes import Changed
from crmcompanion.services.demo import fill_demo
from crmcompanion.store.customers import ListQuery
from crmcompanion.ui import customers_view
from crmcompanion.ui.customer_model import NAME, PAGE_SIZE, TAGS, CustomerTableModel
from crmcompanion.ui.export_dialog import CSV, ICS, VCARD
from crmcompanion.ui.main_window import CUSTOMERS
from tests.ui.helpers import answer_message_boxes, save_shot, shown_names

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier

PEOPLE = [
    ("Anna", "Weber", 3, 14), ("Bob", "Baker", 7, 2), ("Carl", "Stone", 11, 30),
    ("Dora", "Bakewell", 2, 29), ("Emil", "Fischer", 5, 5), ("Frida", "Lund", 9, 9),
]


def seed(services) -> dict[str, int]:
    """Six customers with an e-mail and a birthday each; ids by first name."""
    ids = {}
    for first, last, month, day in PEOPLE:
        draft = CustomerDraft(
            first_name=first, last_name=last, tags=("Regulars",),
            emails=(EmailAddress(f"{first.lower()}@{last.lower()}.example"),),
            special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, month, day, 1980),))
        ids[first] = services.customers.create(draft).customer.id
    return ids


def customers_page(qtbot, make_window):
    window = make_window()
    window.show_section(CUSTOMERS)
    view = window.customers
    view.table.setFocus()
    return window, view


def click_row(qtbot, view, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    index = view.model.index(row, NAME)
    view.table.scrollTo(index)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, modifier,
                     view.table.visualRect(index).center())


def row_of(view, name: str) -> int:
    return shown_names(view).index(name)


def export_through_panel(qtbot, view, key: str, target: Path) -> None:
    qtbot.mouseClick(view.detail.export_selected_button, Qt.MouseButton.LeftButton)
    dialog = view.export_dialog
    qtbot.waitExposed(dialog)
    assert dialog.selected_radio.isChecked()  # several selected: those are what is meant
    dialog.set_format(key)
    dialog.set_path(target)
    with qtbot.waitSignal(dialog.exported, timeout=30_000):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)


def answer_yes(monkeypatch) -> list[str]:
    return answer_message_boxes(monkeypatch, QMessageBox.StandardButton.Yes)


def test_ctrl_click_two_then_export_them_as_vcard(qtbot, make_window, services, tmp_path):
    ids = seed(services)
    window, view = customers_page(qtbot, make_window)
    click_row(qtbot, view, row_of(view, "Emil Fischer"))
    click_row(qtbot, view, row_of(view, "Bob Baker"), CTRL)

    assert view.selection().count == 2
    assert view.detail.isVisible() and view.detail.summary_count == 2
    assert view.detail.several_actions.isVisible()
    assert not view.detail.single_actions.isVisible()
    assert "2 selected" in view.header.subtitle.text()
    save_shot(window, tmp_path, "two_selected.png")

    target = tmp_path / "two.vcf"
    export_through_panel(qtbot, view, VCARD, target)
    cards = list(vobject.readComponents(target.read_text(encoding="utf-8")))
    # Exactly those two, in list order (sorted by name: Bob before Emil).
    assert [card.fn.value for card in cards] == ["Bob Baker", "Emil Fischer"]
    assert [card.email.value for card in cards] == ["bob@baker.example", "emil@fischer.example"]
    assert view.selected_ids() == [ids["Bob"], ids["Emil"]]

    # Ctrl+click one of them again: one left, and the panel shows that customer's profile.
    click_row(qtbot, view, row_of(view, "Bob Baker"), CTRL)
    assert view.selection().count == 1
    assert view.detail.summary_count == 0
    assert view.detail.customer is not None and view.detail.customer.id == ids["Emil"]
    assert view.detail.single_actions.isVisible()
    assert view.detail.activity.isVisible()  # hidden in the summary, back with a profile
    qtbot.wait(50)  # let the panel lay out its new content before the picture
    save_shot(window, tmp_path, "back_to_one.png")


def test_shift_click_range_exports_that_range_as_csv_and_calendar(qtbot, make_window, services,
                                                                   tmp_path):
    seed(services)
    _, view = customers_page(qtbot, make_window)
    names = shown_names(view)  # Anna, Bob, Carl, Dora, Emil, Frida
    click_row(qtbot, view, 1)
    click_row(qtbot, view, 3, SHIFT)
    assert view.selection().count == 3
    assert view.detail.summary_count == 3

    target = tmp_path / "range.csv"
    export_through_panel(qtbot, view, CSV, target)
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["Display name"] for r in rows] == names[1:4]

    # Shift+Down grows the range by one; the calendar has just their birthdays.
    qtbot.keyClick(view.table, Qt.Key.Key_Down, SHIFT)
    assert view.selection().count == 4
    target = tmp_path / "range.ics"
    export_through_panel(qtbot, view, ICS, target)
    summaries = sorted(str(e["SUMMARY"]) for e in
                       Calendar.from_ical(target.read_bytes()).walk("VEVENT"))
    assert len(summaries) == 4
    for name in names[1:5]:
        assert any(name in s for s in summaries)
    assert not any(names[0] in s or names[5] in s for s in summaries)


def test_ctrl_a_over_more_than_a_page_exports_all_matching(qtbot, make_window, services,
                                                           tmp_path, monkeypatch):
    fill_demo(services.db, services.clock, 3 * PAGE_SIZE, staff_id=services.staff_id)
    asked: list[int] = []  # rows whose flags Qt asked for
    flags = CustomerTableModel.flags
    monkeypatch.setattr(CustomerTableModel, "flags",
                        lambda model, index: asked.append(index.row()) or flags(model, index))
    _, view = customers_page(qtbot, make_window)
    qtbot.keyClicks(view.search, "a")  # a filter: "all" means all matching it
    query = view.model.query
    matching = services.customers.count(query)
    assert PAGE_SIZE < matching < services.customers.total()
    view.table.setFocus()
    click_row(qtbot, view, 0)
    fetched = view.model.fetches
    qtbot.keyClick(view.table, Qt.Key.Key_A, CTRL)

    selection = view.selection()
    assert selection.everything and selection.count == matching
    assert view.detail.summary_count == matching
    assert f"{matching:,} selected" in view.header.subtitle.text()
    # Painting the column headers must not ask about every selected row (Qt does, through
    # flags(), when the header shares the selection: 2.3 s a repaint at 100,000 rows).
    asked.clear()
    view.table.horizontalHeader().viewport().update()
    qtbot.wait(20)
    assert len(set(asked)) < PAGE_SIZE  # the rows on screen, not every selected one

    target = tmp_path / "all.csv"
    export_through_panel(qtbot, view, CSV, target)
    assert view.export_dialog.selected_radio.text().startswith(f"The {matching:,} selected")
    # Selecting everyone and exporting read no row into the list.
    assert view.model.fetches == fetched
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    expected = services.customers.page_at(query, 0, matching, matching).rows
    assert [r["Display name"] for r in rows] == [c.display_name for c in expected]


def test_shift_click_over_rows_never_fetched_resolves_ids_through_the_services(
        qtbot, make_window, services):
    fill_demo(services.db, services.clock, 12 * PAGE_SIZE, staff_id=services.staff_id)
    _, view = customers_page(qtbot, make_window)
    click_row(qtbot, view, 3)
    far = 10 * PAGE_SIZE + 5
    click_row(qtbot, view, far, SHIFT)  # scrolls there: only the pages on screen are read
    assert view.model.fetches <= 4
    ids = view.selected_ids()
    query = view.model.query
    total = view.model.rowCount()
    expected = [r.id for r in services.customers.page_at(query, 0, total, total).rows]
    assert ids == expected[3:far + 1]


def test_delete_three_confirm_then_one_undo_brings_all_back(qtbot, make_window, services,
                                                           monkeypatch):
    ids = seed(services)
    before = {first: services.customers.get(cid) for first, cid in ids.items()}
    services.interactions.log(ids["Carl"], "Asked about the spring catalogue")
    _, view = customers_page(qtbot, make_window)
    asked = answer_yes(monkeypatch)
    click_row(qtbot, view, row_of(view, "Anna Weber"))
    click_row(qtbot, view, row_of(view, "Carl Stone"), CTRL)
    click_row(qtbot, view, row_of(view, "Frida Lund"), CTRL)
    assert view.detail.summary_count == 3

    qtbot.mouseClick(view.detail.delete_selected_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and "3 customers" in asked[0]  # one question naming the count
    assert shown_names(view) == ["Bob Baker", "Dora Bakewell", "Emil Fischer"]
    assert services.customers.total() == 3
    assert view.undo_bar.isVisible() and view.undo_bar.label.text() == "Deleted 3 customers."
    assert not view.detail.isVisible()

    qtbot.mouseClick(view.undo_bar.undo_button, Qt.MouseButton.LeftButton)
    assert services.customers.total() == 6
    for first in ("Anna", "Carl", "Frida"):
        assert services.customers.get(ids[first]) == before[first]  # emails, dates, all
    assert [h.summary for h in services.interactions.history(ids["Carl"])] == [
        "Asked about the spring catalogue"]
    assert [c.id for c in services.customers.search("frida@lund")] == [ids["Frida"]]
    assert not view.undo_bar.isVisible()
    assert len(shown_names(view)) == 6
    assert sorted(view.selected_ids()) == sorted(ids[f] for f in ("Anna", "Carl", "Frida"))


def test_saying_no_deletes_nothing_and_delete_key_deletes_the_selection(
        qtbot, make_window, services, monkeypatch):
    seed(services)
    _, view = customers_page(qtbot, make_window)
    answer_message_boxes(monkeypatch, QMessageBox.StandardButton.No)
    click_row(qtbot, view, 0)
    click_row(qtbot, view, 1, SHIFT)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert services.customers.total() == 6
    answer_yes(monkeypatch)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert shown_names(view) == ["Carl Stone", "Dora Bakewell", "Emil Fischer", "Frida Lund"]
    # Ctrl+Z undoes it while the bar is shown.
    qtbot.keyClick(view.table, Qt.Key.Key_Z, CTRL)
    assert services.customers.total() == 6


def test_enter_opens_the_current_row_and_escape_clears_the_selection(qtbot, make_window,
                                                                     services):
    ids = seed(services)
    _, view = customers_page(qtbot, make_window)
    click_row(qtbot, view, row_of(view, "Anna Weber"))
    click_row(qtbot, view, row_of(view, "Dora Bakewell"), CTRL)
    assert view.detail.summary_count == 2
    qtbot.keyClick(view.table, Qt.Key.Key_Escape)
    assert view.selection().count == 0
    assert not view.detail.isVisible()

    click_row(qtbot, view, row_of(view, "Anna Weber"))
    click_row(qtbot, view, row_of(view, "Dora Bakewell"), CTRL)
    qtbot.keyClick(view.table, Qt.Key.Key_Return)  # Dora is the current row
    assert view.selection().count == 1
    assert view.detail.customer is not None and view.detail.customer.id == ids["Dora"]
    assert view.detail.single_actions.isVisible()
    # Esc with one customer open closes the profile first (as before), then deselects.
    qtbot.keyClick(view.table, Qt.Key.Key_Escape)
    assert not view.detail.isVisible() and view.selected_id() == ids["Dora"]
    qtbot.keyClick(view.table, Qt.Key.Key_Escape)
    assert view.selected_id() is None


def test_archive_several_with_undo(qtbot, make_window, services):
    ids = seed(services)
    _, view = customers_page(qtbot, make_window)
    click_row(qtbot, view, row_of(view, "Bob Baker"))
    click_row(qtbot, view, row_of(view, "Carl Stone"), SHIFT)
    assert view.detail.archive_selected_button.text() == "Archive"
    qtbot.mouseClick(view.detail.archive_selected_button, Qt.MouseButton.LeftButton)
    assert "Bob Baker" not in shown_names(view) and "Carl Stone" not in shown_names(view)
    assert services.customers.get(ids["Bob"]).is_archived
    assert view.undo_bar.label.text() == "Archived 2 customers."
    qtbot.mouseClick(view.undo_bar.undo_button, Qt.MouseButton.LeftButton)
    assert len(shown_names(view)) == 6
    assert not services.customers.get(ids["Carl"]).is_archived

    # In "Only archived", several selected offer Unarchive.
    services.customers.set_archived_many([ids["Anna"], ids["Emil"]], True)
    window_bus = view._bus
    window_bus.publish(Changed(customer_list=True))
    view.archived_filter.setCurrentIndex(1)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_A, CTRL)
    assert view.detail.archive_selected_button.text() == "Unarchive"
    qtbot.mouseClick(view.detail.archive_selected_button, Qt.MouseButton.LeftButton)
    assert services.customers.count(ListQuery(archived=True)) == 0


def test_add_a_tag_to_several_then_undo(qtbot, make_window, services, monkeypatch):
    ids = seed(services)
    _, view = customers_page(qtbot, make_window)
    offered: list[list[str]] = []

    def get_item(parent, title, label, items, current, editable):
        offered.append(list(items))
        assert "3 customers" in label
        return "Spring mailing", True

    monkeypatch.setattr(QInputDialog, "getItem", get_item)
    click_row(qtbot, view, row_of(view, "Anna Weber"))
    click_row(qtbot, view, row_of(view, "Carl Stone"), SHIFT)
    qtbot.mouseClick(view.detail.tag_selected_button, Qt.MouseButton.LeftButton)
    assert offered == [["Regulars"]]  # the tags in use, to pick from (or type a new one)
    tagged = {first for first, cid in ids.items()
              if "Spring mailing" in services.customers.get(cid).tags}
    assert tagged == {"Anna", "Bob", "Carl"}
    assert view.tag_filter.findData("Spring mailing") >= 0  # the filter learnt the new tag
    assert view.model.index(0, TAGS).data() == "Regulars, Spring mailing"
    assert view.undo_bar.label.text() == "Tagged 3 customers “Spring mailing”."
    assert view.detail.summary_count == 3  # still selected after the refresh

    qtbot.mouseClick(view.undo_bar.undo_button, Qt.MouseButton.LeftButton)
    assert all(services.customers.get(cid).tags == ("Regulars",) for cid in ids.values())
    assert view.model.index(0, TAGS).data() == "Regulars"


def test_a_refresh_keeps_several_selected(qtbot, make_window, services):
    ids = seed(services)
    window, view = customers_page(qtbot, make_window)
    click_row(qtbot, view, row_of(view, "Bob Baker"))
    click_row(qtbot, view, row_of(view, "Frida Lund"), CTRL)
    # Someone edits Bob elsewhere (another window, the Today page): the list refreshes.
    bob = services.customers.get(ids["Bob"])
    saved = services.customers.update(bob.id, CustomerDraft(
        first_name="Bob", last_name="Baker", company="Rye & Co"), bob.version)
    window.bus.publish(saved.changed)
    assert sorted(view.selected_ids()) == sorted([ids["Bob"], ids["Frida"]])
    assert view.detail.summary_count == 2
    # Ctrl+A survives a re-sort: still everyone.
    qtbot.keyClick(view.table, Qt.Key.Key_A, CTRL)
    view.table.horizontalHeader().setSortIndicator(1, Qt.SortOrder.DescendingOrder)
    assert view.selection().everything


def test_many_run_on_the_worker_behind_a_progress_window(qtbot, make_window, services,
                                                         no_confirm):
    count = customers_view.INLINE_UP_TO + 50
    fill_demo(services.db, services.clock, count, staff_id=services.staff_id)
    _, view = customers_page(qtbot, make_window)
    click_row(qtbot, view, 0)
    qtbot.keyClick(view.table, Qt.Key.Key_A, CTRL)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert view.bulk_task is not None
    qtbot.waitUntil(lambda: view.undo_offered, timeout=30_000)
    assert services.customers.total() == 0
    assert view.stack.currentIndex() == customers_view.EMPTY_PAGE
    assert view.undo_bar.label.text() == f"Deleted {count:,} customers."
    qtbot.mouseClick(view.undo_bar.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: services.customers.total() == count, timeout=30_000)
    qtbot.waitUntil(lambda: view.model.rowCount() == count)
    assert view.selection().count == count  # the restored customers are selected again


def test_too_many_to_delete_at_once_is_refused_clearly(qtbot, make_window, services,
                                                       monkeypatch):
    seed(services)
    monkeypatch.setattr(customers_view, "MAX_DELETE_AT_ONCE", 4)
    told = answer_message_boxes(monkeypatch)
    _, view = customers_page(qtbot, make_window)
    click_row(qtbot, view, 0)
    qtbot.keyClick(view.table, Qt.Key.Key_A, CTRL)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert told and "6 customers are selected" in told[0] and "at most 4" in told[0]
    assert services.customers.total() == 6
