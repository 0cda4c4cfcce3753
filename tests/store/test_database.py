"""Opening databases: new, reopened, and every kind of file that must be left untouched."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from crmcompanion.core.errors import DatabaseProblem
from crmcompanion.store import database
from crmcompanion.store.database import HEAD_REVISION, open_database


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_database_is_migrated_to_head_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    db = open_database(f"sqlite:///{path}", tmp_path / "backups")
    try:
        assert db.info.revision == HEAD_REVISION
        with db.read() as session:
            assert session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert session.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM staff WHERE is_local = 1").fetchone()[0] == 1
    conn.close()


def test_reopening_keeps_one_local_staff_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    for _ in range(3):
        open_database(url).dispose()
    conn = sqlite3.connect(tmp_path / "db.sqlite3")
    assert conn.execute("SELECT count(*) FROM staff").fetchone()[0] == 1


def test_head_revision_constant_matches_alembic_scripts() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(database.MIGRATIONS_DIR))
    assert scripts.get_current_head() == HEAD_REVISION
    assert {s.revision for s in scripts.walk_revisions()} == set(database.KNOWN_REVISIONS)


def test_models_match_migrations(tmp_path: Path) -> None:
    """A column or index added to a model without a migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from crmcompanion.store.models import Base

    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        with db.read_engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        db.dispose()
    # FTS shadow tables are created by raw SQL and unknown to the models: ignore them.
    relevant = [d for d in diff
                if "customer_search" not in repr(d) and "feedback_search" not in repr(d)]
    assert relevant == []


def test_garbage_file_is_reported_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "crmcompanion.sqlite3"
    path.write_bytes(b"this is not a database at all" * 100)
    before = digest(path)
    with pytest.raises(DatabaseProblem, match="not an SQLite file"):
        open_database(f"sqlite:///{path}")
    assert digest(path) == before


def test_corrupt_sqlite_file_is_reported_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "crmcompanion.sqlite3"
    open_database(f"sqlite:///{path}").dispose()
    data = bytearray(path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)  # keep the header, smash every page
    path.write_bytes(bytes(data))
    before = digest(path)
    with pytest.raises(DatabaseProblem, match="left untouched"):
        open_database(f"sqlite:///{path}")
    assert digest(path) == before


def test_newer_schema_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "crmcompanion.sqlite3"
    open_database(f"sqlite:///{path}").dispose()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(DatabaseProblem, match="newer version"):
        open_database(f"sqlite:///{path}")
    assert digest(path) == before


def test_other_programs_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "crmcompanion.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_places (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseProblem, match="another program"):
        open_database(f"sqlite:///{path}")


def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "crmcompanion.sqlite3"
    folder.mkdir()
    with pytest.raises(DatabaseProblem, match="is a folder"):
        open_database(f"sqlite:///{folder}")


def test_other_database_schemes_are_not_supported() -> None:
    with pytest.raises(DatabaseProblem, match="not supported"):
        open_database("mysql://user@127.0.0.1/crm")


def test_older_schema_is_backed_up_with_vacuum_into_before_migrating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "crmcompanion.sqlite3"
    db = open_database(f"sqlite:///{path}")
    db.dispose()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO settings(key, value, updated_at) VALUES ('x', '1', '2026-01-01')")
    # Pretend the file is at an older revision that this build upgrades from.
    conn.execute("UPDATE alembic_version SET version_num = 'older'")
    conn.commit()
    conn.close()
    monkeypatch.setattr(database, "KNOWN_REVISIONS", database.KNOWN_REVISIONS | {"older"})
    migrated: list[str] = []
    monkeypatch.setattr(database, "_run_migrations", lambda db: migrated.append(db.url))
    backups = tmp_path / "backups"
    db = open_database(f"sqlite:///{path}", backups)
    db.dispose()
    assert migrated, "migrations must run for an older schema"
    copies = list(backups.glob("*.sqlite3"))
    assert len(copies) == 1 and db.info.backup == copies[0]
    copy = sqlite3.connect(copies[0])
    assert copy.execute("SELECT value FROM settings WHERE key = 'x'").fetchone() == ("1",)
    assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == ("older",)


def smash_page_of(path: Path, name: str) -> None:
    """Overwrite the root page of table or index `name` with garbage (a checkpointed file)."""
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    data[start:start + page_size] = b"\xa5" * page_size
    path.write_bytes(bytes(data))


def seeded_database(path: Path, customers: int = 20) -> None:
    """A real database with `customers` tagged customers, checkpointed and closed."""
    from crmcompanion.core.customer import CustomerDraft
    from crmcompanion.services.container import open_services

    services = open_services(f"sqlite:///{path}")
    try:
        for i in range(customers):
            services.customers.create(
                CustomerDraft(first_name=f"Customer {i}", tags=("vip", f"tag{i}"))
            )
    finally:
        services.close()


def test_damage_deep_inside_is_refused_before_a_migration_untouched_and_not_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "crmcompanion.sqlite3"
    seeded_database(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = 'older'")
    conn.commit()
    conn.close()
    smash_page_of(path, "tags")  # a table no start-up read touches
    before = digest(path)
    monkeypatch.setattr(database, "KNOWN_REVISIONS", database.KNOWN_REVISIONS | {"older"})
    migrated: list[str] = []
    monkeypatch.setattr(database, "_run_migrations", lambda db: migrated.append(db.url))
    backups = tmp_path / "backups"
    with pytest.raises(DatabaseProblem, match=r"is damaged .*left untouched"):
        open_database(f"sqlite:///{path}", backups)
    assert digest(path) == before
    assert migrated == [] and not list(backups.glob("*"))


def test_ordinary_start_skips_the_full_check_so_deep_damage_opens(tmp_path: Path) -> None:
    """The trade documented in store/database.py: no page-by-page check at every start."""
    path = tmp_path / "crmcompanion.sqlite3"
    seeded_database(path)
    smash_page_of(path, "tags")
    db = open_database(f"sqlite:///{path}")
    db.dispose()
    assert db.info.revision == HEAD_REVISION


def test_damage_in_the_first_list_page_is_reported_at_open_and_left_untouched(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crmcompanion.sqlite3"
    seeded_database(path)
    smash_page_of(path, "customers")
    before = digest(path)
    with pytest.raises(DatabaseProblem, match=r"cannot be read .*left untouched"):
        open_database(f"sqlite:///{path}")
    assert digest(path) == before
