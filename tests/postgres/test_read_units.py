"""PostgreSQL read units (store.database.Database.read): one REPEATABLE READ READ ONLY
transaction each, ended by COMMIT so psycopg keeps the statements it prepared, and never a
write or a lock inside one (issue 17's Today and keystroke targets: the prepared statements
save the server's parse and analysis on every view; a lock taken in a read would hold other
writers back, and autocommit reads could not take one at all).

Each test is a fact about what reaches the server, never a timing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.services.container import Services
from crmcompanion.services.customers import ListQuery
from crmcompanion.services.demo import fill_demo
from tests.postgres.conftest import CLOCK

# What a read unit must never send: row or table locks, and writes (the server refuses the
# writes in a READ ONLY transaction; LOCK TABLE it allows there, so this list is the guard).
_LOCKS_OR_WRITES = re.compile(
    r"\bLOCK\s+TABLE\b|\bFOR\s+(NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(KEY\s+)?SHARE\b|"
    r"^\s*(INSERT|UPDATE|DELETE|TRUNCATE|CREATE|ALTER|DROP)\b|\bnextval\s*\(",
    re.IGNORECASE)


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def filled(pg_services: Services) -> Services:
    fill_demo(pg_services.db, CLOCK, 200, 1, False, pg_services.staff_id)
    return pg_services


@pytest.fixture
def read_statements(pg_services: Services, monkeypatch: pytest.MonkeyPatch
                    ) -> Iterator[list[str]]:
    """Every statement sent on a read unit's connection (`Database.read`, observed, not
    replaced) while the tests below run service reads."""
    sent: list[str] = []
    db = pg_services.db
    reading: list[object] = []  # the DBAPI connections of the read units now open
    plain_read = db.read

    @contextmanager
    def observed_read() -> Iterator[Session]:
        with plain_read() as session:
            reading.append(session.connection().connection.driver_connection)
            try:
                yield session
            finally:
                reading.pop()

    def log(conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if conn.connection.driver_connection in reading:  # type: ignore[attr-defined]
            sent.append(statement)

    monkeypatch.setattr(db, "read", observed_read)
    event.listen(db.read_engine, "before_cursor_execute", log)
    yield sent
    event.remove(db.read_engine, "before_cursor_execute", log)


def test_a_read_unit_is_one_read_only_snapshot(pg_services: Services,
                                               pg_database: str) -> None:
    cid = pg_services.customers.create(CustomerDraft(first_name="Mara", last_name="Vogt")
                                       ).customer.id
    with pg_services.db.read() as session:
        first = session.execute(text("SELECT first_name FROM customers WHERE id = :i"),
                                {"i": cid}).scalar_one()
        # Another connection commits a change between the unit's two statements: at READ
        # COMMITTED (each statement its own snapshot) the second would see it.
        with psycopg.connect(_dsn(pg_database), autocommit=True) as other:
            other.execute("UPDATE customers SET first_name = 'Nora' WHERE id = %s", (cid,))
        second = session.execute(text("SELECT first_name FROM customers WHERE id = :i"),
                                 {"i": cid}).scalar_one()
        level = session.execute(text("SHOW transaction_isolation")).scalar_one()
        read_only = session.execute(text("SHOW transaction_read_only")).scalar_one()
    assert (first, second) == ("Mara", "Mara")
    assert (level, read_only) == ("repeatable read", "on")
    assert pg_services.customers.get(cid).first_name == "Nora"  # the next unit sees it
    with pytest.raises(DBAPIError, match="read-only transaction"), \
            pg_services.db.read() as session:
        session.execute(text("UPDATE customers SET notes = notes WHERE id = :i"), {"i": cid})
    # A write unit still writes (and the pool's connection is no longer read-only).
    version = pg_services.customers.get(cid).version
    pg_services.customers.update(cid, CustomerDraft(first_name="Nora", last_name="Berg"),
                                 version)
    assert pg_services.customers.get(cid).last_name == "Berg"


def test_reads_keep_their_prepared_statements(filled: Services) -> None:
    # psycopg clears its prepared statements on every rollback(), and every read unit
    # ended with one: no statement of the app was ever prepared, each Today statement was
    # parsed and analysed anew on every view.
    for _ in range(6):
        filled.touchpoints.today_view()
    with filled.db.read() as session:
        prepared = session.execute(text(
            "SELECT statement FROM pg_prepared_statements")).scalars().all()
        plans = session.execute(text("SHOW plan_cache_mode")).scalar_one()
    assert any("touchpoint_sources" in s for s in prepared), prepared
    # Still planned for each run's own values (a search for 'a' is not one for 'zoë').
    assert plans == "force_custom_plan"


def test_the_import_preview_locks_nothing(filled: Services, tmp_path: Path,
                                          read_statements: list[str]) -> None:
    # The preview asked next_customer_id whether customers were stored, which took
    # `LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE` in the preview's read: every other
    # writer of the team waited on the preview's duplicate matching.
    path = tmp_path / "customers.csv"
    filled.import_export.export_csv(path)
    preview = filled.import_export.preview(path)
    assert preview.duplicates  # it did look the stored customers up
    assert read_statements
    assert [s for s in read_statements if _LOCKS_OR_WRITES.search(s)] == []


def test_service_reads_neither_write_nor_lock(filled: Services, tmp_path: Path,
                                              read_statements: list[str]) -> None:
    # The reads the window and the CLI run most (Today, its counts, the list as typed,
    # ranked search, a profile, the export, the duplicate finder, insights).
    filled.touchpoints.today_view()
    filled.touchpoints.counts()
    for typed in ("a", "mü", "ross", "030"):
        query = ListQuery(search=typed)
        total = filled.customers.count(query)
        filled.customers.page_at(query, 0, 50, total)
    filled.customers.search("anna", limit=10)
    filled.customers.get(1)
    filled.import_export.export_csv(tmp_path / "all.csv")
    filled.duplicates.find_duplicates()
    filled.insights.dashboard()
    assert len(read_statements) > 20
    assert [s for s in read_statements if _LOCKS_OR_WRITES.search(s)] == []


def test_a_read_that_caught_a_failed_statement_ends_cleanly(pg_services: Services) -> None:
    # The unit ends with COMMIT even then: the server answers the COMMIT of an aborted
    # transaction with ROLLBACK, and the pool's connection is idle and usable afterwards.
    from psycopg.pq import TransactionStatus

    cid = pg_services.customers.create(CustomerDraft(first_name="Mara", last_name="Vogt")
                                       ).customer.id
    with pg_services.db.read() as session:
        raw = session.connection().connection.driver_connection
        with pytest.raises(DBAPIError, match="division by zero"):
            session.execute(text("SELECT 1 / 0"))
    assert raw.info.transaction_status == TransactionStatus.IDLE
    assert pg_services.customers.get(cid).first_name == "Mara"
