"""Import of real-shaped Google (both generations), Outlook and own CSV files, and errors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from crmcompanion.core.csv_import import (
    CsvImportError,
    Format,
    detect_delimiter,
    inspect_csv,
    iter_parsed_batches,
    read_customers,
)
from crmcompanion.core.customer import (
    EmailAddress,
    PhoneNumber,
    PostalAddress,
    SpecialDate,
    SpecialDateKind,
)
from crmcompanion.core.date_parsing import DateOrder

FIXTURES = Path(__file__).parent / "fixtures" / "csv"


def test_google_classic_export():
    report = inspect_csv(FIXTURES / "google_classic.csv", default_region="DE")
    assert report.ok, report.issues
    assert (report.format, report.encoding, report.delimiter) == (
        Format.GOOGLE_CLASSIC, "utf-8", ",")
    assert "Yomi Name" in report.ignored_headers
    rows = [r for batch in iter_parsed_batches(report) for r in batch]
    assert [r.line for r in rows] == [2, 6, 7]  # row 1 spans lines 2-5 (quoted newlines)
    anna = rows[0].draft
    assert (anna.first_name, anna.last_name, anna.company) == ("Anna", "Müller", "Bäckerei Müller")
    assert anna.emails == (
        EmailAddress("anna@example.com", "home"),
        EmailAddress("Anna.M@Example.ORG", "home"),
        EmailAddress("anna.mueller@baeckerei.example", "work"),
    )
    assert rows[0].emails == ("anna@example.com", "anna.m@example.org",
                              "anna.mueller@baeckerei.example")
    assert anna.phones == (PhoneNumber("+4915123456789", "mobile"),
                           PhoneNumber("+4930901820", "work"))
    assert rows[0].phones == ("+4915123456789", "+4930901820")
    assert anna.tags == ("Bakery", "VIP")  # "* myContacts" is a system group
    assert anna.notes == 'Prefers "rye" bread.\nCall in the morning.'
    assert anna.address == PostalAddress("Hauptstraße 1", "Berlin", "", "10115", "Deutschland")
    assert anna.special_dates == (
        SpecialDate(SpecialDateKind.BIRTHDAY, 3, 14, 1971),
        SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, 6, 18, 2001),
    )
    jose = rows[1].draft
    assert jose.special_dates == (
        SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, None),
        SpecialDate(SpecialDateKind.CUSTOM, 9, 1, 2015, "First visit"),
    )
    assert jose.tags == ()  # "* starred" dropped too
    assert jose.phones == (PhoneNumber("+34612345678", "other"),)
    lee = rows[2].draft
    assert lee.display_name == "Dr. Lee Kim"  # Name differs from given + family
    assert lee.company == "Kim & Partners"


def test_google_2023_export():
    rows = read_customers(FIXTURES / "google_2023.csv", default_region="DE")
    anna, soren = (r.draft for r in rows)
    assert anna.first_name == "Anna Maria"
    assert anna.emails[1:] == (EmailAddress("a.mueller@baeckerei.example", "work"),
                               EmailAddress("info@baeckerei.example", "work"))
    assert anna.address == PostalAddress("Marktplatz 3", "München", "Bayern", "80331", "DE")
    assert anna.special_dates == (
        SpecialDate(SpecialDateKind.BIRTHDAY, 3, 14, None),
        SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, 6, 18, None),
    )
    assert anna.notes == "Line one\nLine two, with comma"
    assert soren.tags == ("Philosophers", "VIP")
    assert soren.emails == (EmailAddress("soren@example.dk", "other"),)
    assert rows[1].line == 5
    report = inspect_csv(FIXTURES / "google_2023.csv")
    assert report.format == Format.GOOGLE_2023


@pytest.mark.parametrize("name", ["outlook.csv", "outlook_unicode.txt"])
def test_outlook_exports_cp1252_and_utf16(name):
    report = inspect_csv(FIXTURES / name)
    assert report.ok, report.issues
    assert report.format == Format.OUTLOOK
    expected_encoding, expected_delimiter = (
        ("cp1252", ",") if name.endswith(".csv") else ("utf-16", "\t"))
    assert (report.encoding, report.delimiter) == (expected_encoding, expected_delimiter)
    assert report.date_order is DateOrder.MDY  # settled by 3/14/1971
    john, zoe = (r.draft for r in iter_parsed_batches(report).__next__())
    assert john.last_name == "O'Neil"
    assert john.address == PostalAddress("12 Main St\nSuite 4", "Springfield", "IL", "62701",
                                         "United States")
    assert john.special_dates == (SpecialDate(SpecialDateKind.BIRTHDAY, 3, 14, 1971),)  # 0/0/00
    assert john.tags == ("Customers", "VIP")
    assert john.notes == "Pays by cheque.\r\nAsk about the “Spring” order – 10% off."
    assert john.phones == (PhoneNumber("+12175550134", "work"),
                           PhoneNumber("+12175550199", "mobile"))
    assert (zoe.first_name, zoe.last_name) == ("Zoë", "Brontë")
    assert zoe.special_dates == (
        SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, 6, 1, 2010),)  # month first
    assert [e.address for e in zoe.emails] == ["zoe@example.co.uk", "zoe.b@example.com"]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b"\xef\xbb\xbf"), ("utf-8", b""), ("utf-16-le", b"\xff\xfe"),
     ("utf-16-be", b"\xfe\xff"), ("cp1252", b"")],
)
def test_encodings_are_detected(tmp_path, encoding, bom):
    text = (FIXTURES / "google_2023.csv").read_text("utf-8")
    path = tmp_path / "contacts.csv"
    path.write_bytes(bom + text.encode(encoding))
    rows = read_customers(path)
    assert [r.draft.first_name for r in rows] == ["Anna Maria", "Søren"]
    assert rows[0].draft.address.city == "München"


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [('a,b;c,"x;y;z"', ","), ('a;b;"c,d,e"', ";"), ("a\tb\tc,d", "\t"), ("single", ",")],
)
def test_detect_delimiter(line, delimiter):
    assert detect_delimiter(line) == delimiter


def test_semicolon_file_and_caller_mapping(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("Vorname;Nachname;Mail;Handy;Geburtstag;Kundennummer\n"
                    "Jörg;Schmidt;JOERG@Example.de;0151 23456789;14.03.1971;K-1\n",
                    encoding="cp1252")
    report = inspect_csv(path, default_region="DE", mapping={
        "Vorname": "first_name", "Nachname": "last_name", "Mail": "email:work",
        "Handy": "phone", "Geburtstag": "birthday", "Kundennummer": "source_uid"})
    assert report.ok, report.issues
    assert report.format == Format.MAPPED and report.delimiter == ";"
    (row,) = next(iter_parsed_batches(report))
    assert row.draft.emails == (EmailAddress("JOERG@Example.de", "work"),)
    assert row.emails == ("joerg@example.de",)
    assert row.phones == ("+4915123456789",)
    assert row.source_uid == "K-1"
    assert row.draft.special_dates == (SpecialDate(SpecialDateKind.BIRTHDAY, 3, 14, 1971),)


def test_mapping_extends_a_known_format_and_unknown_headers_are_reported(tmp_path):
    path = tmp_path / "g.csv"
    shutil.copy(FIXTURES / "google_2023.csv", path)
    report = inspect_csv(path, mapping={"Nickname": "display_name"})
    assert ("Nickname", "display_name") in report.mapped_columns
    assert "Nickname" not in report.ignored_headers
    assert "Phonetic First Name" in report.ignored_headers


def test_ambiguous_order_resolved_by_caller(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("First Name,Last Name,E-mail Address,Birthday\n"
                    "Ann,Lee,ann@example.com,3/4/1971\n", encoding="utf-8")
    report = inspect_csv(path)
    assert not report.ok and report.date_order_ambiguous
    assert report.issues[0].code == "ambiguous_date_order"
    with pytest.raises(CsvImportError, match="day/month order is ambiguous"):
        next(iter_parsed_batches(report))
    for order, month in (("dmy", 4), ("mdy", 3)):
        (row,) = read_customers(path, date_order=order)
        assert row.draft.special_dates[0].month == month


def test_batches_stream_in_fixed_sizes(tmp_path):
    path = tmp_path / "many.csv"
    lines = ["First name,Emails"] + [f"P{i},p{i}@example.com" for i in range(2_345)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = inspect_csv(path)
    assert report.ok and report.row_count == 2_345 and report.format == Format.OWN
    sizes = [len(b) for b in iter_parsed_batches(report, batch_size=1000)]
    assert sizes == [1000, 1000, 345]


def test_blank_lines_are_skipped_but_counted(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("First name,Birthday\n\nAnn,1971-13-01\n", encoding="utf-8")
    report = inspect_csv(path)
    assert [(i.line, i.column, i.code) for i in report.issues] == [(3, "Birthday", "bad_date")]


OWN = "First name,Last name,Emails,Birthday,Status,Key account,Notes,Customer since\r\n"

# (file text, inspect options, expected (code, line, column) of the first issue)
MALFORMED = [
    ("First name,First name,Emails\nA,B,a@example.com\n", {},
     ("duplicate_header", 1, "First name")),
    ("Foo,Nachname\nA,B\n", {"mapping": {"Mail": "email", "Nachname": "last_name"}},
     ("missing_header", 1, "Mail")),
    ("Status,Kind,Notes\nlead,external,x\n", {}, ("missing_header", 1, "")),
    ("First name,Last name,,Emails\nA,B,x,a@example.com\n", {}, ("missing_header", 2, "column 3")),
    (OWN + "Ann,Lee,a@example.com\r\n", {}, ("column_count", 2, "")),
    (OWN + 'Ann,Lee,a@example.com,,,,"x\ny",,extra\r\n', {}, ("column_count", 2, "")),
    (OWN + "Ann,Lee,,1971-13-01,,,,\r\n", {}, ("bad_date", 2, "Birthday")),
    (OWN + "Ann,Lee,,March 14,,,,\r\n", {}, ("bad_date", 2, "Birthday")),
    (OWN + "Ann,Lee,,1971-02-29,,,,\r\n", {}, ("not_leap_year", 2, "Birthday")),
    (OWN + "Ann,Lee,,29.02.1971,,,,\r\n", {}, ("not_leap_year", 2, "Birthday")),
    (OWN + "Ann,Lee,,3/4/71,,,,\r\n", {}, ("bad_date", 2, "Birthday")),
    (OWN + "Ann,Lee,,14/14/1971,,,,\r\n", {}, ("bad_date", 2, "Birthday")),
    (OWN + "Ann,Lee,,14/3/1971,,,,\r\nBo,Ng,,3/14/1971,,,,\r\n", {},
     ("date_order_conflict", 3, "Birthday")),
    (OWN + "Ann,Lee,,3/14/1971,,,,\r\n", {"date_order": "dmy"},
     ("date_order_conflict", 2, "Birthday")),
    (OWN + "Ann,Lee,,3/4/1971,,,,\r\n", {}, ("ambiguous_date_order", 2, "Birthday")),
    (OWN + "Ann,Lee,ann at example.com,,,,,\r\n", {}, ("invalid_email", 2, "Emails")),
    (OWN + "Ann,Lee,a@example.com ::: bad@,,,,,\r\n", {}, ("invalid_email", 2, "Emails")),
    (OWN + "Ann,Lee,,,vip,,,\r\n", {}, ("bad_value", 2, "Status")),
    (OWN + "Ann,Lee,,,,maybe,,\r\n", {}, ("bad_value", 2, "Key account")),
    (OWN + ",,,,lead,,some notes,\r\n", {}, ("no_name", 2, "")),
    (OWN + 'Ann,"Lee"x,,,,,,\r\n', {}, ("bad_quoting", 2, "")),
    (OWN + 'Ann,Lee,,,,,"never closed\r\nmore\r\n', {}, ("bad_quoting", 2, "")),
    ("", {}, ("empty_file", 1, "")),
    ("Foo,Bar\n1,2\n", {}, ("unknown_format", 1, "")),
    (OWN + "Ann,Lee,,,,,,--03-14\r\n", {}, ("bad_date", 2, "Customer since")),
    # Line counting: the first row spans lines 2-4, so the bad date of the next row is on 5.
    (OWN + 'Ann,Lee,,,,,"a\r\nb\r\nc",\r\nBo,Ng,,1971-02-30,,,,\r\n', {},
     ("bad_date", 5, "Birthday")),
    # A cell after a multi-line cell in the same record starts on a later line.
    (OWN + 'Ann,Lee,,,,,"a\nb\nc",1971-02-30\r\n', {}, ("bad_date", 4, "Customer since")),
    ('First Name,Last Name,E-mail Address,Anniversary\r\n"A","B","x@example.com","13/13/2010"\r\n',
     {}, ("bad_date", 2, "Anniversary")),
]


@pytest.mark.parametrize(("text", "options", "expected"), MALFORMED,
                         ids=[f"{i:02d}-{m[2][0]}" for i, m in enumerate(MALFORMED)])
def test_malformed_inputs_report_their_specific_error(tmp_path, text, options, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode("utf-8"))
    report = inspect_csv(path, **options)
    assert not report.ok
    first = report.issues[0]
    assert (first.code, first.line, first.column) == expected, report.issues
    assert report.issue_count >= 1 and first.reason
    where = rf"^line {expected[1]}, {re.escape(expected[2] or 'row')}: "
    with pytest.raises(CsvImportError, match=where):
        next(iter_parsed_batches(report))


def test_all_errors_are_collected_not_just_the_first(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(OWN + "Ann,Lee,bad,1971-02-29,x,,,\r\nBo,Ng,,,,,,\r\nCy,Oh,,--13-01,,,,\r\n",
                    encoding="utf-8")
    report = inspect_csv(path)
    assert [(i.line, i.column, i.code) for i in report.issues] == [
        (2, "Emails", "invalid_email"),
        (2, "Birthday", "not_leap_year"),
        (2, "Status", "bad_value"),
        (4, "Birthday", "bad_date"),
    ]
    assert report.row_count == 3
