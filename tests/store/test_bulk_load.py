"""The overlapped bulk loads (rows made in a worker thread, or written to scratch files by a
forked child process, while SQLite indexes the search rows) write exactly what the plain one
writes, and fail as a whole."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from crmcompanion.core import forking
from crmcompanion.services import demo
from crmcompanion.services.container import Services
from crmcompanion.store import bulk
from crmcompanion.store import customers as customer_repo
from crmcompanion.store import rows as store_rows

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
        # UIDs are random per load: everything else must be equal.
        dumped["customers"] = [
            tuple(v for k, v in r.items() if k != "source_uid")
            for r in session.execute(text("SELECT * FROM customers ORDER BY 1")).mappings()
        ]
        dumped["search"] = [
            tuple(r)
            for r in session.execute(
                text("SELECT rowid, * FROM customer_search ORDER BY rowid")
            )
        ]
    return dumped


def _load(services: Services, how: str, count: int = 400) -> None:
    specs = demo._specs(count, TODAY, 5)
    with services.db.write() as session:
        first_id = bulk.next_customer_id(session)
        tag_ids = customer_repo.ensure_tags(session, demo.TAGS)
        rows = demo._rows(specs, first_id, STAMP, services.staff_id, tag_ids)
        rows.interactions = demo._history(TODAY, first_id, count, 5, services.staff_id, STAMP)
        if how == "thread":
            bulk.insert_rows_while_building(session, rows.search, lambda: rows)
        elif how == "child":
            customers_part = store_rows.BulkRows(
                customers=rows.customers, emails=rows.emails, phones=rows.phones,
                tags=rows.tags, dates=rows.dates,
            )
            history_part = store_rows.BulkRows(interactions=rows.interactions)
            with bulk.StagedParts(services.db) as stage, stage.running(
                session, lambda: iter((customers_part, history_part))
            ):
                bulk.insert_rows_staged(session, rows.search, stage)
        else:
            bulk.insert_rows(session, rows)


def _single_threaded() -> None:
    if not forking.can_fork():
        pytest.skip("this process has other threads: the staged load would not fork here")


@pytest.mark.parametrize("how", ["thread", "child"])
def test_overlapped_load_writes_what_the_plain_load_writes(
    services: Services, tmp_path_factory: pytest.TempPathFactory, how: str
) -> None:
    from crmcompanion.services.container import open_services

    if how == "child":
        _single_threaded()
    other_dir = tmp_path_factory.mktemp("plain")
    plain = open_services(f"sqlite:///{other_dir / 'db.sqlite3'}", other_dir / "b",
                          services.clock)
    try:
        # A first load into the empty database (indexes dropped and rebuilt), then a small
        # one appended (indexes kept; interaction ids carry on from the first load's).
        for count in (1200, 300):
            _load(services, how, count)
            _load(plain, "plain", count)
        overlapped, expected = _dump(services), _dump(plain)
    finally:
        plain.close()
    assert len(overlapped["customers"]) == 1500 and len(overlapped["search"]) == 1500
    assert overlapped == expected


def test_a_failing_child_rolls_the_whole_load_back_and_leaves_no_files(
    services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _single_threaded()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "scratch"))
    (tmp_path / "scratch").mkdir()
    specs = demo._specs(50, TODAY, 5)

    def parts() -> Iterator[store_rows.BulkRows]:
        yield store_rows.BulkRows()
        raise RuntimeError("made up in the child")

    with (
        pytest.raises(RuntimeError, match="made up in the child"),
        bulk.StagedParts(services.db) as stage,
        services.db.write() as session,
        stage.running(session, parts),
    ):
        search = demo._search_rows(specs, bulk.next_customer_id(session))
        bulk.insert_rows_staged(session, search, stage)
    assert services.customers.total() == 0
    with services.db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM customer_search")) == 0
    assert list((tmp_path / "scratch").iterdir()) == []
    demo.fill_demo(services.db, services.clock, 50, staff_id=services.staff_id)
    assert services.customers.total() == 50


def test_a_failing_build_rolls_the_whole_load_back(services: Services) -> None:
    specs = demo._specs(50, TODAY, 5)

    def build() -> store_rows.BulkRows:
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


def test_bulk_rows_index_what_a_single_save_indexes() -> None:
    from crmcompanion.core.customer import (
        CustomerDraft,
        EmailAddress,
        PhoneNumber,
        Status,
    )
    from crmcompanion.core.customer_values import values_of
    from crmcompanion.core.validation import validate_customer

    drafts = [
        CustomerDraft(first_name="Anna", last_name="Müller", company="Café Ö",
                      emails=(EmailAddress("a@example.org"), EmailAddress("B@x.de", "work")),
                      phones=(PhoneNumber("+4930123456"), PhoneNumber("0301234", "home")),
                      tags=("VIP", "Café"), notes="Likes\nplums", status=Status.LEAD),
        CustomerDraft(display_name="Bob", first_name="Robert", last_name="Smith"),
        CustomerDraft(company="  ACME  "),
    ]
    drafts = [validate_customer(d, "DE") for d in drafts]  # bulk rows are of validated ones
    rows = store_rows.rows_from_values([values_of(d) for d in drafts], 7)
    expected = [(7 + i, *customer_repo.search_document(d),
                 store_rows.search_flags(d.status.value, d.kind.value, archived=False))
                for i, d in enumerate(drafts)]
    assert rows.search == expected
    assert [c[3] for c in rows.customers] == [d.effective_display_name() for d in drafts]
