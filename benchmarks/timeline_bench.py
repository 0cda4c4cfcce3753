"""`timeline_ms`: open the profile of a customer with 2,000 timeline entries (issue 15).

The clock starts when the owner opens the customer (`MainWindow.open_customer`, what a click
in the list or on Today does) and stops when the event loop has handled everything that
caused, the profile's first screen painted: the lead line, Coming up and the timeline's
newest page. The customer gets 2,000 conversations (raw inserts, before the clock) in the
benchmark's own N-customer database, so the timeline's queries run against every other
customer's rows too. The baseline is raw SQL doing the same reads the first screen needs:
the newest page of that customer's conversations and their count.

Run alone: `PYTHONPATH=. python benchmarks/timeline_bench.py DATABASE` (adds the entries to
that file); benchmarks/run.py calls `report_figures(report, database)`.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ENTRIES = 2_000
RUNS = 15
PAGE = 50


def add_entries(database: Path, customer_id: int, entries: int = ENTRIES) -> None:
    """`entries` conversations for one customer, one a day back from now, stored as the app
    stores them (SQLAlchemy's SQLite forms)."""
    start = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    rows = []
    for n in range(entries):
        when = start - timedelta(days=n, hours=n % 7)
        rows.append((customer_id, when.strftime("%Y-%m-%d %H:%M:%S.%f"),
                     when.date().isoformat(), "phone" if n % 3 else "email",
                     f"Talked about order {n}: delivery, price and the next visit",
                     when.strftime("%Y-%m-%d %H:%M:%S.%f")))
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO interactions (customer_id, occurred_at, occurred_on, channel, "
            "summary, created_at) VALUES (?, ?, ?, ?, ?, ?)", rows)
    connection.close()


def raw_first_screen_ms(database: Path, customer_id: int, runs: int = RUNS) -> float:
    connection = sqlite3.connect(database)
    try:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            connection.execute("SELECT count(*) FROM interactions WHERE customer_id = ?",
                               (customer_id,)).fetchone()
            connection.execute(
                "SELECT id, occurred_at, channel, summary, staff_id FROM interactions "
                "WHERE customer_id = ? ORDER BY occurred_at DESC, id DESC LIMIT ?",
                (customer_id, PAGE)).fetchall()
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)
    finally:
        connection.close()


def measure(database: Path, customer_id: int = 1, runs: int = RUNS) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    from crmcompanion.core.clock import SystemClock
    from crmcompanion.services.container import open_services
    from crmcompanion.ui.main_window import MainWindow
    from crmcompanion.ui.style import apply_look

    add_entries(database, customer_id)
    app = QApplication.instance() or QApplication([])
    apply_look(app)
    services = open_services(f"sqlite:///{database}", None, SystemClock())
    other = customer_id + 1
    try:
        window = MainWindow(services)
        window.resize(1366, 768)
        window.show()
        deadline = time.monotonic() + 120
        while not window.today.ready and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        window.open_customer(other)  # the page, its model and the profile built: not timed
        app.processEvents()
        times, cpu, gui_cpu = [], [], []
        for _ in range(runs):
            window.open_customer(other)
            app.processEvents()
            start, start_cpu = time.perf_counter(), time.process_time()
            start_gui = time.thread_time()
            window.open_customer(customer_id)
            app.processEvents()  # every paint and layout it caused
            times.append((time.perf_counter() - start) * 1000)
            # The process's CPU time over the same span (every thread: the profile's segment
            # refresh runs beside it), steadier than wall time on a busy machine; and the GUI
            # thread's own, what the owner waits for when the machine is quiet.
            cpu.append((time.process_time() - start_cpu) * 1000)
            gui_cpu.append((time.thread_time() - start_gui) * 1000)
        shown = window.customers.detail.activity.timeline.model.rowCount()
        total = window.customers.detail.activity.timeline.model.total
        window.close()
    finally:
        services.close()
    if total < ENTRIES or shown == 0:
        raise RuntimeError(f"the timeline showed {shown} of {total} entries")
    return {"timeline_ms": round(statistics.median(times), 1),
            "timeline_p95_ms": round(sorted(times)[int(0.95 * (len(times) - 1))], 1),
            "timeline_cpu_ms": round(statistics.median(cpu), 1),
            "timeline_gui_cpu_ms": round(statistics.median(gui_cpu), 1),
            "timeline_raw_ms": round(raw_first_screen_ms(database, customer_id), 2),
            "entries": total, "shown": shown}


def report_figures(report: Any, database: Path) -> None:
    """For benchmarks/run.py: `report.add` timeline_ms (median) beside its raw baseline."""
    figures = measure(database)
    report.add("timeline_ms", figures["timeline_ms"], "ms", figures["timeline_raw_ms"])
    print(f"  (timeline: {figures['shown']} of {figures['entries']:,} entries on the first "
          f"screen; p95 {figures['timeline_p95_ms']} ms; CPU {figures['timeline_cpu_ms']} ms "
          f"median, of which the GUI thread {figures['timeline_gui_cpu_ms']} ms)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    for name, value in measure(args.database).items():
        print(f"{name:20} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
