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
"""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Final, TextIO

from crmcompanion.core.atomic_file import replaced_atomically
from crmcompanion.core.csv_codec import (
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
COLUMNS: Final[dict[str, ExportColumn]] = {
    key: ExportColumn(key, header, key in _TEXT_KEYS) for key, header in OWN_COLUMNS
}
DEFAULT_COLUMNS: Final[tuple[str, ...]] = tuple(key for key, _ in OWN_COLUMNS)


@dataclass(frozen=True, slots=True)
class ExportRow:
    """A customer plus the facts that are not on the profile itself (from touchpoints)."""

    customer: CustomerDraft | Customer
    last_contact: date | datetime | None = None
    uid: str = ""  # written in the UID column when the customer has no source UID


# A row is an ExportRow, a draft, a stored customer, or a plain dict keyed by column key.
class OwnCells(list[str]):
    """One customer's own-format cells in OWN_COLUMNS order, not yet neutralised, made
    straight from the database by `store.transfer.iter_export_cells` (no CustomerDraft):
    the fast export path. `own_cells` gives the same list for a draft."""

    __slots__ = ()


ExportInput = ExportRow | CustomerDraft | Customer | OwnCells | Mapping[str, object]


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


def own_cells(d: CustomerDraft | Customer, last_contact: date | datetime | None) -> OwnCells:
    """The own-format cells `write_csv` writes for a draft (what OwnCells rows hold)."""
    return OwnCells(_draft_values(d, last_contact))


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


def write_csv(rows: Iterable[ExportInput], stream: TextIO,
              options: ExportOptions = ExportOptions()) -> int:
    """Write the header and every row to an open text stream (opened with newline="").

    Returns the number of customer rows written.
    """
    columns = options.resolved_columns()
    writer = csv.writer(stream, delimiter=options.delimiter, lineterminator="\r\n")
    writer.writerow([neutralise(c.header) for c in columns])
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
        if type(row) is OwnCells:
            values = row
        elif isinstance(row, ExportRow):
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
            put(line + "\r\n")
        else:
            write(cells)
        count += 1
    return count


def export_csv(rows: Iterable[ExportInput], path: str | os.PathLike[str],
               options: ExportOptions = ExportOptions()) -> int:
    """Write rows to `path` atomically: a temporary file in the same folder, then os.replace.

    On any error (including the caller's iterator raising to cancel) the target is untouched
    and the temporary file is removed. Returns the number of rows written.
    """
    target = Path(path)
    options.resolved_columns()  # fail on bad options before creating anything
    encoding = "utf-8-sig" if options.bom else "utf-8"
    with replaced_atomically(target, "w", encoding=encoding, newline="") as stream:
        count = write_csv(rows, stream, options)
    logger.info("exported %d customers to %s", count, target)
    return count
