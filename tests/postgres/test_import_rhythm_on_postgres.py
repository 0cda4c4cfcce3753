"""An import on PostgreSQL writes its new customers' touchpoint rows once, with their final
values (issue 17: the rhythm rows were inserted dirty, given their "Last contact" day by an
UPDATE, then recomputed by sync_dirty's UPDATE; three writes of every row and an ANALYZE of
the customers first, ~8-10 s of a 100,000-row import).

What the import writes must be what a full rebuild gives (tests/services/
test_import_touchpoints_at_insert.py's varied file: statuses, kinds, key accounts, tag
cadences, a feedback rhythm, last contacts, customer-since days, birthdays), no statement of
the import updates contact_rhythm, and the statements it sends do not grow with its rows.
Statements are seen through the write engine's `before_cursor_execute` (the COPYs go by the
driver and are not counted here; one per table, and the customers' per chunk of 5,000).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from crmcompanion.services.container import Services
from tests.services import test_import_touchpoints_at_insert as on_sqlite

rows, write_own_file = on_sqlite.rows, on_sqlite.write_own_file
stocked = on_sqlite.stocked  # the fixture: customers, cadence tags, a feedback rhythm


@pytest.fixture
def engine() -> str:
    """PostgreSQL only (SQLite's own test is tests/services/test_import_touchpoints_at_insert):
    `services` and that module's `stocked` database on a fresh PostgreSQL database."""
    return "postgresql"


@contextmanager
def sent(services: Services) -> Iterator[list[tuple[str, bool]]]:
    """The statements the write engine sends in the block: (SQL, was an executemany)."""
    seen: list[tuple[str, bool]] = []

    def listener(_conn, _cursor, statement, _params, _context, executemany) -> None:
        seen.append((statement, executemany))

    engine = services.db.write_engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _imported(services: Services, folder: Path, customers: int) -> list[tuple[str, bool]]:
    """Import `customers` rows of the varied file (all new); the statements it sent."""
    path = folder / f"own{customers}.csv"
    write_own_file(path, customers)
    plan = services.import_export.preview(path, find_duplicates=True).plan
    with sent(services) as seen:
        assert services.import_export.run(plan, skip_invalid=True).created == customers
    return seen


def _updates_rhythm(statement: str) -> bool:
    head = statement.lstrip().upper()
    return head.startswith("UPDATE CONTACT_RHYTHM")


def test_an_import_writes_the_final_touchpoint_rows_once(stocked: Services,
                                                         tmp_path: Path) -> None:
    seen = _imported(stocked, tmp_path, 300)
    statements = [s for s, _many in seen]
    assert not [s for s in statements if _updates_rhythm(s)], "contact_rhythm updated"
    assert len([s for s in statements if s.startswith("INSERT INTO contact_rhythm")]) == 1
    # Statistics once, for the tables the import filled (not the customers' ~2 s).
    analyzed = [s for s in statements if s.startswith("ANALYZE")]
    assert len(analyzed) == 1, analyzed
    assert "customers," not in analyzed[0] and not analyzed[0].endswith("customers")

    written = rows(stocked)
    assert not [r for r in written["contact_rhythm"] if r[1]], "a row left dirty"
    assert any(r[2] for r in written["contact_rhythm"]), "no last contact came in"
    assert any(r[5] == 7 for r in written["contact_rhythm"]), "no tag cadence"
    assert any(r[5] == 90 for r in written["contact_rhythm"]), "no tag cadence"
    assert any(f[1] == "ask_feedback" for f in written["follow_ups"]), "no feedback rhythm"
    assert written["touchpoint_sources"], "no yearly sources"
    # A full rebuild of every customer's rows (sync_dirty's recompute, which gave the
    # import's rows before) changes nothing.
    with stocked.db.write() as session:
        session.execute(text("UPDATE contact_rhythm SET dirty = true"))
    assert stocked.touchpoints.sync() > 300
    assert rows(stocked) == written


def _statements_of_an_import(services: Services, folder: Path, customers: int) -> int:
    """How many statements an import of `customers` new rows sends (then undone); none of
    them an executemany (per-row round trips by another name)."""
    seen = _imported(services, folder, customers)
    services.import_export.undo_last_import()
    assert not [s for s, many in seen if many]
    return len(seen)


def test_the_statements_of_an_import_do_not_grow_with_its_rows(stocked: Services,
                                                              tmp_path: Path) -> None:
    few = _statements_of_an_import(stocked, tmp_path, 40)
    assert _statements_of_an_import(stocked, tmp_path, 400) == few


def test_an_import_copies_each_table_once(stocked: Services, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # The COPYs go by the driver, not the engine: seen by wrapping the real copy_rows. The
    # customers go by chunks of BATCH_SIZE (progress and cancel between them); every other
    # table once (the "Last contact" days were COPYed a second time into a temp table).
    from crmcompanion.services.import_export import BATCH_SIZE
    from crmcompanion.store import postgres_bulk

    copied: list[str] = []
    real = postgres_bulk.copy_rows

    def copy_rows(session: Session, table: str, columns: Sequence[str],
                  rows: Iterable[tuple[object, ...]]) -> int:
        copied.append(table)
        return real(session, table, columns, rows)

    monkeypatch.setattr(postgres_bulk, "copy_rows", copy_rows)
    customers = BATCH_SIZE + 10
    _imported(stocked, tmp_path, customers)
    assert copied.count("customers") == 2
    # The rows of the file's tables, its search rows and its "Last contact" conversations,
    # each once; nothing else (the batch's rows are a generate_series on the server).
    assert sorted(t for t in copied if t != "customers") == [
        "customer_emails", "customer_phones", "customer_search", "customer_tags",
        "interactions", "special_dates"], copied
