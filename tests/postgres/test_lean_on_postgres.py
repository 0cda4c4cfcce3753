"""Team mode's speed guards (issue 17's targets at 100,000 customers), each on a real
PostgreSQL and each a fact about the work done, never a timing: session settings, statistics
after a bulk load, the statements an import sends, the plans the list's reads get, and raw
DBAPI reads surviving a dropped connection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from crmcompanion.core.clock import FixedClock
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.demo import fill_demo
from tests.postgres.dropping import dsn
from tests.services.helpers import export_demo_csv

CLOCK = FixedClock(datetime(2026, 12, 6, 9, 0))


@pytest.fixture
def pg_services(pg_database: str) -> Iterator[Services]:
    opened = open_services(pg_database, None, CLOCK)
    yield opened
    opened.close()


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
