"""Backup files: written online and verified, listed, rotated, checked and restored."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from crmcompanion.store.backups import (
    BackupProblem,
    list_backups,
    restore_backup,
    rotate_backups,
    routine_backup_path,
    verify_backup,
    write_backup,
)
from crmcompanion.store.database import HEAD_REVISION, open_database


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def settings_rows(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT key, value FROM settings"))
    finally:
        conn.close()


def put(path: Path, key: str, value: str) -> None:
    db = open_database(f"sqlite:///{path}")
    try:
        with db.write() as session:
            session.connection().exec_driver_sql(
                "INSERT OR REPLACE INTO settings(key, value, updated_at) VALUES (?, ?, 'x')",
                (key, value),
            )
    finally:
        db.dispose()


@pytest.fixture
def live(tmp_path: Path) -> Path:
    path = tmp_path / "crmcompanion.sqlite3"
    put(path, "state", "before")
    return path


def test_online_backup_while_a_connection_holds_uncheckpointed_writes(
    live: Path, tmp_path: Path
) -> None:
    db = open_database(f"sqlite:///{live}")
    try:
        with db.write() as session:
            session.connection().exec_driver_sql(
                "UPDATE settings SET value = 'in the wal' WHERE key = 'state'"
            )
        # The change sits in the -wal (the connection is still open): the backup has it.
        assert live.with_name(live.name + "-wal").stat().st_size > 0
        target = write_backup(live, tmp_path / "backups" / "b.sqlite3")
    finally:
        db.dispose()
    assert settings_rows(target)["state"] == "in the wal"
    assert verify_backup(target) == HEAD_REVISION
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


def test_rotation_keeps_the_newest_routine_backups_only(live: Path, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    for day in range(1, 6):
        write_backup(live, routine_backup_path(live, folder, datetime(2026, 12, day, 9)))
    before_migration = write_backup(live, folder / "crmcompanion-before-0007-x.sqlite3")
    removed = rotate_backups(folder, keep=3)
    assert sorted(p.name for p in removed) == [
        "crmcompanion-backup-20261201-090000.sqlite3",
        "crmcompanion-backup-20261202-090000.sqlite3",
    ]
    listed = list_backups(folder)
    assert [b.made_at.day for b in listed if b.routine] == [5, 4, 3]
    assert before_migration in [b.path for b in listed]  # never rotated away
    assert all(b.size == b.path.stat().st_size > 0 for b in listed)


def test_two_backups_in_one_second_get_two_names(live: Path, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    now = datetime(2026, 12, 6, 9)
    first = write_backup(live, routine_backup_path(live, folder, now))
    second = write_backup(live, routine_backup_path(live, folder, now))
    assert first != second and first.exists() and second.exists()


def test_restore_swaps_and_keeps_the_replaced_database(live: Path, tmp_path: Path) -> None:
    backup = write_backup(live, tmp_path / "backups" / "b.sqlite3")
    put(live, "state", "after")
    kept = restore_backup(backup, live, datetime(2026, 12, 6, 10))
    assert settings_rows(live)["state"] == "before"
    assert kept is not None and kept.parent == live.parent
    assert settings_rows(kept)["state"] == "after"
    assert os.stat(live).st_mode & 0o777 == 0o600
    # The restored database opens, in WAL again.
    db = open_database(f"sqlite:///{live}")
    db.dispose()


def test_restore_carries_a_damaged_databases_wal_into_the_kept_copy(
    live: Path, tmp_path: Path
) -> None:
    backup = write_backup(live, tmp_path / "backups" / "b.sqlite3")
    wal = live.with_name(live.name + "-wal")
    wal.write_bytes(b"pages of a damaged database")
    live.write_bytes(b"\xff" * 4096)
    kept = restore_backup(backup, live)
    assert kept is not None
    assert kept.with_name(kept.name + "-wal").read_bytes() == b"pages of a damaged database"
    assert kept.read_bytes() == b"\xff" * 4096
    assert not wal.exists()
    assert settings_rows(live)["state"] == "before"


def test_restore_refuses_while_the_database_is_open(live: Path, tmp_path: Path) -> None:
    backup = write_backup(live, tmp_path / "backups" / "b.sqlite3")
    db = open_database(f"sqlite:///{live}")
    try:
        with db.write() as session:
            session.connection().exec_driver_sql("UPDATE settings SET value = 'open'")
        with pytest.raises(BackupProblem, match="is open in CRM Companion"):
            restore_backup(backup, live)
        assert settings_rows(live)["state"] == "open"
    finally:
        db.dispose()
    assert [p.name for p in live.parent.iterdir() if "replaced" in p.name] == []


def bad_backups(tmp_path: Path, live: Path) -> dict[str, tuple[Path, str]]:
    folder = tmp_path / "bad"
    folder.mkdir()
    text = folder / "notes.sqlite3"
    text.write_text("not a database\n", encoding="utf-8")
    good = write_backup(live, folder / "good.sqlite3")
    truncated = folder / "truncated.sqlite3"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    newer = write_backup(live, folder / "newer.sqlite3")
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE alembic_version SET version_num = '0999_future'")
    conn.commit()
    conn.close()
    other = folder / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE moz_places (id INTEGER)")
    conn.commit()
    conn.close()
    empty = folder / "empty.sqlite3"
    empty.write_bytes(b"")
    return {
        "not sqlite": (text, "not an SQLite file"),
        "truncated": (truncated, "truncated"),
        "newer": (newer, "newer version"),
        "other program": (other, "another program"),
        "empty": (empty, "empty"),
    }


def test_restore_refuses_files_that_are_not_good_backups(live: Path, tmp_path: Path) -> None:
    before = digest(live)
    for label, (path, reason) in bad_backups(tmp_path, live).items():
        with pytest.raises(BackupProblem, match=reason):
            restore_backup(path, live)
        assert digest(live) == before, label
    assert sorted(p.name for p in live.parent.iterdir() if p.is_file()) == [live.name]


def test_damaged_backup_is_refused_by_its_integrity_check(live: Path, tmp_path: Path) -> None:
    put(live, "bulk", "x" * 20000)  # overflow pages to damage
    backup = write_backup(live, tmp_path / "backups" / "b.sqlite3")
    data = bytearray(backup.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    for page in range(2, len(data) // page_size):  # keep page 1 (the schema) readable
        data[page * page_size + 8 : page * page_size + 64] = os.urandom(56)
    backup.write_bytes(bytes(data))
    with pytest.raises(BackupProblem, match=r"damaged|cannot be read"):
        verify_backup(backup)
