"""CSV export: columns, OWASP neutralisation, encodings, atomic write, and speed."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import pytest

from crmcompanion.core.csv_codec import neutralise, strip_neutralisation
from crmcompanion.core.csv_export import (
    DEFAULT_COLUMNS,
    ExportColumn,
    ExportOptions,
    ExportRow,
    export_csv,
    write_csv,
)
from crmcompanion.core.csv_import import read_customers
from crmcompanion.core.customer import (
    CustomerDraft,
    EmailAddress,
    PhoneNumber,
    PostalAddress,
    SpecialDate,
    SpecialDateKind,
)

ANNA = CustomerDraft(
    first_name="Anna", last_name="Müller", company="Bäckerei Müller",
    emails=(EmailAddress("anna@example.com"), EmailAddress("a@work.example", "work")),
    phones=(PhoneNumber("+4930901820", "work"),),
    address=PostalAddress("Hauptstraße 1", "Berlin", "", "10115", "DE"),
    tags=("VIP", "Bakery"), customer_since=date(2019, 4, 1), notes="Rye bread",
    special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, None),
                   SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, 6, 18, 2001),
                   SpecialDate(SpecialDateKind.CUSTOM, 9, 1, 2015, "First visit")),
    source_uid="uid-1",
)


def rows_of(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("=SUM(A1)", "'=SUM(A1)"), ("+49301", "'+49301"), ("-5 apples", "'-5 apples"),
     ("@home", "'@home"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("'=x", "''=x"),
     ("'plain", "'plain"), ("plain", "plain"), ("", ""), ("a=b", "a=b")],
)
def test_neutralise_and_its_exact_inverse(text, expected):
    assert neutralise(text) == expected
    assert strip_neutralisation(neutralise(text)) == text


def test_default_columns_and_formats():
    out = io.StringIO()
    assert write_csv([ExportRow(ANNA, last_contact=datetime(2024, 5, 1, 14, 30))], out) == 1
    text = out.getvalue()
    assert text.startswith("First name,Last name,Display name,Company,Emails,Email labels,")
    assert "\r\n" in text
    (row,) = rows_of(text)
    assert list(row) == [
        "First name", "Last name", "Display name", "Company", "Emails", "Email labels", "Phones",
        "Phone labels", "Street", "City", "Region", "Postcode", "Country", "Tags", "Status",
        "Kind", "Key account", "Preferred channel", "Birthday", "Wedding anniversary",
        "Special dates", "Customer since", "Last contact", "Notes", "UID"]
    assert len(DEFAULT_COLUMNS) == 25
    assert row["Emails"] == "anna@example.com ::: a@work.example"
    assert row["Email labels"] == "home ::: work"
    assert row["Phones"] == "'+4930901820"  # phone numbers are text, neutralised
    assert row["Tags"] == "VIP ::: Bakery"
    # A yearless date starts with "-": Excel would compute --02-29 as -27, so it is neutralised
    # like any other text; the app's import strips the quote again.
    assert row["Birthday"] == "'--02-29"
    assert row["Wedding anniversary"] == "2001-06-18"
    assert row["Special dates"] == "2015-09-01 First visit"
    assert row["Customer since"] == "2019-04-01"
    assert row["Last contact"] == "2024-05-01 14:30"
    assert (row["Status"], row["Kind"], row["Key account"]) == ("active", "external", "no")


def test_column_chooser_semicolon_and_no_bom(tmp_path):
    path = tmp_path / "out.csv"
    options = ExportOptions(columns=("last_name", "phones", "postcode"), delimiter=";", bom=False)
    export_csv([ANNA, CustomerDraft(last_name="=cmd|' /C calc'!A0")], path, options)
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8").splitlines() == [
        "Last name;Phones;Postcode", "Müller;'+4930901820;10115", "'=cmd|' /C calc'!A0;;"]


def test_bom_by_default_and_excel_can_read_it(tmp_path):
    path = tmp_path / "out.csv"
    export_csv([ANNA], path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfFirst name,")


def test_plain_dict_rows_keep_real_numbers_as_numbers():
    out = io.StringIO()
    columns = ("first_name", ExportColumn("orders", "Orders"), ExportColumn("balance", "Balance"),
               "postcode", "phones", "key_account", "birthday", "tags")
    write_csv([{"first_name": "-Bob", "orders": -3, "balance": -12.5, "postcode": 1234,
                "phones": [PhoneNumber("+4930901820")], "key_account": True,
                "birthday": date(1970, 1, 2), "tags": ["=a", "b"]}],
              out, ExportOptions(columns=columns))
    (row,) = rows_of(out.getvalue())
    assert row == {"First name": "'-Bob", "Orders": "-3", "Balance": "-12.5", "Postcode": "1234",
                   "Phones": "'+4930901820", "Key account": "yes", "Birthday": "1970-01-02",
                   "Tags": "'=a ::: b"}


def test_bad_options_are_refused_before_a_file_exists(tmp_path):
    with pytest.raises(ValueError, match="delimiter"):
        export_csv([ANNA], tmp_path / "x.csv", ExportOptions(delimiter="|"))
    with pytest.raises(ValueError, match="unknown export column"):
        export_csv([ANNA], tmp_path / "x.csv", ExportOptions(columns=("shoe_size",)))
    assert list(tmp_path.iterdir()) == []


def test_failure_midway_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("old content", encoding="utf-8")

    def rows():
        yield ANNA
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        export_csv(rows(), path)
    assert path.read_text(encoding="utf-8") == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["customers.csv"]


def test_export_import_keeps_cells_starting_with_triggers(tmp_path):
    tricky = CustomerDraft(first_name="=1+1", last_name="@bob", company="-minus",
                           display_name="'=already quoted", notes="\tindented\r\nnext",
                           tags=("+plus", "=eq"), phones=(PhoneNumber("-12", "fax"),))
    path = tmp_path / "t.csv"
    export_csv([tricky], path)
    (row,) = read_customers(path)
    assert row.draft == tricky


def test_export_is_streaming():
    # The rows are written while they are read, never gathered first: a whole customer book
    # must not sit in memory. (Its speed is a figure in benchmarks/, not a timed assertion.)
    total = 20_000
    consumed = 0

    def rows():
        nonlocal consumed
        for _ in range(total):
            consumed += 1
            yield ANNA

    class Sink(io.StringIO):
        consumed_at_writes: list[int]

        def write(self, text: str) -> int:
            self.consumed_at_writes.append(consumed)
            return super().write(text)

    out = Sink()
    out.consumed_at_writes = []
    assert write_csv(rows(), out) == total
    assert out.consumed_at_writes, "nothing was written"
    # Output began before the first tenth of the rows had been read.
    assert out.consumed_at_writes[0] < total // 10
    assert out.getvalue().count("\n") == total + 1


def test_temporary_file_lives_in_the_target_folder(tmp_path, monkeypatch):
    seen: list[Path] = []
    import crmcompanion.core.csv_export as module

    real_replace = module.os.replace

    def spy(src, dst):
        seen.append(Path(src))
        real_replace(src, dst)

    monkeypatch.setattr(module.os, "replace", spy)
    export_csv([ANNA], tmp_path / "c.csv")
    assert seen and seen[0].parent == tmp_path and seen[0].name.startswith(".c.csv.")
