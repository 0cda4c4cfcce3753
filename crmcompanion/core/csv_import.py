"""Read customer lists from CSV files made by Google Contacts, Outlook, this app, or a person.

Google's, Outlook's and the app's own headers are known exactly; any other header (a
spreadsheet's "Vorname", "Courriel", "Téléphone portable") is recognised by its words
(`csv_headers`), and a whole name in one column is split into first and last name there.

Why it works in two passes over the file:
- Errors must be reported before anything is saved, and the day/month order of slash dates is
  decided by the *whole* file (one `3/14/1971` anywhere settles "month first"). So
  `inspect_csv` reads the file once, keeping only counters and the issue list, and returns an
  `ImportReport` (encoding, delimiter, recognised format, column mapping, date order, issues).
- `iter_parsed_batches` then reads it again and yields `ParsedRow`s in batches, so a
  1,000,000-row file never sits in memory and the caller can save batch by batch.

Line numbers in issues are 1-based physical lines: a quoted cell holding newlines spans several
lines, and a cell's error points at the line where that cell starts.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from itertools import pairwise
from operator import itemgetter
from typing import Any, Final, NamedTuple, TextIO

import phonenumbers

from crmcompanion.core import csv_headers, import_text
from crmcompanion.core.csv_codec import (
    MULTI_VALUE_SEPARATOR,
    OWN_COLUMNS,
    strip_neutralisation,
)
from crmcompanion.core.customer import (
    Channel,
    CustomerDraft,
    Kind,
    SpecialDateKind,
    Status,
)
from crmcompanion.core.customer_values import (
    EMPTY_ADDRESS,
    AddressValues,
    CustomerValues,
    EmailValues,
    PhoneValues,
    SpecialValues,
    draft_of,
)
from crmcompanion.core.date_parsing import (
    DateOrder,
    DateProblem,
    PartialDate,
    SlashDate,
    parse_date_cell,
)
from crmcompanion.core.errors import DomainError

logger = logging.getLogger(__name__)

SEP: Final = MULTI_VALUE_SEPARATOR
MAX_KEPT_ISSUES: Final = 1000
# Address books have up to ~90 columns (Outlook); a header far wider is not one.
MAX_COLUMNS: Final = 1000


class Format:
    """Names of the recognised file formats (ImportReport.format)."""

    OWN = "crmcompanion"
    GOOGLE_CLASSIC = "google_classic"
    GOOGLE_2023 = "google_2023"
    OUTLOOK = "outlook"
    SHEET = "sheet"  # a spreadsheet's own headers, recognised by their words (csv_headers)
    MAPPED = "mapped"  # only the caller's mapping was used


@dataclass(frozen=True)
class ImportIssue:
    """One problem: 1-based physical `line`, the `column` header ("" for the whole row)."""

    line: int
    column: str
    reason: str
    code: str
    # The line its record starts on, when a cell's line differs from it (not compared: where a
    # problem is, and why, make it).
    row: int = field(default=0, compare=False)


class CsvImportError(DomainError):
    """The file cannot be imported as it is; `issues` says where and why."""

    def __init__(self, issues: tuple[ImportIssue, ...]) -> None:
        self.issues = issues
        first = issues[0] if issues else None
        message = (f"line {first.line}, {import_text.printable(first.column or 'row')}: "
                   f"{import_text.printable(first.reason, 500)}" if first
                   else "the file cannot be imported")
        super().__init__(message)


class _T(NamedTuple):
    """Where a column goes: a scalar field (slot == "") or a part of a numbered group."""

    group: str
    slot: str = ""
    part: str = ""
    label: str = ""  # default label; non-empty marks a foreign format (labels normalised)

    def describe(self) -> str:
        if not self.slot:
            return self.group
        return f"{self.group} {self.slot} {self.part}".strip()


@dataclass(frozen=True)
class ImportReport:
    """What `inspect_csv` found. Import only when `ok`; show `issues` otherwise."""

    path: str
    encoding: str
    delimiter: str
    format: str
    headers: tuple[str, ...]
    mapped_columns: tuple[tuple[str, str], ...]  # (header, target) for each used column
    ignored_headers: tuple[str, ...]  # unknown headers, ignored
    date_order: DateOrder | None
    date_order_ambiguous: bool
    row_count: int
    issues: tuple[ImportIssue, ...]
    issue_count: int  # all issues, even beyond the MAX_KEPT_ISSUES kept in `issues`
    default_region: str
    header_line: int = 1
    # (size, mtime_ns) of the file when it was read: a report of an unchanged file can be
    # imported without reading it twice more (see `file_unchanged`).
    file_stamp: tuple[int, int] = (-1, -1)
    # (header, "email" or "phone") of ignored columns whose cells look like emails or phone
    # numbers: data the import would leave behind, worth a loud warning.
    suspicious_columns: tuple[tuple[str, str], ...] = ()
    _targets: tuple[_T | None, ...] = field(default=(), repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.issue_count == 0


class ParsedRow(NamedTuple):
    """One customer read from the file (not yet validated), with the line it starts on."""

    line: int
    values: CustomerValues
    # True when a slash date of the row was read day-first only because the file's day/month
    # order was not known yet (see `inspect_csv`): read it again once the order is known.
    provisional: bool = False
    # The app's own export's "Last contact" (UTC, as stored): the import logs it as a
    # conversation so that keep-in-touch starts where it was.
    last_contact: datetime | None = None

    @property
    def draft(self) -> CustomerDraft:
        return draft_of(self.values)

    # The keys a caller matches duplicates on, computed on demand.
    @property
    def emails(self) -> tuple[str, ...]:
        """Lowercased, stripped."""
        return tuple(dict.fromkeys(e[0].strip().lower() for e in self.values.emails))

    @property
    def phones(self) -> tuple[str, ...]:
        """E.164, only the numbers that parse as valid."""
        return tuple(dict.fromkeys(p[0] for p in self.values.phones
                                   if p[0].startswith("+") and p[0][1:].isdigit()))

    @property
    def source_uid(self) -> str:
        return self.values.source_uid


# --- header tables ---------------------------------------------------------------------------

_SCALARS: Final = frozenset({
    "first_name", "middle_name", "last_name", "display_name", "full_name", "company", "notes",
    "source_uid", "status", "kind", "key_account", "preferred_channel", "birthday",
    "wedding_anniversary", "customer_since", "tags", "google_labels", "categories",
    "special_dates", "last_contact",
})
_ADDRESS_PARTS: Final = ("street", "city", "region", "postcode", "country")

_OWN_TARGETS: Final[dict[str, _T]] = {}
for _key, _header in OWN_COLUMNS:
    if _key in ("emails", "email_labels"):
        _OWN_TARGETS[_header.lower()] = _T("email", "own", "value" if _key == "emails" else "label")
    elif _key in ("phones", "phone_labels"):
        _OWN_TARGETS[_header.lower()] = _T("phone", "own", "value" if _key == "phones" else "label")
    elif _key in _ADDRESS_PARTS:
        _OWN_TARGETS[_header.lower()] = _T("address", "own", _key)
    else:
        _OWN_TARGETS[_header.lower()] = _T(_key)

_GOOGLE_ADDRESS_PARTS: Final = {
    "street": "street", "city": "city", "region": "region", "postal code": "postcode",
    "country": "country", "po box": "pobox", "extended address": "extended",
    "type": "label", "label": "label",
}
_GOOGLE_SLOTTED: Final = re.compile(r"(e-mail|phone|address|event|organization) (\d+) - (.+)")
_GOOGLE_GROUPS: Final = {"e-mail": "email", "phone": "phone", "address": "address",
                         "event": "event"}
_GOOGLE_DEFAULT_LABEL: Final = {"email": "other", "phone": "other", "address": "other",
                                "event": "custom"}

_GOOGLE_CLASSIC_SCALARS: Final = {
    "name": _T("full_name"), "given name": _T("first_name"), "additional name": _T("middle_name"),
    "family name": _T("last_name"), "birthday": _T("birthday"), "notes": _T("notes"),
    "group membership": _T("google_labels"),
}
_GOOGLE_2023_SCALARS: Final = {
    "first name": _T("first_name"), "middle name": _T("middle_name"),
    "last name": _T("last_name"), "organization name": _T("company"),
    "birthday": _T("birthday"), "notes": _T("notes"), "labels": _T("google_labels"),
}


def _google_target(header: str, scalars: Mapping[str, _T], label_word: str) -> _T | None:
    if header in scalars:
        return scalars[header]
    m = _GOOGLE_SLOTTED.fullmatch(header)
    if not m:
        return None
    kind, slot, part = m[1], m[2], m[3]
    if kind == "organization":
        return _T("company") if slot == "1" and part == "name" else None
    group = _GOOGLE_GROUPS[kind]
    if group == "address":
        mapped = _GOOGLE_ADDRESS_PARTS.get(part)
        if mapped is None or (mapped == "label" and part != label_word):
            return None
        return _T("address", slot, mapped, "other")
    if part == label_word:
        return _T(group, slot, "label", _GOOGLE_DEFAULT_LABEL[group])
    if part == "value":
        return _T(group, slot, "value", _GOOGLE_DEFAULT_LABEL[group])
    return None


def _outlook_table() -> dict[str, _T]:
    table: dict[str, _T] = {
        "first name": _T("first_name"), "middle name": _T("middle_name"),
        "last name": _T("last_name"), "company": _T("company"), "birthday": _T("birthday"),
        "anniversary": _T("wedding_anniversary"), "categories": _T("categories"),
        "notes": _T("notes"),
        "e-mail address": _T("email", "1", "value", "home"),
        "e-mail 2 address": _T("email", "2", "value", "home"),
        "e-mail 3 address": _T("email", "3", "value", "home"),
    }
    phones = {"mobile phone": "mobile", "home phone": "home", "home phone 2": "home",
              "business phone": "work", "business phone 2": "work",
              "company main phone": "work", "primary phone": "main", "other phone": "other",
              "car phone": "car", "pager": "pager"}
    for i, (header, label) in enumerate(phones.items()):
        table[header] = _T("phone", str(i), "value", label)
    # The first address group with any part filled in becomes the customer's address.
    for slot, prefix in (("1", "home"), ("2", "business"), ("3", "other")):
        table[f"{prefix} street"] = _T("address", slot, "street", prefix)
        table[f"{prefix} street 2"] = _T("address", slot, "street2", prefix)
        table[f"{prefix} street 3"] = _T("address", slot, "street3", prefix)
        table[f"{prefix} city"] = _T("address", slot, "city", prefix)
        table[f"{prefix} state"] = _T("address", slot, "region", prefix)
        table[f"{prefix} postal code"] = _T("address", slot, "postcode", prefix)
        table[f"{prefix} country/region"] = _T("address", slot, "country", prefix)
    return table


_OUTLOOK_TARGETS: Final = _outlook_table()


def _resolve_header(fmt: str, header: str) -> _T | None:
    if fmt == Format.OWN:
        return _OWN_TARGETS.get(header)
    if fmt == Format.GOOGLE_CLASSIC:
        return _google_target(header, _GOOGLE_CLASSIC_SCALARS, "type")
    if fmt == Format.GOOGLE_2023:
        return _google_target(header, _GOOGLE_2023_SCALARS, "label")
    if fmt == Format.OUTLOOK:
        return _OUTLOOK_TARGETS.get(header)
    return None


_FORMATS: Final = (Format.OWN, Format.GOOGLE_2023, Format.GOOGLE_CLASSIC, Format.OUTLOOK)

MAPPING_FIELDS: Final = frozenset(csv_headers.MAPPING_FIELDS)



def _mapping_target(index: int, spec: str | None) -> _T | None:
    """A caller's field name: a scalar, an address part, or "email"/"phone" (":label")."""
    if spec is None or spec == "ignore":
        return None
    name, _, label = spec.partition(":")
    if name not in MAPPING_FIELDS or (label and name not in ("email", "phone")):
        raise ValueError(f"unknown import field {spec!r}; use one of {sorted(MAPPING_FIELDS)}")
    if name in ("email", "phone"):
        return _T(name, f"m{index}", "value", label or ("home" if name == "email" else "mobile"))
    if name in _ADDRESS_PARTS:
        return _T("address", "m", name, "other")
    return _T(name)


# Headers only the app's own export writes: a file is the app's own only with one of them (and
# mostly its headers), so "First Name, Company, Notes, E-mail Address" is never announced as
# the app's own export.
_OWN_ONLY: Final = frozenset(h.lower() for k, h in OWN_COLUMNS if k in (
    "emails", "email_labels", "phones", "phone_labels", "display_name", "key_account",
    "preferred_channel", "special_dates", "customer_since", "last_contact", "source_uid",
    "wedding_anniversary"))
# Headers any spreadsheet may have: no evidence of a Google or Outlook export.
_COMMON_HEADERS: Final = frozenset(("name", "first name", "last name", "middle name", "company",
                                    "birthday", "notes", "categories", "anniversary", "labels"))
# Own columns a spreadsheet's header is not trusted with: their cells must be the app's
# words ("active", "yes"...), which another sheet's "Status" column is not.
_OWN_STRICT: Final = frozenset(("status", "kind", "key_account", "preferred_channel",
                                "last_contact", "source_uid"))


def _detect_format(headers: list[str]) -> tuple[str, int]:
    """The format whose headers these are, and how many of them it knows: the app's own, a
    Google or Outlook export (by headers only they write), else a spreadsheet (SHEET)."""
    filled = [h for h in headers if h]
    own = sum(1 for h in filled if h in _OWN_TARGETS)
    if own >= 2 and 3 * own >= 2 * len(filled) and any(h in _OWN_ONLY for h in filled):
        return Format.OWN, own
    best, best_score = Format.SHEET, 0
    for fmt in _FORMATS[1:]:
        score = sum(1 for h in filled
                    if h not in _COMMON_HEADERS and _resolve_header(fmt, h) is not None)
        if score > best_score:
            best, best_score = fmt, score
    return best, best_score


def _sheet_targets(headers: list[str], known: list[_T | None]) -> list[_T | None]:
    """Targets for the headers `known` leaves out, recognised by their words in any of the
    seven languages (`csv_headers.recognise`), the ambiguous name words settled by the other
    columns; each email or phone column is a group of its own."""
    fields = [None if t is not None else csv_headers.recognise(h)
              for h, t in zip(headers, known, strict=True)]
    present = [csv_headers.Field(t.group) if t is not None and not t.slot else f
               for t, f in zip(known, fields, strict=True)]
    settled = csv_headers.settle_names(present)
    out: list[_T | None] = []
    for index, (header, target, word) in enumerate(zip(headers, known, settled, strict=True)):
        if target is not None or word is None:
            own = _OWN_TARGETS.get(header.lower()) if target is None else None
            out.append(target if own is None or own.group in _OWN_STRICT else own)
        elif word.name in ("email", "phone"):
            out.append(_T(word.name, f"g{index}", "value", word.label))
        elif word.name in csv_headers.ADDRESS_PARTS:
            out.append(_T("address", "g", word.name, "other"))
        else:
            out.append(_T(word.name))
    return out


# --- bytes and text ----------------------------------------------------------------------------

def detect_encoding(path: str | os.PathLike[str]) -> str:
    """utf-8-sig / utf-16 by BOM, utf-16-le/be by NUL bytes, utf-8 if it decodes, UTF-8 with
    its few invalid bytes refused row by row, else a legacy encoding (see `import_text`);
    raises EncodingProblem when the encoding cannot be told safely."""
    return import_text.detect_encoding(path)


def detect_delimiter(first_line: str) -> str:
    """The most frequent of comma, semicolon and tab outside quotes in the header line."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _open_text(path: str | os.PathLike[str], encoding: str) -> TextIO:
    codec, errors = import_text.codec_of(encoding)
    return open(path, encoding=codec, errors=errors, newline="")


class _Record(NamedTuple):
    line: int  # physical line where the record starts
    last_line: int  # physical line where it ends
    cells: list[str] | None  # None when the csv parser failed on it
    error: str


def _records(stream: TextIO, delimiter: str) -> Iterator[_Record]:
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    consumed = 0
    while True:
        start = consumed + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            consumed = reader.line_num
            yield _Record(start, consumed, None, _csv_error(exc))
            continue
        consumed = reader.line_num
        # Blank lines come back as [] and count as lines; skip them.
        if cells:
            yield _Record(start, consumed, cells, "")


def _csv_error(exc: csv.Error) -> str:
    """The csv module's message, said for a user."""
    message = str(exc)
    if message.startswith("field larger than field limit"):
        return f"a cell is too large (more than {csv.field_size_limit():,} characters)"
    return message


def _newlines(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


# --- values ------------------------------------------------------------------------------------

_BAD_BYTE: Final = re.compile("[\udc80-\udcff]")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_YES: Final = frozenset({"yes", "true", "1", "y", "x"})
_NO: Final = frozenset({"no", "false", "0", "n", ""})


class _CellError(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


_MISSING: Final = object()
_DATE_CACHE_LIMIT: Final = 100_000  # distinct date texts remembered per file


def _date_cell(text: str) -> PartialDate | SlashDate | DateProblem | None:
    """parse_date_cell, with a problem returned (not raised) so that it can be remembered."""
    try:
        return parse_date_cell(text)
    except DateProblem as exc:
        return exc


class _DateContext:
    """The file's day/month order: fixed by the caller, or settled by the first value that
    proves it; later values that prove the other order are errors."""

    def __init__(self, order: DateOrder | None) -> None:
        self.order = order
        self.first_ambiguous: tuple[int, str] | None = None
        # True once the first ambiguous value was met, until the caller has put its place
        # into `first_ambiguous` (only the caller knows the line and column).
        self.ambiguous_pending = False
        self.provisional = False  # a value was resolved day-first for now (reset per row)
        # Birthdays and "customer since" dates repeat across a file; the values are frozen.
        # A text remembered as a PartialDate is a trimmed, unquoted date cell, so `_RowParser`
        # takes it from here without trimming (`_known_date`).
        self.cells: dict[str, PartialDate | SlashDate | DateProblem | None] = {}

    def parse(self, text: str) -> PartialDate | None:
        value = self.cells.get(text, _MISSING)
        if value is _MISSING:
            value = _date_cell(text)
            if len(self.cells) < _DATE_CACHE_LIMIT:
                self.cells[text] = value  # type: ignore[assignment]
        if value is None or type(value) is PartialDate:
            return value  # type: ignore[return-value]
        if isinstance(value, DateProblem):
            raise DateProblem(value.code, value.reason)  # a fresh one: no shared traceback
        assert isinstance(value, SlashDate)
        evidence = value.evidence()
        if self.order is None:
            if evidence is not None:
                self.order = evidence
            else:
                if self.first_ambiguous is None:
                    self.ambiguous_pending = True
                self.provisional = True
                return value.resolve(DateOrder.DMY)  # provisional: pass 1 only checks
        resolved = value.resolve(self.order)
        # The order never changes once known: later rows take the date as it reads now
        # (an Outlook file's m/d/yyyy birthdays repeat; resolving costs ~10 µs each time).
        self.cells[text] = resolved
        return resolved


def _label(text: str, default: str) -> str:
    """Foreign formats (default non-empty): Google's "* Home" -> "home"; own labels as-is."""
    if not default:
        return text
    found = _LABELS.get((text, default))
    if found is None:
        found = text.strip().removeprefix("* ").strip().lower() or default
        if len(_LABELS) < 4096:  # a file spells its labels a few ways
            _LABELS[(text, default)] = found
    return found


_LABELS: dict[tuple[str, str], str] = {}


_CHOICES: Final[dict[type, frozenset[str]]] = {
    enum: frozenset(m.value for m in enum) for enum in (Status, Kind, Channel)}


def _choice(value: str, enum: type[Status] | type[Kind] | type[Channel], name: str) -> str:
    folded = value.strip().lower().replace(" ", "_").replace("-", "_")
    valid = _CHOICES[enum]  # built once: this runs for three cells of every row
    if folded not in valid:
        raise _CellError("bad_value", f"“{value}” is not a {name} ({', '.join(sorted(valid))})")
    return folded


_ENUM_CELLS: Final = (("status", Status, "status"), ("kind", Kind, "kind"),
                      ("preferred_channel", Channel, "channel"))
_MEMBERS: dict[tuple[type, str], Status | Kind | Channel] = {}


def _member(value: str, enum: type[Status] | type[Kind] | type[Channel],
            name: str) -> Status | Kind | Channel:
    """`enum(_choice(value, ...))`, remembered per cell text (a file spells them a few ways)."""
    key = (enum, value)
    found = _MEMBERS.get(key)
    if found is None:
        found = enum(_choice(value, enum, name))
        if len(_MEMBERS) < 4096:
            _MEMBERS[key] = found
    return found


# --- phone numbers ------------------------------------------------------------------------------
# phonenumbers' parse + is_valid_number cost ~80 µs a number: 8 s for 100,000 rows. Two short
# cuts give exactly the same answers (tests/core/test_csv_phone_fast_path.py compares them):
# - A number typed as "+" and digits comes back from parse + format(E164) unchanged, whether it
#   is valid or not, unless its digits after the country code start with the country's national
#   prefix (parse strips that, e.g. "+49030..."); only those take the slow path.
# - Everything else is cached by (text, region): address books repeat switchboard numbers.

_NO_PREFIX: Final = re.compile(r"(?!)")  # matches nothing: the country has no national prefix


@lru_cache(maxsize=512)
def _national_prefix(country_code: int) -> re.Pattern[str]:
    """The national-prefix pattern parse() strips for this country code (looked up once)."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        country_code, region)
    pattern = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(pattern) if pattern else _NO_PREFIX


# What a number's first three digits after "+" decide, looked up once per distinct three
# (a file's numbers share a few country codes): the country code's length, the `match` of
# its national-prefix pattern and its validity check (`_validator`); None when parse refuses
# such numbers (see plus_number_unchanged). One dictionary lookup per number, where the
# country code was cut, converted and looked up again in `_validator`'s cache every time.
_Head = tuple[int, Callable[[str], "re.Match[str] | None"], Callable[[str], bool]]
_COUNTRY_HEADS: dict[str, _Head | None] = {}


def plus_number_unchanged(digits_after_plus: str) -> bool:
    """True when parse + format(E164) of "+" + these digits gives them back as typed, or parse
    refuses them (unknown country code): either way the importer keeps the text as typed."""
    if len(digits_after_plus) > 3:  # then only the first three digits decide the country
        head = _known_head(digits_after_plus[:3])
        if head is None:
            return True
        size, prefix, _ = head
        return prefix(digits_after_plus[size:]) is None
    return _plus_number_unchanged_slow(digits_after_plus)


def _known_head(first_three: str) -> _Head | None:
    """`_country_head`, remembered in _COUNTRY_HEADS."""
    head = _COUNTRY_HEADS.get(first_three, _MISSING)
    if head is _MISSING:
        head = _country_head(first_three)
        if len(_COUNTRY_HEADS) < 4096:
            _COUNTRY_HEADS[first_three] = head  # type: ignore[assignment]
    return head  # type: ignore[return-value]


def _country_head(first_three: str) -> _Head | None:
    """(country code length, its national-prefix pattern's `match`, its validity check) for
    a number starting with these three digits (and more), or None when parse refuses it."""
    for size in (1, 2, 3):
        head = first_three[:size]
        if head[0] == "0":
            return None
        code = int(head)
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return size, _national_prefix(code).match, _validator(code)
    return None


def _plus_number_unchanged_slow(digits_after_plus: str) -> bool:
    for size in (1, 2, 3):  # phonenumbers' country-code extraction: the shortest known prefix
        if size >= len(digits_after_plus):
            return False
        head = digits_after_plus[:size]
        if head[0] == "0":
            return True  # no country code starts with 0: parse refuses, the text is kept
        code = int(head)
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return _national_prefix(code).match(digits_after_plus[size:]) is None
    return True  # no known country code: parse refuses, the text is kept


@lru_cache(maxsize=65536)
def _import_phone_slow(typed: str, region: str | None) -> str:
    if import_text.phone_problem(typed) is not None:
        return typed  # phonenumbers would read "ABC" as 222: the sanitising step refuses it
    try:
        parsed = phonenumbers.parse(typed, region)
    except phonenumbers.NumberParseException:
        return typed
    if not phonenumbers.is_valid_number(parsed):
        return typed
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def import_phone(typed: str, region: str | None) -> str:
    """The number as the importer keeps it: E.164 when phonenumbers finds it valid for
    `region`, else the text as typed (one odd number must not refuse a whole file)."""
    if typed[:1] == "+":
        # "+" and digits (isdecimal: what \d matches)
        if len(typed) > 3 and typed[1:].isdecimal() and plus_number_unchanged(typed[1:]):
            return typed
        found = _formatted_plus_number(typed)
        if found is not None:
            return found
    return _import_phone_slow(typed, region)


# A third short cut, for the way address books write international numbers: "+" and ASCII
# digits spaced, dashed, dotted or bracketed ("+33 6 10 01 23 45", "+1 (555) 010-0199").
# parse() reads such a text as its digits alone (its only letters-free, extension-free
# shape), so the answer is "+digits" when that number is valid, else the text as typed; the
# validity check is phonenumbers' own (`is_valid_number`), replayed on its metadata with the
# patterns compiled once per country code (~2 µs a number instead of ~80 µs for parse +
# is_valid_number). tests/core/test_csv_phone_fast_path.py compares it with phonenumbers.
_TYPE_DESCS: Final = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
                      "pager", "uan", "voicemail", "fixed_line", "mobile")


def _formatted_plus_number(typed: str) -> str | None:
    """E.164 or the typed text for a formatted "+" number, or None when it is not one this
    short cut is sure about (then the slow path decides)."""
    # Five replace() calls: ~3x quicker than translate() with a deletion table on these
    # short strings (translate looks every character up in a dictionary).
    digits = typed.replace(" ", "").replace("-", "").replace(".", "").replace(
        "(", "").replace(")", "")[1:]
    # Only "+", ASCII digits and the formatting characters (a regular expression costs more).
    if not (digits.isascii() and digits.isdecimal()
            and 4 <= len(digits) <= import_text.MAX_PHONE_DIGITS):
        return None
    head = _COUNTRY_HEADS.get(digits[:3]) or _known_head(digits[:3])
    if head is None:
        return None  # no known country code: the slow path says what parse says
    size, prefix, valid = head
    national = digits[size:]
    if len(national) < 2 or prefix(national) is not None:
        return None  # parse may strip a national prefix here: the slow path decides
    return "+" + digits if valid(national) else typed


_NEVER: Final = re.compile(r"(?!)")


def _desc_test(desc: Any) -> tuple[frozenset[int] | None, str] | None:
    """(possible lengths or None for any, national number pattern) of a PhoneNumberDesc, or
    None when it can match nothing (as phonenumbers' `_is_number_matching_desc`)."""
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = frozenset(desc.possible_length) if desc.possible_length else None
    return lengths, desc.national_number_pattern


def _type_check(country_code: int, region: str) -> Callable[[str], bool]:
    """`_number_type_helper(nsn, metadata) != UNKNOWN` for one region: the general pattern,
    then any type's pattern, in one regular expression per number length."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        country_code, region.upper())
    if metadata is None:
        return lambda _nsn: False
    general = _desc_test(metadata.general_desc)
    if general is None:
        return lambda _nsn: False
    general_lengths, general_pattern = general
    names = [n for n in _TYPE_DESCS
             if not (n == "mobile" and metadata.same_mobile_and_fixed_line_pattern)]
    types = [t for t in (_desc_test(getattr(metadata, n, None)) for n in names)
             if t is not None]
    # One expression per number length, the general pattern as a lookahead (both must match
    # the whole number) and lengths the general description refuses never matching: one
    # regular expression call per number instead of two and a length check.
    by_length: list[Callable[[str], re.Match[str] | None]] = [_NEVER.fullmatch] * 18
    for length in range(2, 18):
        patterns = [p for lengths, p in types if lengths is None or length in lengths]
        if patterns and (general_lengths is None or length in general_lengths):
            by_length[length] = re.compile(
                f"(?=(?:{general_pattern})\\Z)(?:" + "|".join(f"(?:{p})" for p in patterns)
                + ")").fullmatch
    last = len(by_length) - 1

    def valid(nsn: str) -> bool:
        length = len(nsn)
        return length <= last and by_length[length](nsn) is not None

    return valid


@lru_cache(maxsize=512)
def _validator(country_code: int) -> Callable[[str], bool]:
    """phonenumbers' `is_valid_number` for a number of this country code, given its national
    significant number: the region it belongs to (leading digits, else the first region it is
    valid in), then that region's type check."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return lambda _nsn: False
    if len(regions) == 1:
        return _type_check(country_code, regions[0])
    checks: list[tuple[re.Pattern[str] | None, Callable[[str], bool]]] = []
    for region in regions:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        lead = re.compile(metadata.leading_digits) if metadata.leading_digits is not None \
            else None
        checks.append((lead, _type_check(country_code, region)))

    def valid(nsn: str) -> bool:
        for lead, check in checks:
            if lead is not None:
                if lead.match(nsn):
                    return check(nsn)
            elif check(nsn):
                return True
        return False

    return valid


# Slots of the scalar fields in a row's list of raw cells (`_RowParser.parse`).
_SLOTS: Final = ("first_name", "middle_name", "last_name", "display_name", "full_name",
                 "company", "notes", "source_uid", "status", "kind", "key_account",
                 "preferred_channel", "birthday", "wedding_anniversary", "customer_since",
                 "tags", "google_labels", "categories", "special_dates", "last_contact")
(_FIRST, _MIDDLE, _LAST, _DISPLAY, _FULL, _COMPANY, _NOTES, _UID, _STATUS, _KIND, _KEY, _CHANNEL,
 _BIRTHDAY, _WEDDING, _SINCE, _TAGS, _GOOGLE_LABELS, _CATEGORIES, _SPECIALS,
 _LAST_CONTACT) = range(len(_SLOTS))
# The slots holding a choice of an enum, with the enum and the field's name for messages.
_ENUM_OF_SLOT: Final = {_STATUS: (Status, "status"), _KIND: (Kind, "kind"),
                        _CHANNEL: (Channel, "channel")}
_MAX_REMEMBERED_MEMBERS: Final = 1024  # distinct cell texts per field and file
_ADDRESS_ORDER: Final = ("street", "city", "region", "postcode", "country", "street2", "street3",
                         "extended", "pobox")


def _text(cell: str) -> str:
    """A scalar cell's value: trimmed, and the export's neutralisation quote removed."""
    value = cell.strip()
    # Only a cell starting with ' can carry the export's neutralisation quote.
    return strip_neutralisation(value) if value[:1] == "'" else value


class _Group(NamedTuple):
    """A numbered group of columns (an email, a phone, an address, an event) of one file.
    Each part lists its columns (usually one; when several, the last filled one counts)."""

    group: str
    value: tuple[int, ...]
    label: tuple[int, ...]
    default: str  # the default label (non-empty: a foreign format)
    address: tuple[tuple[int, ...], ...]  # the address parts' columns, in _ADDRESS_ORDER


def _last_filled(cells: list[str], columns: tuple[int, ...]) -> tuple[int, str]:
    """(column, cell) of the last non-empty cell of these columns, or (-1, "")."""
    found = (-1, "")
    for index in columns:
        cell = cells[index]
        if cell:
            found = (index, cell)
    return found


class _RowParser:
    """Turns the cells of one record into CustomerValues, or cell errors.

    Compiled once per file from the header mapping, so a row is read by walking short lists of
    column numbers: headerless columns (a value there is an issue), scalar fields mapped by one
    column or by several (the first non-blank wins) into fixed slots, and the numbered groups
    in the order their first filled column comes in the row.
    """

    def __init__(self, targets: tuple[_T | None, ...], headers: list[str],
                 dates: _DateContext, default_region: str, normalise_phones: bool,
                 check_bytes: bool = False) -> None:
        self.targets = targets
        # A UTF-8 file with a few invalid bytes (kept as lone surrogates): the mapped cells
        # holding one refuse their row (see import_text).
        self._check_bytes = [i for i, t in enumerate(targets) if t is not None] \
            if check_bytes else []
        self.headers = headers
        self.dates = dates
        self.region = default_region.upper() or None
        self.normalise_phones = normalise_phones
        self.width = len(targets)
        columns: dict[str, list[int]] = {}
        for i, t in enumerate(targets):
            if t is not None and not t.slot:
                columns.setdefault(t.group, []).append(i)
        self._headerless = [i for i, t in enumerate(targets)
                            if t is None and not headers[i].strip()]
        self._single = [(slot, columns[name][0]) for slot, name in enumerate(_SLOTS)
                        if len(columns.get(name, ())) == 1]
        self._multi = [(slot, tuple(columns[name])) for slot, name in enumerate(_SLOTS)
                       if len(columns.get(name, ())) > 1]
        self._where = [-1] * len(_SLOTS)  # the column of each single slot
        for slot, index in self._single:
            self._where[slot] = index
        # All slots' cells at once (C speed); a missing slot reads the blank cell `parse`
        # appends after the row's last one.
        self._pick = itemgetter(*(self.width if i < 0 else i for i in self._where))
        parts: dict[tuple[str, str], dict[str, tuple[int, ...]]] = {}
        defaults: dict[tuple[str, str], str] = {}
        self._part_keys: list[tuple[int, tuple[str, str]]] = []
        for i, t in enumerate(targets):
            if t is not None and t.slot:
                key = (t.group, t.slot)
                found = parts.setdefault(key, {})
                found[t.part] = (*found.get(t.part, ()), i)
                defaults[key] = t.label
                self._part_keys.append((i, key))
        self._groups = {
            key: _Group(key[0], found.get("value", ()), found.get("label", ()), defaults[key],
                        tuple(found.get(p, ()) for p in _ADDRESS_ORDER))
            for key, found in parts.items()
        }
        # Address parts mapped by one column each (all but odd mappings) are read at once.
        self._address_pick = {
            key: itemgetter(*(c[0] if c else self.width for c in g.address))
            for key, g in self._groups.items()
            if g.group == "address" and all(len(c) <= 1 for c in g.address)
        }
        # Groups are read in the order their first filled column comes, which matters only
        # among groups of one kind (two email groups: whose address is first). When no kind
        # has two groups, any fixed order reads the same: no ordering per row. Nor when no
        # group's columns come between another's first and last (Google's "Phone 1 - Type",
        # "Phone 1 - Value", "Phone 2 - Type"...; Outlook's one column per phone): then the
        # first filled column of a group comes before every column of the groups after it,
        # so every row reads them in column order (~0.1 s of 100,000 rows less).
        kinds = [group for group, _ in self._groups]
        spans = sorted((min(cols), max(cols)) for cols in (
            [i for part in found.values() for i in part] for found in parts.values()))
        apart = all(end < start for (_, end), (start, _) in pairwise(spans))
        self._fixed_order = tuple(self._groups) if apart or len(set(kinds)) == len(kinds) \
            else None
        # A sheet's phone columns ("Telefon", "Mobil"): the mobile number first.
        self._mobile_first = sum(1 for t in targets if t is not None and t.group == "phone"
                                 and t.slot.startswith("g")) > 1
        # Per status, kind and channel: the member each cell text named (see `_member_of`).
        self._members: dict[int, dict[str, Any]] = {slot: {} for slot in _ENUM_OF_SLOT}

    def column_name(self, index: int) -> str:
        header = self.headers[index] if index < len(self.headers) else ""
        return header or f"column {index + 1}"

    def _issue(self, line: int, cells: list[str], multiline: bool, index: int, code: str,
               reason: str) -> ImportIssue:
        # Counting newlines is only needed when the record spans several lines.
        if index > 0 and multiline:
            at = line + sum(_newlines(c) for c in cells[:index])
            return ImportIssue(at, self.column_name(index), reason, code, line)
        return ImportIssue(line, self.column_name(index), reason, code)

    def _date(self, text: str, line: int, cells: list[str], multiline: bool, index: int,
              issues: list[ImportIssue]) -> PartialDate | None:
        dates = self.dates
        try:
            value = dates.parse(text)
        except DateProblem as exc:
            issues.append(self._issue(line, cells, multiline, index, exc.code, exc.reason))
            return None
        if dates.ambiguous_pending:
            dates.ambiguous_pending = False
            at = self._issue(line, cells, multiline, index, "", "")
            dates.first_ambiguous = (at.line, at.column)
        return value

    def _scalar_date(self, raw: str, line: int, cells: list[str], multiline: bool, index: int,
                     issues: list[ImportIssue]) -> PartialDate | None:
        """A date field's cell (not empty: the caller checks, a call saved per empty one)."""
        return self._date(_text(raw), line, cells, multiline, index, issues)

    def _member_of(self, slot: int, cell: str, line: int, cells: list[str], multiline: bool,
                   index: int, issues: list[ImportIssue]) -> Any:
        """The member a status, kind or channel cell names (then remembered by its text), or
        None for a blank cell or a wrong one (its issue appended)."""
        value = _text(cell)
        if not value:
            return None
        enum, name = _ENUM_OF_SLOT[slot]
        try:
            chosen = _member(value, enum, name)
        except _CellError as exc:
            issues.append(self._issue(line, cells, multiline, index, exc.code, exc.reason))
            return None
        known = self._members[slot]
        if len(known) < _MAX_REMEMBERED_MEMBERS:
            known[cell] = chosen  # type: ignore[assignment]
        return chosen

    def parse(self, line: int, cells: list[str], multiline: bool = True
              ) -> tuple[ParsedRow | None, list[ImportIssue]]:
        """`multiline`: False when the record is known to sit on one physical line."""
        self.dates.provisional = False
        if len(cells) != self.width:
            return None, [ImportIssue(
                line, "", f"expected {self.width} cells, found {len(cells)}", "column_count")]
        issues: list[ImportIssue] = []
        for index in self._check_bytes:
            found = _BAD_BYTE.search(cells[index])
            if found is not None:
                issues.append(self._issue(
                    line, cells, multiline, index, "invalid_byte",
                    f"the byte 0x{ord(found.group()) - 0xdc00:02X} is not UTF-8 (the rest of "
                    "the file is): fix or retype this cell"))
        if issues:
            return None, issues
        for index in self._headerless:
            if cells[index].strip():
                issues.append(self._issue(line, cells, multiline, index, "missing_header",
                                          "a value in a column without a header"))
        # Each scalar field's cell ("" when missing or empty), and its column.
        cells.append("")
        raw: list[str] | tuple[str, ...] = self._pick(cells)
        where = self._where
        if self._multi:
            raw = list(raw)
            where = where[:]
            for slot, indices in self._multi:
                chosen, at = "", -1
                for index in indices:
                    cell = cells[index]
                    if cell and not chosen.strip():  # the first non-blank cell wins
                        chosen, at = cell, index
                raw[slot], where[slot] = chosen, at

        first, middle, last, display, full, company = raw[_FIRST:_COMPANY + 1]
        first = _text(first) if first else ""
        if middle:
            middle = _text(middle)
            if middle:
                first = f"{first} {middle}" if first else middle
        last = _text(last) if last else ""
        display = _text(display) if display else ""
        full = _text(full) if full else ""
        if full and not first and not last:
            # A sheet's one name column ("Name", "Nom complet"): first and last name.
            first, last = csv_headers.split_name(full)
        elif full and not display and full != (f"{first} {last}" if first and last
                                               else first or last):
            display = full
        company = _text(company) if company else ""

        emails: list[EmailValues] = []
        phones: list[PhoneValues] = []
        address = EMPTY_ADDRESS
        specials_custom: list[SpecialValues] = []
        anniversary: PartialDate | None = None
        if self._fixed_order is not None:
            order: Iterable[tuple[str, str]] = self._fixed_order
        else:
            # Groups in the order their first filled column comes (as the file reads).
            seen: dict[tuple[str, str], None] = {}
            for index, key in self._part_keys:
                if key not in seen and cells[index]:
                    seen[key] = None
            order = seen
        for key in order:
            g = self._groups[key]
            group, default = g.group, g.default
            if group == "address":
                if address is EMPTY_ADDRESS or not any(address):
                    pick = self._address_pick.get(key)
                    parts = pick(cells) if pick is not None else \
                        [_last_filled(cells, c)[1] for c in g.address]
                    if any(parts):  # (a fixed order also meets groups with nothing filled)
                        address = _address(parts, bool(default))
                continue
            if len(g.value) == 1:
                index = g.value[0]
                value_cell = cells[index]
            else:
                index, value_cell = _last_filled(cells, g.value)
            if not value_cell:
                continue
            label_cell = cells[g.label[0]] if len(g.label) == 1 else \
                _last_filled(cells, g.label)[1]
            labels = strip_neutralisation(label_cell).split(SEP) if label_cell else []
            for i, item in enumerate(strip_neutralisation(value_cell).split(SEP)):
                item = item.strip()
                if not item:
                    continue
                label = labels[i] if i < len(labels) else (
                    labels[0] if labels and default else "")
                if default:
                    label = _label(label, default)
                if group == "email":
                    if not _EMAIL.fullmatch(item):
                        issues.append(self._issue(line, cells, multiline, index,
                                                  "invalid_email",
                                                  f"“{item}” is not an email address"))
                    emails.append((item, label))
                elif group == "phone":
                    phones.append((import_phone(item, self.region) if self.normalise_phones
                                   else item, label))
                else:
                    when = self._date(item, line, cells, multiline, index, issues)
                    if when is None:
                        continue
                    raw_label = labels[i] if i < len(labels) else ""
                    if raw_label.strip().removeprefix("* ").lower() == "anniversary":
                        anniversary = anniversary or when
                    else:
                        specials_custom.append((SpecialDateKind.CUSTOM, when.month, when.day,
                                                when.year, raw_label.strip().removeprefix("* ")))

        # Most date cells repeat one read before: a cell remembered as a PartialDate is one
        # (no trimming, no call); anything else takes the full path.
        known = self.dates.cells
        birthday = known.get(raw[_BIRTHDAY])
        if type(birthday) is not PartialDate:
            birthday = self._scalar_date(raw[_BIRTHDAY], line, cells, multiline,
                                         where[_BIRTHDAY], issues) if raw[_BIRTHDAY] else None
        wedding = known.get(raw[_WEDDING])
        if type(wedding) is not PartialDate:
            wedding = self._scalar_date(raw[_WEDDING], line, cells, multiline, where[_WEDDING],
                                        issues) if raw[_WEDDING] else None
        anniversary = wedding or anniversary
        since = known.get(raw[_SINCE])
        if type(since) is not PartialDate:
            since = self._scalar_date(raw[_SINCE], line, cells, multiline, where[_SINCE],
                                      issues) if raw[_SINCE] else None
        if since is not None and since.year is None:
            issues.append(self._issue(line, cells, multiline, where[_SINCE], "bad_date",
                                      "customer since needs a year"))
            since = None

        specials: list[SpecialValues] = []
        if birthday is not None:
            specials.append((SpecialDateKind.BIRTHDAY, birthday.month, birthday.day,
                             birthday.year, ""))
        if anniversary is not None:
            specials.append((SpecialDateKind.WEDDING_ANNIVERSARY, anniversary.month,
                             anniversary.day, anniversary.year, ""))
        if raw[_SPECIALS]:
            # The app's own "YYYY-MM-DD label ::: --MM-DD label" cell of custom dates.
            index = where[_SPECIALS]
            for item in strip_neutralisation(raw[_SPECIALS]).split(SEP):
                if not item.strip():
                    continue
                when_text, _, custom_label = item.partition(" ")
                when = self._date(when_text, line, cells, multiline, index, issues)
                if when is not None:
                    specials.append((SpecialDateKind.CUSTOM, when.month, when.day, when.year,
                                     custom_label))
        specials.extend(specials_custom)

        tags: list[str] = []
        if raw[_TAGS]:
            tags += [t.strip() for t in _text(raw[_TAGS]).split(SEP)]
        if raw[_GOOGLE_LABELS]:
            tags += [t.strip() for t in _text(raw[_GOOGLE_LABELS]).split(SEP)
                     if not t.strip().startswith("* ")]
        if raw[_CATEGORIES]:
            tags += [t.strip() for t in _text(raw[_CATEGORIES]).split(";")]
        if len(tags) > 1:
            tags = list(dict.fromkeys(tags))
        if "" in tags:
            tags.remove("")

        # A file spells its statuses, kinds and channels a few ways: each cell text is looked
        # up as it is (~0.1 s of 100,000 rows less than trimming and matching every one).
        members = self._members
        cell = raw[_STATUS]
        status = (members[_STATUS].get(cell) or self._member_of(
            _STATUS, cell, line, cells, multiline, where[_STATUS], issues)
            if cell else None) or Status.ACTIVE
        cell = raw[_KIND]
        kind = (members[_KIND].get(cell) or self._member_of(
            _KIND, cell, line, cells, multiline, where[_KIND], issues)
            if cell else None) or Kind.EXTERNAL
        cell = raw[_CHANNEL]
        channel = (members[_CHANNEL].get(cell) or self._member_of(
            _CHANNEL, cell, line, cells, multiline, where[_CHANNEL], issues)
            if cell else None)
        key_account = False
        if raw[_KEY]:
            flag = _text(raw[_KEY]).lower()
            if flag in _YES:
                key_account = True
            elif flag not in _NO:
                issues.append(self._issue(line, cells, multiline, where[_KEY], "bad_value",
                                          f"“{flag}” is not yes or no"))

        if not (first or last or display or company or emails or full):
            issues.append(ImportIssue(line, "", "row has no name, company or email", "no_name"))
        contacted = None
        contact = _text(raw[_LAST_CONTACT]) if raw[_LAST_CONTACT] else ""
        if contact:
            contacted = _stamp(contact)
            if contacted is None:
                issues.append(self._issue(
                    line, cells, multiline, where[_LAST_CONTACT], "bad_date",
                    f"“{import_text.printable(contact, 40)}” is not a date and time "
                    "(use YYYY-MM-DD HH:MM)"))
        if self._mobile_first and len(phones) > 1:
            phones.sort(key=_not_mobile)  # stable: the file's order otherwise
        if issues:
            return None, issues
        notes = raw[_NOTES]
        if notes[:1] == "'":
            notes = strip_neutralisation(notes)
        values = CustomerValues(
            first, last, display, company, emails, phones, address, tags, status, kind,
            key_account, channel, since.to_date() if since is not None else None, notes,
            specials, _text(raw[_UID]) if raw[_UID] else "")
        return ParsedRow(line, values, self.dates.provisional, contacted), issues


def _not_mobile(phone: PhoneValues) -> bool:
    return phone[1] != "mobile"


def _stamp(text: str) -> datetime | None:
    """A "Last contact" cell as the export writes it ("2026-11-02 14:30", UTC) or a date
    (noon UTC), as a naive UTC datetime; None when it is neither."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    elif len(text) <= 10:
        when = when.replace(hour=12)
    return when if 1900 <= when.year <= 9999 else None


def _address(cells: Sequence[str], foreign: bool) -> AddressValues:
    """The address of a group's part cells (in _ADDRESS_ORDER)."""
    street, city, region, postcode, country, street2, street3, extended, pobox = cells
    if not (foreign or street2 or street3 or extended or pobox) and "'" not in (
            street[:1], city[:1], region[:1], postcode[:1], country[:1]):
        return (street, city, region, postcode, country)  # the app's own files: as they are
    parts = [strip_neutralisation(c) if c[:1] == "'" else c for c in cells]
    if foreign:
        parts = [p.strip() for p in parts]
    street, city, region, postcode, country, street2, street3, extended, pobox = parts
    if street2 or street3 or extended or pobox:
        street = "\n".join(p for p in (street, street2, street3, extended, pobox) if p)
    return (street, city, region, postcode, country)


BatchHook = Callable[[list[ParsedRow], list[ImportIssue]], None]

# --- the two passes --------------------------------------------------------------------------


@dataclass
class _Plan:
    encoding: str
    delimiter: str
    header_line: int
    headers: list[str]
    format: str
    targets: tuple[_T | None, ...]
    issues: list[ImportIssue]


def _plan(path: str | os.PathLike[str], mapping: Mapping[str, str | None] | None,
          encoding: str | None, delimiter: str | None) -> tuple[_Plan, TextIO,
                                                                 Iterator[_Record]]:
    issues: list[ImportIssue] = []
    try:
        encoding = encoding or detect_encoding(path)
    except import_text.EncodingProblem as exc:
        issues.append(ImportIssue(1, "", str(exc), "encoding"))
        return (_Plan("", delimiter or ",", 1, [], Format.MAPPED, (), issues), io.StringIO(),
                iter(()))
    stream = _open_text(path, encoding)
    try:
        if delimiter is None:
            first_line = stream.readline()
            stream.seek(0)
            delimiter = detect_delimiter(first_line)
        records = _records(stream, delimiter)
        header_record = next(records, None)
    except UnicodeDecodeError as exc:
        stream.close()
        raise CsvImportError((ImportIssue(1, "", f"cannot decode as {encoding}: {exc}",
                                          "encoding"),)) from exc
    if header_record is not None and header_record.cells is not None and \
            len(header_record.cells) > MAX_COLUMNS:
        header_record = header_record._replace(
            cells=None, error=f"the header has {len(header_record.cells):,} columns; at most "
            f"{MAX_COLUMNS:,} can be read")
    if header_record is None or header_record.cells is None:
        reason = "the file is empty" if header_record is None else \
            f"the header cannot be read: {header_record.error}"
        issues.append(ImportIssue(1 if header_record is None else header_record.line, "",
                                  reason, "empty_file" if header_record is None
                                  else "bad_header"))
        return _Plan(encoding, delimiter, 1, [], Format.MAPPED, (), issues), stream, records
    line = header_record.line
    # Headers are echoed in messages: no raw control characters or undecodable bytes.
    headers = [h.strip() for h in header_record.cells]
    if headers:
        headers[0] = headers[0].removeprefix("\ufeff")
    broken = next((i for i, h in enumerate(headers) if _BAD_BYTE.search(h)), None)
    if broken is not None:
        # A header with an invalid byte would be an unknown column, its data left out.
        found = _BAD_BYTE.search(headers[broken])
        assert found is not None
        issues.append(ImportIssue(line, "", f"the header of column {broken + 1} holds the byte "
                                  f"0x{ord(found.group()) - 0xdc00:02X}, which is not UTF-8",
                                  "bad_header"))
        return _Plan(encoding, delimiter, line, [], Format.MAPPED, (), issues), stream, records
    headers = [import_text.printable(h, 500) for h in headers]
    folded = [h.lower() for h in headers]
    fmt, _score = _detect_format(folded)
    seen: set[str] = set()
    targets: list[_T | None] = []
    mapped: set[int] = set()  # columns the caller's mapping decides
    mapping_folded = {k.strip().lower(): v for k, v in (mapping or {}).items()}
    for index, (header, key) in enumerate(zip(headers, folded, strict=True)):
        if key and key in seen:
            issues.append(ImportIssue(line, header, f"the header “{header}” appears twice",
                                      "duplicate_header"))
            targets.append(None)
            mapped.add(index)  # never recognised either
            continue
        seen.add(key)
        if key in mapping_folded:
            targets.append(_mapping_target(index, mapping_folded[key]))
            mapped.add(index)
        elif fmt != Format.SHEET:
            targets.append(_resolve_header(fmt, key))
        else:
            targets.append(None)
    if fmt != Format.OWN:
        # What the format's own table does not know is read by the words of its header.
        words = _sheet_targets(headers, targets)
        targets = [t if i in mapped else words[i] for i, t in enumerate(targets)]
    for key, spec in (mapping or {}).items():
        if key.strip().lower() not in seen and spec not in (None, "ignore"):
            issues.append(ImportIssue(line, key, f"the mapped header “{key}” is not in the file",
                                      "missing_header"))
    recognised = any(t is not None for i, t in enumerate(targets) if i not in mapped)
    if not recognised:
        if not mapping:
            issues.append(ImportIssue(line, "", "the headers match no known format (Google, "
                                      "Outlook, CRM Companion) and no column is named like a "
                                      "name, email or phone; map the columns",
                                      "unknown_format"))
        fmt = Format.MAPPED
    groups = {t.group for t in targets if t is not None}
    identifying = {"first_name", "last_name", "display_name", "full_name", "company", "email"}
    if (fmt != Format.MAPPED or mapping) and not groups & identifying:
        issues.append(ImportIssue(line, "", "no name, company or email column",
                                      "missing_header"))
    plan = _Plan(encoding, delimiter, line, headers, fmt, tuple(targets), issues)
    return plan, stream, records


def file_stamp(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(size, mtime_ns) of the file, (-1, -1) if it cannot be read: a changed stamp means a
    changed file."""
    try:
        info = os.stat(path)
    except OSError:
        return (-1, -1)
    return (info.st_size, info.st_mtime_ns)


def file_unchanged(report: ImportReport) -> bool:
    """True when the file still has the size and modification time `inspect_csv` saw."""
    return report.file_stamp != (-1, -1) and file_stamp(report.path) == report.file_stamp


def inspect_header(path: str | os.PathLike[str], *,
                   mapping: Mapping[str, str | None] | None = None) -> str:
    """The format `inspect_csv` will recognise (a Format value), from the header line only."""
    plan, stream, _ = _plan(path, mapping, None, None)
    stream.close()
    return plan.format


def inspect_csv(path: str | os.PathLike[str], *,
                mapping: Mapping[str, str | None] | None = None,
                date_order: DateOrder | str | None = None,
                default_region: str = "US",
                encoding: str | None = None,
                delimiter: str | None = None,
                on_batch: BatchHook | None = None,
                batch_size: int = 500) -> ImportReport:
    """Pass 1: read the whole file, decide encoding, delimiter, format and date order, and
    collect every issue. Nothing is kept per row, so any file size works.

    `mapping` maps a header to an import field (see MAPPING_FIELDS; "email:work" sets a label;
    None ignores the column); it overrides the recognised format for those headers.

    `on_batch(rows, issues)` lets a preview use this same pass instead of reading the file a
    second time: it is called with every `batch_size` rows that parsed (phones normalised as
    pass 2 does) and the issues of the rows left out before them, exactly the batches
    `iter_parsed_batches(..., skipped=...)` yields. Caveat: while the date order is still
    unsettled, ambiguous slash dates are resolved day-first, so a caller that shows drafts
    re-parses them with `reparse` once the order is known (the issues are the same either
    way: a date with both parts <= 12 is valid in both orders).
    """
    order = DateOrder(date_order) if date_order is not None else None
    stamp = file_stamp(path)  # before reading: a change while reading makes it stale
    plan, stream, records = _plan(path, mapping, encoding, delimiter)
    issues = plan.issues
    issue_count = len(issues)
    rows = 0
    dates = _DateContext(order)
    batch: list[ParsedRow] = []
    skipped: list[ImportIssue] = []
    looks = _Looks(plan.headers, plan.targets, {  # columns the caller chose to leave out
        k.strip().lower() for k, v in (mapping or {}).items() if v in (None, "ignore")})
    with stream:
        if plan.targets:
            parser = _RowParser(plan.targets, plan.headers, dates, default_region,
                                normalise_phones=on_batch is not None,
                                check_bytes=plan.encoding == import_text.UTF8_WITH_ERRORS)
            try:
                for record in records:
                    if record.cells is None:
                        found = [ImportIssue(record.line, "", record.error, "bad_quoting")]
                    else:
                        # A blank record is skipped; its first cell tells for almost every row.
                        if not record.cells[0].strip() and \
                                not any(c.strip() for c in record.cells):
                            continue
                        rows += 1
                        if rows <= SAMPLED_ROWS and looks.columns:
                            looks.add(record.cells)
                        parsed, found = parser.parse(record.line, record.cells,
                                                     record.last_line > record.line)
                        if on_batch is not None and parsed is not None:
                            batch.append(parsed)
                            if len(batch) >= batch_size:
                                on_batch(batch, skipped)
                                batch, skipped = [], []
                    if found:
                        issue_count += len(found)
                        if on_batch is not None:
                            skipped.extend(found)
                        room = MAX_KEPT_ISSUES - len(issues)
                        if room > 0:
                            issues.extend(found[:room])
            except UnicodeDecodeError as exc:
                issue_count += 1
                issues.append(ImportIssue(0, "", f"cannot decode as {plan.encoding}: {exc}",
                                          "encoding"))
    if on_batch is not None and (batch or skipped):
        on_batch(batch, skipped)
    ambiguous = dates.order is None and dates.first_ambiguous is not None
    if ambiguous:
        where = dates.first_ambiguous or (0, "")
        issues.append(ImportIssue(
            where[0], where[1], "day/month order is ambiguous (no date in the file settles "
            "it); choose day-first or month-first", "ambiguous_date_order"))
        issue_count += 1
    headers = tuple(plan.headers)
    mapped = tuple((h, t.describe()) for h, t in zip(headers, plan.targets, strict=False)
                   if t is not None)
    ignored = tuple(h for h, t in zip(headers, plan.targets, strict=False) if t is None and h)
    if ignored:
        logger.info("CSV import ignores columns: %s", ", ".join(ignored))
    return ImportReport(
        path=os.fspath(path), encoding=plan.encoding, delimiter=plan.delimiter,
        format=plan.format, headers=headers, mapped_columns=mapped, ignored_headers=ignored,
        date_order=dates.order, date_order_ambiguous=ambiguous, row_count=rows,
        issues=tuple(issues), issue_count=issue_count, default_region=default_region,
        header_line=plan.header_line, _targets=plan.targets, file_stamp=stamp,
        suspicious_columns=looks.found(),
    )


SAMPLED_ROWS: Final = 200  # rows whose ignored cells are looked at (see _Looks)
_PHONE_LIKE: Final = re.compile(r"(?:\+|00|0|\()[\d ()./\-]{5,}\d|\d{2,5}[ ./\-]\d[\d ./\-]{3,}\d")
_DATE_LIKE: Final = re.compile(r"\d{1,4}[./\-]\d{1,2}[./\-]\d{1,4}")


class _Looks:
    """Counts, over the first SAMPLED_ROWS rows, how many cells of each ignored column look
    like an email address or a phone number."""

    def __init__(self, headers: list[str], targets: tuple[_T | None, ...],
                 left_out: Set[str]) -> None:
        self.headers = headers
        self.columns = [i for i, t in enumerate(targets)
                        if t is None and i < len(headers) and headers[i]
                        and headers[i].lower() not in left_out
                        and not csv_headers.never_a_phone(headers[i])]
        self.filled = dict.fromkeys(self.columns, 0)
        self.emails = dict.fromkeys(self.columns, 0)
        self.phones = dict.fromkeys(self.columns, 0)

    def add(self, cells: list[str]) -> None:
        for i in self.columns:
            cell = cells[i].strip() if i < len(cells) else ""
            if not cell:
                continue
            self.filled[i] += 1
            if _EMAIL.fullmatch(cell):
                self.emails[i] += 1
            elif _PHONE_LIKE.fullmatch(cell) and not _DATE_LIKE.fullmatch(cell) and \
                    7 <= sum(ch.isdigit() for ch in cell) <= 15:
                self.phones[i] += 1

    def found(self) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        for i in self.columns:
            half = max(1, (self.filled[i] + 1) // 2)
            if self.emails[i] >= half:
                out.append((self.headers[i], "email"))
            elif self.phones[i] >= half:
                out.append((self.headers[i], "phone"))
        return tuple(out)


def reparse(report: ImportReport, lines: Set[int]) -> list[ParsedRow]:
    """The rows starting on `lines`, parsed again with the report's final date order (the
    file is read up to the last of them only). Rows that no longer parse are left out."""
    return [row for batch in iter_reparsed(report, lines) for row in batch]


def iter_reparsed(report: ImportReport, lines: Set[int], batch_size: int = 500
                  ) -> Iterator[list[ParsedRow]]:
    """`reparse`, in lists of at most `batch_size` rows (any number of lines)."""
    if not lines or not report._targets:
        return
    last = max(lines)
    plan, stream, records = _plan(report.path, None, report.encoding, report.delimiter)
    parser = _RowParser(report._targets, plan.headers, _DateContext(report.date_order),
                        report.default_region, normalise_phones=True,
                        check_bytes=report.encoding == import_text.UTF8_WITH_ERRORS)
    out: list[ParsedRow] = []
    with stream:
        for record in records:
            if record.line > last:
                break
            if record.line in lines and record.cells is not None:
                parsed, _ = parser.parse(record.line, record.cells,
                                         record.last_line > record.line)
                if parsed is not None:
                    out.append(parsed)
                    if len(out) >= batch_size:
                        yield out
                        out = []
    if out:
        yield out


def iter_parsed_batches(report: ImportReport, batch_size: int = 500,
                        skipped: list[ImportIssue] | None = None
                        ) -> Iterator[list[ParsedRow]]:
    """Pass 2: yield the file's customers in lists of at most `batch_size`.

    Raises CsvImportError if the report has issues: fix the file (or pass `date_order` /
    `mapping` to `inspect_csv`) first, so that nothing is imported from a broken file. With a
    `skipped` list ("skip invalid rows"), rows with issues are left out and their issues
    appended to it instead.
    """
    if skipped is None and not report.ok:
        raise CsvImportError(report.issues)
    plan, stream, records = _plan(report.path, None, report.encoding, report.delimiter)
    plan = replace(plan, targets=report._targets)
    parser = _RowParser(plan.targets, plan.headers, _DateContext(report.date_order),
                        report.default_region, normalise_phones=True,
                        check_bytes=report.encoding == import_text.UTF8_WITH_ERRORS)
    batch: list[ParsedRow] = []
    with stream:
        for record in records:
            if record.cells is None:
                issue = ImportIssue(record.line, "", record.error, "bad_quoting")
                if skipped is None:
                    raise CsvImportError((issue,))
                skipped.append(issue)
                continue
            if not any(c.strip() for c in record.cells):
                continue
            parsed, issues = parser.parse(record.line, record.cells,
                                          record.last_line > record.line)
            if parsed is None:
                if skipped is None:
                    # The file changed since inspect_csv: refuse rather than import half of it.
                    raise CsvImportError(tuple(issues))
                skipped.extend(issues)
                continue
            batch.append(parsed)
            if len(batch) >= batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


def read_customers(path: str | os.PathLike[str], **options: object) -> list[ParsedRow]:
    """Both passes at once for small files and tests; raises CsvImportError on any issue."""
    report = inspect_csv(path, **options)  # type: ignore[arg-type]
    return [row for batch in iter_parsed_batches(report) for row in batch]
