"""The reminders plugged into the real app: `run_gui` over a real temporary home, offscreen.

Reminders delivered on start reach the in-app list and the Today badge; the tray menu's actions
(triggered directly: offscreen has no tray) open the window, the reminders and a customer; a
second launch on the same database brings the first window to the front and exits 0; closing
the window with no tray quits. Then the Reminders settings page and the autostart file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTime

from crmcompanion.core.clock import SystemClock
from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.reminders.autostart import autostart_file
from crmcompanion.services.container import open_services
from crmcompanion.services.reminders import AUTOSTART, KEEP_RUNNING_IN_TRAY, REMINDER_TIME
from crmcompanion.ui.single_instance import SingleInstance
from tests.ui.helpers import save_shot

# Clock-sensitive: the real app on the real (or moved) clock, date.today() birthdays.
pytestmark = pytest.mark.clock_sensitive

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    """A private app home and config folder, no D-Bus (nothing reaches a real desktop);
    the app's subprocesses inherit it."""
    home = tmp_path / "home"
    monkeypatch.setenv("CRMCOMPANION_HOME", str(home))
    monkeypatch.delenv("CRMCOMPANION_DATABASE_URL", raising=False)
    monkeypatch.delenv("CRMCOMPANION_NOW", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return home


def seed(home: Path, names: list[str]) -> list[int]:
    """Customers whose birthdays are in 3 days (due today with the 3-day lead); reminder time
    00:00 so they are deliverable whatever the hour the test runs."""
    home.mkdir(parents=True, exist_ok=True)
    services = open_services(f"sqlite:///{home / 'crmcompanion.sqlite3'}", home / "backups",
                             SystemClock())
    try:
        services.settings.update({REMINDER_TIME.key: "00:00"})
        day = date.today() + timedelta(days=3)
        ids = []
        for name in names:
            draft = CustomerDraft(
                first_name=name, last_name="Example",
                special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, day.month, day.day, 1990),),
            )
            ids.append(services.customers.create(draft).customer.id)
        return ids
    finally:
        services.close()


def run_session(home: Path, scenario: str, *args: str, customer: int = 0) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SESSION_CUSTOMER": str(customer),
           "CRMCOMPANION_SHOTS": os.environ.get("CRMCOMPANION_SHOTS") or str(home / "shots")}
    result = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("app_session.py")), scenario, *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=100, check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0 and lines, result.stderr[-3000:]
    return json.loads(lines[-1])


def delivered_and_unseen(home: Path) -> tuple[int, int]:
    """(delivered reminders, of which unseen) in the database the app used."""
    from sqlalchemy import func, select

    from crmcompanion.store import models as m

    services = open_services(f"sqlite:///{home / 'crmcompanion.sqlite3'}", None, SystemClock())
    try:
        with services.db.read() as session:
            total = session.scalar(select(func.count()).select_from(m.FiredReminder)) or 0
        return int(total), services.reminders.unacknowledged_count()
    finally:
        services.close()


def fired_customers(home: Path) -> list[int]:
    """The customers of the reminders delivered in the database the app used."""
    from sqlalchemy import select

    from crmcompanion.store import models as m

    services = open_services(f"sqlite:///{home / 'crmcompanion.sqlite3'}", None, SystemClock())
    try:
        with services.db.read() as session:
            return sorted(session.scalars(select(m.FiredReminder.customer_id)))
    finally:
        services.close()


def test_the_app_delivers_lists_badges_activates_and_quits(home: Path) -> None:
    ada, bob = seed(home, ["Ada", "Bob"])
    result = run_session(home, "full", customer=bob)
    assert result["failures"] == [], "\n".join(result["failures"])
    assert result["exit"] == 0
    seen = result["seen"]
    assert seen["in_tray"] is False  # offscreen: no system tray
    assert [text.split("\n")[0] for text in seen["list"]] == [
        "Birthday: Ada Example", "Birthday: Bob Example"]
    assert seen["runner_running"] is True
    assert seen["reminders_action_page"] is True
    assert seen["message_opens_customer"] is True
    assert seen["open_action_restores"] is True
    assert seen["second_exit"] == 0 and seen["second_activated"] is True
    assert seen["closed"] is True and seen["runner_after_close"] is False
    assert delivered_and_unseen(home) == (2, 0)  # once each, then marked as seen
    # The lock was given back when the app quit: a new instance may run.
    again = SingleInstance(f"sqlite:///{home / 'crmcompanion.sqlite3'}",
                           home / "crmcompanion.lock")
    assert again.acquire()
    again.release()
    assert fired_customers(home) == [ada, bob]  # each one's own reminder, nobody else's


def test_minimized_without_a_tray_starts_as_a_minimised_window(home: Path) -> None:
    seed(home, ["Cy"])
    result = run_session(home, "minimized", "--minimized")
    assert result["failures"] == [], "\n".join(result["failures"])
    assert result["exit"] == 0
    assert result["seen"] == {"visible_minimized": True, "closed": True}


# --- settings ------------------------------------------------------------------------------------


def test_reminders_settings_page_saves_and_writes_the_autostart_entry(
    qtbot, window, services, tmp_path, monkeypatch
) -> None:
    from crmcompanion.ui.main_window import app_icon
    from crmcompanion.ui.tray import ReminderTray

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    glue = ReminderTray(services, window, app_icon(), window.bus.publish, notifiers=[])
    window.bus.changed.connect(glue.on_changed)
    entry = autostart_file()
    assert entry == tmp_path / "config" / "autostart" / entry.name
    assert not entry.exists()

    dialog = window.open_settings()
    qtbot.waitExposed(dialog)
    dialog.page_list.setCurrentRow([p.page.title for p in dialog.pages].index("Reminders"))
    page = dialog.page("Reminders")
    time_edit = page.editors[REMINDER_TIME.key]  # a time picker: no impossible time to type
    assert time_edit.time() == QTime(9, 0)
    page.editors[AUTOSTART.key].click()
    page.editors[KEEP_RUNNING_IN_TRAY.key].click()
    save_shot(dialog, tmp_path, "settings-reminders.png")
    time_edit.setFocus()
    time_edit.setCurrentSectionIndex(0)  # the hours: two steps down
    qtbot.keyClick(time_edit, Qt.Key.Key_Down)
    qtbot.keyClick(time_edit, Qt.Key.Key_Down)
    time_edit.setCurrentSectionIndex(1)  # the minutes: thirty steps up
    for _ in range(30):
        qtbot.keyClick(time_edit, Qt.Key.Key_Up)
    assert time_edit.time() == QTime(7, 30)
    dialog.save_button.click()
    assert not dialog.isVisible()
    assert services.settings.get(REMINDER_TIME) == "07:30"
    assert services.settings.get(AUTOSTART) is True
    assert services.settings.get(KEEP_RUNNING_IN_TRAY) is False
    text = entry.read_text()
    assert "--minimized" in text and "[Desktop Entry]" in text

    dialog = window.open_settings()
    page = dialog.page("Reminders")
    assert page.editors[REMINDER_TIME.key].time() == QTime(7, 30)
    assert page.editors[AUTOSTART.key].isChecked()
    page.editors[AUTOSTART.key].click()
    dialog.save_button.click()
    assert services.settings.get(AUTOSTART) is False
    assert not entry.exists()  # removed when turned off
