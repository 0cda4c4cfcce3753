"""Every formula trigger in every exported CSV column, each alone in an otherwise safe row,
through the real export path (the store's cells, `encode_customers`, the file).

Why alone: `encode_customers` checks a whole line at once (`risky_first`, `risky_inside`)
and goes cell by cell only when that check fires. A risky cell in a row that already takes
the slow path for another reason proves nothing about the fast check: dropping `@` from
`risky_inside` once let `@SUM(1+1)*cmd|' /C calc'!A0` out unprotected while every test passed.
Here each row holds exactly one risky cell, so each trigger x column must be caught by the
fast check itself.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from crmcompanion.core import customer as c
from crmcompanion.core.clock import FixedClock
from crmcompanion.core.csv_codec import FORMULA_TRIGGERS, OWN_HEADERS
from crmcompanion.core.csv_export import DEFAULT_COLUMNS, ExportOptions
from crmcompanion.services.container import Services, open_services

# The classic payload: a spreadsheet that runs it starts a program.
PAYLOAD = "SUM(1+1)*cmd|' /C calc'!A0"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Columns holding text a user or an import may write freely, and the SQL that plants a value
# in the one customer's row (a stored value: the export must protect whatever is stored).
TEXT_COLUMNS: dict[str, str] = {
    **{key: f"UPDATE customers SET {key} = :value WHERE id = :cid" for key in (
        "first_name", "last_name", "display_name", "company", "street", "city", "region",
        "postcode", "country", "notes", "source_uid")},
    "emails": "UPDATE customer_emails SET address = :value WHERE customer_id = :cid",
    "email_labels": "UPDATE customer_emails SET label = :value WHERE customer_id = :cid",
    "phones": "UPDATE customer_phones SET number = :value WHERE customer_id = :cid",
    "phone_labels": "UPDATE customer_phones SET label = :value WHERE customer_id = :cid",
    "tags": "UPDATE tags SET name = :value WHERE id IN "
            "(SELECT tag_id FROM customer_tags WHERE customer_id = :cid)",
}
# Date columns: a date without a year is written "--MM-DD", which starts with a trigger.
YEARLESS_DATE_COLUMNS: dict[str, str] = {
    "birthday": "birthday", "wedding_anniversary": "wedding_anniversary",
    "special_dates": "custom"}
# Columns no stored value can start with a trigger in: fixed words, yes/no, full ISO dates.
NO_FREE_TEXT = ("status", "kind", "key_account", "preferred_channel", "customer_since",
                "last_contact")

DEFAULTS = ExportOptions()
CASES = [(column, trigger) for column in TEXT_COLUMNS for trigger in TRIGGERS] + [
    (column, "-") for column in YEARLESS_DATE_COLUMNS]


def safe_customer(n: int) -> c.CustomerDraft:
    """A customer none of whose exported cells starts with a trigger or needs quoting."""
    return c.CustomerDraft(
        first_name="Ann", last_name=f"Lee{n}", company="Lee Ltd",
        emails=(c.EmailAddress(f"ann{n}@example.com", "home"),),
        phones=(c.PhoneNumber("0301234567", "work"),),
        address=c.PostalAddress("Main 1", "Bonn", "NRW", "53111", "DE"),
        tags=(f"tag{n}",), notes="Rye bread", source_uid=f"uid-{n}",
        customer_since=date(2019, 4, 1),
        special_dates=(c.SpecialDate(c.SpecialDateKind.BIRTHDAY, 5, 17, 1980),
                       c.SpecialDate(c.SpecialDateKind.WEDDING_ANNIVERSARY, 6, 18, 2001),
                       c.SpecialDate(c.SpecialDateKind.CUSTOM, 9, 1, 2015, "First visit")),
    )


def read_rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


class Planted:
    """One database: a safe customer per case, then one risky cell planted in each."""

    def __init__(self, services: Services, folder: Path) -> None:
        self.services = services
        self.folder = folder
        self.ids: dict[tuple[str, str], int] = {}
        for n, case in enumerate(CASES):
            self.ids[case] = services.customers.create(safe_customer(n)).customer.id
        with sqlite3.connect(services.db.info.path) as connection:
            # The phone number as written, not normalised to "+49...", which is a trigger.
            connection.execute("UPDATE customer_phones SET number = '0301234567'")
        connection.close()
        self.safe = self.export("safe.csv")
        assert not any(cell[:1] == "'" for row in self.safe.values() for cell in row.values())
        connection = sqlite3.connect(services.db.info.path)
        with connection:
            for (column, trigger), cid in self.ids.items():
                if column in TEXT_COLUMNS:
                    connection.execute(TEXT_COLUMNS[column],
                                       {"value": trigger + PAYLOAD, "cid": cid})
                else:
                    connection.execute(
                        "UPDATE special_dates SET year = NULL WHERE customer_id = ? AND kind = ?",
                        (cid, YEARLESS_DATE_COLUMNS[column]))
        connection.close()

    def export(self, name: str, ids: list[int] | None = None,
               options: ExportOptions = DEFAULTS) -> dict[str, dict[str, str]]:
        """The exported rows by UID (the untouched UID column names the customer)."""
        target = self.folder / name
        self.services.import_export.export_csv(target, options=options, ids=ids)
        rows = read_rows(target, options.delimiter)
        return {row["UID"]: row for row in rows}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    folder = tmp_path_factory.mktemp("formula-cells")
    services = open_services(f"sqlite:///{folder / 'crm.sqlite3'}", None,
                             FixedClock(datetime(2026, 11, 22, 10, 30)))
    yield Planted(services, folder)
    services.close()


def expected_cell(column: str, trigger: str) -> str:
    if column in TEXT_COLUMNS:
        return "'" + trigger + PAYLOAD
    return {"birthday": "'--05-17", "wedding_anniversary": "'--06-18",
            "special_dates": "'--09-01 First visit"}[column]


def test_the_cases_cover_every_exported_column_and_trigger() -> None:
    assert set(TEXT_COLUMNS) | set(YEARLESS_DATE_COLUMNS) | set(NO_FREE_TEXT) == set(
        DEFAULT_COLUMNS)
    assert set(TRIGGERS) == set(FORMULA_TRIGGERS)


@pytest.mark.parametrize(("column", "trigger"), CASES,
                         ids=[f"{c}-{t!r}" for c, t in CASES])
def test_one_risky_cell_in_a_safe_row_is_neutralised(planted: Planted, column: str,
                                                     trigger: str) -> None:
    cid = planted.ids[(column, trigger)]
    rows = planted.export(f"one-{cid}.csv", ids=[cid])
    assert len(rows) == 1
    (row,) = rows.values()
    header = OWN_HEADERS[column]
    assert row[header] == expected_cell(column, trigger), (column, trigger)
    # Every other cell is what this customer's safe row had: only the planted cell changed.
    safe = planted.safe[f"uid-{CASES.index((column, trigger))}"]
    assert {k: v for k, v in row.items() if k != header} == {
        k: v for k, v in safe.items() if k != header}


def test_every_planted_cell_is_neutralised_in_a_whole_table_export(planted: Planted) -> None:
    """The scan path (whole tables, in id order), with ";" so `risky_inside` is built for
    another delimiter than the one-customer exports above."""
    rows = planted.export("all.csv", options=ExportOptions(delimiter=";"))
    by_id = {cid: case for case, cid in planted.ids.items()}
    assert len(rows) == len(by_id)
    found = {}
    for row in rows.values():
        risky = {OWN_HEADERS[key]: row[OWN_HEADERS[key]] for key in DEFAULT_COLUMNS
                 if row[OWN_HEADERS[key]][:1] == "'"}
        assert len(risky) == 1, row
        ((header, cell),) = risky.items()
        found[header, cell] = True
    assert len(found) == len(CASES)
    for column, trigger in CASES:
        assert (OWN_HEADERS[column], expected_cell(column, trigger)) in found
