"""The CSV export builds its cells straight from the database rows (no CustomerDraft); the
file must be byte-identical to the one the draft path wrote, on a varied database: demo
customers (emails, phones, tags, special dates, interactions, archived ones) plus customers
whose text a spreadsheet would run as a formula, custom dates with and without labels, and
no source UID."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmcompanion.core.csv_export import ExportOptions, ExportRow, export_csv
from crmcompanion.core.customer import (
    CustomerDraft,
    EmailAddress,
    PhoneNumber,
    PostalAddress,
    SpecialDate,
    SpecialDateKind,
)
from crmcompanion.services.container import Services
from crmcompanion.services.demo import fill_demo
from crmcompanion.services.import_export import export_uid
from crmcompanion.store import transfer
from crmcompanion.store.customers import ListQuery, SortColumn

ALL = ListQuery(archived=None)


def _old_export(services: Services, path: Path, query: ListQuery,
                options: ExportOptions) -> None:
    # The export before the cell path, kept verbatim: drafts, then csv_export's own cells.
    with services.db.read() as session:
        records = transfer.iter_export_records(session, transfer.export_ids(session, query))
        export_csv((ExportRow(draft, last, "" if draft.source_uid else export_uid(cid))
                    for cid, draft, last in records), path, options)


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
    ]
    for draft in odd:
        services.customers.create(draft)
    return services


@pytest.mark.parametrize("options", [
    ExportOptions(),
    ExportOptions(delimiter=";", bom=False),
    ExportOptions(columns=("notes", "emails", "last_contact", "source_uid", "birthday")),
])
def test_cell_export_is_byte_identical_to_the_draft_export(
        varied: Services, tmp_path: Path, options: ExportOptions) -> None:
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    _old_export(varied, old, ALL, options)
    result = varied.import_export.export_csv(new, ALL, options)
    assert result.count == 2003
    assert new.read_bytes() == old.read_bytes()


def test_sorted_and_filtered_list_export_is_identical(varied: Services, tmp_path: Path) -> None:
    query = ListQuery(archived=None, sort=SortColumn.COMPANY, descending=True)
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    _old_export(varied, old, query, ExportOptions())
    varied.import_export.export_csv(new, query)
    assert new.read_bytes() == old.read_bytes()
    assert b"'=cmd|" in new.read_bytes() and b"Shop opened" in new.read_bytes()
