"""Touchpoint query speed: the Today list and the section counts, with raw-SQL baselines.

`measure(db_path_or_services, n)` prints nothing and returns figures in milliseconds (median of
`n` runs); benchmarks/run.py calls it. Run alone: `python benchmarks/touchpoints_bench.py
[DB_PATH] [--customers N]` (without a path, a temporary database with N demo customers).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from crmcompanion.core.clock import FixedClock
from crmcompanion.services.container import Services, open_services


def _median_ms(fn, n: int) -> float:
    fn()  # warm up (and sync derived rows on first use)
    times = []
    for _ in range(max(1, n)):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(db_path_or_services: str | Path | Services, n: int = 20) -> dict[str, float]:
    """Median timings in ms: upcoming_touchpoints_ms (Today view, 30 days, 200 per section),
    today_counts_ms (four section counts), and raw sqlite3 baselines for the same ranges."""
    if isinstance(db_path_or_services, Services):
        services, owned = db_path_or_services, False
    else:
        services = open_services(f"sqlite:///{db_path_or_services}")
        owned = True
    try:
        start = time.perf_counter()
        synced = services.touchpoints.sync()
        sync_ms = (time.perf_counter() - start) * 1000
        path = services.db.info.path
        today = services.clock.today()
        results = {
            "touchpoint_sync_rows": float(synced),
            "touchpoint_sync_ms": sync_ms,
            "upcoming_touchpoints_ms": _median_ms(services.touchpoints.today_view, n),
            "today_counts_ms": _median_ms(services.touchpoints.counts, n),
        }
        if path is not None:
            conn = sqlite3.connect(str(path))
            end = (today + timedelta(days=30)).isoformat()
            lo, hi = today.month * 100 + today.day, (today + timedelta(days=30)).month * 100 + (
                today + timedelta(days=30)).day

            def raw_counts() -> None:
                conn.execute("SELECT count(*) FROM touchpoint_sources WHERE md_key BETWEEN ? "
                             "AND ?", (min(lo, hi), max(lo, hi))).fetchone()
                conn.execute("SELECT count(*) FROM contact_rhythm WHERE next_due_on <= ?",
                             (end,)).fetchone()

            def raw_list() -> None:
                conn.execute(
                    "SELECT s.customer_id, c.display_name, s.md_key FROM touchpoint_sources s "
                    "JOIN customers c ON c.id = s.customer_id WHERE s.md_key BETWEEN ? AND ? "
                    "ORDER BY s.md_key LIMIT 800", (min(lo, hi), max(lo, hi))).fetchall()

            results["raw_sql_counts_ms"] = _median_ms(raw_counts, n)
            results["raw_sql_upcoming_ms"] = _median_ms(raw_list, n)
            conn.close()
        return results
    finally:
        if owned:
            services.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", nargs="?", help="an existing database file")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    if args.db:
        figures = measure(args.db, args.runs)
    else:
        from crmcompanion.services.demo import fill_demo

        with tempfile.TemporaryDirectory() as folder:
            services = open_services(f"sqlite:///{folder}/bench.sqlite3",
                                     clock=FixedClock(datetime.now()))
            fill_demo(services.db, services.clock, args.customers, 1, False, services.staff_id)
            figures = measure(services, args.runs)
            services.close()
    for name, value in figures.items():
        sys.stdout.write(f"{name}\t{value:.2f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
