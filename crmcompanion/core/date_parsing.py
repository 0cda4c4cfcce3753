"""Strict parsing of the date cells found in contact CSV files.

Spreadsheets and address books write dates in a handful of shapes: ISO `1971-03-14`, Google's
yearless `--03-14`, and the locale-dependent `14/3/1971`, `3/14/1971` and `14.3.1971`. A guessing
parser (dateutil) silently swaps day and month for half the world, which would move a
customer's birthday. So this module accepts only those shapes, and a slash date whose day/month
order cannot be told from the value itself is left *ambiguous*: the importer decides the order
for the whole file from any value that settles it, or asks the caller.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class DateOrder(StrEnum):
    """Order of day and month in a slash date."""

    DMY = "dmy"
    MDY = "mdy"


class DateProblem(ValueError):
    """A date cell that cannot be read; `code` is stable for tests and UI hints."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class PartialDate:
    """A calendar date whose year may be unknown (a birthday given as `--03-14`)."""

    year: int | None
    month: int
    day: int

    def iso(self) -> str:
        """`YYYY-MM-DD`, or `--MM-DD` without a year (the vCard/Google convention)."""
        return format_date_parts(self.year, self.month, self.day)

    def to_date(self) -> date:
        if self.year is None:
            raise ValueError("a date without a year is not a calendar date")
        return date(self.year, self.month, self.day)


@dataclass(frozen=True)
class SlashDate:
    """A `a/b/yyyy` value whose day/month order is not yet known."""

    first: int
    second: int
    year: int

    def evidence(self) -> DateOrder | None:
        """The order this value proves on its own, or None if it fits both."""
        if self.first > 12 and self.second <= 12:
            return DateOrder.DMY
        if self.second > 12 and self.first <= 12:
            return DateOrder.MDY
        return None

    def is_ambiguous(self) -> bool:
        """True when both orders give a different valid-looking date."""
        return self.evidence() is None and self.first != self.second

    def resolve(self, order: DateOrder) -> PartialDate:
        if order is DateOrder.DMY:
            day, month = self.first, self.second
        else:
            month, day = self.first, self.second
        if month > 12:
            raise DateProblem(
                "date_order_conflict",
                f"{self.first}/{self.second}/{self.year} has no month {month}: it contradicts "
                f"the {'day/month' if order is DateOrder.DMY else 'month/day'} order "
                "of this file",
            )
        return checked(self.year, month, day)


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_YEARLESS = re.compile(r"--(\d{1,2})-?(\d{1,2})")
_SLASH = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})")
_DOT = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})")

_MONTH_NAMES = ("", "January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")


def format_date_parts(year: int | None, month: int, day: int) -> str:
    if year is None:
        return f"--{month:02d}-{day:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def checked(year: int | None, month: int, day: int) -> PartialDate:
    """A PartialDate after checking the calendar; 29 February needs a leap year if one is given."""
    if not 1 <= month <= 12:
        raise DateProblem("bad_date", f"month {month} does not exist")
    if year is not None and not 1 <= year <= 9999:
        raise DateProblem("bad_date", f"year {year} is out of range")
    if month == 2 and day == 29 and year is not None and not calendar.isleap(year):
        raise DateProblem("not_leap_year", f"29 February {year}: {year} is not a leap year")
    # A yearless date is checked against a leap year so that --02-29 is valid.
    last = calendar.monthrange(2000 if year is None else year, month)[1]
    if not 1 <= day <= last:
        raise DateProblem("bad_date", f"{_MONTH_NAMES[month]} has no day {day}")
    return PartialDate(year, month, day)


def _year4(text: str, original: str) -> int:
    if len(text) != 4:
        raise DateProblem("bad_date", f"“{original}” has a two-digit year; write all four digits")
    return int(text)


def parse_date_cell(text: str) -> PartialDate | SlashDate | None:
    """Parse one cell: None when empty (or Outlook's `0/0/00`), a SlashDate when the day/month
    order still has to be decided, else a checked PartialDate. Raises DateProblem."""
    value = text.strip()
    if not value:
        return None
    if m := _ISO.fullmatch(value):
        return checked(int(m[1]), int(m[2]), int(m[3]))
    if m := _YEARLESS.fullmatch(value):
        return checked(None, int(m[1]), int(m[2]))
    slash = _SLASH.fullmatch(value)
    dot = None if slash else _DOT.fullmatch(value)
    m = slash or dot
    if m is None:
        raise DateProblem(
            "bad_date",
            f"“{value}” is not a date (use YYYY-MM-DD, --MM-DD, D/M/YYYY, M/D/YYYY or D.M.YYYY)",
        )
    first, second = int(m[1]), int(m[2])
    if first == 0 and second == 0 and int(m[3]) == 0:
        return None  # Outlook writes 0/0/00 (or 0.0.00) for "no date".
    year = _year4(m[3], value)
    if dot:
        # The dotted form is the German/European one: always day first.
        return checked(year, second, first)
    if first > 12 and second > 12:
        raise DateProblem("bad_date", f"“{value}”: neither {first} nor {second} can be a month")
    slash_date = SlashDate(first, second, year)
    if not slash_date.is_ambiguous():
        # Day == month, or a settling value: it can be resolved now, but still carries evidence.
        order = slash_date.evidence() or DateOrder.DMY
        resolved = slash_date.resolve(order)
        if slash_date.evidence() is None:
            return resolved
    return slash_date
