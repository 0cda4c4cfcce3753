"""Every kind of bad database at start gets its own message, and the file is never touched.

Read-only folders and full disks are simulated by injecting EROFS / ENOSPC into the write
probe (root, which runs these tests, ignores chmod); the lock is a real one, held by another
process.
"""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crmcompanion.core.errors import DatabaseProblem
from crmcompanion.store import database
from crmcompanion.store.database import open_database


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    """A real database with a few hundred rows, checkpointed into its main file."""
    path = tmp_path / "crmcompanion.sqlite3"
    db = open_database(f"sqlite:///{path}")
    with db.write() as session:
        session.connection().exec_driver_sql(
            "INSERT INTO settings(key, value, updated_at) "
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) "
            "SELECT 'k' || i, printf('%0500d', i), '2026-01-01' FROM n"
        )
    db.dispose()
    assert not path.with_name(path.name + "-wal").exists()
    return path


def refused(path: Path, match: str) -> DatabaseProblem:
    before = digest(path) if path.is_file() else None
    with pytest.raises(DatabaseProblem, match=match) as caught:
        open_database(f"sqlite:///{path}")
    if before is not None:
        assert digest(path) == before, "the bad file must be left as it was"
    return caught.value


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "crmcompanion.sqlite3"
    path.write_bytes(b"")
    refused(path, r"is empty \(0 bytes\)")
    assert path.stat().st_size == 0


def test_truncated_file(good_file: Path) -> None:
    data = good_file.read_bytes()
    good_file.write_bytes(data[: len(data) // 2])
    refused(good_file, "is truncated")


def test_header_only_fragment_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "crmcompanion.sqlite3"
    path.write_bytes(b"SQLite for")
    refused(path, "is truncated")


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "crmcompanion.sqlite3"
    path.write_bytes(os.urandom(64 * 1024))
    refused(path, "not an SQLite file")


def test_not_sqlite_text_file(tmp_path: Path) -> None:
    path = tmp_path / "crmcompanion.sqlite3"
    path.write_text("first_name,last_name\nAda,Lovelace\n", encoding="utf-8")
    refused(path, "not an SQLite file")


def test_newer_schema(good_file: Path) -> None:
    conn = sqlite3.connect(good_file)
    conn.execute("UPDATE alembic_version SET version_num = '0999_future'")
    conn.commit()
    conn.close()
    problem = refused(good_file, "newer version of CRM Companion")
    assert "0999_future" in str(problem)


LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("INSERT INTO settings(key, value, updated_at) VALUES ('lock', '1', 'x')")
print("locked", flush=True)
sys.stdin.read()
"""


def test_locked_by_another_program(good_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "INSPECT_LOCK_WAIT_S", 0.2)
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(good_file)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        with pytest.raises(DatabaseProblem, match="locked by another program"):
            open_database(f"sqlite:///{good_file}")
    finally:
        locker.communicate("")
    # Once the other program lets go (its change never committed), the database opens.
    open_database(f"sqlite:///{good_file}").dispose()


def inject_into_probe(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Make creating the write probe fail with `code`, as a read-only or full disk would."""
    real_open = os.open

    def failing_open(path: object, flags: int, mode: int = 0o777, **kw: object) -> int:
        if "crmcompanion-probe" in str(path):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, mode, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(database.os, "open", failing_open)


def test_read_only_folder(good_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inject_into_probe(monkeypatch, errno.EROFS)
    refused(good_file, "read-only disk")


def test_full_disk(good_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inject_into_probe(monkeypatch, errno.ENOSPC)
    refused(good_file, "disk holding the database folder .* is full")


def test_new_database_in_read_only_folder_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inject_into_probe(monkeypatch, errno.EROFS)
    with pytest.raises(DatabaseProblem, match="read-only"):
        open_database(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert list(tmp_path.iterdir()) == []


def test_sqlite_full_error_reads_as_a_full_disk(tmp_path: Path) -> None:
    """SQLite's own SQLITE_FULL (here a page limit) gets the full-disk sentence."""
    conn = sqlite3.connect(tmp_path / "tiny.sqlite3")
    conn.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 50)
    conn.close()
    problem = database._operational_problem(tmp_path / "tiny.sqlite3", caught.value)
    assert "is full" in str(problem)
