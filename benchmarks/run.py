"""Benchmark CRM Companion at N customers: each figure where the user's wait ends, beside a
like-for-like raw baseline measured in the same run.

Usage: python benchmarks/run.py [--customers N] [--json FILE] [--source DIR] [--service-only]
       python benchmarks/run.py --database-url postgresql+psycopg://... [--customers N]

Every figure is measured next to a baseline doing the same work on the same data in the same
run (raw sqlite3 / raw FTS5 / a bare PySide6 table), so a slow machine or a busy CPU moves
both. Figures are printed, never asserted (docs/architecture.md, convention 14). Where each
clock starts and stops, figure by figure: benchmarks/README.md.

A figure that cannot run (its feature is not built yet, or it failed) is printed as
"skipped" with the reason; the others are still measured and written, and the exit code is 0.
--service-only measures the list through CustomerService and skips the GUI figures; --source
DIR benchmarks another checkout (e.g. an older commit, for before/after).
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

    def skip(self, name: str, reason: str) -> None:
        print(f"{name:24} skipped: {reason}", flush=True)

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
    """executemany of the rows the demo wrote into every table it filled (the search index's
    own tables included), into an empty copy of the same schema without its triggers (the
    least work that puts those rows there), one transaction."""
    src = sqlite3.connect(database)
    objects = src.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND type != 'trigger' "
        "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END"
    ).fetchall()
    fts_shadow = {n for t, n, s in objects if t == "table" and "VIRTUAL TABLE" in s.upper()}
    ddl = [
        s
        for t, n, s in objects
        if not any(n.startswith(f"{v}_") for v in fts_shadow) and n != "sqlite_sequence"
    ]
    plain = [n for t, n, s in objects if t == "table" and n not in fts_shadow
             and not any(n.startswith(f"{v}_") for v in fts_shadow) and n != "sqlite_sequence"]
    data = {}
    for table in plain:
        names = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
        rows = src.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()
        if rows:
            data[table] = (names, rows)
    for table in sorted(fts_shadow):
        names = ["rowid"] + [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
        data[table] = (names, src.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall())
    src.close()
    print("  demo baseline inserts: " + ", ".join(
        f"{table} {len(rows):,}" for table, (_, rows) in data.items()), flush=True)
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


def copy_database(source: Path, target: Path) -> None:
    """A page-for-page copy of a database (sqlite3's backup API), its WAL included."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    src.backup(dst)
    dst.close()
    src.close()


# --- GUI start-up -----------------------------------------------------------------------------
def gui_once(command: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    started = time.time()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{command} failed ({done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(lines[-1])
    result["first_paint_ms"] = ms(result["painted_at"] - started)
    return result


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 2)


def startup(source: Path, home: Path, fresh: Path, report: Report) -> None:
    """The start-up figures on the used database in `home` and, each run on its own new copy,
    on `fresh` (the database exactly as `demo` left it)."""
    database = home / "crmcompanion.sqlite3"
    app = [sys.executable, "-m", "crmcompanion"]
    raw = [sys.executable, str(HERE / "raw_first_paint.py"), str(database)]
    raw_today = [*raw, "--today"]
    hook = {"CRMCOMPANION_BENCHMARK_EXIT_AFTER_PAINT": "1"}
    jump = {**hook, "CRMCOMPANION_BENCHMARK_JUMP_TO_END": "1"}

    def wait_for(what: str) -> dict[str, str]:
        return {"CRMCOMPANION_BENCHMARK_WAIT_FOR": what}

    # Warm-up (bytecode and OS caches; the first launch also makes the database "used").
    gui_once(app, env_for(source, home, **wait_for("today")), source)
    gui_once(raw, env_for(source, home), source)
    gui_once(raw_today, env_for(source, home), source)

    # The first launch right after `demo`: each run on a new copy of the demo's database.
    fresh_home = home.parent / "fresh-home"
    fresh_runs = []
    fresh_raw = []
    for _ in range(3):
        copy_database(fresh, fresh_home / "crmcompanion.sqlite3")
        fresh_runs.append(gui_once(app, env_for(source, fresh_home, **wait_for("today")), source))
        copy_database(fresh, fresh_home / "crmcompanion.sqlite3")
        fresh_raw.append(gui_once([sys.executable, str(HERE / "raw_first_paint.py"),
                                   str(fresh_home / "crmcompanion.sqlite3"), "--today"],
                                  env_for(source, fresh_home), source))
    shutil.rmtree(fresh_home, ignore_errors=True)

    paints = [gui_once(app, env_for(source, home, **hook), source) for _ in range(3)]
    raw_paints = [gui_once(raw, env_for(source, home), source) for _ in range(3)]
    report.add("startup_first_paint_ms", median_of(paints, "first_paint_ms"), "ms",
               median_of(raw_paints, "first_paint_ms"))
    if all("cpu_ms" in p for p in paints):
        # The process's own CPU time up to the paint: on a busy machine (other processes on
        # the 2 cores) the wall-clock figure grows, this one much less. Printed, not a metric.
        print(f"  first paint: {median_of(paints, 'cpu_ms')} ms of the process's own CPU "
              "time (median)", flush=True)
    rss = gui_once(app, env_for(source, home, **jump), source)
    raw_rss = gui_once(raw, env_for(source, home, BENCHMARK_JUMP_TO_END="1"), source)
    report.add("first_paint_rss_mb", round(rss["peak_rss_kb"] / 1024, 1), "MB",
               round(raw_rss["peak_rss_kb"] / 1024, 1))

    useful = [gui_once(app, env_for(source, home, **wait_for("today")), source)
              for _ in range(3)]
    raw_useful = [gui_once(raw_today, env_for(source, home), source) for _ in range(3)]
    report.add("first_useful_paint_ms", median_of(useful, "first_paint_ms"), "ms",
               median_of(raw_useful, "first_paint_ms"))
    print(f"  Today's rows: {useful[0].get('rows')} on screen; "
          f"{median_of(useful, 'cpu_ms')} ms of the process's own CPU time (median)", flush=True)
    report.add("first_useful_paint_fresh_ms", median_of(fresh_runs, "first_paint_ms"), "ms",
               median_of(fresh_raw, "first_paint_ms"))
    print(f"  first launch after demo: {median_of(fresh_runs, 'cpu_ms')} ms of the process's "
          "own CPU time (median)", flush=True)

    listed = [gui_once(app, env_for(source, home, **wait_for("customers")), source)
              for _ in range(3)]
    report.add("first_useful_paint_customers_ms", median_of(listed, "first_paint_ms"), "ms",
               median_of(raw_paints, "first_paint_ms"))
    # Its wall-clock median moved by ~500 ms between two runs of the same code path (1,073
    # vs 1,569 ms); the CPU time tells a slower launch from a busier machine.
    print(f"  started on Customers: {median_of(listed, 'cpu_ms')} ms of the process's own "
          f"CPU time (median; wall {[round(r['first_paint_ms']) for r in listed]} ms)",
          flush=True)

    settled = gui_once(app, env_for(source, home, **wait_for("settled")), source)
    report.add("startup_rss_mb", round(settled["peak_rss_kb"] / 1024, 1), "MB",
               round(raw_rss["peak_rss_kb"] / 1024, 1))


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

    def page(self, sort: str, descending: bool, count: bool = True) -> None:
        column = self.SORT_SQL[sort]
        direction = "DESC" if descending else ""
        if count:
            self.conn.execute(
                "SELECT count(*) FROM customers WHERE archived_at IS NULL").fetchone()
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
            # Since keys-count the model shows the first page before the count, which comes
            # from a thread: taken here in place, so this figure still ends with the count.
            self.model.count()
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
        # Like for like: the list's count was taken when it was shown (untimed, both sides);
        # the jump is one page read backwards from the end of the sort index.
        raw.page("name", True, count=False)

    report.add("scroll_to_end_ms", ms(scroll), "ms", ms(timed(raw_end)))

    sorts = []
    raw_sorts = []
    for sort, descending in SORTS:
        driver.show(lq())
        sorts.append(timed(lambda s=sort, d=descending: driver.show(lq(sort=s, descending=d))))
        raw_sorts.append(timed(lambda s=sort, d=descending: raw.page(s, d)))
    report.add("sort_ms", ms(max(sorts)), "ms", ms(max(raw_sorts)))
    driver.close()


def keystroke_figures(database: Path, report: Report) -> None:
    """Real key events (QTest.keyClick) into the Customers page's search box of a real main
    window, shown offscreen; per keystroke, from the key event to the event loop having
    handled everything it caused (the query, the model reset, the paint of the visible rows,
    which fetches them). Without and with a customer selected (the middle of the list)."""
    from PySide6.QtCore import QEvent, QObject, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from crmcompanion.app import freeze_start_up_heap
    from crmcompanion.core.clock import SystemClock
    from crmcompanion.core.text import fts_query
    from crmcompanion.services.container import open_services
    from crmcompanion.ui.main_window import CUSTOMERS, MainWindow
    from crmcompanion.ui.style import apply_look

    app = QApplication.instance() or QApplication([])
    # The app's own look (Fusion and its style sheet), as the user has it: a style sheet makes
    # every repaint dearer than Qt's bare default style.
    apply_look(app)
    services = open_services(f"sqlite:///{database}", None, SystemClock())
    window = MainWindow(services)
    window.resize(1100, 700)
    window.show()
    deadline = time.monotonic() + 120
    while not window.today.ready and time.monotonic() < deadline:  # its load off our clock
        app.processEvents()
        time.sleep(0.01)
    # As the app does once Today's rows are painted (crmcompanion.app): start-up's objects
    # out of later collections. Without it this process's every full collection walked
    # ~100,000 objects the app never collects again (~60 ms of CPU, ~150-200 ms under load,
    # on one keystroke a run).
    freeze_start_up_heap()
    window.show_section(CUSTOMERS)
    view = window.customers
    app.processEvents()
    middle_id = view.model.index(view.model.rowCount() // 2, 0).data(view_id_role())
    raw = RawList(database)

    class Paints(QObject):
        count = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                Paints.count += 1
            return False

    paints = Paints()
    view.table.viewport().installEventFilter(paints)

    def press(char: str) -> None:
        """One key press and release carrying `char` (QTest.keyClick for ASCII; it cannot
        map other characters to a key, so those are sent as the key events a layout with
        that key would send)."""
        if char.isascii():
            QTest.keyClick(view.search, char)
            return
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(view.search, QKeyEvent(
                kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, char))

    # The GUI thread's CPU time per keystroke beside each wall time: on a busy machine the
    # wall clock also counts the wait for a core, CPU time much less (everything a keystroke
    # causes runs on this thread: the query, the reset, the repaint).
    cpu_times: dict[bool, list[float]] = {False: [], True: []}

    def type_all(select: bool) -> list[float]:
        times: list[float] = []
        for text in QUERIES:
            view.search.clear()
            if select:
                view.select_customer(middle_id, scroll=True)
            app.processEvents()
            for char in text:
                cpu_start = time.thread_time()
                start = time.perf_counter()
                press(char)
                app.processEvents()
                times.append(time.perf_counter() - start)
                cpu_times[select].append(time.thread_time() - cpu_start)
            if view.search.text() != text:
                raise RuntimeError(f"typed {text!r} but the search box says "
                                   f"{view.search.text()!r}")
        view.search.clear()
        return times

    plain = type_all(select=False)
    painted = Paints.count
    selected = type_all(select=True)
    raw_cpu: list[float] = []

    def raw_search(typed: str) -> None:
        cpu_start = time.thread_time()
        raw.search(fts_query(typed))
        raw_cpu.append(time.thread_time() - cpu_start)

    raw_times = [timed(lambda t=text[:end]: raw_search(t))
                 for text in QUERIES for end in range(1, len(text) + 1)]
    report.add("search_keystroke_p95_ms", ms(p95(plain)), "ms", ms(p95(raw_times)))
    report.add("search_keystroke_selected_p95_ms", ms(p95(selected)), "ms", ms(p95(raw_times)))
    for label, cpu in (("no selection", cpu_times[False]), ("one selected", cpu_times[True]),
                       ("raw FTS5", raw_cpu)):
        print(f"  CPU per keystroke ({label}): p50 {ms(statistics.median(cpu))} ms, "
              f"p95 {ms(p95(cpu))} ms", flush=True)
    typed_all = [t[:e] for t in QUERIES for e in range(1, len(t) + 1)]
    for label, times in (("no selection", plain), ("one selected", selected)):
        slowest = sorted(zip(times, range(len(times)), strict=True))[-3:]
        print(f"  slowest keystrokes ({label}): "
              + ", ".join(f"{typed_all[i]!r} {ms(v)} ms" for v, i in slowest), flush=True)
    print(f"  {painted} paints of the list for {len(plain)} keystrokes", flush=True)
    window.close()
    services.close()


def view_id_role() -> int:
    from crmcompanion.ui.customer_model import ID_ROLE

    return int(ID_ROLE)


def touchpoint_figures(database: Path, fresh: Path, scratch: Path, report: Report) -> None:
    """Issue 3's two figures on the benchmark database (touchpoints_bench.py), and the cost of
    building every customer's derived touchpoint rows (touchpoint_sync_ms)."""
    sys.path.insert(0, str(HERE))
    import touchpoints_bench

    figures = touchpoints_bench.measure(database)
    report.add(
        "upcoming_touchpoints_ms", round(figures["upcoming_touchpoints_ms"], 2), "ms",
        # Like for like: the same sections' rows in the list's order (by day, then name),
        # the order the app reads and shows them in.
        round(figures["raw_sql_upcoming_by_name_ms"], 2),
    )
    report.add(
        "today_counts_ms", round(figures["today_counts_ms"], 2), "ms",
        round(figures["raw_sql_counts_ms"], 2),
    )
    # What the first Today read after a bulk load used to do, and what the load now does as it
    # writes: every customer's rows recomputed. On a copy of the demo's database, all marked
    # stale; baseline: the same rows written by two raw statements without the rules.
    copy = scratch / "sync.sqlite3"
    copy_database(fresh, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    conn.execute("UPDATE contact_rhythm SET dirty = 1")
    conn.close()
    from crmcompanion.services.container import open_services

    services = open_services(f"sqlite:///{copy}")
    start = time.perf_counter()
    synced = services.touchpoints.sync()
    sync_s = time.perf_counter() - start
    services.close()
    conn = sqlite3.connect(copy, isolation_level=None)
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.execute("CREATE TEMP TABLE s AS SELECT customer_id, occasion, source_id, md_key, year, "
                 "label FROM touchpoint_sources WHERE 0")
    conn.execute("INSERT INTO s SELECT customer_id, kind, id, md_key, year, label "
                 "FROM special_dates")
    conn.execute("CREATE TEMP TABLE r AS SELECT customer_id, next_due_on FROM contact_rhythm "
                 "WHERE 0")
    conn.execute("INSERT INTO r SELECT customer_id, date(coalesce(last_interaction_on, "
                 "'2026-01-01'), '+90 days') FROM contact_rhythm")
    conn.execute("COMMIT")
    raw_s = time.perf_counter() - start
    conn.close()
    copy.unlink(missing_ok=True)
    report.add("touchpoint_sync_ms", ms(sync_s), "ms", ms(raw_s))
    print(f"  ({synced:,} customers' touchpoint rows rebuilt)", flush=True)


def import_export_figures(report: Report, database: Path) -> None:
    """Issue 6's three figures and this issue's two (import_export_bench.py, temp folders)."""
    sys.path.insert(0, str(HERE))
    import import_export_bench

    figures = import_export_bench.measure(report.customers)
    report.add("export_csv_s", figures["export_csv_s"], "s", figures["export_csv_raw_s"])
    report.add("import_csv_s", figures["import_csv_s"], "s", figures["import_csv_raw_s"])
    report.add("import_csv_peak_rss_mb", figures["import_csv_peak_rss_mb"], "MB", None)
    for shape in ("google", "outlook"):
        shaped = import_export_bench.measure_shaped(shape, report.customers, database)
        report.add(f"import_{shape}_csv_s", shaped["seconds"], "s", shaped["raw_s"])
        print(f"  {shape}: {shaped['created']:,} created, {shaped['duplicates']:,} matched as "
              f"duplicates, peak RSS {shaped['peak_rss_mb']} MB", flush=True)


def voice_of_the_customer_figures(database: Path, report: Report) -> None:
    """Issue 15's two figures. `similar_complaints_ms`: one refresh of the Add feedback
    dialog's suggestions through `FeedbackService` (encode the typed text, rank it against
    10,000 stored complaint vectors, read the neighbours and their themes; p95,
    feedback_bench.py) beside a raw numpy dot product over the same 10,000 vectors
    (similarity.py). `timeline_ms`: open a customer with 2,000 timeline entries, first screen
    painted (timeline_bench.py, in this run's N-customer database)."""
    sys.path.insert(0, str(HERE))
    import feedback_bench
    import similarity
    import timeline_bench

    service = feedback_bench.measure()
    model = similarity.measure()
    report.add("similar_complaints_ms", service["similar_complaints_service_ms"], "ms",
               model["similar_complaints_raw_ms"])
    report.add("similar_complaints_model_ms", model["similar_complaints_ms"], "ms",
               model["similar_complaints_raw_ms"])
    report.add("theme_suggestions_ms", service["theme_suggestions_service_ms"], "ms", None)
    timeline_bench.report_figures(report, database)


def insights_figures(database: Path, folder: Path, report: Report) -> None:
    """Issue 16's two figures (insights.py): measured last, because they first add about 10
    interactions per customer to the benchmark database."""
    sys.path.insert(0, str(HERE))
    import insights

    insights.add_figures(report, database, folder)


def guarded(report: Report, names: str, action: Callable[[], object]) -> None:
    """Run one group of figures; a failure is printed as skipped and the run goes on."""
    try:
        action()
    except Exception as exc:  # one broken figure must not cost the others
        report.skip(names, f"failed: {type(exc).__name__}: {exc}".splitlines()[0][:300])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--source", type=Path, default=HERE.parent, help="checkout to measure")
    parser.add_argument("--service-only", action="store_true", help="no Qt: list via service")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--database-url", metavar="URL",
                        help="measure on this empty PostgreSQL database instead (team mode: "
                        "benchmarks/postgres_bench.py)")
    args = parser.parse_args(argv)
    if args.database_url:
        sys.path.insert(0, str(args.source.resolve()))
        sys.path.insert(0, str(HERE))
        import postgres_bench

        report = Report(args.customers)
        postgres_bench.run(args.database_url, args.customers, report, QUERIES, p95)
        if args.json:
            args.json.write_text(json.dumps(report.json(), indent=2) + "\n", encoding="utf-8")
        return 0
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
        fresh = folder / "fresh.sqlite3"  # the database exactly as demo left it
        copy_database(database, fresh)
        guarded(report, "demo_generate_s", lambda: report.add(
            "demo_generate_s", round(demo, 2), "s",
            round(raw_insert_baseline(database, folder), 2)))
        if not args.service_only:
            guarded(report, "start-up figures", lambda: startup(source, home, fresh, report))
        guarded(report, "list figures",
                lambda: list_figures(database, report, args.service_only))
        if not args.service_only:
            guarded(report, "search_keystroke figures",
                    lambda: keystroke_figures(database, report))
        guarded(report, "touchpoint figures",
                lambda: touchpoint_figures(database, fresh, folder, report))
        guarded(report, "import/export figures", lambda: import_export_figures(report, database))
        if not args.service_only:
            guarded(report, "similar_complaints_ms and timeline_ms",
                    lambda: voice_of_the_customer_figures(database, report))
        guarded(report, "dashboard_ms and segments_ms",
                lambda: insights_figures(database, folder, report))
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
