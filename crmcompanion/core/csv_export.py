"""Write customer lists as CSV that spreadsheets open safely and the app imports back exactly.

Why it is built this way:
- Rows are consumed from an iterator and written one by one, so a million customers never sit
  in memory; the caller's iterator can raise to cancel.
- The file is written to a temporary file in the target folder and renamed over the target
  (`os.replace`), so a crash or a cancel never leaves a half-written CSV behind.
- Every text cell goes through `neutralise` (OWASP CSV injection): phone numbers and postcodes
  are always text (`+49...` is neutralised too); only real numbers passed as int/float in
  columns that allow numbers stay numbers.
- The hot path for `CustomerDraft`/`Customer` rows is one flat function per row, because
  100,000 rows must take well under a second of CPU.
- The export of stored customers does not go through drafts at all: the store hands over the
  customers rows and their child cells (`encode_customers`), and most lines are one join plus
  a few whole-line checks; see MARK for how cells made from child rows arrive neutralised.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from operator import itemgetter
from pathlib import Path
from typing import Any, Final, NamedTuple, TextIO

from crmcompanion.core.atomic_file import replaced_atomically
from crmcompanion.core.csv_codec import (
    FORMULA_TRIGGERS,
    MULTI_VALUE_SEPARATOR,
    OWN_COLUMNS,
    neutralise,
)
from crmcompanion.core.customer import (
    Customer,
    CustomerDraft,
    EmailAddress,
    PhoneNumber,
    SpecialDate,
    SpecialDateKind,
)
from crmcompanion.core.date_parsing import PartialDate, format_date_parts

logger = logging.getLogger(__name__)

SEP: Final = MULTI_VALUE_SEPARATOR


@dataclass(frozen=True)
class ExportColumn:
    """One column the user can choose. `text=True` forces numbers to text (phones, postcodes)."""

    key: str
    header: str
    text: bool = False


# Columns whose values are text even when a caller passes them as numbers.
_TEXT_KEYS: Final = frozenset({"phones", "phone_labels", "postcode"})

# Every column of the app's own format, in file order. Documented defaults (all of them):
# first name, last name, display name, company, emails + labels, phones + labels, street,
# city, region, postcode, country, tags, status, kind, key account, preferred channel,
# birthday, wedding anniversary, other special dates ("YYYY-MM-DD label" items), customer
# since, last contact, notes, UID.
# Columns the app computes rather than stores on the profile (issue 16: each customer's health
# segment and its reasons in words): chosen through `--columns` or the export dialog, never
# in the default set, and ignored by the import (they are not profile fields).
COMPUTED_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("segment", "Segment"), ("segment_reasons", "Segment reasons"),
)
COLUMNS: Final[dict[str, ExportColumn]] = {
    key: ExportColumn(key, header, key in _TEXT_KEYS)
    for key, header in (*OWN_COLUMNS, *COMPUTED_COLUMNS)
}
DEFAULT_COLUMNS: Final[tuple[str, ...]] = tuple(key for key, _ in OWN_COLUMNS)


@dataclass(frozen=True, slots=True)
class ExportRow:
    """A customer plus the facts that are not on the profile itself (from touchpoints)."""

    customer: CustomerDraft | Customer
    last_contact: date | datetime | None = None
    uid: str = ""  # written in the UID column when the customer has no source UID


# A row is an ExportRow, a draft, a stored customer, or a plain dict keyed by column key.
ExportInput = ExportRow | CustomerDraft | Customer | Mapping[str, object]


@dataclass(frozen=True)
class ExportOptions:
    """`columns`: keys of COLUMNS or ExportColumn objects (extra columns for plain dicts)."""

    columns: Sequence[str | ExportColumn] = DEFAULT_COLUMNS
    delimiter: str = ","
    bom: bool = True  # Excel needs the UTF-8 BOM to read non-ASCII text correctly.

    def resolved_columns(self) -> tuple[ExportColumn, ...]:
        if self.delimiter not in (",", ";"):
            raise ValueError(f"delimiter must be ',' or ';', not {self.delimiter!r}")
        out: list[ExportColumn] = []
        for column in self.columns:
            if isinstance(column, ExportColumn):
                out.append(column)
            elif column in COLUMNS:
                out.append(COLUMNS[column])
            else:
                raise ValueError(f"unknown export column {column!r}")
        if not out:
            raise ValueError("choose at least one column")
        return tuple(out)


def _date_text(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    return value.isoformat()


def _special_text(special: SpecialDate) -> str:
    return format_date_parts(special.year, special.month, special.day)


_OWN_INDEX: Final = {key: i for i, (key, _) in enumerate(OWN_COLUMNS)}


def _draft_values(d: CustomerDraft | Customer, last_contact: date | datetime | None) -> list[str]:
    """All own-format cells of one customer, in OWN_COLUMNS order, not yet neutralised."""
    birthday = anniversary = ""
    customs: list[str] = []
    for s in d.special_dates:
        if s.kind is SpecialDateKind.CUSTOM:
            text = _special_text(s)
            customs.append(f"{text} {s.label}" if s.label else text)
        elif s.kind is SpecialDateKind.BIRTHDAY:
            if not birthday:
                birthday = _special_text(s)
        elif not anniversary:
            anniversary = _special_text(s)
    a = d.address
    since = d.customer_since
    return [
        d.first_name,
        d.last_name,
        d.display_name,
        d.company,
        SEP.join([e.address for e in d.emails]),
        SEP.join([e.label for e in d.emails]),
        SEP.join([p.number for p in d.phones]),
        SEP.join([p.label for p in d.phones]),
        a.street,
        a.city,
        a.region,
        a.postcode,
        a.country,
        SEP.join(d.tags),
        d.status.value,
        d.kind.value,
        "yes" if d.key_account else "no",
        d.preferred_channel.value if d.preferred_channel is not None else "",
        birthday,
        anniversary,
        SEP.join(customs),
        since.isoformat() if since is not None else "",
        _date_text(last_contact),
        d.notes,
        d.source_uid,
    ]


def last_contact_text(value: date | datetime | None) -> str:
    """The "Last contact" cell."""
    return _date_text(value)


def _format_item(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, EmailAddress):
        return value.address
    if isinstance(value, PhoneNumber):
        return value.number
    if isinstance(value, SpecialDate):
        return _special_text(value)
    if isinstance(value, PartialDate):
        return value.iso()
    if isinstance(value, date):
        return _date_text(value)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _format_cell(value: object, text_column: bool) -> str:
    """One cell of a plain-dict row: numbers stay numbers unless the column is text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and not isinstance(value, Enum):
        return neutralise(str(value)) if text_column else repr(value)
    if isinstance(value, list | tuple | set | frozenset):
        return neutralise(SEP.join([_format_item(v) for v in value]))
    return neutralise(_format_item(value))


_RISKY: Final = frozenset("=+-@\t\r'")
_NEEDS_QUOTES: Final = re.compile('["\r\n]').search
_LINE_END: Final = "\r\n"


def _header_line(columns: Sequence[ExportColumn], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=_LINE_END).writerow(
        [neutralise(c.header) for c in columns])
    return buffer.getvalue()


def write_csv(rows: Iterable[ExportInput], stream: TextIO,
              options: ExportOptions = ExportOptions()) -> int:
    """Write the header and every row to an open text stream (opened with newline="").

    Returns the number of customer rows written.
    """
    columns = options.resolved_columns()
    writer = csv.writer(stream, delimiter=options.delimiter, lineterminator=_LINE_END)
    stream.write(_header_line(columns, options.delimiter))
    own_indices = [_OWN_INDEX.get(c.key, -1) for c in columns]
    all_own = all(i >= 0 for i in own_indices)
    identity = own_indices == list(range(len(OWN_COLUMNS)))
    write = writer.writerow
    put = stream.write
    delimiter = options.delimiter
    # With one column an empty cell must be written as "" (a blank line would be skipped).
    separators = len(columns) - 1 if len(columns) > 1 else -1
    count = 0
    for row in rows:
        if isinstance(row, ExportRow):
            values = _draft_values(row.customer, row.last_contact)
            if row.uid and not values[-1]:
                values[-1] = row.uid
        elif isinstance(row, CustomerDraft | Customer):
            values = _draft_values(row, None)
        else:
            write([_format_cell(row.get(c.key), c.text) for c in columns])
            count += 1
            continue
        if identity:
            cells = values
        elif all_own:
            cells = [values[i] for i in own_indices]
        else:
            cells = [values[i] if i >= 0 else "" for i in own_indices]
        # Inline check: most cells are safe, so the neutralise call is rare.
        cells = [neutralise(v) if v and v[0] in _RISKY else v for v in cells]
        # Fast path: most rows need no quoting at all (no quote, newline or stray delimiter),
        # and joining them ourselves is twice as fast as the csv writer; the rest go through it.
        line = delimiter.join(cells)
        if line.count(delimiter) == separators and not _NEEDS_QUOTES(line):
            put(line + _LINE_END)
        else:
            write(cells)
        count += 1
    return count


@contextmanager
def _target_stream(path: str | os.PathLike[str], options: ExportOptions) -> Iterator[TextIO]:
    """The temporary file that replaces `path` when the block ends cleanly (see module doc)."""
    options.resolved_columns()  # fail on bad options before creating anything
    encoding = "utf-8-sig" if options.bom else "utf-8"
    with replaced_atomically(Path(path), "w", encoding=encoding, newline="") as stream:
        yield stream


def export_csv(rows: Iterable[ExportInput], path: str | os.PathLike[str],
               options: ExportOptions = ExportOptions()) -> int:
    """Write rows to `path` atomically: a temporary file in the same folder, then os.replace.

    On any error (including the caller's iterator raising to cancel) the target is untouched
    and the temporary file is removed. Returns the number of rows written.
    """
    with _target_stream(path, options) as stream:
        count = write_csv(rows, stream, options)
    logger.info("exported %d customers to %s", count, path)
    return count


# --- stored customers: cells straight from the database ---------------------------------

# A cell the store builds from child rows (several emails, tags, dates...) that a spreadsheet
# would run arrives with MARK where `neutralise` would put its "'" (`marked`); the own cells
# (names, address, notes...) arrive raw. That lets `encode_customers` check a whole line at
# once: an own cell still to neutralise starts the line or follows a delimiter with a trigger
# or a "'", while a marked cell starts with MARK and passes; the marks then become "'". MARK is
# a lone surrogate: the database cannot hold one (SQLite text reaches Python as strict UTF-8)
# and UTF-8 encoding refuses one, so a mark can neither be mistaken for data nor leak out.
MARK: Final = "\udfff"
# First characters after which `neutralise` adds its "'" for certain (TRIGGERS) or may add it
# ("'", when triggers follow the quotes): the inline checks before a call.
TRIGGERS: Final = FORMULA_TRIGGERS
# The profile columns the store reads for each customer, in this order (its SELECT list).
PROFILE_FIELDS: Final = (
    "id", "first_name", "last_name", "display_name", "company", "street", "city", "region",
    "postcode", "country", "status", "kind", "key_account", "preferred_channel",
    "customer_since", "notes", "source_uid")


def marked(text: str) -> str:
    """`neutralise(text)`, with MARK instead of its "'" (see MARK).

    For a cell of several values joined by MULTI_VALUE_SEPARATOR the first value decides (the
    separator starts with a space, which is neither a quote nor a trigger), so the store marks
    the first value and appends the others."""
    return text if neutralise(text) == text else MARK + text


class ChildCells(NamedTuple):
    """The cells made from child rows, by customer id (no key: an empty cell): values joined
    by MULTI_VALUE_SEPARATOR, `marked`. Filled by the store, read by `encode_customers`."""

    emails: dict[int, str]
    email_labels: dict[int, str]
    phones: dict[int, str]
    phone_labels: dict[int, str]
    tags: dict[int, str]
    birthday: dict[int, str]
    wedding_anniversary: dict[int, str]
    special_dates: dict[int, str]
    last_contact: dict[int, str]
    segment: dict[int, str]
    segment_reasons: dict[int, str]

    @classmethod
    def empty(cls) -> ChildCells:
        return cls({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})


# Where each column's cell is in `encode_customers`' cells: the own columns, then the computed.
_CELL_INDEX: Final = {key: i for i, (key, _) in enumerate((*OWN_COLUMNS, *COMPUTED_COLUMNS))}


# Customers rows (PROFILE_FIELDS, as stored) with the child cells of those customers.
CustomerBatch = tuple[Iterable[Sequence[Any]], ChildCells]


def encode_customers(batches: Iterable[CustomerBatch], options: ExportOptions,
                     tick: Callable[[int], None] | None = None, every: int = 5000
                     ) -> Iterator[tuple[int, bytes]]:
    """(customer id, CSV line in UTF-8 without its line end) for each stored customer, in the
    order of the batches' rows, with the customer's stored UID. `tick(done)` is called every
    `every` customers (it may raise to cancel).

    The bytes `write_csv` writes for the same customers' drafts (tests/services/
    test_export_cells.py compares them): the chosen columns, own cells neutralised, marks
    turned into "'", quoting by the csv module where a cell needs it. Most lines are one join
    and a few whole-line checks; a line that fails one goes cell by cell.
    """
    columns = options.resolved_columns()
    delimiter = options.delimiter
    indices = [_CELL_INDEX.get(c.key, -1) for c in columns]
    own = [c.key not in ChildCells._fields for c in columns]
    pick: Callable[[Sequence[str]], Sequence[str]] | None
    if indices == list(range(len(_CELL_INDEX))):
        pick = None
    elif min(indices) >= 0 and len(indices) > 1:
        pick = itemgetter(*indices)
    else:  # one column, or columns this format does not have (written empty)
        def pick(cells: Sequence[str]) -> Sequence[str]:
            return [cells[i] if i >= 0 else "" for i in indices]
    separators = len(columns) - 1
    # A line starting with these may hold an own cell to neutralise; "" is one empty cell,
    # which the csv module writes as "" (a blank line would be read as no row at all).
    risky_first = _RISKY | {""}
    risky_inside = re.compile(re.escape(delimiter) + "[=+\\-@\t\r']").search
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=_LINE_END)

    def cell_by_cell(cells: Sequence[str]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([neutralise(v) if is_own else v.replace(MARK, "'")
                         for v, is_own in zip(cells, own, strict=True)])
        return buffer.getvalue()[:-len(_LINE_END)].encode("utf-8")

    join = delimiter.join
    next_tick = every if tick is not None else -1
    done = 0
    for rows, children in batches:
        (emails, email_labels, phones, phone_labels, tags, birthday, anniversary, specials,
         last_contact, segment, reasons) = (cells.get for cells in children)
        for (cid, first, last, display, company, street, city, region, postcode, country,
             status, kind, key_account, channel, since, notes, uid) in rows:
            cells: Sequence[str] = (
                first, last, display, company, emails(cid, ""), email_labels(cid, ""),
                phones(cid, ""), phone_labels(cid, ""), street, city, region, postcode,
                country, tags(cid, ""), status, kind, "yes" if key_account else "no",
                channel or "", birthday(cid, ""), anniversary(cid, ""), specials(cid, ""),
                since or "",  # stored as ISO text ("YYYY-MM-DD"), which is the cell
                last_contact(cid, ""), notes, uid, segment(cid, ""), reasons(cid, ""))
            if pick is not None:
                cells = pick(cells)
            line = join(cells)
            if (line.count(delimiter) != separators or line[:1] in risky_first
                    or '"' in line or "\n" in line or "\r" in line or risky_inside(line)):
                yield cid, cell_by_cell(cells)
            else:  # (a mark left over would fail the encoding, never reach the file)
                yield cid, line.replace(MARK, "'").encode("utf-8")
            done += 1
            if done == next_tick:
                tick(done)  # type: ignore[misc]
                next_tick += every


def export_lines(lines: Iterable[bytes], path: str | os.PathLike[str],
                 options: ExportOptions = ExportOptions()) -> int:
    """The header, then the lines (`encode_customers`) as they come, written atomically like
    `export_csv`. Returns the number of lines."""
    header = _header_line(options.resolved_columns(), options.delimiter).encode("utf-8")
    count = 0
    iterator = iter(lines)
    with replaced_atomically(Path(path), "wb") as stream:
        stream.write(codecs.BOM_UTF8 + header if options.bom else header)
        while batch := list(itertools.islice(iterator, 5000)):
            batch.append(b"")  # so the join ends the last line too
            stream.write(b"\r\n".join(batch))
            count += len(batch) - 1
    logger.info("exported %d customers to %s", count, path)
    return count
