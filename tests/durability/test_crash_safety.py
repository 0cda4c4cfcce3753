"""Crash safety, proven by killing real writers: SIGKILL at random moments while they save
through the services; afterwards the database is whole and holds every save they reported.

Short variants always run; CRM_LONG_TESTS=1 runs the issue's targets (300 kills; two
processes writing 5,000 customers each).
"""

from __future__ import annotations

import logging
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.durability.harness import LONG, Reported, Writer, check, kill_writers, writer_env

logger = logging.getLogger(__name__)

pytestmark = pytest.mark.slow

KILLS = 300 if LONG else 20
EACH = 5000 if LONG else 100


@pytest.mark.timeout(3600 if LONG else 300)
def test_random_sigkills_lose_no_committed_save(tmp_path: Path) -> None:
    figures = kill_writers(tmp_path / "crmcompanion.sqlite3", KILLS, seed=17)
    logger.warning("crash figures: %s", figures)
    assert figures.kills == KILLS
    assert figures.corrupt == 0
    assert figures.lost == 0
    assert figures.committed > KILLS  # the kills did land among saves


@pytest.mark.timeout(3600 if LONG else 300)
def test_two_processes_writing_at_once(tmp_path: Path) -> None:
    database = tmp_path / "crmcompanion.sqlite3"
    # Created first, so the two writers do not race to create it (tested elsewhere).
    Writer(database, "--count", "1", "--tag", "seed").finish()
    writers = [Writer(database, "--count", str(EACH), "--tag", tag) for tag in ("a", "b")]
    results = [w.finish() for w in writers]
    assert [code for code, _ in results] == [0, 0], [err for _, err in results]
    assert all(w.lines[-1] == "done\n" for w in writers)
    conn = sqlite3.connect(database)
    try:
        for tag in ("a", "b"):
            count = conn.execute(
                "SELECT count(*) FROM customers WHERE first_name LIKE ? || '%'", (tag,)
            ).fetchone()[0]
            assert count == EACH, tag
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


def test_the_check_sees_a_lost_save_and_a_damaged_file(tmp_path: Path) -> None:
    """The harness's own check can fail: a reported save that is not there, a broken file."""
    database = tmp_path / "crmcompanion.sqlite3"
    writer = Writer(database, "--count", "3")
    assert writer.finish()[0] == 0
    reported = Reported()
    writer.report(reported)
    assert check(database, reported) == (True, 0)
    reported.customers.add(999_999)
    reported.interactions[999_998] = 1
    assert check(database, reported) == (True, 2)
    data = bytearray(database.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page * 2 : page * 2 + 200] = b"\xee" * 200  # smash a b-tree page header
    database.write_bytes(bytes(data))
    assert check(database, Reported())[0] is False


APPENDED = 50_000


@pytest.mark.timeout(1800 if LONG else 300)
def test_killed_during_demo_append_leaves_all_or_nothing(tmp_path: Path) -> None:
    database = tmp_path / "crmcompanion.sqlite3"
    env = writer_env(tmp_path)
    subprocess.run([sys.executable, "-m", "crmcompanion", "demo", "--customers", "50"],
                   env=env, check=True, capture_output=True)
    rng = random.Random(17)
    count = 50
    outcomes = {"killed": 0, "finished": 0}
    for _ in range(30 if LONG else 5):
        demo = subprocess.Popen(
            [sys.executable, "-m", "crmcompanion", "demo", "--append", "--customers",
             str(APPENDED)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        # Big enough that most kills land mid-load on a fast machine too (1,000 customers
        # finished before every kill once the machine was quiet), as the final check needs.
        time.sleep(rng.uniform(0.3, 2.0))
        demo.send_signal(signal.SIGKILL)
        demo.wait()
        outcomes["killed" if demo.returncode == -signal.SIGKILL else "finished"] += 1
        conn = sqlite3.connect(database)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            now = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
            searchable = conn.execute("SELECT count(*) FROM customer_search").fetchone()[0]
        finally:
            conn.close()
        assert now in (count, count + APPENDED)
        assert searchable == now  # the search rows came with their customers, or not at all
        count = now
    logger.warning("demo --append kills: %s, %d customers at the end", outcomes, count)
    assert outcomes["killed"] > 0
