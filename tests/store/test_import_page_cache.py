"""An import loads its rows with a big page cache (store.bulk.attached), and gives it back.

Why it matters: appending tens of thousands of customers to a populated database puts keys
into every index of the customers table in random order; with SQLite's default 2 MB cache
those index pages are read from the file again for nearly every key (the customers insert of
a 90,000-row import into 100,000 customers: ~1.6 s of CPU with 64 MB, 2.7-3.2 s without).
The check is on the pragma the loading connection runs with, never on a timing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from crmcompanion.services.container import Services
from crmcompanion.store import bulk

CSV = "First Name,Last Name,E-mail Address,Mobile Phone\n" + "".join(
    f"Anna{i},Müller,anna{i}@example.org,+33 6 10 01 23 {i:02}\n" for i in range(40))


def _cache_size(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA main.cache_size").fetchone()[0])


def test_the_load_runs_with_the_import_cache_and_the_pool_keeps_the_default(
        services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "contacts.csv"
    source.write_text(CSV, encoding="utf-8")
    seen: list[int] = []
    real_insert = bulk.insert_staged

    def watched(session: Session, *args: Any, **kwargs: Any) -> None:
        seen.append(_cache_size(session.connection().connection.driver_connection))
        real_insert(session, *args, **kwargs)

    monkeypatch.setattr(bulk, "insert_staged", watched)
    with services.db.write_engine.connect() as connection:
        default = _cache_size(connection.connection.driver_connection)
    preview = services.import_export.preview(source, find_duplicates=True)
    result = services.import_export.run(preview.plan)

    assert result.created == 40
    assert seen == [-bulk.IMPORT_CACHE_KIB]  # KiB, as SQLite takes a negative size
    assert default > -bulk.IMPORT_CACHE_KIB  # a pooled connection caches less
    with services.db.write() as session:  # the pooled connection the import used
        assert session.execute(text("PRAGMA main.cache_size")).scalar() == default
