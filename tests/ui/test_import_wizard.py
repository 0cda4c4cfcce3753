"""The import wizard through the user's path: choose a file, see it recognised, change a
column's mapping, see the preview and per-row problems, import, see the customers, undo;
the ambiguous date order question; Cancel of a long import leaves the database unchanged.

Files are written here in the exact shape of real exports (header lines taken from the
fixtures in tests/core/fixtures/csv/, which copy Google's and Outlook's own exports).
"""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from crmcompanion.core.csv_codec import OWN_COLUMNS
from crmcompanion.core.customer import SpecialDateKind
from crmcompanion.ui import formatting
from crmcompanion.ui.import_wizard import CHECK_PAGE, DONE_PAGE, FILE_PAGE
from crmcompanion.ui.main_window import CUSTOMERS
from tests.ui.helpers import add_customer, save_shot, shown_names

FIXTURES = Path(__file__).parents[1] / "core" / "fixtures" / "csv"


def _header(name: str, encoding: str = "utf-8") -> list[str]:
    with open(FIXTURES / name, encoding=encoding, newline="") as handle:
        return next(csv.reader(handle))


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]],
               encoding: str = "utf-8") -> Path:
    """A CSV with exactly `header`, every cell quoted as Outlook does."""
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            unknown = set(row) - set(header)
            assert not unknown, unknown
            writer.writerow([row.get(h, "") for h in header])
    return path


def google_file(tmp_path: Path) -> Path:
    header = _header("google_2023.csv")
    return write_rows(tmp_path / "contacts.csv", header, [
        {"First Name": "Anna", "Last Name": "Weber", "Nickname": "Annie",
         "E-mail 1 - Label": "* Home", "E-mail 1 - Value": "anna@weber.example",
         "Labels": "* myContacts ::: Bakery", "Birthday": "1971-02-30"},
        {"First Name": "Bob", "Last Name": "Stone", "Nickname": "Bobby",
         "Phone 1 - Label": "Mobile", "Phone 1 - Value": "+1 415 555 0132",
         "Birthday": "--07-01", "Labels": "* myContacts"},
        {"First Name": "Chloé", "Last Name": "Martin", "Nickname": "Coco",
         "E-mail 1 - Label": "Work", "E-mail 1 - Value": "chloe@martin.example ::: c@m.example",
         "Labels": "* myContacts ::: VIP"},
    ])


def own_names_file(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """The app's own CSV with first name, last name and email columns only."""
    headers = dict(OWN_COLUMNS)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([headers["first_name"], headers["last_name"], headers["emails"]])
        writer.writerows(rows)
    return path


def open_wizard(qtbot, window):
    window.show_section(CUSTOMERS)
    qtbot.mouseClick(window.customers.import_button, Qt.MouseButton.LeftButton)
    wizard = window.customers.import_wizard
    assert wizard is not None
    qtbot.waitExposed(wizard)
    return wizard


def choose_file(qtbot, wizard, path: Path) -> None:
    """Type the path and press Enter, as a user pasting it would; wait for the preview."""
    with qtbot.waitSignal(wizard.preview_ready, timeout=20_000):
        wizard.path_edit.setFocus()
        wizard.path_edit.setText(str(path))
        qtbot.keyClick(wizard.path_edit, Qt.Key.Key_Return)


def preview_names(wizard) -> list[str]:
    table = wizard.preview_table
    return [table.item(row, 0).text() for row in range(table.rowCount())]


def problems(wizard) -> list[tuple[str, str, str]]:
    table = wizard.problems_table
    return [tuple(table.item(r, c).text() for c in range(3)) for r in range(table.rowCount())]




def test_wizard_maps_previews_reports_imports_and_undoes(qtbot, window, services, tmp_path):
    add_customer(services, "Existing", "Person", email="existing@example.com")
    wizard = open_wizard(qtbot, window)
    assert wizard.page == FILE_PAGE
    assert not wizard.next_button.isEnabled()

    choose_file(qtbot, wizard, google_file(tmp_path))
    assert wizard.format_label.text() == "Recognised: Google Contacts CSV"
    assert "3 contacts" in wizard.file_summary.text()
    save_shot(wizard, tmp_path, "import_1_file.png")
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.page == CHECK_PAGE

    # Unknown headers are listed as "Not imported"; recognised ones say where they go.
    assert wizard.mapping_combo("Nickname").currentText() == "Not imported"
    assert wizard.mapping_combo("First Name").currentText() == "First name (auto)"
    # Only the rows that can be imported are previewed; the other one is listed below.
    assert preview_names(wizard) == ["Bob Stone", "Chloé Martin"]

    # The impossible birthday is reported with its line and column before anything is written.
    assert problems(wizard) == [("2", "Birthday", "February has no day 30")]
    assert not wizard.next_button.isEnabled()
    assert services.customers.total() == 1

    # Map the Nickname column to the display name: the preview shows the nicknames.
    combo = wizard.mapping_combo("Nickname")
    with qtbot.waitSignal(wizard.preview_ready, timeout=20_000):
        combo.setCurrentIndex(combo.findText("Display name"))
    assert preview_names(wizard) == ["Bobby", "Coco"]
    assert wizard.mapping_combo("Nickname").currentText() == "Display name"
    assert problems(wizard) == [("2", "Birthday", "February has no day 30")]
    save_shot(wizard, tmp_path, "import_2_check.png")

    # Import the rest, skipping the bad row.
    qtbot.mouseClick(wizard.skip_invalid, Qt.MouseButton.LeftButton)
    assert wizard.next_button.isEnabled()
    assert wizard.next_button.text() == "Import 2 customers"
    task = None
    with qtbot.waitSignal(wizard.imported, timeout=30_000):
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
        task = wizard.import_task
    assert task is not None
    assert wizard.page == DONE_PAGE
    assert wizard.summary_title.text() == "Imported 2 customers from contacts.csv."
    assert "1 rows with problems were skipped." in wizard.summary_text.text()
    save_shot(wizard, tmp_path, "import_3_done.png")

    view = window.customers
    assert shown_names(view) == ["Bobby", "Coco", "Existing Person"]
    assert view.undo_bar.isVisible()
    assert view.undo_bar.label.text() == "Imported 2 customers."
    assert "Bakery" not in [name for name, _ in services.customers.tags()]  # Anna was skipped
    assert "VIP" in [name for name, _ in services.customers.tags()]

    # Undo from the wizard's summary removes exactly what was imported.
    with qtbot.waitSignal(wizard.undone, timeout=20_000):
        qtbot.mouseClick(wizard.undo_button, Qt.MouseButton.LeftButton)
    assert wizard.summary_title.text() == "Import undone: removed 2 customers."
    assert shown_names(view) == ["Existing Person"]
    assert not view.undo_bar.isVisible()
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)  # Close
    assert not wizard.isVisible()


def test_undo_last_import_from_the_customers_page(qtbot, window, services, tmp_path):
    wizard = open_wizard(qtbot, window)
    choose_file(qtbot, wizard, FIXTURES / "google_classic.csv")
    assert wizard.format_label.text() == "Recognised: Google Contacts CSV (classic layout)"
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(wizard.imported, timeout=30_000):
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    view = window.customers
    imported = shown_names(view)
    assert "Anna Müller" in imported

    qtbot.mouseClick(view.undo_bar.undo_button, Qt.MouseButton.LeftButton)
    assert services.customers.total() == 0
    assert view.stack.currentWidget() is view.empty
    # Nothing left to undo: the menu action says so instead of failing.
    messages: list[str] = []
    view.message.connect(messages.append)
    view.undo_import_action.trigger()
    assert messages == ["There is no import to undo."]


def test_vcard_needs_no_mapping(qtbot, window, services):
    wizard = open_wizard(qtbot, window)
    choose_file(qtbot, wizard, FIXTURES.parent / "vcard" / "google_contacts.vcf")
    assert wizard.format_label.text().startswith("Recognised: vCard")
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.mapping_table.isHidden() and not wizard.vcard_note.isHidden()
    assert "Jean-Luc Picard" in preview_names(wizard)
    with qtbot.waitSignal(wizard.imported, timeout=30_000):
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert services.customers.total() == wizard.result.created > 0


def test_ambiguous_date_order_is_asked_and_answer_used(qtbot, window, services, tmp_path):
    header = _header("outlook.csv", encoding="cp1252")
    path = write_rows(tmp_path / "outlook.csv", header, [
        {"First Name": "John", "Last Name": "Doe", "Birthday": "3/4/1971",
         "Anniversary": "0/0/00", "E-mail Address": "john@doe.example", "Gender": "Unspecified",
         "Priority": "Normal", "Private": "False", "Sensitivity": "Normal"},
        {"First Name": "Jane", "Last Name": "Roe", "Birthday": "5/6/1980",
         "Anniversary": "0/0/00", "Gender": "Unspecified",
         "Priority": "Normal", "Private": "False", "Sensitivity": "Normal"},
    ], encoding="cp1252")
    wizard = open_wizard(qtbot, window)
    choose_file(qtbot, wizard, path)
    assert wizard.format_label.text() == "Recognised: Outlook CSV"
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.date_box.isVisible()
    assert not wizard.next_button.isEnabled()
    assert wizard.next_button.toolTip() == "Choose the order of the dates first."
    assert wizard.next_button.text() == "Import 2 customers"
    qtbot.wait(50)  # let the layout settle before the screenshot
    save_shot(wizard, tmp_path, "import_4_date_order.png")

    with qtbot.waitSignal(wizard.preview_ready, timeout=20_000):
        qtbot.mouseClick(wizard.dmy_radio, Qt.MouseButton.LeftButton)
    assert wizard.next_button.isEnabled()
    assert wizard.preview_table.item(0, 5).text() == "1971-04-03"
    with qtbot.waitSignal(wizard.imported, timeout=30_000):
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    john = services.customers.resolve("john@doe.example")
    birthday = next(s for s in services.customers.get(john.id).special_dates
                    if s.kind is SpecialDateKind.BIRTHDAY)
    assert (birthday.year, birthday.month, birthday.day) == (1971, 4, 3)


def test_duplicates_are_reported_and_skipped(qtbot, window, services, tmp_path):
    add_customer(services, "Anna", "Weber", email="ANNA@weber.example")
    header = _header("google_2023.csv")
    path = write_rows(tmp_path / "again.csv", header, [
        {"First Name": "Anna", "Last Name": "W.", "E-mail 1 - Value": "anna@weber.example"},
        {"First Name": "New", "Last Name": "Person", "E-mail 1 - Value": "new@example.com"},
    ])
    wizard = open_wizard(qtbot, window)
    choose_file(qtbot, wizard, path)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.duplicates_box.isVisible()
    assert "Line 2: Anna Weber (same email anna@weber.example)" in \
        wizard.duplicates_label.text()
    assert wizard.skip_duplicates.isChecked()
    assert wizard.next_button.text() == "Import 1 customer"
    with qtbot.waitSignal(wizard.imported, timeout=30_000):
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.result.created == 1 and wizard.result.skipped_duplicates == 1
    assert sorted(shown_names(window.customers)) == ["Anna Weber", "New Person"]


def test_cancel_leaves_the_database_unchanged(qtbot, make_window, services, tmp_path):
    add_customer(services, "Already", "Here")
    window = make_window()
    rows = 30_000  # 15 batches of 2,000: the cancel lands long before the last one
    path = own_names_file(tmp_path / "big.csv", [
        (f"First{i}", f"Last{i}", f"person{i}@example.com") for i in range(rows)])
    wizard = open_wizard(qtbot, window)
    choose_file(qtbot, wizard, path)
    assert wizard.format_label.text() == "Recognised: CRM Companion CSV (this app's own export)"
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.next_button.text() == f"Import {formatting.number(30_000)} customers"

    progress_seen: list[tuple[int, int]] = []

    def on_progress(done: int, total: int) -> None:
        progress_seen.append((done, total))
        if len(progress_seen) == 1:
            dialog = wizard.progress_dialog
            save_shot(dialog, tmp_path, "import_5_progress.png")
            cancel = dialog.findChild(QPushButton)
            qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)

    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    task = wizard.import_task
    task.progressed.connect(on_progress)
    qtbot.waitUntil(lambda: task.done, timeout=60_000)
    assert progress_seen and progress_seen[0][1] == rows
    assert task.cancelled
    assert wizard.result is None
    assert wizard.page == CHECK_PAGE
    assert wizard.banner.text() == ("Import cancelled. Nothing was written: your customers are "
                                    "as they were.")
    assert services.customers.total() == 1
    assert shown_names(window.customers) == ["Already Here"]


def test_a_big_file_is_staged_and_indexed_by_spawned_interpreters(
        qtbot, window, services, tmp_path, monkeypatch):
    """The wizard works on a worker thread beside Qt's, where the process may not fork: a
    big file still gets the second core, from spawned interpreters (thresholds lowered)."""
    from crmcompanion.infra import forking
    from crmcompanion.services import import_export
    from crmcompanion.store import search_aside

    monkeypatch.setattr(import_export, "SPAWNED_STAGING_BYTES", 0)
    monkeypatch.setattr(search_aside, "MIN_SPAWNED_ROWS", 100)
    monkeypatch.setattr(forking, "can_fork", lambda: False)  # as with Qt's threads running
    spawned: list[str] = []
    real = forking.SpawnedCall

    class Counted(real):  # type: ignore[misc, valid-type]
        def __init__(self, function, failure="The child process failed"):
            spawned.append(function.__name__)
            super().__init__(function, failure)

    monkeypatch.setattr(forking, "SpawnedCall", Counted)
    rows = 2_500
    path = own_names_file(tmp_path / "many.csv", [
        (f"Zelda{i}", f"Spawn{i:04d}", f"zelda{i}@example.com") for i in range(rows)])
    wizard = open_wizard(qtbot, window)
    choose_file(qtbot, wizard, path)
    assert spawned == ["_write_spawned"]
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.next_button.text() == f"Import {formatting.number(2500)} customers"
    with qtbot.waitSignal(wizard.imported, timeout=60_000):
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert spawned == ["_write_spawned", "_index_in_child"]
    assert wizard.summary_title.text() == (
        f"Imported {formatting.number(2500)} customers from many.csv.")
    assert services.customers.total() == rows
    # The search index the spawned interpreter built finds them.
    assert [c.last_name for c in services.customers.search("spawn0042")] == ["Spawn0042"]
    view = window.customers
    qtbot.keyClicks(view.search, "zelda2499")
    qtbot.waitUntil(lambda: shown_names(view) == ["Zelda2499 Spawn2499"], timeout=5_000)


def test_sheet_warns_of_a_contacts_column_left_out_and_waits_for_the_date_order(
        qtbot, window, services, tmp_path):
    # A German sheet: recognised by its words, one column of phone numbers it cannot name,
    # and slash dates that fit both orders.
    path = tmp_path / "Kunden.csv"
    path.write_text("Vorname;Nachname;E-Mail;Rückruf unter;Geburtstag\r\n"
                    "Jürgen;Groß;juergen@example.de;+49 30 1234567;03/04/1971\r\n"
                    "Anna;Weber;anna@example.de;+49 30 7654321;05/06/1980\r\n",
                    encoding="utf-8")
    wizard = open_wizard(qtbot, window)
    choose_file(qtbot, wizard, path)
    assert wizard.format_label.text().startswith("Recognised: Spreadsheet")
    warning = wizard.contacts_warning
    assert warning.isVisible()
    assert "“Rückruf unter” holds phone numbers" in warning.text()
    assert warning.font().bold() or "font-weight: 600" in warning.styleSheet()
    assert warning.objectName() != "muted"
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.page == CHECK_PAGE
    assert warning.isVisible()  # still there where the columns are mapped
    assert wizard.date_box.isVisible()
    assert not wizard.next_button.isEnabled()
    assert wizard.next_button.toolTip() == "Choose the order of the dates first."
    qtbot.wait(50)
    save_shot(wizard, tmp_path, "import_sheet_warning.png")

    # Mapping the column to Phone takes the warning away; the order still has to be chosen.
    combo = wizard.mapping_combo("Rückruf unter")
    with qtbot.waitSignal(wizard.preview_ready, timeout=20_000):
        combo.setCurrentIndex(combo.findData("phone"))
    assert not warning.isVisible()
    assert not wizard.next_button.isEnabled()
    with qtbot.waitSignal(wizard.preview_ready, timeout=20_000):
        qtbot.mouseClick(wizard.dmy_radio, Qt.MouseButton.LeftButton)
    assert wizard.next_button.isEnabled()
    with qtbot.waitSignal(wizard.imported, timeout=30_000):
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    jurgen = services.customers.get(services.customers.resolve("juergen@example.de").id)
    assert (jurgen.first_name, jurgen.last_name) == ("Jürgen", "Groß")
    assert [p.number for p in jurgen.phones] == ["+49301234567"]
    birthday = jurgen.special_dates[0]
    assert (birthday.year, birthday.month, birthday.day) == (1971, 4, 3)
