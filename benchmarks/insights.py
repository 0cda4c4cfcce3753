"""Insights speed (issue 16): every dashboard figure, and every customer's segment recomputed,
each beside a raw-SQL baseline doing the same reads on the same data in the same run.

Measured on a copy of the N-customer benchmark database after this module adds conversations
up to about 10 per customer (1,000,000 at 100,000) with plain executemany inserts, not
through `demo`. `dashboard_ms`: `InsightsService.dashboard()` and `why_they_stay()` with the
stored segments current (what the Insights page waits for once a day's segments exist),
median of 5; baseline: the same aggregates as raw sqlite3 statements. `segments_ms`: a day's first
`refresh()` (the clock moved one day further each run, so every customer is recomputed: facts
gathered, rules applied, the rows that changed written), median of 3; baseline: the same
aggregates plus a one-statement CASE rule written with INSERT ... SELECT.

benchmarks/run.py calls `add_figures(report, database, scratch)`; run alone:
`python benchmarks/insights.py DB_PATH` (a demo database, e.g. from `run.py --keep`).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PER_CUSTOMER = 10
DASHBOARD_RUNS = 5
SEGMENT_RUNS = 3

_SUMMARIES = ("Called about the next order.", "Sent the price list.", "Came by the shop.",
              "Confirmed the appointment.", "Answered a question about an invoice.")

RAW_DASHBOARD = (
    "SELECT segment, count(*) FROM customer_health GROUP BY segment",
    "SELECT coalesce(lost_reason, 'unknown'), count(*) FROM customers WHERE status = 'lost' "
    "AND archived_at IS NULL GROUP BY 1",
    "SELECT t.name, sum(f.status NOT IN ('resolved', 'satisfied')), "
    "sum(f.status IN ('resolved', 'satisfied')) FROM themes t "
    "JOIN feedback_item_themes it ON it.theme_id = t.id JOIN feedback_items f "
    "ON f.id = it.item_id WHERE f.kind = 'complaint' GROUP BY t.id ORDER BY 2 + 3 DESC",
    "SELECT f.id, f.text, count(r.customer_id) FROM feedback_items f LEFT JOIN idea_requesters r "
    "ON r.idea_id = f.id WHERE f.kind = 'idea' AND f.merged_into_id IS NULL GROUP BY f.id "
    "ORDER BY 3 DESC LIMIT 20",
    "SELECT sum(state = 'done' AND date(recorded_at) <= occurrence_on), "
    "sum(state = 'done' AND date(recorded_at) > occurrence_on), sum(state = 'skipped') "
    "FROM touchpoint_states",
    "SELECT count(*) FROM follow_ups WHERE open = 1 AND due_on < date('now')",
    "SELECT f.created_at, d.resolved_at FROM feedback_items f JOIN complaint_details d "
    "ON d.item_id = f.id WHERE d.resolved_at IS NOT NULL",
    "SELECT substr(created_at, 1, 7), avg(satisfaction), count(*) FROM feedback_items "
    "WHERE satisfaction IS NOT NULL GROUP BY 1",
)
# The why-stay card's aggregates (the Insights page shows it with the dashboard): the two
# groups' customers and rhythm kept, greetings done in the last year, each resolved
# complaint's days, and the praise themes.
RAW_WHY_STAY = (
    "SELECT h.segment = 'happiest', count(*), sum(julianday('now') - julianday(substr(coalesce("
    "(SELECT max(occurred_at) FROM interactions i WHERE i.customer_id = c.id), "
    "c.customer_since, c.created_at), 1, 10)) <= coalesce(r.cadence_days, 90)) "
    "FROM customer_health h JOIN customers c ON c.id = h.customer_id LEFT JOIN contact_rhythm r "
    "ON r.customer_id = c.id WHERE h.segment IN ('happiest', 'healthy', 'at_risk', 'lost') "
    "GROUP BY 1",
    "SELECT h.segment = 'happiest', count(*) FROM touchpoint_states s JOIN customer_health h "
    "ON h.customer_id = s.customer_id WHERE s.state = 'done' AND s.occasion IN ('birthday', "
    "'wedding_anniversary', 'custom', 'customer_anniversary') "
    "AND s.occurrence_on >= date('now', '-365 days') "
    "AND h.segment IN ('happiest', 'healthy', 'at_risk', 'lost') GROUP BY 1",
    "SELECT h.segment = 'happiest', julianday(d.resolved_at) - julianday(f.created_at) "
    "FROM feedback_items f JOIN complaint_details d ON d.item_id = f.id JOIN customer_health h "
    "ON h.customer_id = f.customer_id WHERE f.kind = 'complaint' AND d.resolved_at IS NOT NULL "
    "AND h.segment IN ('happiest', 'healthy', 'at_risk', 'lost')",
    "SELECT t.name, count(DISTINCT f.id) FROM themes t JOIN feedback_item_themes it "
    "ON it.theme_id = t.id JOIN feedback_items f ON f.id = it.item_id WHERE f.kind = 'praise' "
    "GROUP BY t.id",
)
# Like for like with the app's facts: every input the rules read (the customer's status,
# key-account flag, lost reason and note, rhythm, stored segment, last conversation; open
# complaints and their age, satisfaction in the window and the one before, praise, check-backs
# answered not satisfied).
RAW_FACTS = (
    "SELECT c.id, h.segment, h.reasons, c.status, c.key_account, c.lost_reason, c.lost_note, "
    "c.customer_since, c.created_at, r.cadence_days, (SELECT max(occurred_at) FROM interactions "
    "i WHERE i.customer_id = c.id) FROM customers c LEFT JOIN contact_rhythm r "
    "ON r.customer_id = c.id LEFT JOIN customer_health h ON h.customer_id = c.id "
    "WHERE c.archived_at IS NULL",
    "SELECT customer_id, sum(kind = 'complaint' AND status NOT IN ('resolved', 'satisfied')), "
    "min(CASE WHEN kind = 'complaint' AND status NOT IN ('resolved', 'satisfied') "
    "THEN created_at END), "
    "sum(CASE WHEN created_at >= date('now', '-180 days') THEN satisfaction END), "
    "count(CASE WHEN created_at >= date('now', '-180 days') THEN satisfaction END), "
    "sum(CASE WHEN created_at < date('now', '-180 days') THEN satisfaction END), "
    "count(CASE WHEN created_at < date('now', '-180 days') THEN satisfaction END), "
    "sum(kind = 'praise' AND created_at >= date('now', '-180 days')) "
    "FROM feedback_items WHERE customer_id IS NOT NULL GROUP BY customer_id",
    "SELECT f.customer_id, count(*) FROM feedback_events e JOIN feedback_items f "
    "ON f.id = e.item_id WHERE e.to_status = 'not_satisfied' AND e.at >= date('now', "
    "'-180 days') AND f.customer_id IS NOT NULL GROUP BY f.customer_id",
)
# Every segment by one CASE over the same inputs with the default thresholds (reasons left
# empty), all rows written (rolled back).
RAW_STORE = (
    "DELETE FROM customer_health",
    "INSERT INTO customer_health (customer_id, segment, reasons, dirty) "
    "SELECT x.id, CASE WHEN x.status = 'lost' THEN 'lost' WHEN x.status = 'lead' "
    "THEN 'potential' "
    "WHEN x.quiet > x.rhythm * CASE WHEN x.key_account THEN 1 ELSE 1.5 END "
    "OR x.oldest <= date('now', '-7 days') OR (x.key_account AND x.open > 0) "
    "OR x.s_sum <= 2.5 * x.s_count OR x.ns > 0 THEN 'at_risk' "
    "WHEN coalesce(x.open, 0) = 0 AND (x.s_sum >= 4.5 * x.s_count OR x.praise >= 2) "
    "AND x.quiet <= x.rhythm THEN 'happiest' ELSE 'healthy' END, '', 0 FROM ("
    "SELECT c.id, c.status, c.key_account, coalesce(r.cadence_days, 90) AS rhythm, "
    "julianday('now') - julianday(substr(coalesce((SELECT max(occurred_at) FROM interactions i "
    "WHERE i.customer_id = c.id), c.customer_since, c.created_at), 1, 10)) AS quiet, "
    "fb.open, fb.oldest, fb.s_sum, fb.s_count, fb.praise, ns.n AS ns "
    "FROM customers c LEFT JOIN contact_rhythm r ON r.customer_id = c.id LEFT JOIN ("
    "SELECT customer_id, sum(kind = 'complaint' AND status NOT IN ('resolved', 'satisfied')) "
    "AS open, min(CASE WHEN kind = 'complaint' AND status NOT IN ('resolved', 'satisfied') "
    "THEN created_at END) AS oldest, "
    "sum(CASE WHEN created_at >= date('now', '-180 days') THEN satisfaction END) AS s_sum, "
    "count(CASE WHEN created_at >= date('now', '-180 days') THEN satisfaction END) AS s_count, "
    "sum(kind = 'praise' AND created_at >= date('now', '-180 days')) AS praise "
    "FROM feedback_items WHERE customer_id IS NOT NULL GROUP BY customer_id) fb "
    "ON fb.customer_id = c.id LEFT JOIN (SELECT f.customer_id, count(*) AS n "
    "FROM feedback_events e JOIN feedback_items f ON f.id = e.item_id "
    "WHERE e.to_status = 'not_satisfied' AND e.at >= date('now', '-180 days') "
    "GROUP BY f.customer_id) ns ON ns.customer_id = c.id WHERE c.archived_at IS NULL) x",
)


def add_interactions(database: Path, per_customer: int = PER_CUSTOMER, seed: int = 7) -> int:
    """Conversations up to about `per_customer` per customer, over the last two years, with
    plain executemany inserts in one transaction; returns how many were added."""
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        (customers,) = conn.execute("SELECT count(*) FROM customers").fetchone()
        (existing,) = conn.execute("SELECT count(*) FROM interactions").fetchone()
        wanted = max(0, customers * per_customer - existing)
        ids = [row[0] for row in conn.execute("SELECT id FROM customers")]
        if not wanted or not ids:
            return 0
        rng = random.Random(seed)
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
        days = [now - timedelta(days=back, hours=back % 9) for back in range(730)]
        slots = [(d.strftime("%Y-%m-%d %H:%M:%S.%f"), d.date().isoformat()) for d in days]
        rows = []
        for n in range(wanted):
            at, on = slots[int(rng.random() * rng.random() * 730)]
            rows.append((ids[n % len(ids)], at, on, "phone", _SUMMARIES[n % len(_SUMMARIES)],
                         stamp))
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO interactions (customer_id, occurred_at, occurred_on, "
                         "channel, summary, created_at) VALUES (?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        return wanted
    finally:
        conn.close()


def _insights_page(insights: Any) -> Callable[[], object]:
    """What the Insights page waits for: every dashboard figure and the why-stay card."""
    def load() -> object:
        return insights.dashboard(), insights.why_they_stay()
    return load


def _median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def _day_refresh_ms(database: Path) -> float:
    """A day's first refresh, on each of the next SEGMENT_RUNS days (median, ms)."""
    from crmcompanion.core.clock import FixedClock
    from crmcompanion.services.container import open_services

    times = []
    today = datetime.now().date()
    for day in range(1, SEGMENT_RUNS + 1):
        moment = datetime.combine(today + timedelta(days=day), datetime.min.time()).replace(
            hour=9)
        services = open_services(f"sqlite:///{database}", clock=FixedClock(moment))
        try:
            services.touchpoints.sync()
            start = time.perf_counter()
            services.insights.refresh()
            times.append((time.perf_counter() - start) * 1000)
        finally:
            services.close()
    return round(statistics.median(times), 2)


def _raw(database: Path, statements: tuple[str, ...], write: tuple[str, ...] = ()) -> None:
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for sql in statements:
            conn.execute(sql).fetchall()
        for sql in write:
            conn.execute(sql)
        conn.execute("ROLLBACK" if write else "COMMIT")
    finally:
        conn.close()


def measure(database: Path, scratch: Path) -> dict[str, Any]:
    """The two figures and their baselines on a copy of `database` (left untouched)."""
    from crmcompanion.services.container import open_services

    copy = scratch / "insights.sqlite3"
    shutil.copyfile(database, copy)
    for suffix in ("-wal", "-shm"):
        Path(str(copy) + suffix).unlink(missing_ok=True)
    added_start = time.perf_counter()
    added = add_interactions(copy)
    added_s = time.perf_counter() - added_start
    services = open_services(f"sqlite:///{copy}")
    try:
        insights = services.insights
        # The database's first refresh (the demo stores no segment): every customer's row
        # inserted. Its CPU time beside the wall time, which a busy machine stretches.
        first_start, first_cpu = time.perf_counter(), time.process_time()
        computed = insights.refresh()
        first_ms = (time.perf_counter() - first_start) * 1000
        first_cpu_ms = (time.process_time() - first_cpu) * 1000
        segments_ms = _day_refresh_ms(copy)
        segments_raw = _median_ms(lambda: _raw(copy, RAW_FACTS, RAW_STORE), SEGMENT_RUNS)
        page = _insights_page(insights)
        page()  # warm: segments current, caches filled
        dashboard_ms = _median_ms(page, DASHBOARD_RUNS)
        dashboard_raw = _median_ms(lambda: _raw(copy, RAW_DASHBOARD + RAW_WHY_STAY),
                                   DASHBOARD_RUNS)
        with sqlite3.connect(copy) as conn:
            (interactions,) = conn.execute("SELECT count(*) FROM interactions").fetchone()
        conn.close()
    finally:
        services.close()
        copy.unlink(missing_ok=True)
    return {
        "dashboard_ms": dashboard_ms, "dashboard_raw_ms": dashboard_raw,
        "segments_ms": segments_ms, "segments_raw_ms": segments_raw,
        "first_refresh_ms": round(first_ms, 2), "first_refresh_cpu_ms": round(first_cpu_ms, 2),
        "customers": computed,
        "interactions": interactions, "interactions_added": added,
        "interactions_added_s": round(added_s, 2),
    }


def add_figures(report: Any, database: Path, scratch: Path) -> None:
    """For benchmarks/run.py: `report.add` the two figures with their baselines."""
    figures = measure(database, scratch)
    report.add("dashboard_ms", figures["dashboard_ms"], "ms", figures["dashboard_raw_ms"])
    report.add("segments_ms", figures["segments_ms"], "ms", figures["segments_raw_ms"])
    print(f"  ({figures['customers']:,} customers, {figures['interactions']:,} interactions, "
          f"{figures['interactions_added']:,} added in {figures['interactions_added_s']} s; "
          f"the database's first refresh {figures['first_refresh_ms']} ms, "
          f"{figures['first_refresh_cpu_ms']} ms CPU)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    scratch = Path(args.database).parent
    for name, value in measure(args.database, scratch).items():
        print(f"{name:24} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
