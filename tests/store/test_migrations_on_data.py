"""Every released schema version, seeded with representative rows, upgraded to the head.

The fixtures are SQL dumps made by tests/fixtures/schema_versions/make_fixtures.py (one per
revision, built with that revision's own migrations). Each is loaded into a file and opened
the way the app opens it: a verified backup first, then the migrations; then the stored rows
are compared with the fixture's, and the app reads the customers back through its services.
"""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import date
from pathlib import Path

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import Channel, Status
from crmcompanion.services.container import open_services
from crmcompanion.store.backups import list_backups, verify_backup
from crmcompanion.store.database import HEAD_REVISION, KNOWN_REVISIONS

FIXTURES = Path(__file__).parents[1] / "fixtures" / "schema_versions"
DUMPS = sorted(FIXTURES.glob("*.sql"))
# Tables the app derives from others (recomputed when opened) and the search index, which
# migrations may rewrite by design; every other table keeps its rows exactly.
DERIVED = {"alembic_version", "contact_rhythm", "touchpoint_sources", "keep_in_touch_due_counts",
           "customer_search"}


def load(dump: Path, path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(dump.read_text(encoding="utf-8"))
    finally:
        conn.close()


# Columns the upgrade or the first start change by design, checked apart: 0007 gives each
# customer without a UID a random one; the first start names the old "You" staff row after
# its owner (0008).
CHANGED_BY_DESIGN = {("customers", "source_uid"), ("staff", "name"), ("staff", "login")}


def table_rows(
    path: Path, only: dict[str, list[tuple[object, ...]]] | None = None
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every non-derived table, as (column, value) pairs, without the columns
    changed by design; with `only`, just the columns those rows have (a later revision's new
    columns are not compared)."""
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE 'customer_search%'"
        )]
        rows = {}
        for name in names:
            if name in DERIVED:
                continue
            cursor = conn.execute(f'SELECT * FROM "{name}"')
            columns = [c[0] for c in cursor.description]
            known = ({c for row in only.get(name, []) for c, _ in row}  # type: ignore[misc]
                     if only is not None and only.get(name) else None)
            kept = [i for i, c in enumerate(columns) if (name, c) not in CHANGED_BY_DESIGN
                    and (known is None or c in known)]
            rows[name] = sorted((tuple((columns[i], r[i]) for i in kept) for r in cursor),
                                key=repr)
        return rows
    finally:
        conn.close()


def table_columns(dump: Path) -> dict[str, list[str]]:
    """Each table's columns in the dump as it was (before the upgrade)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "columns.sqlite3"
        load(dump, path)
        conn = sqlite3.connect(path)
        try:
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {n: [r[1] for r in conn.execute(f'PRAGMA table_info("{n}")')]
                    for n in names}
        finally:
            conn.close()


def customer_uids(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT source_uid FROM customers ORDER BY id")]
    finally:
        conn.close()


def test_one_fixture_per_known_revision() -> None:
    assert {d.stem for d in DUMPS} == set(KNOWN_REVISIONS)


@pytest.mark.parametrize("dump", DUMPS, ids=[d.stem for d in DUMPS])
def test_upgrade_keeps_every_record(dump: Path, tmp_path: Path) -> None:
    path = tmp_path / "crmcompanion.sqlite3"
    load(dump, path)
    before = table_rows(path)
    assert before["customers"], "the fixture holds customers"
    backups = tmp_path / "backups"
    services = open_services(f"sqlite:///{path}", backups, FixedClock(date(2025, 6, 2)))
    try:
        assert services.db.info.revision == HEAD_REVISION
        # A verified backup of the old file came first (none when already at the head).
        copies = list_backups(backups)
        if dump.stem == HEAD_REVISION:
            assert copies == []
        else:
            assert len(copies) == 1 and verify_backup(copies[0].path) == dump.stem

        lukasz = services.customers.get(1)
        assert (lukasz.display_name, lukasz.company) == ("Łukasz Nowak", "Straße GmbH")
        assert [e.address for e in lukasz.emails] == ["lukasz@example.com"]
        assert [p.number for p in lukasz.phones] == ["+4930123456"]
        assert list(lukasz.tags) == ["VIP"]
        assert lukasz.status is Status.ACTIVE and lukasz.key_account
        assert lukasz.preferred_channel is Channel.EMAIL
        assert lukasz.customer_since == date(2024, 2, 29)
        assert [(d.month, d.day, d.year) for d in lukasz.special_dates] == [(3, 14, 1980)]
        ada = services.customers.get(2)
        assert ada.status is Status.LEAD and ada.customer_since is None
        # Found by what a person types, whatever version indexed them (0006 refolds ł, ß).
        for typed, expected in (("lukasz", 1), ("strasse", 1), ("ada", 2), ("4930123", 1)):
            assert [c.id for c in services.customers.search(typed, 10)] == [expected], typed
        assert [c.id for c in services.customers.search("friend", 10, include_archived=True)] \
            == [3]
    finally:
        services.close()
    after = table_rows(path, before)
    for table, rows in before.items():
        assert after[table] == rows, table
    conn = sqlite3.connect(path)
    try:  # the old "You" row (#1) is now the user who opened the file, with a login key
        assert conn.execute("SELECT login IS NOT NULL FROM staff WHERE id = 1").fetchone() \
            == (1,)
    finally:
        conn.close()
    uids = customer_uids(path)
    assert all(uid.startswith("urn:uuid:") for uid in uids) and len(set(uids)) == len(uids)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
