"""Logging a conversation appends and never conflicts: several `crmcompanion log` processes
for one customer at the same moment all succeed, each entry is stored once and names who
logged it, on SQLite (the demo book) and on PostgreSQL (a throwaway server,
tests/postgres/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.services.container import open_services
from tests.cli.conftest import cli_env
from tests.postgres.conftest import pg_cluster, pg_database  # noqa: F401 - fixtures

PROCESSES = 8
# Each process waits for this file before it starts, so they really run at once.
STARTER = """
import runpy, sys, time
from pathlib import Path
go = Path(sys.argv.pop(1))
while not go.exists():
    time.sleep(0.005)
sys.argv[0] = "crmcompanion"
runpy.run_module("crmcompanion", run_name="__main__")
"""


def _stored(url: str) -> tuple[int, list[tuple[str, str]]]:
    """How many interactions customer #1 has, and the concurrent ones with their staff."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            count = conn.execute(
                text("SELECT count(*) FROM interactions WHERE customer_id = 1")).scalar_one()
            rows = conn.execute(text(
                "SELECT i.summary, s.name FROM interactions i JOIN staff s ON s.id = i.staff_id "
                "WHERE i.customer_id = 1 AND i.summary LIKE 'Concurrent call %'")).all()
    finally:
        engine.dispose()
    return count, [tuple(r) for r in rows]


@pytest.fixture(params=["sqlite", "postgresql"])
def home_and_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str | None]:
    """A data folder and the database URL the processes use (None: the folder's own file)."""
    if request.param == "sqlite":
        book = request.getfixturevalue("book")
        assert (book / "crmcompanion.sqlite3").exists()
        return book, None
    url = request.getfixturevalue("pg_database")
    services = open_services(url)
    try:
        assert services.customers.create(
            CustomerDraft(first_name="Anna", last_name="Team")).customer.id == 1
    finally:
        services.close()
    return tmp_path / "home", url


def test_concurrent_logs_for_one_customer_all_succeed(
        home_and_url: tuple[Path, str | None], tmp_path: Path) -> None:
    home, url = home_and_url
    home.mkdir(exist_ok=True)
    url_read = url or f"sqlite:///{home / 'crmcompanion.sqlite3'}"
    before, _ = _stored(url_read)
    go = tmp_path / "go"
    runs = []
    for n in range(PROCESSES):
        env = cli_env(home)
        env["CRMCOMPANION_STAFF"] = f"Clerk {n % 2}"
        if url is not None:
            env["CRMCOMPANION_DATABASE_URL"] = url
        runs.append(subprocess.Popen(
            [sys.executable, "-c", STARTER, str(go), "log", "--customer", "#1",
             "--channel", "phone", f"Concurrent call {n}"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    go.touch()
    results = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0] * PROCESSES, [err for _, err in results]
    ids = [int(out.strip()) for out, _ in results]
    assert len(set(ids)) == PROCESSES
    after, rows = _stored(url_read)
    assert after == before + PROCESSES
    assert sorted(rows) == sorted((f"Concurrent call {n}", f"Clerk {n % 2}")
                                  for n in range(PROCESSES))
