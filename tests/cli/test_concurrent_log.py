"""Logging a conversation appends and never conflicts: several `crmcompanion log` processes
for one customer at the same moment all succeed, each entry is stored once and names who
logged it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import cli_env

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


def test_concurrent_logs_for_one_customer_all_succeed(book: Path, tmp_path: Path) -> None:
    database = book / "crmcompanion.sqlite3"
    assert database.exists()
    conn = sqlite3.connect(database)
    before = conn.execute("SELECT count(*) FROM interactions WHERE customer_id = 1").fetchone()[0]
    conn.close()
    go = tmp_path / "go"
    runs = []
    for n in range(PROCESSES):
        env = cli_env(book)
        env["CRMCOMPANION_STAFF"] = f"Clerk {n % 2}"
        runs.append(subprocess.Popen(
            [sys.executable, "-c", STARTER, str(go), "log", "--customer", "#1",
             "--channel", "phone", f"Concurrent call {n}"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    go.touch()
    results = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0] * PROCESSES, [err for _, err in results]
    ids = [int(out.strip()) for out, _ in results]
    assert len(set(ids)) == PROCESSES
    conn = sqlite3.connect(database)
    try:
        rows = conn.execute(
            "SELECT i.summary, s.name FROM interactions i JOIN staff s ON s.id = i.staff_id "
            "WHERE i.customer_id = 1 AND i.summary LIKE 'Concurrent call %'").fetchall()
        after = conn.execute(
            "SELECT count(*) FROM interactions WHERE customer_id = 1").fetchone()[0]
    finally:
        conn.close()
    assert after == before + PROCESSES
    assert sorted(rows) == sorted((f"Concurrent call {n}", f"Clerk {n % 2}")
                                  for n in range(PROCESSES))
