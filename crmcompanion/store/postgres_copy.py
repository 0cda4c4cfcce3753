"""`crmcompanion db copy --to URL`: a laptop's SQLite book moved onto a PostgreSQL server.

Why apart: the copy reads the SQLite file directly (plain sqlite3, rows as stored) and writes
every table with COPY in ONE server transaction, so it is all or nothing: a failure half-way
leaves the target as it was. The target must hold no customers (an empty database is
migrated first, a migrated one may hold only what migrating made: the local staff row);
whatever else it holds is replaced by the book's own rows. Derived rows are copied too (the
search texts, touchpoint sources, rhythm rows), the per-day due counts are recounted, and
the id sequences are advanced past the copied ids.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from crmcompanion.core.errors import DomainError
from crmcompanion.store import models as m
from crmcompanion.store import postgres, postgres_bulk
from crmcompanion.store import touchpoints as tp_repo
from crmcompanion.store.database import read_only_uri

logger = logging.getLogger(__name__)

# Recounted from contact_rhythm after the copy (the rhythm rows' triggers count as they go).
_RECOUNTED = "keep_in_touch_due_counts"
_BATCH = 5000


def copy_sqlite_to_postgres(source: Path, url: str,
                            progress: Callable[[str], None] | None = None) -> int:
    """Copy the (migrated, current) SQLite database `source` into the PostgreSQL database
    `url`; returns how many customers were copied. DomainError when the target holds
    customers already."""
    postgres.migrate_postgres(url)
    target = postgres.open_postgres(url)
    conn = sqlite3.connect(read_only_uri(source), uri=True)
    try:
        with target.write() as session:
            postgres_bulk.lock_customers(session)
            held = session.execute(text("SELECT count(*) FROM customers")).scalar_one()
            if held:
                raise DomainError(
                    f"The PostgreSQL database {postgres.masked(url)} holds {held:,} customers "
                    "already; copy into an empty database.")
            tables = [t for t in m.Base.metadata.sorted_tables if t.name != _RECOUNTED]
            for table in reversed(tables):
                session.execute(text(f"DELETE FROM {table.name}"))
            session.execute(text("DELETE FROM customer_search"))
            customers = 0
            # The rows the triggers would make (rhythm rows, due counts) are copied or
            # recounted: the per-row triggers are set aside, as for a bulk load.
            with tp_repo.triggers_set_aside(
                    session, tp_repo.BULK_INSERT_TRIGGERS + tp_repo.DUE_COUNT_TRIGGERS):
                for table in tables:
                    names = [c.name for c in table.columns]
                    count = _copy(conn, session, table.name, names)
                    if table.name == "customers":
                        customers = count
                    if progress is not None:
                        progress(f"{table.name}: {count:,} rows")
                postgres_bulk.copy_search(session, conn.execute(
                    f"SELECT {', '.join(postgres_bulk.SEARCH_COLUMNS)} FROM customer_search"))
            tp_repo.rebuild_due_counts(session)
            postgres_bulk.advance_sequences(session)
    finally:
        conn.close()
        target.dispose()
    logger.info("Copied %d customers from %s to %s", customers, source, postgres.masked(url))
    return customers


def _copy(conn: sqlite3.Connection, session: object, table: str, names: list[str]) -> int:
    cursor = conn.execute(f"SELECT {', '.join(names)} FROM {table}")

    def rows() -> object:
        while batch := cursor.fetchmany(_BATCH):
            yield from batch

    return postgres_bulk.copy_rows(session, table, names, rows())  # type: ignore[arg-type]
