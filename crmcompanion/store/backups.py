"""Backup files of the SQLite database: written online, verified, listed, rotated, restored.

Why here and not in the services: every step is about files and SQLite itself. A backup is
SQLite's online backup API copying one consistent snapshot (the app may keep writing: WAL
readers never block writers) into a 0600 scratch file beside the target, switched to a plain
rollback-journal file (one self-contained file to carry around), checked with
`PRAGMA integrity_check`, synced and renamed into place: a backup under its final name is
always whole and verified.

Restoring checks the backup first (SQLite, whole, a CRM Companion database of a schema this
version knows, `integrity_check`), copies it beside the database, then swaps: the current
file is kept under a "-replaced-" name in the same folder (a hard link, so the database's
name never points to nothing), its -wal goes with it when it holds pages, and the verified
copy is renamed over the database. A database still open elsewhere (the app) is refused:
swapping a file under a running program would send its next saves into the kept copy.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from crmcompanion.core.atomic_file import owner_only_folder, sync_folder
from crmcompanion.core.errors import DatabaseProblem, DomainError
from crmcompanion.store.database import (
    BUSY_TIMEOUT_MS,
    HEAD_REVISION,
    KNOWN_REVISIONS,
    UnusableFile,
    create_owner_only_file,
    inspect_sqlite_file,
    make_owner_only,
    page_check,
    read_only_uri,
    remove_sqlite_files,
)

logger = logging.getLogger(__name__)

STAMP_FORMAT = "%Y%m%d-%H%M%S"
# Backups made by the daily job or "Back up now"; only these are rotated. Copies made before
# a migration or kept by a restore are listed but never deleted by rotation.
ROUTINE_NAME = re.compile(r"-backup-(\d{8}-\d{6})(?:-\d+)?\.sqlite3$")
# Every name this module (and the pre-migration backup) writes carries the moment it was made,
# by the app's clock: the list and the "newest backup is a day old" decision read that, not
# the file's modification time (which a copy to a USB drive may change).
NAME_STAMP = re.compile(r"-(\d{8}-\d{6})(?:-(\d+))?\.sqlite3$")


class BackupProblem(DomainError):
    """A backup cannot be written, or a file is not a good backup to restore."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    made_at: datetime  # local time: from the name's stamp, else the modification time
    size: int

    @property
    def order(self) -> tuple[datetime, int, str]:
        """Sorts by age: a second backup within one second (name "-2") is the newer."""
        stamp = NAME_STAMP.search(self.path.name)
        number = int(stamp.group(2)) if stamp and stamp.group(2) else 1
        return (self.made_at, number, self.path.name)

    @property
    def routine(self) -> bool:
        return ROUTINE_NAME.search(self.path.name) is not None


def _copy_verified(source: Path, scratch: Path, *, live: bool) -> None:
    """Copy `source` into the new 0600 file `scratch` with the backup API, as a plain
    rollback-journal database, and check every page of the copy.

    The live database is read through an ordinary connection (when it is the last one to
    close, SQLite tidies its -wal and -shm away; a read-only one would leave them behind); a
    backup being restored is opened read-only, so nothing of it can change."""
    create_owner_only_file(scratch)
    timeout = BUSY_TIMEOUT_MS / 1000
    src = (
        sqlite3.connect(source, timeout=timeout) if live
        else sqlite3.connect(read_only_uri(source), uri=True, timeout=timeout)
    )
    try:
        dst = sqlite3.connect(scratch)
        try:
            src.backup(dst)  # all pages in one step: one consistent snapshot
            dst.execute("PRAGMA journal_mode = DELETE")
            verdict = [row[0] for row in dst.execute("PRAGMA integrity_check(5)")]
        finally:
            dst.close()
    finally:
        src.close()
    if verdict != ["ok"]:
        raise BackupProblem(
            f"The copy of {source} failed its integrity check ({verdict[0]}); nothing was kept."
        )
    with open(scratch, "rb+") as handle:
        os.fsync(handle.fileno())


def write_backup(source: Path, target: Path) -> Path:
    """An online, verified, owner-only copy of the database `source` at `target`."""
    owner_only_folder(target.parent)
    scratch = target.with_name(f".{target.name}.part-{os.getpid()}")
    remove_sqlite_files(scratch)
    try:
        _copy_verified(source, scratch, live=True)
        os.replace(scratch, target)
    except sqlite3.Error as exc:
        raise BackupProblem(f"Could not back up {source}: {exc}.") from exc
    except OSError as exc:
        raise BackupProblem(
            f"Could not write the backup {target}: {exc.strerror or exc}."
        ) from exc
    finally:
        remove_sqlite_files(scratch)
    sync_folder(target.parent)
    return target


def routine_backup_path(database: Path, folder: Path, now: datetime) -> Path:
    """A new name for a daily or manual backup made at `now` (never an existing file's)."""
    stem = f"{database.stem}-backup-{now.strftime(STAMP_FORMAT)}"
    target = folder / f"{stem}.sqlite3"
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{stem}-{number}.sqlite3"
    return target


def _made_at(name: str, mtime: float) -> datetime:
    stamp = NAME_STAMP.search(name)
    if stamp:
        try:
            return datetime.strptime(stamp.group(1), STAMP_FORMAT)
        except ValueError:
            pass
    return datetime.fromtimestamp(mtime)


def backup_file(path: Path) -> BackupFile:
    """The list entry of one backup file."""
    info = path.stat()
    return BackupFile(path, _made_at(path.name, info.st_mtime), info.st_size)


def list_backups(folder: Path) -> list[BackupFile]:
    """Every backup in `folder`, newest first."""
    found: list[BackupFile] = []
    try:
        entries = list(folder.glob("*.sqlite3"))
    except OSError:
        return []
    for path in entries:
        if path.name.startswith("."):
            continue  # a backup being written
        try:
            found.append(backup_file(path))
        except OSError:
            continue
    return sorted(found, key=lambda b: b.order, reverse=True)


def rotate_backups(folder: Path, keep: int) -> list[Path]:
    """Delete the oldest routine backups beyond the newest `keep`; returns what went."""
    routine = [b for b in list_backups(folder) if b.routine]
    removed = []
    for old in routine[max(keep, 1):]:
        try:
            old.path.unlink()
            removed.append(old.path)
        except OSError as exc:
            logger.warning("Could not remove the old backup %s: %s", old.path, exc)
    return removed


def verify_backup(path: Path) -> str:
    """The schema revision of a good backup, or BackupProblem saying why it is not one."""
    if not path.is_file():
        raise BackupProblem(f"{path} is not a file.")
    try:
        revision = inspect_sqlite_file(path)
    except UnusableFile as exc:
        raise BackupProblem(f"{path} is not a good backup: it {exc.reason}.") from exc
    if revision is None:
        raise BackupProblem(f"{path} is not a good backup: it is not a CRM Companion database.")
    if revision not in KNOWN_REVISIONS:
        raise BackupProblem(
            f"{path} is not a good backup for this version: it was written by a newer version "
            f"of CRM Companion (schema {revision}); update the app first."
        )
    try:
        verdict = page_check(path, "integrity_check")
    except sqlite3.DatabaseError as exc:
        verdict = [str(exc)]
    if verdict != ["ok"]:
        raise BackupProblem(f"{path} is not a good backup: it is damaged ({verdict[0]}).")
    return revision


def newest_good_backup(folders: list[Path]) -> BackupFile | None:
    """The newest backup in any of `folders` that passes `verify_backup`."""
    candidates: list[BackupFile] = []
    for folder in dict.fromkeys(folders):
        candidates += list_backups(folder)
    for backup in sorted(candidates, key=lambda b: b.order, reverse=True):
        try:
            verify_backup(backup.path)
        except BackupProblem as exc:
            logger.info("Skipping a backup that is not good: %s", exc)
            continue
        return backup
    return None


def _close_cleanly(database: Path) -> bool:
    """Checkpoint a readable database so its -wal is empty, and say whether another
    connection still has it open (SQLite deletes the -wal when its last connection closes)."""
    wal = database.with_name(database.name + "-wal")
    if not wal.exists():
        return False
    try:
        inspect_sqlite_file(database)  # read-only: a damaged file is never opened to write
    except DatabaseProblem:
        return False  # damaged: its -wal moves with it, below
    try:
        conn = sqlite3.connect(database, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False  # damaged: its -wal moves with it, below
    return wal.exists()


def _keep_current(database: Path, now: datetime) -> Path:
    """Keep the current database (and a -wal holding pages) under a "-replaced-" name in
    its own folder; the database's own name still points to it afterwards."""
    kept = database.with_name(
        f"{database.stem}-replaced-{now.strftime(STAMP_FORMAT)}{database.suffix}"
    )
    number = 1
    while kept.exists():
        number += 1
        kept = database.with_name(
            f"{database.stem}-replaced-{now.strftime(STAMP_FORMAT)}-{number}{database.suffix}"
        )
    try:
        os.link(database, kept)
    except OSError:  # no hard links here: a copy, then the same permissions
        import shutil  # only on this path: kept off the app's start-up imports

        shutil.copy2(database, kept)
        make_owner_only(kept)
    for side in ("-wal", "-shm"):
        current = database.with_name(database.name + side)
        if not current.exists():
            continue
        if side == "-wal" and current.stat().st_size > 0:
            os.replace(current, kept.with_name(kept.name + side))
        else:
            current.unlink()  # an empty WAL, or the WAL's index: rebuilt when opened
    return kept


def restore_backup(backup: Path, database: Path, now: datetime | None = None) -> Path | None:
    """Put a verified copy of `backup` in place of `database`; returns where the replaced
    database was kept (None when there was none). BackupProblem when `backup` is not good
    or the database is open in another program; nothing is changed then."""
    revision = verify_backup(backup)
    now = now or datetime.now()
    scratch = database.with_name(f".{database.name}.restore-{os.getpid()}")
    remove_sqlite_files(scratch)
    try:
        try:
            _copy_verified(backup, scratch, live=False)
        except sqlite3.Error as exc:
            raise BackupProblem(f"Could not copy the backup {backup}: {exc}.") from exc
        kept: Path | None = None
        if database.exists():
            if _close_cleanly(database):
                raise BackupProblem(
                    f"The database {database} is open in CRM Companion or another program; "
                    "close it, then restore again. Nothing was changed."
                )
            kept = _keep_current(database, now)
        os.replace(scratch, database)
        sync_folder(database.parent)
    except OSError as exc:
        raise BackupProblem(f"Could not restore {backup}: {exc.strerror or exc}.") from exc
    finally:
        remove_sqlite_files(scratch)
    logger.info(
        "Restored %s (schema %s%s) over %s; the replaced database was kept as %s",
        backup, revision, "" if revision == HEAD_REVISION else ", migrated when opened",
        database, kept,
    )
    return kept
