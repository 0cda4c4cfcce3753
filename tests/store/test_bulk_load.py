"""The overlapped bulk load (rows made in a worker thread while SQLite indexes the search
rows) writes exactly what the plain one writes, and fails as a whole."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from crmcompanion.services import demo
from crmcompanion.services.container import Services
from crmcompanion.store import bulk
from crmcompanion.store import customers as customer_repo

TODAY = date(2026, 11, 22)
STAMP = "2026-11-22 09:00:00.000000"
TABLES = (
    "customers", "customer_emails", "customer_phones", "customer_tags", "special_dates",
    "interactions", "contact_rhythm",
)


def _dump(services: Services) -> dict[str, list[tuple]]:
    with services.db.read() as session:
        dumped = {
            table: [tuple(r) for r in session.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
            for table in TABLES
        }
        dumped["search"] = [
            tuple(r)
            for r in session.execute(
                text("SELECT rowid, * FROM customer_search ORDER BY rowid")
            )
        ]
    return dumped


def _load(services: Services, overlapped: bool) -> None:
    specs = demo._specs(400, TODAY, 5)
    with services.db.write() as session:
        first_id = bulk.next_customer_id(session)
        tag_ids = customer_repo.ensure_tags(session, demo.TAGS)
        rows = demo._rows(specs, first_id, STAMP, services.staff_id, tag_ids)
        rows.interactions = demo._history(TODAY, first_id, 400, 5, services.staff_id, STAMP)
        if overlapped:
            bulk.insert_rows_while_building(session, rows.search, lambda: rows)
        else:
            bulk.insert_rows(session, rows)


def test_overlapped_load_writes_what_the_plain_load_writes(
    services: Services, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from crmcompanion.services.container import open_services

    _load(services, overlapped=True)
    other_dir = tmp_path_factory.mktemp("plain")
    plain = open_services(f"sqlite:///{other_dir / 'db.sqlite3'}", other_dir / "b",
                          services.clock)
    try:
        _load(plain, overlapped=False)
        overlapped, expected = _dump(services), _dump(plain)
    finally:
        plain.close()
    assert len(overlapped["customers"]) == 400 and len(overlapped["search"]) == 400
    assert overlapped == expected


def test_a_failing_build_rolls_the_whole_load_back(services: Services) -> None:
    specs = demo._specs(50, TODAY, 5)

    def build() -> bulk.BulkRows:
        raise RuntimeError("made up")

    with pytest.raises(RuntimeError, match="made up"), services.db.write() as session:
        first_id = bulk.next_customer_id(session)
        search = demo._search_rows(specs, first_id)
        bulk.insert_rows_while_building(session, search, build)
    assert services.customers.total() == 0
    with services.db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM customer_search")) == 0
    # The staging table went with the failure: the next load works.
    demo.fill_demo(services.db, services.clock, 50, staff_id=services.staff_id)
    assert services.customers.total() == 50
