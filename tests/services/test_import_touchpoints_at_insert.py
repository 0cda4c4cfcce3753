"""An import writes its new customers' touchpoint rows once, with their final values (issue 13:
the rhythm rows used to be inserted dirty and then updated by `sync_dirty`, ~1.5-2 s of a
100,000-row import, the per-row health trigger included).

What the import writes must be what a full rebuild gives (every kind of customer the rules
tell apart: statuses, kinds, key accounts, tag cadences, a feedback rhythm, last contacts,
customer-since days, birthdays and anniversaries), and no statement of the import updates
contact_rhythm. Statements are seen with SQLite's own trace, so the raw cursor's count too.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text

from crmcompanion.core.csv_codec import OWN_COLUMNS
from crmcompanion.services.container import Services
from crmcompanion.services.demo import fill_demo
from crmcompanion.store.customers import ensure_tags

HEADERS = [h for _, h in OWN_COLUMNS]
TABLES = {
    "contact_rhythm": "SELECT customer_id, dirty, last_interaction_on, reset_on, "
                      "contact_base_on, cadence_days, next_due_on FROM contact_rhythm",
    "touchpoint_sources": "SELECT customer_id, occasion, source_id, md_key, year, label "
                          "FROM touchpoint_sources",
    "keep_in_touch_due_counts": "SELECT due_on, customers FROM keep_in_touch_due_counts "
                                "WHERE customers > 0",
    "follow_ups": "SELECT customer_id, occasion, due_on, note, source_id, open "
                  "FROM follow_ups",
}


@contextmanager
def traced(services: Services) -> Iterator[list[str]]:
    """Every statement SQLite runs on new connections of the database, trigger programs
    ("-- ..." lines) included."""
    seen: list[str] = []
    engines = {id(e): e for e in (services.db.read_engine, services.db.write_engine)}

    def on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    for engine in engines.values():
        event.listen(engine, "connect", on_connect)
        engine.dispose()
    try:
        yield seen
    finally:
        for engine in engines.values():
            event.remove(engine, "connect", on_connect)
            engine.dispose()


def statements(seen: list[str]) -> int:
    """How many statements ran: the trace gives each row of an executemany (and each run of
    a per-row trigger program) as its own line, its values filled in; one run of the same
    statement counts once."""
    shapes = [re.sub(r"\?(, \?)+", "?", re.sub(r"'[^']*'|\b\d+\b", "?", line))
              for line in seen if not line.startswith("--")]
    return sum(1 for i, shape in enumerate(shapes) if i == 0 or shape != shapes[i - 1])


def rows(services: Services) -> dict[str, list[tuple]]:
    with services.db.read() as session:
        return {name: sorted(tuple(r) for r in session.execute(text(sql)))
                for name, sql in TABLES.items()}


def write_own_file(path: Path, n: int) -> None:
    """The app's own format, varied on everything the touchpoint rules read."""
    statuses = ("active", "lead", "lost", "active")
    kinds = ("external", "internal", "external")
    tags = ("", "weekly", "vip", "weekly ::: vip", "", "quarterly")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADERS)
        writer.writeheader()
        for i in range(n):
            writer.writerow({
                "First name": f"Person{i}", "Last name": f"Row{i}",
                "Emails": f"person{i}@import.example",
                "Phones": f"+3313164{i:04}",
                "Tags": tags[i % len(tags)],
                "Status": statuses[i % len(statuses)],
                "Kind": kinds[i % len(kinds)],
                "Key account": "yes" if i % 7 == 0 else "no",
                "Birthday": f"19{60 + i % 40}-{i % 12 + 1:02}-{i % 28 + 1:02}" if i % 3 else "",
                "Wedding anniversary": f"--{i % 12 + 1:02}-{i % 27 + 2:02}" if i % 4 == 0
                else "",
                "Customer since": f"20{10 + i % 15}-{i % 12 + 1:02}-01" if i % 2 else "",
                "Last contact": f"2026-{i % 11 + 1:02}-{i % 27 + 1:02} 09:{i % 60:02}"
                if i % 5 in (1, 2) else "",
            })


@pytest.fixture
def stocked(services: Services) -> Services:
    """A database with customers already, tags that set a keep-in-touch cadence and one that
    sets an ask-for-feedback rhythm."""
    fill_demo(services.db, services.clock, 30, staff_id=services.staff_id)
    with services.db.write() as session:
        ensure_tags(session, ["weekly", "quarterly", "vip"])
    services.touchpoints.set_tag_cadence("weekly", 7)
    services.touchpoints.set_tag_cadence("quarterly", 90)
    services.touchpoints.set_tag_feedback_rhythm("vip", 6)
    services.touchpoints.sync()
    return services


def test_an_import_writes_the_final_touchpoint_rows_without_updating_them(
        stocked: Services, tmp_path: Path):
    path = tmp_path / "own.csv"
    write_own_file(path, 300)
    preview = stocked.import_export.preview(path, find_duplicates=True)
    assert preview.problem_count == 0
    with traced(stocked) as seen:
        result = stocked.import_export.run(preview.plan)
    assert result.created == 300
    updates = [s for s in seen if "contact_rhythm" in s.split("SET")[0]
               and s.lstrip("- ").upper().startswith("UPDATE")]
    assert updates == []
    # The health trigger runs on a rhythm UPDATE: once per row before.
    assert not [s for s in seen if "customer_health_rhythm_update" in s]

    written = rows(stocked)
    assert not [r for r in written["contact_rhythm"] if r[1]], "a row left dirty"
    assert any(r[2] for r in written["contact_rhythm"]), "no last contact came in"
    assert any(r[5] == 7 for r in written["contact_rhythm"]), "no tag cadence"
    assert any(f[1] == "ask_feedback" for f in written["follow_ups"]), "no feedback rhythm"
    # A full rebuild of every customer's rows changes nothing.
    with stocked.db.write() as session:
        session.execute(text("UPDATE contact_rhythm SET dirty = 1"))
    assert stocked.touchpoints.sync() > 0
    assert rows(stocked) == written


def test_the_statements_of_an_import_do_not_grow_with_its_rows(stocked: Services,
                                                              tmp_path: Path):
    counts = []
    for n in (40, 400):
        path = tmp_path / f"own{n}.csv"
        write_own_file(path, n)
        preview = stocked.import_export.preview(path, find_duplicates=True)
        with traced(stocked) as seen:
            result = stocked.import_export.run(preview.plan, skip_invalid=True)
        assert result.created == n
        counts.append(statements(seen))
        stocked.import_export.undo_last_import()
    assert counts[0] == counts[1], counts
