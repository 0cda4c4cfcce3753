"""Settings dialog, the change bus, the composition root and start-up without a display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from crmcompanion.core.settings import CONFIRM_DELETE, DEFAULT_REGION, OWNER_NAME
from crmcompanion.services.changes import Changed
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.settings_dialog import SETTINGS_PAGES

REPO = Path(__file__).resolve().parents[2]


def test_settings_dialog_saves_values(qtbot, window, services):
    seen: list[Changed] = []
    window.bus.changed.connect(seen.append)
    qtbot.mouseClick(window.settings_button, Qt.MouseButton.LeftButton)
    dialog = window.settings_dialog
    qtbot.waitExposed(dialog)
    assert [dialog.page_list.item(i).text() for i in range(dialog.page_list.count())] == [
        page.title for page in SETTINGS_PAGES
    ]
    general = dialog.page("General")
    region = general.editors[DEFAULT_REGION.key]
    region.lineEdit().clear()
    qtbot.keyClicks(region.lineEdit(), "Germany")  # a country picker: "GE" would be Georgia
    qtbot.keyClick(region.completer().popup(), Qt.Key.Key_Return)  # take the completion
    assert dialog.isVisible() and region.currentText() == "Germany"
    qtbot.keyClicks(general.editors[OWNER_NAME.key], "  Maria Lopez ")
    qtbot.mouseClick(general.editors[CONFIRM_DELETE.key], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert not dialog.isVisible()
    assert services.settings.get(DEFAULT_REGION) == "DE"
    assert services.settings.get(OWNER_NAME) == "Maria Lopez"
    assert services.settings.get(CONFIRM_DELETE) is False
    assert seen and DEFAULT_REGION.key in seen[-1].settings


def test_settings_dialog_rejects_an_unknown_region_inline(qtbot, window, services):
    dialog = window.open_settings()
    general = dialog.page("General")
    region = general.editors[DEFAULT_REGION.key]
    region.lineEdit().clear()
    qtbot.keyClicks(region.lineEdit(), "Atlantis")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert general.errors[DEFAULT_REGION.key].isVisible()
    assert "Choose a country" in general.errors[DEFAULT_REGION.key].text()
    assert services.settings.get(DEFAULT_REGION) == DEFAULT_REGION.default


def test_settings_dialog_opens_with_stored_values(qtbot, services, make_window):
    services.settings.update({DEFAULT_REGION.key: "GB", CONFIRM_DELETE.key: False})
    window = make_window()
    general = window.open_settings().page("General")
    assert general.editors[DEFAULT_REGION.key].code() == "GB"
    assert general.editors[DEFAULT_REGION.key].currentText() == "United Kingdom"
    assert general.editors[CONFIRM_DELETE.key].isChecked() is False


class _Emitter(QObject):
    flag = Signal(bool)


def test_signals_survive_10000_emits(qtbot):
    """PySide6 6.12.0 on Python 3.11 aborts (bool_dealloc) after a few hundred emits."""
    bus = AppState()
    received: list[Changed] = []
    bus.changed.connect(received.append)
    change = Changed(customers=frozenset({1}), customer_list=True)
    for _ in range(10_000):
        bus.publish(change)
    assert len(received) == 10_000
    emitter = _Emitter()
    flags: list[bool] = []
    emitter.flag.connect(flags.append)
    for index in range(10_000):
        emitter.flag.emit(index % 2 == 0)
    assert flags.count(True) == 5_000 and flags.count(False) == 5_000


def test_empty_changes_are_not_published(qtbot):
    bus = AppState()
    received: list[Changed] = []
    bus.changed.connect(received.append)
    bus.publish(Changed())
    assert received == []


def test_without_a_display_the_gui_exits_2(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["CRMCOMPANION_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "crmcompanion"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "no display" in result.stderr


def test_an_unusable_database_shows_a_message_and_exits_1(qtbot, tmp_path, monkeypatch):
    from crmcompanion import app

    database = tmp_path / "crmcompanion.sqlite3"
    garbage = b"this is not a database" * 100
    database.write_bytes(garbage)
    monkeypatch.setenv("CRMCOMPANION_HOME", str(tmp_path))
    monkeypatch.delenv("CRMCOMPANION_DATABASE_URL", raising=False)
    shown: list[str] = []

    def answer() -> None:  # the message is modal: read it and press Quit
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        shown.append(box.text())
        next(b for b in box.buttons() if b.text() == "Quit").click()

    QTimer.singleShot(0, answer)
    hook = sys.excepthook
    assert app.run_gui(None) == 1
    assert sys.excepthook is hook  # the app's crash dialog hook is put back on the way out
    assert len(shown) == 1 and "not an SQLite file" in shown[0]
    assert database.read_bytes() == garbage  # untouched
    assert (tmp_path / "logs" / app.LOG_FILE).is_file()


def test_greetings_are_plugged_in_after_the_first_paint_and_before_a_customer_page(
    qtbot, services
) -> None:
    """The drafting hook waits for the first paint (its modules are not needed to show the
    window), but a Customers page built before that still gets its "Write greeting" button."""
    from crmcompanion.ui.main_window import MainWindow

    unpainted = MainWindow(services)
    qtbot.addWidget(unpainted)
    assert unpainted._greetings is None
    unpainted.customers  # built before any paint (e.g. opened from a reminder)  # noqa: B018
    assert unpainted._greetings is not None
    assert unpainted.customers.detail.activity.draft_button.isEnabled()

    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window._greetings is not None)
    assert window.painted
    button = window.greetings.batch_button
    assert button.text() == "Draft all for today…"
    qtbot.waitUntil(lambda: button.isVisibleTo(window))  # added to a shown window: queued
