"""Team mode's speed guards (issue 17's targets at 100,000 customers), each on a real
PostgreSQL and each a fact about the work done, never a timing: session settings, statistics
after a bulk load, the statements an import sends, the plans the list's reads get, and raw
DBAPI reads surviving a dropped connection."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from crmcompanion.services.container import Services
from crmcompanion.services.demo import fill_demo
from tests.postgres.conftest import CLOCK
from tests.postgres.dropping import dsn
from tests.services.helpers import export_demo_csv


def _analyzed(url: str, table: str) -> bool:
    """Whether `table` has planner statistics (ANALYZE ran on it with rows in it)."""
    with psycopg.connect(dsn(url)) as conn:
        return bool(conn.execute("SELECT count(*) FROM pg_stats WHERE schemaname = 'public' "
                                 "AND tablename = %s", (table,)).fetchone()[0])


def test_every_session_runs_without_jit(pg_services: Services) -> None:
    # A mis-estimated keystroke statement spent 265 ms compiling before it ran.
    with pg_services.db.read() as session:
        assert session.execute(text("SHOW jit")).scalar_one() == "off"
    with pg_services.db.write() as session:
        assert session.execute(text("SHOW jit")).scalar_one() == "off"


def test_sample_data_leaves_the_search_tables_analyzed(pg_services: Services,
                                                       pg_database: str) -> None:
    assert not _analyzed(pg_database, "customer_search")
    fill_demo(pg_services.db, CLOCK, 60, 1, False, pg_services.staff_id)
    for table in ("customer_search", "customer_phones"):
        assert _analyzed(pg_database, table), table


@pytest.mark.slow
def test_an_import_leaves_the_search_and_today_tables_analyzed(
        pg_services: Services, pg_database: str, tmp_path: Path) -> None:
    path = export_demo_csv(tmp_path, CLOCK, 2_100)  # past the bulk recompute's threshold
    importer = pg_services.import_export
    importer.run(importer.preview(path).plan)
    for table in ("customer_search", "customer_phones", "touchpoint_sources",
                  "contact_rhythm"):
        assert _analyzed(pg_database, table), table


def _checks(url: str) -> tuple[list[tuple[str, str]], list[tuple[str, str, bool]]]:
    """Every index and foreign key of the schema, as PostgreSQL would write them again."""
    with psycopg.connect(dsn(url)) as conn:
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "ORDER BY 1").fetchall()
        keys = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
            "WHERE contype = 'f' ORDER BY 1").fetchall()
    return indexes, keys


def _written(services: Services) -> list[str]:
    """The statements the services send from now on (a live list)."""
    from sqlalchemy import event

    sent: list[str] = []
    event.listen(services.db.write_engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_rest: sent.append(statement))
    return sent


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    return export_demo_csv(tmp_path, CLOCK, 120)


def test_an_import_into_an_empty_database_makes_its_checks_after_the_rows(
        pg_services: Services, pg_database: str, small_csv: Path) -> None:
    before = _checks(pg_database)
    sent = _written(pg_services)
    importer = pg_services.import_export
    result = importer.run(importer.preview(small_csv).plan)
    assert result.created > 100
    dropped = [s for s in sent if "DROP CONSTRAINT" in s or s.startswith("DROP INDEX")]
    assert any("customer_emails" in s for s in dropped), sent
    assert any("ix_customers_sort_name" in s for s in dropped), sent
    # Every index and foreign key is back as it was, validated against the loaded rows.
    assert _checks(pg_database) == before
    # No duplicate-key lookups into a database with nothing to match.
    assert not [s for s in sent if "ANY(" in s and "keys" in s], sent
    # The customers' rows point at them (the foreign keys were checked at the commit).
    with psycopg.connect(dsn(pg_database)) as conn:
        orphans = conn.execute(
            "SELECT count(*) FROM customer_emails e LEFT JOIN customers c "
            "ON c.id = e.customer_id WHERE c.id IS NULL").fetchone()[0]
    assert orphans == 0


def test_an_import_into_a_filled_database_keeps_its_checks(
        pg_services: Services, pg_database: str, small_csv: Path) -> None:
    fill_demo(pg_services.db, CLOCK, 30, 1, False, pg_services.staff_id)
    before = _checks(pg_database)
    sent = _written(pg_services)
    importer = pg_services.import_export
    importer.run(importer.preview(small_csv).plan)
    assert not [s for s in sent if "DROP CONSTRAINT" in s or s.startswith("DROP INDEX")]
    assert _checks(pg_database) == before


def test_a_cancelled_import_into_an_empty_database_leaves_the_schema_whole(
        pg_services: Services, pg_database: str, small_csv: Path) -> None:
    from crmcompanion.services.import_export import CancelToken, ImportCancelled

    before = _checks(pg_database)
    token = CancelToken()
    importer = pg_services.import_export
    plan = importer.preview(small_csv).plan
    with pytest.raises(ImportCancelled):
        importer.run(plan, progress=lambda done, _total: token.cancel() if done else None,
                     cancel=token)
    assert _checks(pg_database) == before
    # The next import in the same services sets them aside again and makes them again.
    assert importer.run(plan).created > 100
    assert _checks(pg_database) == before


def test_a_raw_read_whose_connection_drops_is_retried_once(pg_services: Services,
                                                           pg_database: str) -> None:
    # The store's raw DBAPI paths (exports, the duplicate finder, display names) read
    # through session.connection().connection.cursor(), which the ORM retry never saw.
    from crmcompanion.core.customer import CustomerDraft
    from crmcompanion.store import transfer
    from tests.postgres.test_gaps_on_postgres import _dropped_during_read

    cid = pg_services.customers.create(CustomerDraft(first_name="Mara", last_name="Vogt")
                                       ).customer.id
    with pg_services.db.read() as session:
        session.execute(text("SELECT 1"))  # the unit's connection is taken before the drop
        with _dropped_during_read(pg_database) as killed:
            names = transfer.display_names(session, [cid])
    assert len(killed) == 1
    assert names == {cid: "Mara Vogt"}


def test_a_second_drop_in_one_raw_read_is_reported(pg_services: Services,
                                                   pg_database: str) -> None:
    from crmcompanion.core.customer import CustomerDraft
    from crmcompanion.store import transfer
    from crmcompanion.store.database import ConnectionDropped
    from tests.postgres.test_gaps_on_postgres import _dropped_during_read

    cid = pg_services.customers.create(CustomerDraft(first_name="Mara", last_name="Vogt")
                                       ).customer.id

    def end_the_apps_connections() -> int:
        with psycopg.connect(dsn(pg_database), autocommit=True) as admin:
            return len(admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                "current_database() AND pid <> pg_backend_pid()").fetchall())

    with pytest.raises(ConnectionDropped, match="dropped"), pg_services.db.read() as session:
        session.execute(text("SELECT 1"))
        with _dropped_during_read(pg_database) as first:
            transfer.display_names(session, [cid])
        assert len(first) == 1
        assert end_the_apps_connections() >= 1
        transfer.display_names(session, [cid])
    # The next unit reads on a fresh connection.
    with pg_services.db.read() as session:
        assert transfer.display_names(session, [cid]) == {cid: "Mara Vogt"}


def test_a_connection_level_read_whose_connection_drops_is_retried_once(
        pg_services: Services, pg_database: str) -> None:
    # transfer.stored_customers (the export's "read table by table?" choice) runs through
    # session.connection().exec_driver_sql, neither the session's statements nor a cursor.
    from crmcompanion.core.customer import CustomerDraft
    from crmcompanion.store import transfer
    from tests.postgres.test_gaps_on_postgres import _dropped_during_read

    pg_services.customers.create(CustomerDraft(first_name="Mara", last_name="Vogt"))
    with pg_services.db.read() as session:
        session.execute(text("SELECT 1"))
        with _dropped_during_read(pg_database) as killed:
            stored = transfer.stored_customers(session)
    assert len(killed) == 1
    assert stored == 1


@pytest.fixture
def filled(pg_services: Services) -> Services:
    fill_demo(pg_services.db, CLOCK, 400, 1, False, pg_services.staff_id)
    return pg_services


def _uncounted(services: Services, query: object, offset: int = 0, limit: int = 20
               ) -> tuple[list[int], int | None, list[str]]:
    from sqlalchemy import event

    from crmcompanion.store import customers as repo
    from crmcompanion.store import postgres_search

    sent: list[str] = []

    def log(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        sent.append(statement)

    event.listen(services.db.read_engine, "before_cursor_execute", log)
    try:
        with services.db.read() as session:
            columns = (*repo.LIST_COLUMNS, repo.SORT_COLUMNS[query.sort])  # type: ignore[attr-defined]
            rows, total = postgres_search.uncounted_window(session, query, offset, limit,
                                                           columns, repo._ordered)
    finally:
        event.remove(services.db.read_engine, "before_cursor_execute", log)
    return [r[0] for r in rows], total, sent


def test_a_page_without_its_count_lists_what_the_counted_list_lists(filled: Services) -> None:
    from crmcompanion.store import customers as repo
    from crmcompanion.store.customers import ListQuery
    from tests.postgres.test_search_same_order import CASES

    compared = 0
    for search in [*CASES, "a", "e", "zz", "+49"]:
        for sort, descending, archived in (("name", False, False), ("company", True, None),
                                           ("updated", False, True)):
            query = ListQuery(search=search, sort=sort, descending=descending,
                              archived=archived)
            with filled.db.read() as session:
                total = repo.count_customers(session, query)
                for offset in (0, 20) if total > 20 else (0,):
                    counted = [r.id for r, _key in repo.page_at(session, query, offset, 20,
                                                                 total)]
                    rows, known, _sent = _uncounted(filled, query, offset)
                    assert rows == counted, (query, offset)
                    assert known is None or known == total, (query, offset)
                    compared += bool(counted)
    assert compared > 50


def test_a_page_of_a_common_search_walks_the_list_without_counting(filled: Services) -> None:
    from crmcompanion.store.customers import ListQuery

    rows, total, sent = _uncounted(filled, ListQuery(search="e"))
    assert len(rows) == 20 and total is None
    # The span's end from the sort index, the planner's estimate of the matches (EXPLAIN:
    # nothing read), then the walk with its LIMIT: no count, no read of every match, no
    # fourth statement.
    read = [s for s in sent if not s.startswith("EXPLAIN")]
    assert len(read) == 2 and len(sent) <= 3, sent
    assert not any("count(" in s for s in sent), sent
    assert "ts_match_vq" in read[1] and "LIMIT" in read[1], sent
