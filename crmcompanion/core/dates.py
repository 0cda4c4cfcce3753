"""Yearly special dates: when does a (month, day) next happen, and how to find them in SQL.

Birthdays and anniversaries are date-only facts. They are stored as (month, day, optional
year) and every rule here works on `datetime.date` values, never on timestamps, so a
birthday is never shifted by a time zone (docs/architecture.md, convention 4).

29 February needs a policy: in a non-leap year people celebrate it either on 28 February
(the default, still in the birth month) or on 1 March; in leap years it is the 29th again.

The store keeps an indexed ``month * 100 + day`` column (`month_day_key`). To list the dates
that occur in a window the database layer asks `month_day_key_ranges` for the key ranges to
query, so the window logic (year wrap, the leap-day substitute) lives here, in one tested place.
"""

from __future__ import annotations

import calendar
from bisect import bisect_left
from datetime import date
from enum import StrEnum

__all__ = [
    "ALL_MONTH_DAY_KEYS",
    "LEAP_DAY_KEY",
    "LeapDayPolicy",
    "key_in_ranges",
    "month_day_key",
    "month_day_key_ranges",
    "next_occurrence",
    "occurrence_in_window",
    "occurrence_in_year",
    "validate_month_day",
    "years_reached",
]

LEAP_DAY_KEY = 229

# Days per month when the year is unknown: 29 February is a valid yearly date.
_MAX_DAYS_ANY_YEAR = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# A window this long (in days, end - start) contains an occurrence of every (month, day):
# consecutive occurrences of one (month, day) are at most 366 days apart (e.g. 1 March 2027
# and 1 March 2028), so any 366 consecutive days hold at least one of them.
_WHOLE_YEAR_SPAN = 365


class LeapDayPolicy(StrEnum):
    """Where 29 February is celebrated in a year that has no 29 February."""

    FEB28 = "feb28"
    MAR1 = "mar1"


def validate_month_day(month: int, day: int, year: int | None = None) -> None:
    """Raise ValueError with a sentence for the user unless (month, day[, year]) is a real date.

    Without a year, 29 February is valid (someone born on a leap day); with a year it is
    valid only in a leap year. 30 February is never valid.
    """
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise ValueError(f"Month must be a whole number from 1 to 12, not {month!r}.")
    if isinstance(day, bool) or not isinstance(day, int):
        raise ValueError(f"Day must be a whole number, not {day!r}.")
    if year is not None:
        if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
            raise ValueError(f"Year must be a whole number from 1 to 9999, not {year!r}.")
        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            if month == 2 and day == 29:
                raise ValueError(f"29 February does not exist in {year}: it is not a leap year.")
            raise ValueError(
                f"{calendar.month_name[month]} {year} has {last} days, so day {day} is not valid."
            )
        return
    last = _MAX_DAYS_ANY_YEAR[month - 1]
    if not 1 <= day <= last:
        raise ValueError(
            f"{calendar.month_name[month]} never has a day {day}: it has at most {last} days."
        )


def occurrence_in_year(month: int, day: int, year: int, policy: LeapDayPolicy) -> date:
    """The calendar day on which a yearly (month, day) is celebrated in `year`."""
    validate_month_day(month, day)
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28) if policy is LeapDayPolicy.FEB28 else date(year, 3, 1)
    return date(year, month, day)


def next_occurrence(
    month: int, day: int, on_or_after: date, policy: LeapDayPolicy
) -> date:
    """The first celebration of (month, day) on or after `on_or_after` (today counts)."""
    this_year = occurrence_in_year(month, day, on_or_after.year, policy)
    if this_year >= on_or_after:
        return this_year
    return occurrence_in_year(month, day, on_or_after.year + 1, policy)


def occurrence_in_window(
    month: int, day: int, start: date, end: date, policy: LeapDayPolicy
) -> date | None:
    """The first celebration of (month, day) within [start, end] (inclusive), or None."""
    if end < start:
        return None
    first = next_occurrence(month, day, start, policy)
    return first if first <= end else None


def years_reached(since_year: int | None, occurrence: date) -> int | None:
    """The age or number of years reached ON `occurrence`; None when the year is unknown.

    Also None when the occurrence is before `since_year` (nothing has been reached yet).
    """
    if since_year is None:
        return None
    years = occurrence.year - since_year
    return years if years >= 0 else None


def month_day_key(month: int, day: int) -> int:
    """The indexed SQL key of a yearly date: month * 100 + day (29 February is 229)."""
    validate_month_day(month, day)
    return month * 100 + day


# Every storable key in calendar order (366 of them, 229 included): two key ranges touch
# when no storable key lies between them, so they can be merged into one BETWEEN.
ALL_MONTH_DAY_KEYS: tuple[int, ...] = tuple(
    m * 100 + d for m in range(1, 13) for d in range(1, _MAX_DAYS_ANY_YEAR[m - 1] + 1)
)
_KEY_INDEX = {key: i for i, key in enumerate(ALL_MONTH_DAY_KEYS)}


def _segment_range(a: date, b: date, policy: LeapDayPolicy) -> tuple[int, int]:
    """The key range for a window [a, b] that lies inside one calendar year."""
    lo, hi = a.month * 100 + a.day, b.month * 100 + b.day
    if not calendar.isleap(a.year):
        # Key 229 is not a day this year. It sits inside [lo, hi] only when the segment holds
        # both 28 Feb and 1 Mar, and then its substitute day is in the window either way. If
        # the segment only touches the substitute day at its edge, stretch the edge to 229.
        if hi == 228 and policy is LeapDayPolicy.FEB28:
            hi = LEAP_DAY_KEY
        if lo == 301 and policy is LeapDayPolicy.MAR1:
            lo = LEAP_DAY_KEY
    return lo, hi


def month_day_key_ranges(
    start: date, end: date, policy: LeapDayPolicy
) -> list[tuple[int, int]]:
    """Inclusive key ranges so that a stored (month, day) occurs in [start, end] iff its key
    lies in one of them.

    Exact for every storable key (`ALL_MONTH_DAY_KEYS`); values between months such as 132 may
    fall inside a range, which is harmless because they are never stored. The result is sorted,
    has no touching ranges, and is empty when end < start. A window of a year or more is
    everything: ``[(101, 1231)]``. A window crossing New Year gives two ranges, e.g.
    ``[(101, 105), (1228, 1231)]``.
    """
    if end < start:
        return []
    if (end - start).days >= _WHOLE_YEAR_SPAN:
        return [(ALL_MONTH_DAY_KEYS[0], ALL_MONTH_DAY_KEYS[-1])]
    # Shorter than 366 days, so the window spans at most two calendar years.
    if start.year == end.year:
        segments = [(start, end)]
    else:
        segments = [(start, date(start.year, 12, 31)), (date(end.year, 1, 1), end)]
    ranges = sorted(_segment_range(a, b, policy) for a, b in segments)
    merged: list[tuple[int, int]] = [ranges[0]]
    for lo, hi in ranges[1:]:
        last_lo, last_hi = merged[-1]
        if _KEY_INDEX[lo] <= _KEY_INDEX[last_hi] + 1:
            merged[-1] = (last_lo, max(last_hi, hi))
        else:
            merged.append((lo, hi))
    return merged


def key_in_ranges(key: int, ranges: list[tuple[int, int]]) -> bool:
    """Whether `key` lies in one of the sorted, disjoint inclusive `ranges` (the SQL test)."""
    i = bisect_left(ranges, (key + 1,)) - 1
    return i >= 0 and ranges[i][0] <= key <= ranges[i][1]

