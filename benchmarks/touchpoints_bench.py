"""Touchpoint query speed: the Today list and the section counts, with raw-SQL baselines.

`measure(db_path_or_services, n)` prints nothing and returns figures in milliseconds (median of
`n` runs; `*_cpu_ms` the process's mean CPU time per call, `*_statements` the SQL statements
one call runs); benchmarks/run.py calls it. Run alone: `python benchmarks/touchpoints_bench.py
[DB_PATH] [--customers N]` (without a path, a temporary database with N demo customers).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from crmcompanion.core.clock import FixedClock
from crmcompanion.services.container import Services, open_services


def _median_ms(fn, n: int) -> float:
    return _timed(fn, n)[0]


def _timed(fn, n: int) -> tuple[float, float]:
    """(median wall ms, mean CPU ms of this process) over `n` calls after a warm-up: on a
    busy machine the wall clock measures the queue for the CPU, the CPU time much less."""
    fn()  # warm up (and sync derived rows on first use)
    times = []
    cpu = time.process_time()
    for _ in range(max(1, n)):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), (time.process_time() - cpu) * 1000 / max(1, n)


def _statements(services: Services, fn) -> int:
    """How many SQL statements one call runs (BEGINs included), on both engines."""
    from sqlalchemy import event

    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engines = {id(e): e for e in (services.db.read_engine, services.db.write_engine)}
    for engine in engines.values():
        event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        for engine in engines.values():
            event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def md_ranges(first: date, last: date) -> list[tuple[int, int]]:
    """month*100+day ranges covering first..last: two when the window wraps New Year (one
    BETWEEN min AND max would select the other eleven months instead)."""
    lo, hi = first.month * 100 + first.day, last.month * 100 + last.day
    return [(lo, hi)] if lo <= hi else [(lo, 1231), (101, hi)]


def section_windows(today: date, lookback: int = 30) -> list[tuple[date | None, date, date]]:
    """(open start for undated rows, start, end) of Overdue, Today, Next 7 days, Days 8-30."""
    return [
        (None, today - timedelta(days=lookback), today - timedelta(days=1)),
        (today, today, today),
        (today + timedelta(days=1), today + timedelta(days=1), today + timedelta(days=7)),
        (today + timedelta(days=8), today + timedelta(days=8), today + timedelta(days=30)),
    ]


def raw_baselines(conn: sqlite3.Connection, today: date, n: int) -> dict[str, float]:
    """The same work as the service, in raw SQL: per section, a count of the yearly dates
    (md_key ranges), of the keep-in-touch due dates and of the open follow-ups; the list
    reads each section's first 200 yearly rows joined to their customers."""
    windows = section_windows(today)

    def where(first: date, last: date) -> tuple[str, list[int]]:
        ranges = md_ranges(first, last)
        sql = " OR ".join("md_key BETWEEN ? AND ?" for _ in ranges)
        return f"({sql})", [v for r in ranges for v in r]

    def raw_counts() -> None:
        for open_start, first, last in windows:
            clause, args = where(first, last)
            conn.execute(f"SELECT count(*) FROM touchpoint_sources WHERE {clause}",
                         args).fetchone()
            low = open_start.isoformat() if open_start else "0000-00-00"
            conn.execute("SELECT count(*) FROM contact_rhythm WHERE next_due_on BETWEEN ? "
                         "AND ?", (low, last.isoformat())).fetchone()
            conn.execute("SELECT count(*) FROM follow_ups WHERE open = 1 AND due_on BETWEEN ? "
                         "AND ?", (low, last.isoformat())).fetchone()

    def raw_list(order: str) -> None:
        # Each range in date order (a window across New Year: December's first), until 200
        # rows: one OR of both ranges sorted January before December and made SQLite sort
        # the whole window (~12,000 rows at 100,000 customers) for its 200.
        for _open_start, first, last in windows:
            found = 0
            for lo, hi in md_ranges(first, last):
                found += len(conn.execute(
                    "SELECT s.customer_id, c.display_name, s.md_key FROM touchpoint_sources s "
                    "JOIN customers c ON c.id = s.customer_id WHERE s.md_key BETWEEN ? AND ? "
                    f"ORDER BY {order} LIMIT ?", (lo, hi, 200 - found)).fetchall())
                if found >= 200:
                    break

    return {"raw_sql_counts_ms": _median_ms(raw_counts, n),
            "raw_sql_upcoming_ms": _median_ms(lambda: raw_list("s.md_key"), n),
            # The same rows in the list's order within a day (by name), which makes SQLite
            # read and sort each section's first day whole, as the app's reads do.
            "raw_sql_upcoming_by_name_ms": _median_ms(
                lambda: raw_list("s.md_key, c.sort_name"), n)}


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
        view_ms, view_cpu = _timed(services.touchpoints.today_view, n)
        counts_ms, counts_cpu = _timed(services.touchpoints.counts, n)
        results = {
            "touchpoint_sync_rows": float(synced),
            "touchpoint_sync_ms": sync_ms,
            "upcoming_touchpoints_ms": view_ms,
            "upcoming_touchpoints_cpu_ms": view_cpu,
            "upcoming_touchpoints_statements": float(
                _statements(services, services.touchpoints.today_view)),
            "today_counts_ms": counts_ms,
            "today_counts_cpu_ms": counts_cpu,
            "today_counts_statements": float(
                _statements(services, services.touchpoints.counts)),
        }
        if path is not None:
            conn = sqlite3.connect(str(path))
            results.update(raw_baselines(conn, today, n))
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
