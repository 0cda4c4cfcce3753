"""The Backups window and the offer to restore at start, through real widgets (offscreen)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.errors import DatabaseProblem
from crmcompanion.services.backups import BACKUP_FOLDER, BACKUPS_KEPT
from crmcompanion.services.container import Services, open_services
from crmcompanion.ui.backups import BackupsDialog, offer_restore_at_start


def press_in_next_message_box(qtbot, text: str, seen: list[str]) -> None:
    """When the next modal message box shows, note its text and press the button `text`."""

    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press)
            return
        seen.append(box.text())
        for button in box.findChildren(QPushButton):
            if button.text().replace("&", "") == text:
                button.click()
                return
        raise AssertionError(f"no button {text!r} in {[b.text() for b in box.buttons()]}")

    QTimer.singleShot(0, press)


def count_customers(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM customers").fetchone()[0]
    finally:
        conn.close()


def open_dialog(qtbot, services: Services, restarts: list[int] | None = None) -> BackupsDialog:
    calls = restarts if restarts is not None else []
    dialog = BackupsDialog(services, restart=lambda: calls.append(1))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


@pytest.fixture
def british_locale():
    from PySide6.QtCore import QLocale

    from crmcompanion.ui import formatting

    formatting.set_locale(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    yield
    formatting.set_locale(None)


def test_back_up_now_adds_a_row_with_date_and_size(qtbot, services: Services,
                                                   british_locale: None) -> None:
    dialog = open_dialog(qtbot, services)
    assert dialog.table.rowCount() == 0
    qtbot.mouseClick(dialog.back_up_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=30_000)
    # The app's clock, written the locale's way (en_GB here), not as ISO.
    assert dialog.table.item(0, 0).text() == "01/03/2026 09:30"
    assert dialog.table.item(0, 1).text().endswith("KB")
    made = Path(dialog.table.item(0, 2).text())
    assert made.is_file() and "Backed up to" in dialog.status.text()


def test_folder_and_keep_settings(qtbot, services: Services, tmp_path: Path) -> None:
    dialog = open_dialog(qtbot, services)
    usb = tmp_path / "usb"
    dialog.folder.setText(str(usb))
    dialog.keep.setValue(4)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert services.settings.get(BACKUP_FOLDER) == str(usb)
    assert services.settings.get(BACKUPS_KEPT) == 4
    qtbot.mouseClick(dialog.back_up_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=30_000)
    assert Path(dialog.table.item(0, 2).text()).parent == usb


def test_restore_from_backup_swaps_the_database_and_restarts(
    qtbot, services: Services, tmp_path: Path
) -> None:
    services.customers.create(CustomerDraft(first_name="Ada"))
    restarts: list[int] = []
    dialog = open_dialog(qtbot, services, restarts)
    qtbot.mouseClick(dialog.back_up_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=30_000)
    services.customers.create(CustomerDraft(first_name="Grace"))
    database = services.db.info.path
    assert database is not None and count_customers(database) == 2
    dialog.table.selectRow(0)
    seen: list[str] = []
    press_in_next_message_box(qtbot, "Yes", seen)
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    assert restarts == [1]
    assert "kept as a copy" in seen[0]
    assert count_customers(database) == 1
    kept = [p for p in database.parent.iterdir() if "-replaced-" in p.name]
    assert len(kept) == 1 and count_customers(kept[0]) == 2


def test_restore_refuses_a_file_that_is_not_a_backup(
    qtbot, services: Services, tmp_path: Path
) -> None:
    services.customers.create(CustomerDraft(first_name="Ada"))
    restarts: list[int] = []
    dialog = open_dialog(qtbot, services, restarts)
    bogus = tmp_path / "notes.sqlite3"
    bogus.write_text("hello", encoding="utf-8")
    seen: list[str] = []
    press_in_next_message_box(qtbot, "OK", seen)
    assert dialog.restore_file(bogus) is False
    assert "not an SQLite file" in seen[0]
    assert restarts == []
    assert services.customers.total() == 1


def test_bad_database_at_start_offers_the_newest_good_backup(
    qtbot, qapp, tmp_path: Path
) -> None:
    from crmcompanion.store.database import open_database

    database = tmp_path / "crm.sqlite3"
    url = f"sqlite:///{database}"
    services = open_services(url, tmp_path / "backups")
    services.customers.create(CustomerDraft(first_name="Ada"))
    services.backups.back_up()
    services.close()
    database.write_bytes(database.read_bytes()[:5000])  # truncated
    try:
        open_database(url, tmp_path / "backups")
    except DatabaseProblem as exc:
        problem = exc
    seen: list[str] = []
    press_in_next_message_box(qtbot, "Restore this backup", seen)
    assert offer_restore_at_start(problem, url, tmp_path / "backups") is True
    assert "is truncated" in seen[0] and "newest good backup" in seen[0]
    assert count_customers(database) == 1
    damaged = [p for p in tmp_path.iterdir() if "-replaced-" in p.name]
    assert len(damaged) == 1 and damaged[0].stat().st_size == 5000


def test_bad_database_at_start_without_a_backup_only_explains(
    qtbot, qapp, tmp_path: Path
) -> None:
    from crmcompanion.store.database import open_database

    database = tmp_path / "crm.sqlite3"
    database.write_bytes(b"")
    try:
        open_database(f"sqlite:///{database}", tmp_path / "backups")
    except DatabaseProblem as exc:
        problem = exc
    seen: list[str] = []
    press_in_next_message_box(qtbot, "Quit", seen)
    assert offer_restore_at_start(problem, f"sqlite:///{database}", tmp_path / "backups") is False
    assert "is empty" in seen[0] and "No good backup was found" in seen[0]
    assert database.read_bytes() == b""


def test_file_menu_opens_the_backups_window(make_window, qtbot) -> None:
    window = make_window()
    window.backups_action.trigger()
    dialog = window.findChild(BackupsDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.close()
