"""The benchmark's figures on PostgreSQL (team mode): `benchmarks/run.py --database-url URL`.

The same figures as on SQLite where the user waits (demo load, a search keystroke, the Today
view and its counts for 30 days, a CSV export, a CSV import of every customer into an empty
database), each beside a raw baseline doing the same work with plain psycopg statements on
the same server in the same run. The search keystroke is measured through the customer
service as the list runs it per key (the count and the first page, the visible rows), not
through the GUI: the window's own overhead is the SQLite run's figure already.

URL must name an empty database (or one migrated by this app and holding no customers): the
benchmark migrates it, loads it, empties it again for the import, and leaves the imported
customers there. Figures are printed, never asserted (convention 14).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# The rows the customer list fetches per page (ui/customer_model.PAGE_SIZE; 200 before).
PAGE = 50


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _timed(action: Any) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run(url: str, customers: int, report: Any, queries: tuple[str, ...], p95: Any) -> None:
    import psycopg

    from crmcompanion.core.clock import SystemClock
    from crmcompanion.services.container import open_services
    from crmcompanion.services.customers import ListQuery
    from crmcompanion.services.demo import fill_demo
    from crmcompanion.services.team_database import masked, migrate

    migrate(url)
    raw = psycopg.connect(_libpq(url), autocommit=True)
    held = raw.execute("SELECT count(*) FROM customers").fetchone()[0]
    if held:
        raise SystemExit(f"{masked(url)} holds {held:,} customers: the benchmark needs an empty "
                         "database (it loads and empties it).")
    print(f"PostgreSQL {raw.execute('SHOW server_version').fetchone()[0]} at {masked(url)}",
          flush=True)
    services = open_services(url, None, SystemClock())
    try:
        seconds = _timed(lambda: fill_demo(services.db, services.clock, customers, 1, False,
                                           services.staff_id))
        raw.execute("ANALYZE")
        rows = raw.execute("SELECT * FROM customers").fetchall()
        columns = [c.name for c in raw.execute("SELECT * FROM customers LIMIT 0").description]

        def raw_load() -> None:
            with raw.transaction():
                raw.execute("CREATE TEMP TABLE raw_customers (LIKE customers)")
                with raw.cursor().copy(
                        f"COPY raw_customers ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                raw.execute("DROP TABLE raw_customers")

        report.add("pg_demo_generate_s", round(seconds, 2), "s", round(_timed(raw_load), 2))
        _keystrokes(services, raw, report, queries, p95, ListQuery)
        _today(services, raw, report)
        _export_import(services, raw, url, report)
    finally:
        services.close()
        raw.close()


def _keystrokes(services: Any, raw: Any, report: Any, queries: tuple[str, ...], p95: Any,
                list_query: Any) -> None:
    from crmcompanion.store.postgres_search import (
        PHONE_IDS,
        WORD_IDS,
        Match,
        archived_matches_sql,
    )

    typed = [q[:end] for q in queries for end in range(1, len(q) + 1)]
    customers = services.customers
    for text in typed[:5]:  # warm the server's caches and the plans
        customers.count(list_query(search=text))

    def keystroke(text: str) -> None:
        query = list_query(search=text)
        total = customers.count(query)
        customers.page_at(query, 0, PAGE, total)

    population = raw.execute("SELECT max(id) FROM customers").fetchone()[0] or 0

    def raw_keystroke(text: str) -> None:
        # The statements the store runs for the list (postgres_search.count_matches and
        # _list_condition), without the app around them: what the server alone costs.
        match = Match(text)
        if match.empty:
            return
        params = match.params()

        def sql(statement: str) -> str:
            return statement.replace(":pg_q", "%(pg_q)s").replace(":pg_digits", "%(pg_digits)s")

        total = raw.execute(sql(
            f"SELECT (SELECT count(*) FROM ({match.ids()}) m) - "
            f"({archived_matches_sql(match)})"), params).fetchone()[0]
        walk = total * 20 > population
        matched = (f"c.id = ANY(ARRAY({match.ids()}))" if not walk
                   else f"c.id IN ({WORD_IDS})" if match.phone is None
                   else f"(c.id IN ({WORD_IDS}) OR c.id IN ({PHONE_IDS}))")
        raw.execute(sql("SELECT c.id, c.display_name, c.company, c.primary_email FROM "
                        f"customers c WHERE c.archived_at IS NULL AND {matched} "
                        f"ORDER BY c.sort_name, c.id LIMIT {PAGE}"), params).fetchall()

    from crmcompanion.store import customers as repo
    from crmcompanion.store.postgres_search import uncounted_window

    def first_page(text: str) -> None:
        # The keystroke once the list shows its first page before the count (issue 13;
        # store.customers' page without count calls uncounted_window on PostgreSQL).
        query = list_query(search=text)
        with services.db.read() as session:
            uncounted_window(session, query, 0, PAGE,
                             (*repo.LIST_COLUMNS, repo.SORT_COLUMNS[query.sort]), repo._ordered)

    times = [_timed(lambda t=t: keystroke(t)) for t in typed]
    raw_times = [_timed(lambda t=t: raw_keystroke(t)) for t in typed]
    report.add("pg_search_keystroke_p95_ms", _ms(p95(times)), "ms", _ms(p95(raw_times)))
    server_before, cpu = _server_cpu(raw), time.process_time()
    pages = [_timed(lambda t=t: first_page(t)) for t in typed]
    _print_cpu("keystroke first page", time.process_time() - cpu, server_before, raw,
               len(typed), "key")
    report.add("pg_search_first_page_p95_ms", _ms(p95(pages)), "ms", _ms(p95(raw_times)))
    # Ranked (the command line's `customers search`): bm25 is computed for every match, so
    # it is timed on what people type there, whole words (the queries as typed in full).
    ranked = [_timed(lambda t=t: customers.search(t, limit=10)) for t in queries]
    raw_whole = [_timed(lambda t=t: raw_keystroke(t)) for t in queries]
    report.add("pg_search_ranked_p95_ms", _ms(p95(ranked)), "ms", _ms(p95(raw_whole)))
    slowest = sorted(zip(times, typed, strict=True))[-3:]
    print("  slowest keystrokes: " + ", ".join(f"{t!r} {_ms(v)} ms" for v, t in slowest),
          flush=True)


def _today(services: Any, raw: Any, report: Any) -> None:
    sys.path.insert(0, str(HERE))
    import touchpoints_bench

    figures = touchpoints_bench.measure(services)
    # The view's CPU apart, this process's and the server's: wall figures on a shared machine
    # are noisy (several runs of the same code differ by 2x at a load of 6-9).
    views = 10
    server_before, cpu = _server_cpu(raw), time.process_time()
    for _ in range(views):
        services.touchpoints.today_view()
    _print_cpu(f"Today view ({figures['upcoming_touchpoints_statements']:.0f} statements)",
               time.process_time() - cpu, server_before, raw, views, "view")
    today = services.clock.today()
    windows = touchpoints_bench.section_windows(today)

    def where(first: date, last: date) -> tuple[str, list[int]]:
        ranges = touchpoints_bench.md_ranges(first, last)
        return ("(" + " OR ".join("md_key BETWEEN %s AND %s" for _ in ranges) + ")",
                [v for r in ranges for v in r])

    def raw_counts() -> None:
        for open_start, first, last in windows:
            clause, args = where(first, last)
            raw.execute(f"SELECT count(*) FROM touchpoint_sources WHERE {clause}", args)
            low = open_start or date.min
            raw.execute("SELECT count(*) FROM contact_rhythm WHERE next_due_on BETWEEN %s "
                        "AND %s", (low, last)).fetchone()
            raw.execute("SELECT count(*) FROM follow_ups WHERE open AND due_on BETWEEN %s "
                        "AND %s", (low, last)).fetchone()

    def raw_list() -> None:
        for _open_start, first, last in windows:
            clause, args = where(first, last)
            raw.execute("SELECT s.customer_id, c.display_name, s.md_key FROM "
                        "touchpoint_sources s JOIN customers c ON c.id = s.customer_id "
                        f"WHERE {clause.replace('md_key', 's.md_key')} ORDER BY s.md_key "
                        "LIMIT 200", args).fetchall()

    def median_ms(action: Any) -> float:
        action()
        return statistics.median(_timed(action) for _ in range(20)) * 1000

    report.add("pg_upcoming_touchpoints_ms", round(figures["upcoming_touchpoints_ms"], 2), "ms",
               round(median_ms(raw_list), 2))
    report.add("pg_today_counts_ms", round(figures["today_counts_ms"], 2), "ms",
               round(median_ms(raw_counts), 2))


def _export_import(services: Any, raw: Any, url: str, report: Any) -> None:
    from crmcompanion.services.import_export import ImportExportService

    del url
    with tempfile.TemporaryDirectory(prefix="crmcompanion-pgbench-") as folder:
        path = Path(folder) / "customers.csv"
        seconds = _timed(lambda: services.import_export.export_csv(path))

        def raw_export() -> None:
            with open(Path(folder) / "raw.csv", "wb") as out, raw.cursor().copy(
                    "COPY (SELECT c.*, (SELECT string_agg(address, ' | ') FROM "
                    "customer_emails e WHERE e.customer_id = c.id) FROM customers c ORDER BY "
                    "c.id) TO STDOUT WITH CSV HEADER") as copy:
                for data in copy:
                    out.write(data)

        report.add("pg_export_csv_s", round(seconds, 2), "s", round(_timed(raw_export), 2))
        raw.execute("TRUNCATE customers, customer_search, import_batches, tags CASCADE")
        raw.execute("ANALYZE")
        importer: ImportExportService = services.import_export
        start = time.perf_counter()
        plan = importer.preview(path).plan
        # The run after the preview apart, with the CPU seconds of this process and of the
        # server's processes: wall figures on a shared machine are noisy.
        server_before = _server_cpu(raw)
        cpu, run_start = time.process_time(), time.perf_counter()
        importer.run(plan)
        run_seconds = time.perf_counter() - run_start
        cpu = time.process_time() - cpu
        server = _server_cpu(raw) - server_before if server_before is not None else None
        seconds = time.perf_counter() - start
        text = path.read_text(encoding="utf-8-sig")

        def raw_import() -> None:
            with raw.transaction():
                raw.execute("CREATE TEMP TABLE raw_import (line text)")
                with raw.cursor().copy("COPY raw_import (line) FROM STDIN") as copy:
                    for line in text.splitlines():
                        copy.write_row((line,))
                raw.execute("DROP TABLE raw_import")

        raw_seconds = round(_timed(raw_import), 2)
        report.add("pg_import_csv_s", round(seconds, 2), "s", raw_seconds)
        report.add("pg_import_run_s", round(run_seconds, 2), "s", raw_seconds)
        print(f"  import run CPU: client {cpu:.2f} s, server "
              + (f"{server:.2f} s" if server is not None else "not readable here"), flush=True)


def _print_cpu(what: str, client_s: float, server_before: float | None, raw: Any,
               count: int, unit: str) -> None:
    """One line: the CPU milliseconds per `unit` of this process and of the server's
    processes (when readable here: `_server_cpu`) over `count` of them."""
    after = _server_cpu(raw)
    server = (f"{(after - server_before) * 1000 / count:.1f} ms"
              if after is not None and server_before is not None else "not readable here")
    print(f"  {what} CPU per {unit}: client {client_s * 1000 / count:.1f} ms, server {server}",
          flush=True)


def _server_cpu(raw: Any) -> float | None:
    """CPU seconds used so far by the server's processes (a local cluster only: its
    postmaster's live children and the reaped ones), else None."""
    import os

    import psycopg

    try:
        folder = raw.execute("SHOW data_directory").fetchone()[0]
        postmaster = int(Path(folder, "postmaster.pid").read_text().split()[0])
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(pid) == postmaster:  # itself and its reaped children
                total += sum(int(f) for f in fields[11:15])
            elif int(fields[1]) == postmaster:
                total += int(fields[11]) + int(fields[12])
        return total / tick
    except (OSError, ValueError, IndexError, psycopg.Error):  # remote, or not allowed to see
        return None
