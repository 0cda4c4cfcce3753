"""The export dialog through the user's path: filter the list, open Export…, choose columns,
delimiter and encoding, export, read the file; selected customers; vCard and calendar."""

from __future__ import annotations

import csv
import threading

import vobject
from icalendar import Calendar
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QPushButton

from crmcompanion.core.csv_export import DEFAULT_COLUMNS
from crmcompanion.core.customer import CustomerDraft, EmailAddress, SpecialDate, SpecialDateKind
from crmcompanion.services import import_export
from crmcompanion.services.import_export import ImportCancelled
from crmcompanion.ui.export_dialog import CSV, ICS, VCARD
from crmcompanion.ui.main_window import CUSTOMERS
from crmcompanion.ui.workers import BackgroundTask
from tests.ui.helpers import add_customer, save_shot, shown_names


def seed(services) -> None:
    add_customer(services, "Anna", "Weber", tags=["Cafe"], email="anna@weber.example")
    add_customer(services, "Bob", "Baker", tags=["Bakery", "VIP"], email="=bob@evil.example")
    add_customer(services, "Carl", "Stone", tags=["Garden"], email="carl@stone.example")
    services.customers.create(CustomerDraft(
        first_name="Dora", last_name="Bakewell", tags=("Bakery",),
        emails=(EmailAddress("dora@example.com"),),
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, 1988),)))


def open_export(qtbot, window):
    window.show_section(CUSTOMERS)
    qtbot.mouseClick(window.customers.export_button, Qt.MouseButton.LeftButton)
    dialog = window.customers.export_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def run_export(qtbot, dialog) -> None:
    with qtbot.waitSignal(dialog.exported, timeout=30_000):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)


def tick_only(qtbot, dialog, headers: list[str]) -> None:
    """Click "None", then tick each wanted column's checkbox as a user would."""
    qtbot.mouseClick(dialog.none_button, Qt.MouseButton.LeftButton)
    box = dialog.columns_list
    for header in headers:
        item = box.findItems(header, Qt.MatchFlag.MatchExactly)[0]
        rect = box.visualItemRect(item)
        # The check box sits at the item's left edge.
        qtbot.mouseClick(box.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(rect.left() + 10, rect.center().y()))


def test_csv_export_of_the_filtered_list_with_chosen_columns(qtbot, make_window, services,
                                                            tmp_path):
    seed(services)
    window = make_window()
    view = window.customers
    view.tag_filter.setCurrentIndex(view.tag_filter.findData("Bakery"))
    qtbot.keyClicks(view.search, "bak")
    assert shown_names(view) == ["Bob Baker", "Dora Bakewell"]

    dialog = open_export(qtbot, window)
    assert dialog.listed_radio.isChecked()
    assert dialog.listed_radio.text() == ("The 2 customers listed now (with the current search "
                                          "and filters)")
    assert dialog.format == CSV
    assert dialog.columns() == list(DEFAULT_COLUMNS)
    tick_only(qtbot, dialog, ["First name", "Last name", "Emails", "Tags"])
    assert dialog.columns() == ["first_name", "last_name", "emails", "tags"]
    dialog.delimiter_combo.setCurrentIndex(dialog.delimiter_combo.findData(";"))
    dialog.encoding_combo.setCurrentIndex(dialog.encoding_combo.findData(False))
    target = tmp_path / "bakers.csv"
    dialog.set_path(target)
    save_shot(dialog, tmp_path, "export_1_csv.png")
    run_export(qtbot, dialog)

    assert dialog.banner.text() == f"✓ Exported 2 customers to {target}"
    assert dialog.export_button.text() == "Close"
    save_shot(dialog, tmp_path, "export_2_done.png")
    raw = target.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8").splitlines(), delimiter=";"))
    assert rows == [
        ["First name", "Last name", "Emails", "Tags"],
        ["Bob", "Baker", "'=bob@evil.example", "Bakery ::: VIP"],
        ["Dora", "Bakewell", "dora@example.com", "Bakery"],
    ]
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def test_default_csv_has_bom_comma_and_every_default_column(qtbot, make_window, services, tmp_path):
    seed(services)
    window = make_window()
    dialog = open_export(qtbot, window)
    target = tmp_path / "all.csv"
    dialog.set_path(target)
    run_export(qtbot, dialog)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:4] == ["First name", "Last name", "Display name", "Company"]
    assert len(rows[0]) == 25 and len(rows) == 5


def test_selected_customer_as_vcard_3(qtbot, make_window, services, tmp_path):
    seed(services)
    window = make_window()
    view = window.customers
    window.show_section(CUSTOMERS)
    view.table.selectRow(shown_names(view).index("Carl Stone"))
    dialog = open_export(qtbot, window)
    assert dialog.listed_radio.isChecked()
    assert dialog.selected_radio.text() == "The 1 selected customer"
    radio = dialog.selected_radio
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))
    assert dialog.selected_radio.isChecked()
    dialog.set_format(VCARD)
    assert dialog.version_combo.currentData() == "4.0"
    dialog.version_combo.setCurrentIndex(dialog.version_combo.findData("3.0"))
    target = tmp_path / "one.vcf"
    dialog.set_path(target)
    run_export(qtbot, dialog)
    cards = list(vobject.readComponents(target.read_text(encoding="utf-8")))
    assert [card.fn.value for card in cards] == ["Carl Stone"]
    assert cards[0].version.value == "3.0"


def test_calendar_export_of_birthdays(qtbot, make_window, services, tmp_path):
    seed(services)
    window = make_window()
    dialog = open_export(qtbot, window)
    dialog.set_format(ICS)
    assert dialog.path_edit.text().endswith(".ics") and dialog.options.currentIndex() == 2
    target = tmp_path / "dates.ics"
    dialog.set_path(target)
    save_shot(dialog, tmp_path, "export_3_ics.png")
    run_export(qtbot, dialog)
    calendar = Calendar.from_ical(target.read_bytes())
    summaries = [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")]
    assert any("Dora Bakewell" in s for s in summaries)


def test_vcard_and_calendar_exports_have_a_working_cancel(qtbot, make_window, services,
                                                          tmp_path, monkeypatch):
    # Cancel is pressed while the export still waits for the one worker thread (held by a
    # task until released), so the export starts already cancelled: it must stop at its
    # first check and write nothing, as the CSV export does.
    monkeypatch.setattr(import_export, "EXPORT_TICK", 1)
    seed(services)
    window = make_window()
    dialog = open_export(qtbot, window)
    folder = tmp_path / "exports"
    folder.mkdir()
    for key, name in ((VCARD, "all.vcf"), (ICS, "all.ics")):
        gate = threading.Event()
        holder = BackgroundTask(lambda _state, gate=gate: gate.wait(10), "hold the worker")
        holder.start()
        dialog.set_format(key)
        dialog.set_path(folder / name)
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
        cancel = dialog.progress_dialog.findChild(QPushButton)
        assert cancel is not None and cancel.text() == "Cancel"
        cancel.click()
        with qtbot.waitSignal(dialog.task.finished, timeout=30_000):
            gate.set()
        assert isinstance(dialog.task.error, ImportCancelled)
        assert dialog.banner.text() == "Export cancelled. No file was written."
        assert list(folder.iterdir()) == []  # neither the file nor a temporary one
