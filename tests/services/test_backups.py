"""Backups as a service: the daily decision on the app's clock, folder and keep-N settings,
the daily thread, and restore through the service."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft
from crmcompanion.services.backups import (
    BACKUP_FOLDER,
    BACKUPS_KEPT,
    BackupService,
    DailyBackups,
    backup_due,
)
from crmcompanion.services.container import Services, open_services


def at(clock_time: datetime, services: Services) -> BackupService:
    """The same database's backups seen from another moment."""
    return BackupService(services.db, FixedClock(clock_time), services.settings)


def test_backup_due_after_24_hours_by_the_given_clock() -> None:
    made = datetime(2026, 12, 5, 9, 0)
    assert backup_due(None, FixedClock(made))
    assert not backup_due(made, FixedClock(made + timedelta(hours=23, minutes=59)))
    assert backup_due(made, FixedClock(made + timedelta(hours=24)))
    # A newest backup from the future means the clock went back: back up again.
    assert backup_due(made, FixedClock(made - timedelta(days=3)))
    assert not backup_due(made, FixedClock(made - timedelta(minutes=30)))


def test_default_folder_is_the_data_folders_backups(services: Services, tmp_path: Path) -> None:
    made = services.backups.back_up()
    assert made.path.parent == tmp_path / "backups"
    assert services.backups.list()[0].path == made.path


def test_daily_backup_only_when_the_newest_is_a_day_old(
    services: Services, tmp_path: Path
) -> None:
    start = datetime(2026, 12, 1, 9, 0)
    assert at(start, services).back_up_if_due() is not None
    assert at(start + timedelta(hours=23), services).back_up_if_due() is None
    later = at(start + timedelta(hours=24, minutes=1), services).back_up_if_due()
    assert later is not None and later.made_at == datetime(2026, 12, 2, 9, 1)
    assert len([b for b in services.backups.list() if b.routine]) == 2


def test_keep_n_setting_rotates(services: Services) -> None:
    services.settings.update({BACKUPS_KEPT.key: 3})
    start = datetime(2026, 12, 1, 9, 0)
    for day in range(6):
        at(start + timedelta(days=day), services).back_up()
    kept = [b.made_at.day for b in services.backups.list() if b.routine]
    assert kept == [6, 5, 4]


def test_backup_folder_setting(services: Services, tmp_path: Path) -> None:
    usb = tmp_path / "usb stick" / "crm"
    services.settings.update({BACKUP_FOLDER.key: str(usb)})
    made = services.backups.back_up()
    assert made.path.parent == usb
    assert (usb.stat().st_mode & 0o777) == 0o700
    assert services.backups.verify(made.path)


def test_backup_to_a_chosen_file_is_not_rotated(services: Services, tmp_path: Path) -> None:
    services.settings.update({BACKUPS_KEPT.key: 1})
    chosen = services.backups.back_up(tmp_path / "mine.sqlite3")
    services.backups.back_up()
    services.backups.back_up()
    assert chosen.path.exists()


def test_restore_through_the_service(services: Services, db_url: str, tmp_path: Path,
                                     clock: FixedClock) -> None:
    ada = services.customers.create(CustomerDraft(first_name="Ada")).customer
    made = services.backups.back_up()
    services.customers.create(CustomerDraft(first_name="Grace"))
    kept = services.backups.restore(made.path)  # closes the database first
    assert kept is not None
    reopened = open_services(db_url, tmp_path / "backups", clock)
    try:
        assert reopened.customers.total() == 1
        assert reopened.customers.get(ada.id).display_name == "Ada"
    finally:
        reopened.close()
    conn = sqlite3.connect(kept)
    assert conn.execute("SELECT count(*) FROM customers").fetchone() == (2,)
    conn.close()


def test_daily_thread_makes_the_backup_off_the_calling_thread(services: Services) -> None:
    daily = DailyBackups(services.backups, first_delay_s=0.01, every_s=0.05)
    daily.start()
    try:
        deadline = time.monotonic() + 30
        while not daily.made and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        daily.stop()
    assert len(daily.made) == 1  # the fixed clock does not move: one backup, not one a tick
    assert daily.made[0].path.exists()


def test_failed_daily_backup_does_not_end_the_thread(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise OSError("disk gone")

    monkeypatch.setattr(services.backups, "back_up_if_due", failing)
    daily = DailyBackups(services.backups, first_delay_s=0.01, every_s=0.01)
    daily.start()
    deadline = time.monotonic() + 30
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    daily.stop()
    assert len(calls) >= 3
