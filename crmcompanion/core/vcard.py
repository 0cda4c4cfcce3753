"""vCard import (2.1, 3.0, 4.0) and export (3.0, 4.0) of customer profiles.

Customers arrive from Apple Contacts, Google Contacts, Outlook and old Android phones, each with
its own dialect of vCard: quoted-printable 2.1 with soft line breaks and bare type parameters,
Apple's ``itemN.X-ABDATE`` / ``X-ABLabel`` groups and ``X-APPLE-OMIT-YEAR`` for birthdays
without a year, 4.0's ``--MMDD``. The format is small, so it is parsed and written here by hand
(RFC 2425/2426/6350 plus those quirks) instead of through a library whose lenience we could not
control. Import never raises for bad input: it returns the drafts it could read plus one
`VCardProblem` per thing it could not, with the 1-based line number, so a user can fix the file.

Export writes what Apple Contacts and Google accept: CRLF line endings, lines folded at 75
octets without splitting a UTF-8 sequence, TEXT values escaped, and a caller-given stable UID
per customer so a re-import updates instead of duplicating. Fields that vCard has no property
for (status, kind, key account...) travel as ``X-CRMCOMPANION-*`` properties, so an export
re-imported into the app gives back the same `CustomerDraft`.

The content-line helpers (`escape_text`, `fold_content_line`) are shared with the iCalendar
export: both formats use the same line grammar.
"""

from __future__ import annotations

import codecs
import logging
import os
import quopri
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import phonenumbers

from crmcompanion.core import import_text
from crmcompanion.core.csv_import import plus_number_unchanged
from crmcompanion.core.customer import (
    Channel,
    CustomerDraft,
    EmailAddress,
    Kind,
    PhoneNumber,
    PostalAddress,
    SpecialDate,
    SpecialDateKind,
    Status,
)
from crmcompanion.core.dates import validate_month_day

logger = logging.getLogger(__name__)

__all__ = [
    "APPLE_OMIT_YEAR",
    "VCardImport",
    "VCardProblem",
    "VCardVersion",
    "escape_text",
    "export_vcards",
    "fold_content_line",
    "normalize_phone",
    "parse_vcards",
    "read_vcard_file",
    "vcard_for",
]

PRODID = "-//CRM Companion//vCard export//EN"

# Apple writes a yearless date as this (leap) year plus X-APPLE-OMIT-YEAR=1604; a leap year, so
# 29 February is representable. Google Contacts reads the same form.
APPLE_OMIT_YEAR = 1604

MAX_LINE_OCTETS = 75
# A value (one unfolded property) longer than this is refused with its line, before it is
# built: notes hold at most 100,000 characters and a contact photo ~ a few hundred KB.
MAX_VALUE_CHARS = 1_000_000


class VCardVersion(StrEnum):
    V3_0 = "3.0"
    V4_0 = "4.0"


@dataclass(frozen=True)
class VCardProblem:
    """Something in the file that could not be imported.

    `skipped_card` True: the whole card was left out (no END:VCARD, a BDAY that is not a
    date, a line that is not a property: every problem inside a card refuses the card, so
    nothing is imported changed); False: the line was outside any card.
    """

    line: int
    message: str
    card_line: int | None = None
    card_name: str = ""
    skipped_card: bool = False

    def __str__(self) -> str:
        who = f" ({self.card_name})" if self.card_name else ""
        return f"line {self.line}{who}: {self.message}"


@dataclass(frozen=True)
class VCardImport:
    drafts: tuple[CustomerDraft, ...]
    problems: tuple[VCardProblem, ...]
    lines: tuple[int, ...] = ()  # the BEGIN:VCARD line of each draft
    cards: int = 0  # BEGIN:VCARD ... END:VCARD cards found, read or refused


# --------------------------------------------------------------------------- content lines


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 6350 3.4, RFC 5545 3.3.11): backslash, comma, semicolon, newline."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n")
    )


def fold_content_line(line: str, limit: int = MAX_LINE_OCTETS) -> str:
    """Fold one content line into CRLF + space continued lines of at most `limit` UTF-8 octets.

    Splits only between characters (never inside a UTF-8 sequence) and never between a
    backslash and the character it escapes, which some readers unfold badly. No final CRLF.
    """
    encoded_len = len(line.encode("utf-8"))
    if encoded_len <= limit:
        return line
    tokens: list[str] = []
    i = 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line):
            tokens.append(line[i : i + 2])
            i += 2
        else:
            tokens.append(line[i])
            i += 1
    segments: list[str] = []
    current: list[str] = []
    size = 0
    room = limit
    for token in tokens:
        n = len(token.encode("utf-8"))
        if size + n > room and current:
            segments.append("".join(current))
            current, size = [], 0
            room = limit - 1  # continuation lines start with one space, which counts
        current.append(token)
        size += n
    segments.append("".join(current))
    return "\r\n ".join(segments)


# --------------------------------------------------------------------------- parsing lines


@dataclass
class _Property:
    line: int
    group: str
    name: str
    params: dict[str, list[str]]
    value: str  # raw, still escaped, still QP-encoded

    def param(self, key: str) -> list[str]:
        return self.params.get(key, [])

    def types(self) -> set[str]:
        return {t.lower() for t in self.param("TYPE")}

    @property
    def encoding(self) -> str:
        enc = self.param("ENCODING")
        return enc[0].upper() if enc else ""


_BARE_ENCODINGS = {"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"}
_BARE_VALUES = {"INLINE", "URL", "CONTENT-ID", "CID"}
_BASE64_LINE = re.compile(r"[A-Za-z0-9+/=]+")
_PHYSICAL_LINE = re.compile(r"\r\n|\r|\n")
_NAME = re.compile(r"[A-Za-z0-9-]+")


def _split_unquoted(text: str, sep: str) -> list[str]:
    if '"' not in text:
        return text.split(sep)  # the common case, at C speed
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            current.append(ch)
        elif ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _find_colon(text: str) -> int:
    colon = text.find(":")
    if colon < 0 or '"' not in text[:colon]:
        return colon  # no quoted parameter before it: the common case
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return i
    return -1


def _parse_property(line_no: int, text: str) -> _Property | None:
    colon = _find_colon(text)
    if colon <= 0:
        return None
    header, value = text[:colon], text[colon + 1 :]
    pieces = _split_unquoted(header, ";")
    group, _, name = pieces[0].strip().rpartition(".")
    if not _NAME.fullmatch(name):
        return None
    params: dict[str, list[str]] = {}
    for piece in pieces[1:]:
        piece = piece.strip()
        if not piece:
            continue
        key, eq, raw = piece.partition("=")
        if not eq:
            # vCard 2.1 bare parameter: TEL;CELL;PREF: or NOTE;QUOTED-PRINTABLE:
            bare = key.upper()
            if bare in _BARE_ENCODINGS:
                params.setdefault("ENCODING", []).append(bare)
            elif bare in _BARE_VALUES:
                params.setdefault("VALUE", []).append(bare)
            else:
                params.setdefault("TYPE", []).append(key)
            continue
        key = key.strip().upper()
        values = [v.strip().strip('"') for v in _split_unquoted(raw, ",")]
        if key == "TYPE":  # 4.0 quotes lists: TYPE="work,voice"
            values = [t.strip() for v in values for t in v.split(",")]
        params.setdefault(key, []).extend(v for v in values if v)
    return _Property(line_no, group.lower(), name.upper(), params, value)


class _Logical:
    """One logical line being unfolded: its physical pieces (joined once, at the end, so
    unfolding stays linear however many lines a value is folded over) and, once its colon is
    seen, whether its value is quoted-printable or BASE64 (parsed once, from the header)."""

    __slots__ = ("base64", "header_seen", "last", "last_kept", "parts", "qp", "size", "start")

    def __init__(self, start: int, first: str) -> None:
        self.start = start
        self.last = first  # the last piece, kept or not
        self.last_kept = True
        self.parts = [first]
        self.size = len(first)
        self.header_seen = False
        self.qp = self.base64 = False
        self._look_for_header(first)

    def _look_for_header(self, piece: str) -> None:
        if self.header_seen or ":" not in piece:
            return
        self.header_seen = True
        text = "".join(self.parts)  # the header is short: everything up to the first colon
        colon = _find_colon(text)
        if colon <= 0:
            return
        if ";" not in text[:colon]:
            return  # no parameters, so no encoding: most lines need no parsing
        prop = _parse_property(0, text[: colon + 1])
        if prop is not None:
            self.qp = prop.encoding == "QUOTED-PRINTABLE"
            self.base64 = prop.encoding in ("BASE64", "B")

    def add(self, piece: str, limit: int) -> None:
        self.last = piece
        self.size += len(piece)
        self.last_kept = self.size <= limit
        if self.last_kept:  # beyond the limit the value is refused: its lines are only counted
            self.parts.append(piece)
            self._look_for_header(piece)

    def soft_break(self) -> bool:
        """A quoted-printable value ending in '=': the '=' (and spaces after it) go."""
        if not self.qp:
            return False
        last = self.last.rstrip(" \t")
        if not last.endswith("="):
            return False
        if self.last_kept:
            self.parts[-1] = last[:-1]
        self.last = ""
        return True

    def text(self) -> str:
        return "".join(self.parts)


def _logical_lines(text: str, limit: int = MAX_VALUE_CHARS) -> Iterator[tuple[int, str | None]]:
    """Unfold physical lines into (first physical line number, logical line), in one pass.

    Handles RFC folding (a line starting with space or tab continues the previous one),
    quoted-printable soft breaks (a QP value ending in '=' continues on the next line, which is
    not indented), and old 2.1 BASE64 blocks whose continuation lines are not indented. A
    logical line longer than `limit` characters comes as (line, None): refused, not built.
    """
    current: _Logical | None = None
    for number, raw in enumerate(_PHYSICAL_LINE.split(text), start=1):
        if current is not None:
            if current.soft_break():
                current.add(raw, limit)
                continue
            if raw[:1] in (" ", "\t"):
                current.add(raw[1:], limit)
                continue
            if current.base64 and raw and ":" not in raw and _BASE64_LINE.fullmatch(raw):
                current.add(raw, limit)
                continue
            yield current.start, current.text() if current.size <= limit else None
        current = _Logical(number, raw)
    if current is not None:
        yield current.start, current.text() if current.size <= limit else None


# --------------------------------------------------------------------------- value decoding

_ESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\", ":": ":"}


_ESCAPE = re.compile(r"\\([nN,;\\:])")
# One component of a ';'- or ','-separated value: escaped pairs or other characters.
_COMPONENT = {sep: re.compile(rf"(?:\\.?|[^\\{sep}])*", re.DOTALL) for sep in ";,"}


def _unescape(text: str) -> str:
    if "\\" in text:
        text = _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _split_escaped(text: str, sep: str) -> list[str]:
    """Split on `sep` where it is not escaped with a backslash; pieces stay escaped."""
    if "\\" not in text:
        return text.split(sep)
    pattern = _COMPONENT[sep]
    parts: list[str] = []
    pos = 0
    while True:
        found = pattern.match(text, pos)
        assert found is not None  # the pattern matches the empty string
        parts.append(found.group())
        pos = found.end() + 1  # past the separator
        if pos > len(text):
            return parts


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """A quoted-printable value's bytes as text: its CHARSET, else UTF-8, else (Windows
    exports without a CHARSET) the legacy encoding they read as (`import_text`). Bytes that
    fit none stay as lone surrogates, so the sanitising step refuses the card instead of
    storing mojibake."""
    if charset:
        try:
            # A file's CHARSET may be anything: a bad byte, or a codec that is not text.
            if not codecs.lookup(charset)._is_text_encoding:  # type: ignore[attr-defined]
                raise LookupError(charset)
        except (LookupError, UnicodeError):
            logger.info("Unknown vCard CHARSET %a, reading as UTF-8", charset)
            charset = None
    if charset:
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            logger.info("vCard value is not valid %a", charset)
            return data.decode("utf-8", errors="surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(import_text.legacy_encoding(data))
    except (import_text.EncodingProblem, UnicodeDecodeError):
        return data.decode("utf-8", errors="surrogateescape")


def _raw_value(prop: _Property) -> str:
    """The value with transfer encoding undone, still vCard-escaped."""
    if prop.encoding == "QUOTED-PRINTABLE":
        charset = prop.param("CHARSET")
        # surrogateescape: a stray invalid byte of the file comes back as that byte.
        data = quopri.decodestring(prop.value.encode("utf-8", "surrogateescape"))
        return _decode_bytes(data, charset[0] if charset else None)
    return prop.value


def _text(prop: _Property, *, strip: bool = True) -> str:
    text = _unescape(_raw_value(prop))
    return text.strip() if strip else text


def _components(prop: _Property) -> list[str]:
    return [_unescape(c).strip() for c in _split_escaped(_raw_value(prop), ";")]


# --------------------------------------------------------------------------- dates

_FULL_DATE = re.compile(r"(\d{4})(?:-(\d{2})-(\d{2})|(\d{2})(\d{2}))(T.*)?")
_YEARLESS_DATE = re.compile(r"--(\d{2})-?(\d{2})(T.*)?")
_TIME_PART = re.compile(r"T\d{2}(:?\d{2}(:?\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?")


def _parse_date(value: str, params: dict[str, list[str]]) -> tuple[int, int, int | None]:
    """(month, day, year or None) of a vCard date; a time part is dropped (no zone shift)."""
    value = value.strip()
    full = _FULL_DATE.fullmatch(value)
    yearless = _YEARLESS_DATE.fullmatch(value)
    if full:
        year = int(full.group(1))
        month = int(full.group(2) or full.group(4))
        day = int(full.group(3) or full.group(5))
        time = full.group(6)
    elif yearless:
        year, time = None, yearless.group(3)
        month, day = int(yearless.group(1)), int(yearless.group(2))
    else:
        raise ValueError("not a date (expected YYYY-MM-DD, YYYYMMDD, --MMDD or --MM-DD)")
    if time and not _TIME_PART.fullmatch(time):
        raise ValueError(f"the time part {time!r} is not a time")
    omit = params.get("X-APPLE-OMIT-YEAR", [])
    if year is not None and omit and omit[0].strip() == str(year):
        # Apple: the year is a placeholder, the person's year is unknown. Validate against it
        # (1604 is a leap year, so 29 February passes).
        validate_month_day(month, day, year)
        year = None
    validate_month_day(month, day, year)
    return month, day, year


def _format_date(month: int, day: int, year: int | None, version: VCardVersion) -> tuple[str, str]:
    """(parameter suffix, value) for a date property in `version`."""
    if version is VCardVersion.V4_0:
        # RFC 6350 4.3.1 uses ISO 8601 basic format; a missing year is "--".
        if year is None:
            return "", f"--{month:02d}{day:02d}"
        return "", f"{year:04d}{month:02d}{day:02d}"
    if year is None:
        return f";X-APPLE-OMIT-YEAR={APPLE_OMIT_YEAR}", f"{APPLE_OMIT_YEAR}-{month:02d}-{day:02d}"
    return "", f"{year:04d}-{month:02d}-{day:02d}"


# --------------------------------------------------------------------------- labels

_APPLE_LABEL = re.compile(r"_\$!<(.*)>!\$_")
# Apple/Google built-in labels, mapped to the app's lower-case labels.
_APPLE_LABELS = {
    "mobile": "mobile",
    "iphone": "mobile",
    "home": "home",
    "work": "work",
    "other": "other",
    "homefax": "fax",
    "workfax": "fax",
    "otherfax": "fax",
    "pager": "pager",
    "main": "main",
}
_ANNIVERSARY_LABEL = "_$!<Anniversary>!$_"
_OTHER_LABEL = "_$!<Other>!$_"

# App phone label -> vCard TYPE; anything else travels as an Apple/Google X-ABLabel.
_PHONE_TYPES = {"mobile": "cell", "home": "home", "work": "work", "fax": "fax", "pager": "pager"}
_EMAIL_TYPES = {"home": "home", "work": "work"}
_ANNIVERSARY_PROPERTIES = {
    "ANNIVERSARY",
    "X-ANNIVERSARY",
    "X-EVOLUTION-ANNIVERSARY",
    "X-MS-ANNIVERSARY",
    "X-KADDRESSBOOK-X-ANNIVERSARY",
}
# Google puts every contact in its system group "myContacts": not a tag the user chose.
_IGNORED_CATEGORIES = {"mycontacts"}


def _apple_label(raw: str) -> tuple[str, bool]:
    """(label, is_builtin) from an X-ABLabel value such as ``_$!<Mobile>!$_``."""
    match = _APPLE_LABEL.fullmatch(raw)
    if match:
        inner = match.group(1)
        return _APPLE_LABELS.get(inner.lower(), inner.lower()), True
    return raw, False


def _phone_label(types: set[str]) -> str:
    for vcard_type, label in (("cell", "mobile"), ("fax", "fax"), ("pager", "pager"),
                              ("work", "work"), ("home", "home")):
        if vcard_type in types:
            return label
    return "other"


def _email_label(types: set[str]) -> str:
    for vcard_type in ("work", "home"):
        if vcard_type in types:
            return vcard_type
    return "other"


@lru_cache(maxsize=65536)  # parsing costs ~80 µs; switchboard numbers repeat
def normalize_phone(number: str, default_region: str | None) -> str:
    """E.164 (``+4930123456``) when `phonenumbers` finds a valid number, else the input as typed.

    `default_region` (ISO 3166 alpha-2, e.g. "DE") is used for numbers without a country code.
    """
    typed = number.strip()
    if typed.lower().startswith("tel:"):
        typed = typed[4:].split(";", 1)[0]
    if typed[:1] == "+" and len(typed) > 3 and typed[1:].isdecimal() and \
            plus_number_unchanged(typed[1:]):
        return typed  # E.164 as typed: what parse + format would give (see csv_import)
    if import_text.phone_problem(typed) is not None:
        return typed  # phonenumbers would read "ABC" as 222: the sanitising step refuses it
    try:
        parsed = phonenumbers.parse(typed, default_region)
    except phonenumbers.NumberParseException:
        return typed
    if phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return typed


# --------------------------------------------------------------------------- import


@dataclass
class _CardBuilder:
    begin_line: int
    default_region: str | None
    props: list[_Property] = field(default_factory=list)
    problems: list[VCardProblem] = field(default_factory=list)
    name: str = ""

    def problem(self, line: int, message: str) -> None:
        """A problem refuses the card: it is never imported with a value silently left out."""
        self.problems.append(
            VCardProblem(line, message, self.begin_line, self.name, skipped_card=True)
        )

    def build(self) -> CustomerDraft | None:
        by_name: dict[str, list[_Property]] = {}
        for prop in self.props:
            by_name.setdefault(prop.name, []).append(prop)
        group_labels = {
            p.group: _text(p) for p in by_name.get("X-ABLABEL", []) if p.group
        }

        def first_text(prop_name: str) -> str:
            props = by_name.get(prop_name)
            return _text(props[0]) if props else ""

        fn = first_text("FN")
        self.name = fn
        first = last = ""
        if "N" in by_name:
            parts = [*_components(by_name["N"][0]), "", "", "", "", ""]
            last = parts[0]
            first = " ".join(p for p in (parts[1], parts[2]) if p)
        company = ""
        if "ORG" in by_name:
            company = ", ".join(p for p in _components(by_name["ORG"][0]) if p)
        if not self.name:
            self.name = " ".join(p for p in (first, last) if p) or company

        emails = tuple(
            EmailAddress(address, self._label(p, group_labels, _email_label))
            for p in by_name.get("EMAIL", [])
            if (address := _text(p))
        )
        phones = tuple(
            PhoneNumber(normalize_phone(number, self.default_region),
                        self._label(p, group_labels, _phone_label))
            for p in by_name.get("TEL", [])
            if (number := _text(p))
        )
        if not any((fn, first, last, company, emails, phones)):
            self.problem(
                self.begin_line,
                "card has no name, organisation, email address or phone number; skipped",
            )
            return None

        draft = CustomerDraft(
            first_name=first,
            last_name=last,
            company=company,
            emails=emails,
            phones=phones,
            address=self._address(by_name.get("ADR", [])),
            tags=self._tags(by_name.get("CATEGORIES", [])),
            # Notes keep their whitespace: they are the user's free text.
            notes="\n\n".join(
                t for p in by_name.get("NOTE", []) if (t := _text(p, strip=False)).strip()
            ),
            special_dates=self._special_dates(group_labels),
            source_uid=first_text("UID"),
        )
        # display_name holds only an explicit choice: an FN that merely repeats the name the
        # app would show anyway stays implicit, so later name edits keep the list in sync.
        if fn and fn != draft.effective_display_name():
            draft = replace(draft, display_name=fn)
        draft = self._app_fields(draft, by_name)
        return None if self.problems else draft

    @staticmethod
    def _label(
        prop: _Property, group_labels: dict[str, str], from_types: Callable[[set[str]], str]
    ) -> str:
        if prop.group and prop.group in group_labels:
            label, _ = _apple_label(group_labels[prop.group])
            if label:
                return label
        return from_types(prop.types())

    @staticmethod
    def _address(props: list[_Property]) -> PostalAddress:
        if not props:
            return PostalAddress()
        if len(props) > 1:
            logger.debug("vCard has %d addresses; the first is imported", len(props))
        parts = [*_components(props[0]), "", "", "", "", "", "", ""]
        po_box, extended, street, city, region, postcode, country = parts[:7]
        return PostalAddress(
            street="\n".join(p for p in (street, extended, po_box) if p),
            city=city,
            region=region,
            postcode=postcode,
            country=country,
        )

    @staticmethod
    def _tags(props: list[_Property]) -> tuple[str, ...]:
        tags: list[str] = []
        for prop in props:
            for piece in _split_escaped(_raw_value(prop), ","):
                tag = _unescape(piece).strip()
                if tag and tag.lower() not in _IGNORED_CATEGORIES and tag not in tags:
                    tags.append(tag)
        return tuple(tags)

    def _special_dates(self, group_labels: dict[str, str]) -> tuple[SpecialDate, ...]:
        found: list[SpecialDate] = []
        for prop in self.props:
            if prop.name == "BDAY":
                kind, label = SpecialDateKind.BIRTHDAY, ""
            elif prop.name in _ANNIVERSARY_PROPERTIES:
                kind, label = SpecialDateKind.WEDDING_ANNIVERSARY, ""
            elif prop.name == "X-ABDATE":
                raw_label = group_labels.get(prop.group, "") if prop.group else ""
                if raw_label == _ANNIVERSARY_LABEL:
                    kind, label = SpecialDateKind.WEDDING_ANNIVERSARY, ""
                elif raw_label in ("", _OTHER_LABEL):
                    kind, label = SpecialDateKind.CUSTOM, ""
                else:
                    kind, label = SpecialDateKind.CUSTOM, _apple_label(raw_label)[0]
            else:
                continue
            value = _raw_value(prop).strip()
            if not value:
                continue
            try:
                month, day, year = _parse_date(value, prop.params)
            except ValueError as exc:
                self.problem(prop.line, f"{prop.name} {value!r} cannot be read: {exc}")
                continue
            special = SpecialDate(kind, month, day, year, label)
            if special not in found:  # ANNIVERSARY and X-ANNIVERSARY often repeat each other
                found.append(special)
        return tuple(found)

    def _app_fields(
        self, draft: CustomerDraft, by_name: dict[str, list[_Property]]
    ) -> CustomerDraft:
        """Read back the X-CRMCOMPANION-* properties this module writes."""
        changes: dict[str, object] = {}
        enums: tuple[tuple[str, str, type[StrEnum]], ...] = (
            ("X-CRMCOMPANION-STATUS", "status", Status),
            ("X-CRMCOMPANION-KIND", "kind", Kind),
            ("X-CRMCOMPANION-PREFERRED-CHANNEL", "preferred_channel", Channel),
        )
        for prop_name, attr, enum in enums:
            for prop in by_name.get(prop_name, [])[:1]:
                value = _text(prop).lower()
                try:
                    changes[attr] = enum(value)
                except ValueError:
                    allowed = ", ".join(m.value for m in enum)  # type: ignore[attr-defined]
                    self.problem(prop.line,
                                 f"{prop_name} {value!r} cannot be read: expected {allowed}")
        for prop in by_name.get("X-CRMCOMPANION-KEY-ACCOUNT", [])[:1]:
            value = _text(prop).upper()
            if value in ("TRUE", "FALSE"):
                changes["key_account"] = value == "TRUE"
            else:
                self.problem(prop.line, f"X-CRMCOMPANION-KEY-ACCOUNT {value!r} cannot be read: "
                             "expected TRUE or FALSE")
        for prop in by_name.get("X-CRMCOMPANION-CUSTOMER-SINCE", [])[:1]:
            value = _text(prop)
            try:
                month, day, year = _parse_date(value, {})
                if year is None:
                    raise ValueError("the year is missing")
                changes["customer_since"] = date(year, month, day)
            except ValueError as exc:
                self.problem(prop.line,
                             f"X-CRMCOMPANION-CUSTOMER-SINCE {value!r} cannot be read: {exc}")
        return replace(draft, **changes) if changes else draft  # type: ignore[arg-type]


def parse_vcards(data: str | bytes, *, default_region: str | None = None) -> VCardImport:
    """Read every card in a .vcf (2.1, 3.0 or 4.0); never raises for malformed content.

    `default_region` (e.g. "DE") lets phone numbers without a country code become E.164.
    Each draft's `source_uid` is the card's UID. Problems carry 1-based line numbers.
    """
    if isinstance(data, bytes):
        try:
            text, _ = import_text.decode_file(data)
        except import_text.EncodingProblem as exc:
            return VCardImport((), (VCardProblem(1, str(exc)),))
    else:
        text = data.lstrip("\ufeff")
    drafts: list[CustomerDraft] = []
    lines: list[int] = []
    cards = 0
    problems: list[VCardProblem] = []
    card: _CardBuilder | None = None
    outside_start: int | None = None  # first line of a run of text outside any card

    for line_no, line in _logical_lines(text):
        if line is None:
            message = f"a value longer than {MAX_VALUE_CHARS:,} characters"
            if card is None:
                problems.append(VCardProblem(line_no, message + " outside any card ignored"))
            else:
                card.problem(line_no, message + "; card skipped")
            continue
        stripped = line.strip()
        upper = stripped.upper()
        if card is None:
            if not stripped:
                continue
            if upper == "BEGIN:VCARD":
                outside_start = None
                card = _CardBuilder(line_no, default_region)
            elif outside_start is None:
                outside_start = line_no
                problems.append(VCardProblem(
                    line_no, "text outside BEGIN:VCARD ... END:VCARD ignored"))
            continue
        if upper == "BEGIN:VCARD":
            cards += 1
            card.build()  # only to learn the card's name for the message
            problems.append(VCardProblem(
                card.begin_line,
                f"missing END:VCARD (the next BEGIN:VCARD is on line {line_no}); card skipped",
                card.begin_line, card.name, skipped_card=True))
            card = _CardBuilder(line_no, default_region)
            continue
        if upper == "END:VCARD":
            cards += 1
            draft = card.build()
            # Problems found before the FN was known get the card's name too.
            problems.extend(replace(p, card_name=card.name) for p in card.problems)
            if draft is not None:
                drafts.append(draft)
                lines.append(card.begin_line)
            card = None
            continue
        if not stripped:
            continue
        prop = _parse_property(line_no, line)
        if prop is None:
            card.problem(line_no, f"not a vCard property line (no NAME:value): {stripped[:40]!r}")
            continue
        card.props.append(prop)

    if card is not None:
        cards += 1
        card.build()
        problems.append(VCardProblem(
            card.begin_line, "missing END:VCARD (the file ends inside this card); card skipped",
            card.begin_line, card.name, skipped_card=True))
    if not drafts and not problems:
        problems.append(VCardProblem(1, "no BEGIN:VCARD found: this is not a vCard file"))
    problems.sort(key=lambda p: p.line)
    return VCardImport(tuple(drafts), tuple(problems), tuple(lines), cards)


def read_vcard_file(
    path: str | os.PathLike[str], *, default_region: str | None = None
) -> VCardImport:
    """`parse_vcards` on a file's bytes (UTF-8, UTF-16 with BOM, else Windows-1252)."""
    return parse_vcards(Path(path).read_bytes(), default_region=default_region)


# --------------------------------------------------------------------------- export


def _param_types(version: VCardVersion, *types: str) -> str:
    if not types:
        return ""
    if version is VCardVersion.V3_0:
        return "".join(f";TYPE={t.upper()}" for t in types)
    return ";TYPE=" + ",".join(types)


def vcard_for(
    draft: CustomerDraft, *, uid: str, version: VCardVersion | str = VCardVersion.V4_0
) -> str:
    """One customer as a vCard (CRLF line endings, folded, ends with CRLF).

    Fields vCard has no property for are written as X-CRMCOMPANION-* so the app reads them
    back; the draft's own `source_uid` is replaced by `uid`.
    """
    version = VCardVersion(version)
    items = 0

    def next_group() -> str:
        nonlocal items
        items += 1
        return f"item{items}."

    lines = ["BEGIN:VCARD", f"VERSION:{version.value}"]
    if version is VCardVersion.V4_0:
        lines.append(f"PRODID:{PRODID}")
    company_only = bool(draft.company.strip()) and not (
        draft.first_name.strip() or draft.last_name.strip()
    )
    if company_only and version is VCardVersion.V4_0:
        lines.append("KIND:org")
    lines.append(f"N:{escape_text(draft.last_name)};{escape_text(draft.first_name)};;;")
    lines.append(f"FN:{escape_text(draft.effective_display_name())}")
    if draft.company:
        lines.append(f"ORG:{escape_text(draft.company)}")
    for email in draft.emails:
        label = email.label.strip().lower()
        if label in _EMAIL_TYPES or label in ("", "other"):
            types = [_EMAIL_TYPES[label]] if label in _EMAIL_TYPES else []
            if version is VCardVersion.V3_0:
                types.insert(0, "internet")
            lines.append(f"EMAIL{_param_types(version, *types)}:{escape_text(email.address)}")
        else:
            group = next_group()
            internet = _param_types(version, "internet") if version is VCardVersion.V3_0 else ""
            lines.append(f"{group}EMAIL{internet}:{escape_text(email.address)}")
            lines.append(f"{group}X-ABLabel:{escape_text(email.label)}")
    for phone in draft.phones:
        label = phone.label.strip().lower()
        if label in _PHONE_TYPES or label in ("", "other"):
            types = [_PHONE_TYPES[label]] if label in _PHONE_TYPES else []
            lines.append(f"TEL{_param_types(version, *types)}:{escape_text(phone.number)}")
        else:
            group = next_group()
            lines.append(f"{group}TEL:{escape_text(phone.number)}")
            lines.append(f"{group}X-ABLabel:{escape_text(phone.label)}")
    if not draft.address.is_empty():
        a = draft.address
        fields = ("", "", a.street, a.city, a.region, a.postcode, a.country)
        lines.append("ADR:" + ";".join(escape_text(f) for f in fields))

    have_bday = have_anniversary = False
    for special in draft.special_dates:
        params, value = _format_date(special.month, special.day, special.year, version)
        if special.kind is SpecialDateKind.BIRTHDAY and not have_bday:
            have_bday = True
            lines.append(f"BDAY{params}:{value}")
            continue
        if (special.kind is SpecialDateKind.WEDDING_ANNIVERSARY and not have_anniversary
                and version is VCardVersion.V4_0):
            have_anniversary = True
            lines.append(f"ANNIVERSARY{params}:{value}")
            continue
        # Apple's and Google's form for other dates (and 3.0 anniversaries): a labelled group.
        if special.kind is SpecialDateKind.WEDDING_ANNIVERSARY:
            label = _ANNIVERSARY_LABEL
        elif special.kind is SpecialDateKind.BIRTHDAY:
            logger.warning("Only one BDAY fits in a vCard; extra birthday written as a custom date")
            label = "Birthday"
        else:
            label = escape_text(special.label) if special.label else _OTHER_LABEL
        group = next_group()
        lines.append(f"{group}X-ABDATE{params}:{value}")
        lines.append(f"{group}X-ABLabel:{label}")

    if draft.notes:
        lines.append(f"NOTE:{escape_text(draft.notes)}")
    if draft.tags:
        lines.append("CATEGORIES:" + ",".join(escape_text(t) for t in draft.tags))
    lines.append(f"UID:{escape_text(uid)}")
    if draft.status is not Status.ACTIVE:
        lines.append(f"X-CRMCOMPANION-STATUS:{draft.status.value}")
    if draft.kind is not Kind.EXTERNAL:
        lines.append(f"X-CRMCOMPANION-KIND:{draft.kind.value}")
    if draft.key_account:
        lines.append("X-CRMCOMPANION-KEY-ACCOUNT:TRUE")
    if draft.preferred_channel is not None:
        lines.append(f"X-CRMCOMPANION-PREFERRED-CHANNEL:{draft.preferred_channel.value}")
    if draft.customer_since is not None:
        lines.append(f"X-CRMCOMPANION-CUSTOMER-SINCE:{draft.customer_since.isoformat()}")
    if company_only and version is VCardVersion.V3_0:
        lines.append("X-ABShowAs:COMPANY")  # Apple lists it under the company name
    lines.append("END:VCARD")
    return "".join(fold_content_line(line) + "\r\n" for line in lines)


def export_vcards(
    contacts: Iterable[tuple[str, CustomerDraft]],
    *,
    version: VCardVersion | str = VCardVersion.V4_0,
) -> str:
    """A .vcf text of (uid, draft) pairs. Write it as UTF-8 bytes (``path.write_bytes(
    text.encode("utf-8"))``), never through a text-mode file that would translate the CRLFs."""
    return "".join(vcard_for(draft, uid=uid, version=version) for uid, draft in contacts)

