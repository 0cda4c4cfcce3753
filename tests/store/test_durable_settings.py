"""SQLite durability settings and owner-only files, whatever the umask."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmcompanion.paths import AppPaths
from crmcompanion.store.backups import write_backup
from crmcompanion.store.database import open_database


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_connection_is_wal_full_sync_secure_delete_with_timeout(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        for engine in (db.read_engine, db.write_engine):
            with engine.connect() as conn:
                pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
                assert pragma("journal_mode") == "wal"
                assert pragma("synchronous") == 2  # FULL
                assert pragma("secure_delete") == 1
                assert pragma("foreign_keys") == 1
                assert pragma("busy_timeout") == 10_000
    finally:
        db.dispose()


def test_database_and_its_wal_and_shm_are_owner_only(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "db.sqlite3"
    db = open_database(f"sqlite:///{path}")
    try:
        with db.write() as session:  # the -wal and -shm exist while connections are open
            session.connection().exec_driver_sql(
                "INSERT INTO settings(key, value, updated_at) VALUES ('a', '1', 'x')"
            )
        for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"):
            assert mode(tmp_path / name) == 0o600, name
        # No scratch file of the creation is left beside it.
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "db.sqlite3", "db.sqlite3-shm", "db.sqlite3-wal"
        ]
    finally:
        db.dispose()


def test_an_existing_world_readable_database_is_tightened(
    tmp_path: Path, umask_022: None
) -> None:
    path = tmp_path / "db.sqlite3"
    open_database(f"sqlite:///{path}").dispose()
    os.chmod(path, 0o644)
    open_database(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o600


def test_backups_and_their_folder_are_owner_only(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "db.sqlite3"
    open_database(f"sqlite:///{path}").dispose()
    target = write_backup(path, tmp_path / "backups" / "one.sqlite3")
    assert mode(target) == 0o600
    assert mode(target.parent) == 0o700
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one whole file
    conn.close()


def test_data_folders_are_owner_only(tmp_path: Path, umask_022: None) -> None:
    paths = AppPaths(home=tmp_path / "home", database_url="sqlite://")
    paths.ensure()
    for folder in (paths.home, paths.logs_dir, paths.backups_dir):
        assert mode(folder) == 0o700, folder


def test_log_file_is_owner_only(tmp_path: Path, umask_022: None) -> None:
    import logging

    from crmcompanion.app import setup_file_logging

    paths = AppPaths(home=tmp_path / "home", database_url="sqlite://")
    paths.ensure()
    handler = setup_file_logging(paths)
    try:
        logging.getLogger("crmcompanion.test").warning("hello")
        handler.doRollover()  # the next file is owner-only too
        logging.getLogger("crmcompanion.test").warning("again")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    logs = sorted(paths.logs_dir.iterdir())
    assert len(logs) == 2
    for log in logs:
        assert mode(log) == 0o600, log
