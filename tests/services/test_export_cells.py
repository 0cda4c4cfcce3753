"""The CSV export builds its cells straight from the database rows (no CustomerDraft), by
whole-table scans (most of the base) or chunk by chunk (a few customers, or a huge base); both
files must be byte-identical to the one the draft path writes, on a varied database: demo
customers (emails, phones, tags, special dates, interactions, archived ones) plus customers
whose text a spreadsheet would run as a formula (own cells and cells made of child rows),
cells needing quotes, custom dates with and without labels or years, last contacts stored in
other forms than SQLAlchemy's, and no source UID."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crmcompanion.core import forking
from crmcompanion.core.csv_codec import neutralise
from crmcompanion.core.csv_export import (
    MARK,
    ExportColumn,
    ExportOptions,
    ExportRow,
    export_csv,
    marked,
)
from crmcompanion.core.customer import (
    CustomerDraft,
    EmailAddress,
    PhoneNumber,
    PostalAddress,
    SpecialDate,
    SpecialDateKind,
)
from crmcompanion.services import import_export
from crmcompanion.services.container import Services
from crmcompanion.services.demo import fill_demo
from crmcompanion.services.import_export import CancelToken, ImportCancelled
from crmcompanion.store import transfer
from crmcompanion.store.customers import ListQuery, SortColumn

ALL = ListQuery(archived=None)


def _old_export(services: Services, path: Path, query: ListQuery,
                options: ExportOptions) -> None:
    # The export before the cell path, kept verbatim: drafts, then csv_export's own cells.
    with services.db.read() as session:
        records = transfer.iter_export_records(session, transfer.export_ids(session, query))
        export_csv((ExportRow(draft, last) for _, draft, last in records), path, options)


@pytest.fixture
def varied(services: Services) -> Services:
    fill_demo(services.db, services.clock, 2000, staff_id=services.staff_id)
    odd = [
        CustomerDraft(first_name="=cmd|' /C calc'!A0", last_name="+Plus", company="@corp",
                      notes="-minus\nsecond line, with \"quotes\"",
                      emails=(EmailAddress("a@example.org", "work"),
                              EmailAddress("b@example.org", "home")),
                      phones=(PhoneNumber("+4930123456", "work"),
                              PhoneNumber("+15035550100", "fax")),
                      tags=("'quoted", "zeta", "Alpha"),
                      address=PostalAddress("Street 1\nBack house", "Köln", "NRW", "50667", "DE"),
                      special_dates=(
                          SpecialDate(SpecialDateKind.CUSTOM, 5, 1, 2000, "Shop opened"),
                          SpecialDate(SpecialDateKind.CUSTOM, 2, 29, None, "Leap day"),
                          SpecialDate(SpecialDateKind.BIRTHDAY, 3, 14, None),
                          SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, 6, 1, 1990))),
        CustomerDraft(company="Only, a company;", source_uid="given-uid"),
        CustomerDraft(display_name="\tTabbed", first_name="'=already"),
        # Child cells a spreadsheet would run, or that need quotes; own cells starting "'".
        CustomerDraft(first_name="'+4930", last_name="'plain", company="=x",
                      emails=(EmailAddress("c@example.org", '=HYPERLINK("x")'),),
                      phones=(PhoneNumber("+4930555", "fax, \"office\""),
                              PhoneNumber("+4930556", "@desk")),
                      tags=("-minus", "semi;colon"),
                      special_dates=(
                          SpecialDate(SpecialDateKind.CUSTOM, 2, 29, None, "Yearless first"),
                          SpecialDate(SpecialDateKind.CUSTOM, 1, 2, 1999, "then, a comma"),
                          SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, 7, 7, None))),
        CustomerDraft(first_name="Anna", notes="'", tags=("'=quoted tag",),
                      phones=(PhoneNumber("0301234", "'"),)),
    ]
    created = [services.customers.create(draft).customer.id for draft in odd]
    with services.db.write() as session:
        connection = session.connection()
        # Last contacts stored in forms other than SQLAlchemy's: a date, minutes only, an
        # offset; the export must read them as the draft path does.
        for cid, stamp in zip(created, ("2026-03-04", "2026-03-04 05:06",
                                        "2026-03-04T05:06:07+01:00"), strict=False):
            connection.exec_driver_sql(
                "INSERT INTO interactions (customer_id, occurred_at, occurred_on, summary, "
                "created_at) VALUES (?, ?, '2026-03-04', 'odd stamp', '2026-03-04')",
                (cid, stamp))
    return services


class _CountedFork(forking.ForkedCall):
    made = 0

    def __init__(self, function: Callable[[], object]) -> None:
        type(self).made += 1
        super().__init__(function)


class _CountedSpawn(forking.SpawnedCall):
    made = 0

    def __init__(self, function: Callable[..., object], failure: str) -> None:
        type(self).made += 1
        super().__init__(function, failure)


@pytest.fixture(params=["whole tables", "chunked", "two processes", "spawned"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "chunked":
        monkeypatch.setattr(transfer, "SCAN_LIMIT", 0)
    if request.param == "whole tables":
        monkeypatch.setattr(import_export, "FORKED_EXPORT_AT", 10**9)
        monkeypatch.setattr(import_export, "SPAWNED_EXPORT_AT", 10**9)
    if request.param == "two processes":
        if not forking.can_fork():  # checked when the test runs: threads come and go
            pytest.skip("this process has other threads: it may not fork")
        monkeypatch.setattr(import_export, "FORKED_EXPORT_AT", 2)
        monkeypatch.setattr(forking, "ForkedCall", _CountedFork)
    if request.param == "spawned":  # the export dialog's way: a worker thread beside Qt's
        if not forking.can_spawn():
            pytest.skip("no spawned interpreters here")
        monkeypatch.setattr(forking, "can_fork", lambda: False)
        monkeypatch.setattr(import_export, "SPAWNED_EXPORT_AT", 2)
        monkeypatch.setattr(forking, "SpawnedCall", _CountedSpawn)
    yield str(request.param)


@pytest.mark.parametrize("options", [
    ExportOptions(),
    ExportOptions(delimiter=";", bom=False),
    ExportOptions(columns=("notes", "emails", "last_contact", "source_uid", "birthday")),
    ExportOptions(columns=("phones",)),
    ExportOptions(columns=("region",)),  # one column, mostly empty: each cell written ""
    ExportOptions(columns=("special_dates", "first_name", "phone_labels", "tags")),
    ExportOptions(columns=("first_name", ExportColumn("later_feature", "Later feature"))),
])
def test_cell_export_is_byte_identical_to_the_draft_export(
        varied: Services, tmp_path: Path, path: str, options: ExportOptions) -> None:
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    _old_export(varied, old, ALL, options)
    forks_before, spawns_before = _CountedFork.made, _CountedSpawn.made
    result = varied.import_export.export_csv(new, ALL, options)
    assert result.count == 2005
    assert new.read_bytes() == old.read_bytes()
    # With two processes, the child really wrote the upper part of the lines (spawned: not
    # with a custom column object, which cannot be sent to another interpreter).
    assert _CountedFork.made == forks_before + (path == "two processes")
    plain = all(isinstance(c, str) for c in options.columns)
    assert _CountedSpawn.made == spawns_before + (path == "spawned" and plain)


@pytest.mark.parametrize("query", [
    ListQuery(archived=None, sort=SortColumn.COMPANY, descending=True),
    ListQuery(),  # archived ones left out
    ListQuery(search="anna", sort=SortColumn.EMAIL),
])
def test_sorted_and_filtered_list_export_is_identical(
        varied: Services, tmp_path: Path, path: str, query: ListQuery) -> None:
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    _old_export(varied, old, query, ExportOptions())
    varied.import_export.export_csv(new, query)
    assert new.read_bytes() == old.read_bytes()
    if query.archived is None:
        assert b"'=cmd|" in new.read_bytes() and b"Shop opened" in new.read_bytes()
        assert b"'-minus ::: semi;colon" in new.read_bytes()


def test_chosen_ids_in_their_order_unknown_ones_skipped(varied: Services, tmp_path: Path,
                                                        path: str) -> None:
    with varied.db.read() as session:
        every = list(transfer.export_ids(session, ALL))
    chosen = [every[5], 10**9, *every[1000:][::-1], every[5]]  # a repeat is written twice
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    with varied.db.read() as session:
        records = transfer.iter_export_records(session, chosen)
        export_csv((ExportRow(draft, last) for _, draft, last in records), old)
    result = varied.import_export.export_csv(new, ids=chosen)
    assert result.count == len(chosen) - 1
    assert new.read_bytes() == old.read_bytes()


def test_cancel_leaves_no_file_and_progress_is_reported(
        varied: Services, tmp_path: Path, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_export, "EXPORT_TICK", 500)
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "out.csv"
    seen: list[tuple[int, int]] = []
    token = CancelToken()

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        token.cancel()

    with pytest.raises(ImportCancelled, match="Export cancelled; no file was written"):
        varied.import_export.export_csv(target, ALL, progress=progress, cancel=token)
    assert list(folder.iterdir()) == []  # neither the file nor a temporary one
    assert seen == [(500, 2005)]
    seen.clear()
    varied.import_export.export_csv(target, ALL, progress=lambda *done: seen.append(done))
    if path in ("two processes", "spawned"):  # this process counts its own part
        assert seen == [(500, 2005), (1000, 2005), (2005, 2005)]
    else:
        assert seen == [(500, 2005), (1000, 2005), (1500, 2005), (2000, 2005), (2005, 2005)]
    assert target.exists()


@pytest.mark.parametrize("text", ["", "plain", "+49", "=1", "-", "@x", "\tx", "\rx", "'",
                                  "''", "'x", "'=x", "''+x", " =x"])
def test_marked_is_neutralise_with_the_mark_for_its_quote(text: str) -> None:
    assert marked(text).replace(MARK, "'") == neutralise(text)
    assert marked(text) == text or marked(text) == MARK + text
