"""Benchmark CRM Companion's foundation at N customers and print each figure with a baseline.

Usage: python benchmarks/run.py [--customers N] [--json FILE] [--source DIR] [--service-only]

Every figure is measured in this run next to a baseline measured on the same data in the same
run (raw sqlite3 / raw FTS5 / a minimal PySide6 table), so a slow machine or a busy CPU moves
both. Figures are printed, never asserted (docs/architecture.md, convention 14).

- demo_generate_s: `python -m crmcompanion demo --customers N` as a subprocess (what a user
  waits for, process start included; after an untimed `demo --customers 10` elsewhere has
  cached the bytecode, as an installed app has it). Baseline: raw sqlite3 executemany of the
  very rows the demo wrote (read back from its database) into an empty copy of the same
  schema, one transaction.
- startup_first_paint_ms: `python -m crmcompanion` (offscreen) over that database, from just
  before the process is spawned to the main window's first paint, reported by the app's
  CRMCOMPANION_BENCHMARK_EXIT_AFTER_PAINT hook. Median of 3 runs after one warm-up run
  (bytecode cached under the benchmark folder, as an installed app has it). Baseline:
  benchmarks/raw_first_paint.py, a bare QTableView over a lazy raw-sqlite3 model of the
  same rows. The process CPU time to the paint (reported by the hook) is printed beside it.
- startup_rss_mb: peak RSS (VmHWM) of the same GUI process after it shows the Customers list
  and scrolls to its end (CRMCOMPANION_BENCHMARK_JUMP_TO_END). Baseline: the raw table doing
  the same.
- search_p95_ms: 20 realistic queries typed one key at a time; per keystroke, from the new text
  to the Qt model updated (set_query: count) and the visible rows fetched and formatted
  (data() for 30 rows x every column). The search box has no debounce, so none is included.
  Baseline: raw FTS5 count + first page (rowid order, joined to customers) of the same MATCH.
- scroll_to_end_ms: from the default list to its last 30 rows formatted (row_at(total-1)...).
  Baseline: raw count + last page through the sort index.
- sort_ms: re-sorting the list (company, email, updated desc, name desc): slowest of them.
  Baseline: raw count + first page ORDER BY the same indexed column.

With --service-only (or when crmcompanion.ui.customer_model is missing) the list figures are
measured through CustomerService (count + page_at, what the model does) and the GUI figures
are skipped. --source DIR benchmarks another checkout (e.g. an older commit, for before/after).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
QUERIES = (
    "anna",
    "müller",
    "jose garcia",
    "sofia schmidt",
    "o'brien",
    "zoë",
    "bakery",
    "rossi florist",
    "anna.mueller",
    "example.org",
    "+49 30",
    "030 12",
    "4567",
    "503555",
    "vip",
    "wedding",
    "trade fair",
    "lilies",
    "lena becker",
    "j",
)
SORTS = (("company", False), ("email", False), ("updated", True), ("name", True))
VISIBLE_ROWS = 30
PAGE = 200


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Report:
    def __init__(self, customers: int) -> None:
        self.customers = customers
        self.metrics: dict[str, dict[str, Any]] = {}

    def add(self, name: str, value: float, unit: str, baseline: float | None) -> None:
        ratio = round(value / baseline, 2) if baseline else None
        self.metrics[name] = {"value": value, "unit": unit, "baseline": baseline, "ratio": ratio}
        shown = f"{baseline} {unit}" if baseline is not None else "-"
        print(f"{name:24} {value:>10} {unit:3}  baseline {shown:>14}  ratio {ratio}", flush=True)

    def json(self) -> dict[str, Any]:
        return {"customers": self.customers, "metrics": self.metrics}


def env_for(source: Path, home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(source),
        CRMCOMPANION_HOME=str(home),
        QT_QPA_PLATFORM="offscreen",
        CRMCOMPANION_LOG_LEVEL="WARNING",
    )
    env.pop("CRMCOMPANION_DATABASE_URL", None)
    # An installed app runs from cached bytecode; this sandbox sets PYTHONDONTWRITEBYTECODE,
    # which would add ~85 ms of compiling to every start. Cache it in our own folder instead
    # (the first of the timed runs warms it), never next to the sources.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home.parent / "pycache")
    env.update(extra)
    return env


# --- demo -----------------------------------------------------------------------------------
def run_demo(source: Path, home: Path, n: int) -> float:
    def demo(into: Path, customers: int) -> float:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "crmcompanion", "demo", "--customers", str(customers)],
            env=env_for(source, into),
            cwd=source,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start

    # A small untimed run first, into a scratch folder: it compiles the bytecode of every
    # module the command imports (~0.9 s of CPU at 100,000 customers otherwise), as an
    # installed app has it, and as the start-up figures below warm it too.
    scratch = home.parent / "demo-warm-up"
    scratch.mkdir(exist_ok=True)
    demo(scratch, 10)
    shutil.rmtree(scratch, ignore_errors=True)
    return demo(home, n)


def raw_insert_baseline(database: Path, scratch: Path) -> float:
    """executemany of the rows the demo wrote, into an empty copy of the same schema."""
    src = sqlite3.connect(database)
    objects = src.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY "
        "CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END"
    ).fetchall()
    fts_shadow = {n for t, n, s in objects if t == "table" and "VIRTUAL TABLE" in s.upper()}
    ddl = [
        s
        for t, n, s in objects
        if not any(n.startswith(f"{v}_") for v in fts_shadow) and n != "sqlite_sequence"
    ]
    tables = ["staff", "tags", "customers", "customer_emails", "customer_phones"]
    tables += ["customer_tags", "special_dates"]
    data = {}
    for table in tables:
        names = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
        rows = src.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()
        data[table] = (names, rows)
    for table in sorted(fts_shadow):
        names = ["rowid"] + [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
        data[table] = (names, src.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall())
    src.close()
    target = scratch / "raw-baseline.sqlite3"
    target.unlink(missing_ok=True)
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    for statement in ddl:
        conn.execute(statement)
    # Only the data inserts are timed (as for the demo, whose schema creation is tiny).
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    for table, (names, rows) in data.items():
        marks = ", ".join("?" for _ in names)
        conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


# --- GUI start-up -----------------------------------------------------------------------------
def gui_once(command: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    started = time.time()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{command} failed ({done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(lines[-1])
    result["first_paint_ms"] = ms(result["painted_at"] - started)
    return result


def startup(source: Path, home: Path, report: Report) -> None:
    app = [sys.executable, "-m", "crmcompanion"]
    raw = [sys.executable, str(HERE / "raw_first_paint.py"), str(home / "crmcompanion.sqlite3")]
    hook = {"CRMCOMPANION_BENCHMARK_EXIT_AFTER_PAINT": "1"}
    jump = {**hook, "CRMCOMPANION_BENCHMARK_JUMP_TO_END": "1"}
    gui_once(app, env_for(source, home, **hook), source)  # warms the bytecode and OS caches
    gui_once(raw, env_for(source, home), source)
    paints = [gui_once(app, env_for(source, home, **hook), source) for _ in range(3)]
    raw_paints = [gui_once(raw, env_for(source, home), source) for _ in range(3)]
    report.add(
        "startup_first_paint_ms",
        statistics.median(p["first_paint_ms"] for p in paints),
        "ms",
        statistics.median(p["first_paint_ms"] for p in raw_paints),
    )
    if all("cpu_ms" in p for p in paints):
        # The process's own CPU time up to the paint: on a busy machine (other processes on
        # the 2 cores) the wall-clock figure grows, this one much less. Printed, not a metric.
        cpu = statistics.median(p["cpu_ms"] for p in paints)
        print(f"  first paint: {cpu} ms of the process's own CPU time (median)", flush=True)
    rss = gui_once(app, env_for(source, home, **jump), source)
    raw_rss = gui_once(raw, env_for(source, home, BENCHMARK_JUMP_TO_END="1"), source)
    report.add(
        "startup_rss_mb",
        round(rss["peak_rss_kb"] / 1024, 1),
        "MB",
        round(raw_rss["peak_rss_kb"] / 1024, 1),
    )


# --- list figures -------------------------------------------------------------------------------
class RawList:
    """The baselines: plain sqlite3 on the same database file."""

    COLUMNS = (
        "c.id, c.display_name, c.company, c.primary_email, c.primary_phone, c.tags_text, "
        "c.status, c.kind, c.key_account, c.archived_at, c.updated_at"
    )
    SORT_SQL: ClassVar[dict[str, str]] = {
        "name": "sort_name",
        "company": "sort_company",
        "email": "primary_email",
        "updated": "updated_at",
    }

    def __init__(self, database: Path) -> None:
        self.conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)

    def search(self, expression: str | None) -> None:
        if expression is None:
            return
        self.conn.execute(
            "SELECT count(*) FROM customer_search WHERE customer_search MATCH ?", (expression,)
        ).fetchone()
        self.conn.execute(
            f"SELECT {self.COLUMNS} FROM customer_search s JOIN customers c ON c.id = s.rowid "
            f"WHERE customer_search MATCH ? LIMIT {PAGE}",
            (expression,),
        ).fetchall()

    def page(self, sort: str, descending: bool) -> None:
        column = self.SORT_SQL[sort]
        direction = "DESC" if descending else ""
        self.conn.execute("SELECT count(*) FROM customers WHERE archived_at IS NULL").fetchone()
        self.conn.execute(
            f"SELECT {self.COLUMNS} FROM customers c WHERE c.archived_at IS NULL "
            f"ORDER BY c.{column} {direction}, c.id {direction} LIMIT {PAGE}"
        ).fetchall()


class ModelDriver:
    """Drives the real Qt list model (or CustomerService when told to / when absent)."""

    def __init__(self, database: Path, service_only: bool) -> None:
        from crmcompanion.core.clock import SystemClock
        from crmcompanion.services.container import open_services
        from crmcompanion.store.customers import ListQuery

        self.ListQuery = ListQuery
        self.services = open_services(f"sqlite:///{database}", None, SystemClock())
        self.model: Any = None
        if not service_only:
            try:
                from PySide6.QtWidgets import QApplication

                from crmcompanion.ui.customer_model import CustomerTableModel
            except ImportError:
                print("(no crmcompanion.ui.customer_model: measuring through CustomerService)")
            else:
                self.app = QApplication.instance() or QApplication([])
                self.model = CustomerTableModel(self.services.customers, ListQuery())
        self.total = 0
        self.query = ListQuery()

    @property
    def through(self) -> str:
        return "Qt model" if self.model is not None else "CustomerService"

    def show(self, query: Any) -> None:
        """New query: count, then the rows a viewport shows, fetched and formatted."""
        self.query = query
        if self.model is not None:
            self.model.set_query(query)
            self._touch(0, min(VISIBLE_ROWS, self.model.rowCount()))
        else:
            self.total = self.services.customers.count(query)
            self.services.customers.page_at(query, 0, PAGE, self.total)

    def jump_to_end(self) -> None:
        if self.model is not None:
            rows = self.model.rowCount()
            self._touch(max(0, rows - VISIBLE_ROWS), rows)
        else:
            offset = max(0, self.total - PAGE)
            self.services.customers.page_at(self.query, offset, PAGE, self.total)

    def _touch(self, first: int, last: int) -> None:
        from PySide6.QtCore import Qt

        columns = self.model.columnCount()
        for row in range(last - 1, first - 1, -1):  # a jump paints from where it lands
            for column in range(columns):
                self.model.data(self.model.index(row, column), Qt.ItemDataRole.DisplayRole)

    def close(self) -> None:
        self.services.close()


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def list_figures(database: Path, report: Report, service_only: bool) -> None:
    from crmcompanion.core.text import fts_query

    driver = ModelDriver(database, service_only)
    raw = RawList(database)
    lq = driver.ListQuery
    print(f"(list figures measured through the {driver.through})")
    driver.show(lq())  # warm the page cache as a started app would have
    keystrokes: list[float] = []
    raw_keystrokes: list[float] = []
    for text in QUERIES:
        for end in range(1, len(text) + 1):
            typed = text[:end]
            keystrokes.append(timed(lambda typed=typed: driver.show(lq(search=typed))))
            raw_keystrokes.append(timed(lambda typed=typed: raw.search(fts_query(typed))))
        driver.show(lq())
    report.add("search_p95_ms", ms(p95(keystrokes)), "ms", ms(p95(raw_keystrokes)))
    slowest = sorted(zip(keystrokes, range(len(keystrokes)), strict=True))[-3:]
    typed_all = [t[:e] for t in QUERIES for e in range(1, len(t) + 1)]
    print("  slowest keystrokes: " + ", ".join(f"{typed_all[i]!r} {ms(v)} ms" for v, i in slowest))

    driver.show(lq())
    scroll = timed(driver.jump_to_end)

    def raw_end() -> None:
        raw.page("name", True)

    report.add("scroll_to_end_ms", ms(scroll), "ms", ms(timed(raw_end)))

    sorts = []
    raw_sorts = []
    for sort, descending in SORTS:
        driver.show(lq())
        sorts.append(timed(lambda s=sort, d=descending: driver.show(lq(sort=s, descending=d))))
        raw_sorts.append(timed(lambda s=sort, d=descending: raw.page(s, d)))
    report.add("sort_ms", ms(max(sorts)), "ms", ms(max(raw_sorts)))
    driver.close()


def touchpoint_figures(database: Path, report: Report) -> None:
    """Issue 3's two figures on the benchmark database (touchpoints_bench.py)."""
    sys.path.insert(0, str(HERE))
    import touchpoints_bench

    figures = touchpoints_bench.measure(database)
    report.add(
        "upcoming_touchpoints_ms", round(figures["upcoming_touchpoints_ms"], 2), "ms",
        round(figures["raw_sql_upcoming_ms"], 2),
    )
    report.add(
        "today_counts_ms", round(figures["today_counts_ms"], 2), "ms",
        round(figures["raw_sql_counts_ms"], 2),
    )


def import_export_figures(report: Report) -> None:
    """Issue 6's three figures (import_export_bench.py, its own databases in a temp folder)."""
    sys.path.insert(0, str(HERE))
    import import_export_bench

    figures = import_export_bench.measure(report.customers)
    report.add("export_csv_s", figures["export_csv_s"], "s", figures["export_csv_raw_s"])
    report.add("import_csv_s", figures["import_csv_s"], "s", figures["import_csv_raw_s"])
    report.add("import_csv_peak_rss_mb", figures["import_csv_peak_rss_mb"], "MB", None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--source", type=Path, default=HERE.parent, help="checkout to measure")
    parser.add_argument("--service-only", action="store_true", help="no Qt: list via service")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    source = args.source.resolve()
    sys.path.insert(0, str(source))
    folder = Path(tempfile.mkdtemp(prefix="crmcompanion-bench-"))
    report = Report(args.customers)
    print(f"CRM Companion benchmark: {args.customers:,} customers, source {source}, in {folder}")
    try:
        home = folder / "home"
        home.mkdir()
        demo = run_demo(source, home, args.customers)
        database = home / "crmcompanion.sqlite3"
        report.add(
            "demo_generate_s", round(demo, 2), "s", round(raw_insert_baseline(database, folder), 2)
        )
        if not args.service_only:
            startup(source, home, report)
        list_figures(database, report, args.service_only)
        touchpoint_figures(database, report)
        import_export_figures(report)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(report.json(), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
