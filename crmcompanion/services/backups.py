"""Backups as the user sees them: "Back up now", the daily backup, the list, restore.

The app, `remind --once` and the command line share these rules: a routine backup goes to the
backup folder setting (empty: the data folder's backups/), keeps the newest N (a setting), and
the daily one is made when the newest backup there is 24 hours old or more: `backup_due`
decides that from the app's clock, so tests move the clock instead of waiting a day.

`DailyBackups` runs that check on a plain thread (first a few seconds after start, then every
hour): a backup reads the whole database, and must never run on the GUI thread or delay the
first paint.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path

from crmcompanion.core.clock import Clock
from crmcompanion.core.settings import SettingSpec, register
from crmcompanion.services.settings import SettingsService
from crmcompanion.store.backups import (
    BackupFile,
    BackupProblem,
    backup_file,
    list_backups,
    newest_good_backup,
    restore_backup,
    rotate_backups,
    routine_backup_path,
    verify_backup,
    write_backup,
)
from crmcompanion.store.database import Database, UnusableFile, sqlite_path

logger = logging.getLogger(__name__)

BACKUP_FOLDER = register(SettingSpec(
    "backups.folder", str, "",
    "Folder for backups (a USB drive or a synced folder); empty: the data folder's backups.",
))
BACKUPS_KEPT = register(SettingSpec(
    "backups.keep", int, 10, "How many daily and manual backups to keep (the oldest go).",
))
DAILY = timedelta(hours=24)
# A newest backup dated this far ahead of the clock means the clock went back: back up anyway.
CLOCK_SLACK = timedelta(hours=1)

__all__ = [
    "BACKUPS_KEPT", "BACKUP_FOLDER", "BackupFile", "BackupProblem", "BackupService",
    "DailyBackups", "backup_due", "database_file", "newest_good_backup_in", "restorable",
    "restore_advice", "restore_database",
]


def local_now(clock: Clock) -> datetime:
    """The clock's now as naive local time, the form backup names carry."""
    return clock.now().astimezone().replace(tzinfo=None)


def backup_due(newest: datetime | None, clock: Clock, every: timedelta = DAILY) -> bool:
    """Is a routine backup due at the clock's now, given when the newest one (naive local
    time) was made?"""
    if newest is None:
        return True
    now = local_now(clock)
    return now - newest >= every or newest - now > CLOCK_SLACK


# Team mode: the server keeps the data, and its backups are made there.
SERVER_BACKUP_ADVICE = ("Only a database file (SQLite) is backed up by CRM Companion; back up a "
               "PostgreSQL database on its server with pg_dump (and restore with pg_restore).")


def database_file(url: str) -> Path:
    """The SQLite file a database URL names, or BackupProblem (backups are of files)."""
    path = sqlite_path(url)
    if path is None:
        raise BackupProblem(SERVER_BACKUP_ADVICE)
    return path


def restore_database(url: str, backup: Path, clock: Clock) -> Path | None:
    """Put `backup` in place of the (closed, maybe damaged) database `url` names; returns
    where the replaced file was kept. BackupProblem with the reason when `backup` is not a
    good backup or the database is open elsewhere: nothing changes then."""
    return restore_backup(backup, database_file(url), local_now(clock))


def restore_advice(problem: Exception, folders: list[Path]) -> str | None:
    """For a database that cannot be opened but could be replaced by a backup: which backup
    to restore and the command that does it; None when a restore would not help."""
    if not restorable(problem):
        return None
    newest = newest_good_backup(folders)
    if newest is None:
        where = ", ".join(str(f) for f in folders)
        return f"No good backup was found in {where}."
    return (
        f"The newest good backup is {newest.path} (made {newest.made_at:%Y-%m-%d %H:%M}); "
        f"to put it back, run: crmcompanion restore '{newest.path}'"
    )


def restorable(problem: Exception) -> bool:
    """Would putting a backup in place of the database help with `problem`? (Not for a full
    disk, a read-only folder or a file another program locks.)"""
    return isinstance(problem, UnusableFile) and problem.restorable


def newest_good_backup_in(folders: list[Path]) -> BackupFile | None:
    """The newest backup in `folders` that passes every check (for the app's start dialog)."""
    return newest_good_backup(folders)


class BackupService:
    """Backups of one open SQLite database."""

    def __init__(
        self, db: Database, clock: Clock, settings: SettingsService,
        default_folder: Path | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        path = db.info.path
        self._default_folder = default_folder or (
            db.info.backups_dir or (path.parent / "backups" if path else None)
        )
        # One backup at a time in this process (the daily job and "Back up now").
        self._lock = threading.Lock()

    @property
    def database(self) -> Path:
        if self._db.info.path is None:
            raise BackupProblem(SERVER_BACKUP_ADVICE)
        return self._db.info.path

    @property
    def on_server(self) -> bool:
        """Team mode: the server's administrator backs the data up (SERVER_BACKUP_ADVICE),
        so there is no backup file, folder or daily copy of ours."""
        return self._db.info.path is None

    @property
    def default_folder(self) -> Path | None:
        return self._default_folder

    def folder(self) -> Path:
        chosen = str(self._settings.get(BACKUP_FOLDER)).strip()
        if chosen:
            return Path(chosen).expanduser()
        if self._default_folder is None:
            raise BackupProblem("No backup folder is set.")
        return self._default_folder

    def folders(self) -> list[Path]:
        """Where backups may be: the chosen folder, and the default one (pre-migration
        backups and older routine ones stay there)."""
        folders = [self.folder()]
        if self._default_folder is not None:
            folders.append(self._default_folder)
        return list(dict.fromkeys(folders))

    def keep(self) -> int:
        return max(1, int(self._settings.get(BACKUPS_KEPT)))

    def list(self) -> list[BackupFile]:
        """Every backup in the backup folders, newest first."""
        found = [b for folder in self.folders() for b in list_backups(folder)]
        return sorted(found, key=lambda b: b.order, reverse=True)

    def back_up(self, target: Path | None = None) -> BackupFile:
        """A verified backup now: to `target` when given (kept out of rotation), else a
        routine backup in the backup folder, rotated to the newest N."""
        database = self.database
        with self._lock:
            if target is not None:
                written = write_backup(database, target)
            else:
                folder = self.folder()
                written = write_backup(
                    database, routine_backup_path(database, folder, local_now(self._clock))
                )
                for removed in rotate_backups(folder, self.keep()):
                    logger.info("Removed the old backup %s (keeping %d)", removed, self.keep())
        logger.info("Backed up %s to %s", database, written)
        return backup_file(written)

    def daily_backup_due(self) -> bool:
        if self.on_server:  # a server's backups are its administrator's (pg_dump)
            return False
        routine = [b for b in list_backups(self.folder()) if b.routine]
        return backup_due(routine[0].made_at if routine else None, self._clock)

    def back_up_if_due(self) -> BackupFile | None:
        """The daily backup, when the newest routine one is 24 hours old or more."""
        if not self.daily_backup_due():
            return None
        return self.back_up()

    def newest_good(self) -> BackupFile | None:
        return newest_good_backup(self.folders())

    @staticmethod
    def verify(path: Path) -> str:
        return verify_backup(path)

    def restore(self, backup: Path) -> Path | None:
        """Restore `backup` over this database; closes the database's connections first
        (the caller reopens it, or restarts). Returns where the replaced file was kept."""
        verify_backup(backup)  # refuse before closing anything
        self._db.dispose()
        return restore_backup(backup, self.database, local_now(self._clock))


class DailyBackups:
    """Makes the daily backup on its own thread while the app runs."""

    def __init__(
        self, service: BackupService, first_delay_s: float = 30.0, every_s: float = 3600.0
    ) -> None:
        self._service = service
        self._first_delay_s = first_delay_s
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.made: list[BackupFile] = []

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="daily-backup", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        delay = self._first_delay_s
        while not self._stop.wait(delay):
            delay = self._every_s
            try:
                made = self._service.back_up_if_due()
            except Exception:
                logger.exception("The daily backup failed")
                continue
            if made is not None:
                self.made.append(made)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop; a backup being written finishes first (so the database closes after it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
