"""The CSV row parser reads rows into plain values (no frozen drafts) with one walk over
precompiled column lists: it must give exactly what the parser before it gave (kept verbatim
below) on every row of varied files in each recognised format and a mapped one: the same
customer, the same issues with the same lines and columns, the same provisional flag and the
same file date order and first ambiguous date."""


from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

from crmcompanion.core import csv_headers, csv_import
from crmcompanion.core.csv_codec import OWN_COLUMNS, strip_neutralisation
from crmcompanion.core.csv_import import (
    _EMAIL,
    _ENUM_CELLS,
    _NO,
    _T,
    _YES,
    SEP,
    ImportIssue,
    _CellError,
    _DateContext,
    _label,
    _member,
    _newlines,
    _plan,
    _RowParser,
    _stamp,
    import_phone,
)
from crmcompanion.core.customer import (
    CustomerDraft,
    EmailAddress,
    Kind,
    PhoneNumber,
    PostalAddress,
    SpecialDate,
    SpecialDateKind,
    Status,
)
from crmcompanion.core.date_parsing import (
    DateOrder,
    DateProblem,
    PartialDate,
    SlashDate,
    parse_date_cell,
)
from crmcompanion.core.import_text import printable


@dataclass(frozen=True)
class _OldParsedRow:
    line: int
    draft: CustomerDraft
    provisional: bool


# --- the parser before plain values, verbatim --------------------------------------------

@lru_cache(maxsize=8192)
def _old_date_cell(text: str) -> PartialDate | SlashDate | DateProblem | None:
    """parse_date_cell, cached: birthdays and "customer since" dates repeat across a file.
    A problem is returned (not raised) so it is cached too; the values are frozen."""
    try:
        return parse_date_cell(text)
    except DateProblem as exc:
        return exc


class _OldDateContext:
    """The file's day/month order: fixed by the caller, or settled by the first value that
    proves it; later values that prove the other order are errors."""

    def __init__(self, order: DateOrder | None) -> None:
        self.order = order
        self.first_ambiguous: tuple[int, str] | None = None
        self.provisional = False  # a value was resolved day-first for now (reset per row)

    def parse(self, text: str, where: Callable[[], tuple[int, str]]) -> PartialDate | None:
        """`where` is called (line, column) only when the value is the first ambiguous one."""
        value = _old_date_cell(text)
        if isinstance(value, DateProblem):
            raise DateProblem(value.code, value.reason)  # a fresh one: no shared traceback
        if not isinstance(value, SlashDate):
            return value
        evidence = value.evidence()
        if self.order is None:
            if evidence is not None:
                self.order = evidence
            else:
                if self.first_ambiguous is None:
                    self.first_ambiguous = where()
                self.provisional = True
                return value.resolve(DateOrder.DMY)  # provisional: pass 1 only checks
        return value.resolve(self.order)


class _OldRowParser:
    """Turns the cells of one record into a CustomerDraft, or cell errors."""

    def __init__(self, targets: tuple[_T | None, ...], headers: list[str],
                 dates: _OldDateContext, default_region: str, normalise_phones: bool) -> None:
        self.targets = targets
        self.headers = headers
        self.dates = dates
        self.region = default_region.upper() or None
        self.normalise_phones = normalise_phones
        # Compiled once per file from the header mapping, so a row is distributed by walking
        # short lists instead of testing all targets per cell: headerless columns (a value
        # there is an issue), scalars mapped by exactly one column, scalars mapped by several
        # (the first non-blank wins) and group parts, each in column order.
        counts: dict[str, int] = {}
        for t in targets:
            if t is not None and not t.slot:
                counts[t.group] = counts.get(t.group, 0) + 1
        self._headerless = [i for i, t in enumerate(targets)
                            if t is None and not headers[i].strip()]
        self._single = [(i, t.group) for i, t in enumerate(targets)
                        if t is not None and not t.slot and counts[t.group] == 1]
        self._multi = [(i, t.group) for i, t in enumerate(targets)
                       if t is not None and not t.slot and counts[t.group] > 1]
        self._parts = [(i, (t.group, t.slot), t.part, t.label) for i, t in enumerate(targets)
                       if t is not None and t.slot]

    def column_name(self, index: int) -> str:
        header = self.headers[index] if index < len(self.headers) else ""
        return header or f"column {index + 1}"

    def parse(self, line: int, cells: list[str], multiline: bool = True
              ) -> tuple[_OldParsedRow | None, list[ImportIssue]]:
        """`multiline`: False when the record is known to sit on one physical line."""
        issues: list[ImportIssue] = []

        def line_of(index: int) -> int:
            # Counting newlines is only needed when the record spans several lines.
            if index == 0 or not multiline:
                return line
            return line + sum(_newlines(c) for c in cells[:index])

        def where(index: int) -> Callable[[], tuple[int, str]]:
            return lambda: (line_of(index), self.column_name(index))

        def fail(index: int, code: str, reason: str) -> None:
            issues.append(ImportIssue(line_of(index), self.column_name(index), reason, code))

        self.dates.provisional = False
        if len(cells) != len(self.targets):
            issues.append(ImportIssue(
                line, "", f"expected {len(self.targets)} cells, found {len(cells)}",
                "column_count"))
            return None, issues

        scalars: dict[str, tuple[int, str]] = {}
        groups: dict[tuple[str, str], dict[str, tuple[int, str]]] = {}
        group_defaults: dict[tuple[str, str], str] = {}
        for index in self._headerless:
            if cells[index].strip():
                fail(index, "missing_header", "a value in a column without a header")
        for index, name in self._single:
            cell = cells[index]
            if cell:
                scalars[name] = (index, cell)
        for index, name in self._multi:
            cell = cells[index]
            if cell and (name not in scalars or not scalars[name][1].strip()):
                scalars[name] = (index, cell)
        for index, key, part, label in self._parts:
            cell = cells[index]
            if cell:
                found_parts = groups.get(key)
                if found_parts is None:
                    groups[key] = {part: (index, cell)}
                else:
                    found_parts[part] = (index, cell)
                group_defaults[key] = label

        def text(name: str, keep_lines: bool = False) -> str:
            found = scalars.get(name)
            if found is None:
                return ""
            value = found[1] if keep_lines else found[1].strip()
            # Only a cell starting with ' can carry the export's neutralisation quote.
            return strip_neutralisation(value) if value[:1] == "'" else value

        def date_of(name: str) -> PartialDate | None:
            found = scalars.get(name)
            if found is None:
                return None
            index, cell = found
            try:
                cell = cell.strip()
                return self.dates.parse(
                    strip_neutralisation(cell) if cell[:1] == "'" else cell, where(index))
            except DateProblem as exc:
                fail(index, exc.code, exc.reason)
                return None

        first = " ".join(p for p in (text("first_name"), text("middle_name")) if p)
        last = text("last_name")
        display = text("display_name")
        full = text("full_name")
        if full and not first and not last:
            # Issue 14: a whole name alone is split into first and last name.
            first, last = csv_headers.split_name(full)
        elif full and not display and full != " ".join(p for p in (first, last) if p):
            display = full
        company = text("company")

        emails: list[EmailAddress] = []
        phones: list[PhoneNumber] = []
        address = PostalAddress()
        specials_custom: list[SpecialDate] = []
        anniversary: PartialDate | None = None
        for (group, _slot), parts in groups.items():
            default = group_defaults[(group, _slot)]
            if group in ("email", "phone", "event"):
                value_at = parts.get("value")
                if value_at is None:
                    continue
                index, raw = value_at
                values = strip_neutralisation(raw).split(SEP)
                label_cell = parts.get("label", (0, ""))[1]
                labels = strip_neutralisation(label_cell).split(SEP) if label_cell else []
                for i, item in enumerate(values):
                    item = item.strip()
                    if not item:
                        continue
                    label = _label(labels[i] if i < len(labels) else
                                   (labels[0] if labels and default else ""), default)
                    if group == "email":
                        if not _EMAIL.fullmatch(item):
                            fail(index, "invalid_email", f"“{item}” is not an email address")
                        emails.append(EmailAddress(item, label))
                    elif group == "phone":
                        phones.append(PhoneNumber(self._phone(item), label))
                    else:
                        try:
                            when = self.dates.parse(item, where(index))
                        except DateProblem as exc:
                            fail(index, exc.code, exc.reason)
                            continue
                        if when is None:
                            continue
                        raw_label = labels[i] if i < len(labels) else ""
                        if raw_label.strip().removeprefix("* ").lower() == "anniversary":
                            anniversary = anniversary or when
                        else:
                            specials_custom.append(SpecialDate(
                                SpecialDateKind.CUSTOM, when.month, when.day, when.year,
                                raw_label.strip().removeprefix("* ")))
            elif group == "address" and address.is_empty():
                address = self._address(parts, bool(default))

        birthday = date_of("birthday")
        anniversary_cell = date_of("wedding_anniversary")
        anniversary = anniversary_cell or anniversary
        since = date_of("customer_since")
        if since is not None and since.year is None:
            index = scalars["customer_since"][0]
            fail(index, "bad_date", "customer since needs a year")
            since = None

        specials: list[SpecialDate] = []
        if birthday is not None:
            specials.append(SpecialDate(SpecialDateKind.BIRTHDAY, birthday.month, birthday.day,
                                        birthday.year))
        if anniversary is not None:
            specials.append(SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, anniversary.month,
                                        anniversary.day, anniversary.year))
        if "special_dates" in scalars:
            # The app's own "YYYY-MM-DD label ::: --MM-DD label" cell of custom dates.
            index, cell = scalars["special_dates"]
            for item in strip_neutralisation(cell).split(SEP):
                if not item.strip():
                    continue
                when_text, _, custom_label = item.partition(" ")
                try:
                    when = self.dates.parse(when_text, where(index))
                except DateProblem as exc:
                    fail(index, exc.code, exc.reason)
                    continue
                if when is not None:
                    specials.append(SpecialDate(SpecialDateKind.CUSTOM, when.month, when.day,
                                                when.year, custom_label))
        specials.extend(specials_custom)

        tags: list[str] = []
        if "tags" in scalars:
            tags += [t.strip() for t in text("tags").split(SEP)]
        if "google_labels" in scalars:
            tags += [t.strip() for t in text("google_labels").split(SEP)
                     if not t.strip().startswith("* ")]
        if "categories" in scalars:
            tags += [t.strip() for t in text("categories").split(";")]
        tags = list(dict.fromkeys(t for t in tags if t))

        status, kind, channel, key_account = Status.ACTIVE, Kind.EXTERNAL, None, False
        for name, enum, label in _ENUM_CELLS:
            value = text(name)
            if not value:
                continue
            try:
                chosen = _member(value, enum, label)
            except _CellError as exc:
                fail(scalars[name][0], exc.code, exc.reason)
                continue
            if enum is Status:
                status = chosen  # type: ignore[assignment]
            elif enum is Kind:
                kind = chosen  # type: ignore[assignment]
            else:
                channel = chosen  # type: ignore[assignment]
        flag = text("key_account").lower()
        if flag in _YES:
            key_account = True
        elif flag not in _NO:
            fail(scalars["key_account"][0], "bad_value", f"“{flag}” is not yes or no")
        # Issue 14: the own export's "Last contact" is read (a date and time, or a date).
        contact = text("last_contact")
        if contact and _stamp(contact) is None:
            fail(scalars["last_contact"][0], "bad_date",
                 f"“{printable(contact, 40)}” is not a date and time (use YYYY-MM-DD HH:MM)")

        if not (first or last or display or company or emails or full):
            issues.append(ImportIssue(line, "", "row has no name, company or email", "no_name"))
        if issues:
            return None, issues
        draft = CustomerDraft(
            first_name=first, last_name=last, display_name=display, company=company,
            emails=tuple(emails), phones=tuple(phones), address=address, tags=tuple(tags),
            status=status, kind=kind, key_account=key_account, preferred_channel=channel,
            customer_since=since.to_date() if since is not None else None,
            notes=text("notes", keep_lines=True), special_dates=tuple(specials),
            source_uid=text("source_uid"),
        )
        return _OldParsedRow(line, draft, self.dates.provisional), issues

    def _phone(self, typed: str) -> str:
        if not self.normalise_phones:
            return typed
        return import_phone(typed, self.region)

    @staticmethod
    def _address(parts: dict[str, tuple[int, str]], foreign: bool) -> PostalAddress:
        def get(name: str) -> str:
            found = parts.get(name)
            if found is None:
                return ""
            raw = found[1]
            if raw[:1] == "'":
                raw = strip_neutralisation(raw)
            return raw.strip() if foreign else raw

        street = "\n".join(p for p in (get("street"), get("street2"), get("street3"),
                                       get("extended"), get("pobox")) if p)
        return PostalAddress(street=street, city=get("city"), region=get("region"),
                             postcode=get("postcode"), country=get("country"))




# --- varied files ---------------------------------------------------------------------------

OWN = [h for _, h in OWN_COLUMNS]
GOOGLE_2023 = [
    "First Name", "Middle Name", "Last Name", "Organization Name", "Birthday", "Notes",
    "Labels", "E-mail 1 - Label", "E-mail 1 - Value", "E-mail 2 - Label", "E-mail 2 - Value",
    "Phone 1 - Label", "Phone 1 - Value", "Address 1 - Label", "Address 1 - Street",
    "Address 1 - City", "Address 1 - Postal Code", "Address 1 - Country", "Address 2 - Street",
    "Address 2 - City", "Event 1 - Label", "Event 1 - Value", "Event 2 - Label",
    "Event 2 - Value",
]
GOOGLE_CLASSIC = [
    "Name", "Given Name", "Additional Name", "Family Name", "Birthday", "Notes",
    "Group Membership", "E-mail 1 - Type", "E-mail 1 - Value", "Phone 1 - Type",
    "Phone 1 - Value", "Phone 2 - Type", "Phone 2 - Value", "Address 1 - Type",
    "Address 1 - Street", "Address 1 - PO Box", "Address 1 - City", "Organization 1 - Name",
]
OUTLOOK = [
    "First Name", "Middle Name", "Last Name", "Company", "E-mail Address", "E-mail 2 Address",
    "Mobile Phone", "Business Phone", "Home Street", "Home Street 2", "Home City",
    "Business Street", "Business City", "Business Country/Region", "Birthday", "Anniversary",
    "Categories", "Notes",
]
# Two emails' and two phones' columns interleaved: whose value is first depends on the row.
GOOGLE_INTERLEAVED = [
    "Name", "E-mail 1 - Value", "E-mail 2 - Value", "E-mail 1 - Type", "E-mail 2 - Type",
    "Phone 1 - Value", "Phone 2 - Type", "Phone 2 - Value", "Phone 1 - Type", "Birthday",
]
MAPPED = ["Vorname", "Rufname", "Mail", "Mail 2", "Ort", "Stadt", "Tel", "Geb", "Seit", "",
          "Etiketten", "Firma", "Status", "Wichtig"]
MAPPING: dict[str, str | None] = {
    "Vorname": "first_name", "Rufname": "first_name", "Mail": "email:work", "Mail 2": "email",
    "Ort": "city", "Stadt": "city", "Tel": "phone:home", "Geb": "birthday",
    "Seit": "customer_since", "Etiketten": "tags", "Firma": "company", "Status": "status",
    "Wichtig": "key_account",
}

# (usual values, odd or wrong ones): a cell takes an odd one now and then.
TEXTS = (["", "Anna", " Zoë ", "José María", "O'Brien", "x" * 30],
         ["'=SUM(A1)", "''=x", "'plain", "   ", "Line\nbreak"])
EMAILS = (["", "anna@example.org", " Ben@Example.ORG ", "a@b.co ::: c@d.co"],
          ["bad@", "'=a@b.co", "x@y.z ::: ", " ::: p@q.rs", "two@@x.de"])
LABELS = (["", "home", "* Work", "work ::: home", "Other"], [" mobile ", "'=x"])
PHONES = (["", "+4930123456", "030 1234567", "+1 555 0100 ::: 0171 22"],
          ["+49030123456", "12", "'+3313164442", "abc"])
DATES = (["", "1970-02-03", "03/04/1970", "--02-29", "12/12/1980", " 1971-05-06 ", "14.3.1971",
          "--03-14", "0/0/00", "5/5/1980"],
         ["1970-02-30", "25/12/1970", "3/14/1971", "12/11", "'1970-01-01", "1899-12-31"])
SPECIALS = (["", "2020-01-01 Shop opening", "--03-14 Pi ::: 2019-05-01 Day"],
            ["bad x", " ::: 03/04/1999 x", "2019-05-01"])
ENUMS = (["", "active", "Lead", "lost ", "in person", "in-person", "email"], ["sleepy"])
FLAGS = (["", "yes", "no", "X", " TRUE "], ["maybe"])
TAGS = (["", "VIP", "vip ::: VIP ::: ", "a ::: b", " Café ::: café", "* myContacts ::: Friends",
         "x;y; ;x"], ["t" * 70])


def _cell(rng: random.Random, header: str) -> str:
    h = header.lower()
    if "mail" in h and "label" not in h and "type" not in h:
        pool = EMAILS
    elif ("phone" in h and "label" not in h and "type" not in h) or h in ("phones", "tel"):
        pool = PHONES
    elif "label" in h or "type" in h:
        pool = LABELS
    elif ("event" in h and "value" in h) or h in (
            "birthday", "anniversary", "wedding anniversary", "customer since", "geb", "seit"):
        pool = DATES
    elif h == "special dates":
        pool = SPECIALS
    elif h in ("status", "kind", "preferred channel"):
        pool = ENUMS
    elif h in ("key account", "wichtig"):
        pool = FLAGS
    elif h == "last contact":  # the export's stamps, a date, now and then a wrong one
        pool = (["", "2026-11-02 14:30", "2019-01-31 08:05", "2025-06-30"],
                ["yesterday", "31.12.2025 10:00"])
    elif h in ("tags", "categories", "labels", "group membership", "etiketten"):
        pool = TAGS
    else:
        pool = TEXTS
    usual, odd = pool
    return rng.choice(odd if rng.random() < 0.03 else usual)


def _write(path: Path, headers: list[str], n: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for _ in range(n):
            cells = [_cell(rng, h) for h in headers]
            if rng.random() < 0.02:
                cells = cells[:-1]  # a short row
            writer.writerow(cells)


def _parse_both(path: Path, mapping: dict[str, str | None] | None,
                order: DateOrder | None) -> tuple[list[tuple], list[tuple]]:
    plan, stream, records = _plan(path, mapping, None, None)
    assert any(t is not None for t in plan.targets)
    old_dates, new_dates = _OldDateContext(order), _DateContext(order)
    old = _OldRowParser(plan.targets, plan.headers, old_dates, "DE", normalise_phones=True)
    new = _RowParser(plan.targets, plan.headers, new_dates, "DE", normalise_phones=True)
    old_out: list[tuple] = []
    new_out: list[tuple] = []
    with stream:
        for record in records:
            assert record.cells is not None
            multiline = record.last_line > record.line
            o_row, o_issues = old.parse(record.line, record.cells, multiline)
            n_row, n_issues = new.parse(record.line, record.cells, multiline)
            old_out.append((o_row.draft if o_row else None, o_row.provisional if o_row else None,
                            o_issues))
            new_out.append((n_row.draft if n_row else None, n_row.provisional if n_row else None,
                            n_issues))
    old_out.append((old_dates.order, old_dates.first_ambiguous))
    new_out.append((new_dates.order, new_dates.first_ambiguous))
    return old_out, new_out


@pytest.mark.parametrize("headers, mapping", [
    (OWN, None), (GOOGLE_2023, None), (GOOGLE_CLASSIC, None), (OUTLOOK, None),
    (GOOGLE_INTERLEAVED, None), (MAPPED, MAPPING),
], ids=["own", "google_2023", "google_classic", "outlook", "interleaved", "mapped"])
@pytest.mark.parametrize("order", [None, DateOrder.DMY, DateOrder.MDY])
def test_the_parser_reads_every_row_as_the_one_before_it(
        tmp_path: Path, headers: list[str], mapping: dict[str, str | None] | None,
        order: DateOrder | None) -> None:
    path = tmp_path / "varied.csv"
    _write(path, headers, 1500, seed=len(headers))
    old, new = _parse_both(path, mapping, order)
    accepted = sum(1 for row in old[:-1] if row[0] is not None)
    assert 20 < accepted < 1480  # both accepted and refused rows are compared
    for old_row, new_row in zip(old, new, strict=True):
        assert new_row == old_row


def test_the_recognised_formats_are_the_ones_meant(tmp_path: Path) -> None:
    for headers, fmt in ((OWN, csv_import.Format.OWN),
                         (GOOGLE_2023, csv_import.Format.GOOGLE_2023),
                         (GOOGLE_CLASSIC, csv_import.Format.GOOGLE_CLASSIC),
                         (OUTLOOK, csv_import.Format.OUTLOOK)):
        path = tmp_path / "h.csv"
        _write(path, headers, 0, seed=1)
        assert csv_import.inspect_header(path) == fmt


@pytest.mark.parametrize("headers, fixed", [
    (GOOGLE_2023, True), (GOOGLE_CLASSIC, True), (OUTLOOK, True), (GOOGLE_INTERLEAVED, False),
], ids=["google_2023", "google_classic", "outlook", "interleaved"])
def test_groups_whose_columns_lie_apart_are_read_in_column_order(
        tmp_path: Path, headers: list[str], fixed: bool) -> None:
    # Google's and Outlook's files have two groups of a kind (two phones), each group's
    # columns side by side: every row reads them in column order, so the parser does not
    # work the order out again per row (issue 13). Interleaved columns still are, per row
    # (the test above compares both with the parser before it).
    path = tmp_path / "h.csv"
    _write(path, headers, 0, seed=1)
    plan, stream, _ = _plan(path, None, None, None)
    stream.close()
    parser = _RowParser(plan.targets, plan.headers, _DateContext(None), "DE",
                        normalise_phones=True)
    assert (parser._fixed_order is not None) is fixed
