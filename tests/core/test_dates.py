"""Tests for crmcompanion.core.dates: fixed dates only, never date.today()."""

from __future__ import annotations

import calendar
import json
import os
import subprocess
import sys
from bisect import bisect_left, bisect_right
from datetime import date, timedelta
from pathlib import Path

import pytest

from crmcompanion.core.dates import (
    ALL_MONTH_DAY_KEYS,
    LeapDayPolicy,
    key_in_ranges,
    month_day_key,
    month_day_key_ranges,
    next_occurrence,
    occurrence_in_window,
    occurrence_in_year,
    validate_month_day,
    years_reached,
)

# Clock-sensitive: local calendar days in several time zones, CRMCOMPANION_NOW in a subprocess.
pytestmark = pytest.mark.clock_sensitive

FEB28 = LeapDayPolicy.FEB28
MAR1 = LeapDayPolicy.MAR1
REPO_ROOT = Path(__file__).resolve().parents[2]


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "day", "year"),
    [(2, 29, None), (2, 29, 2028), (2, 29, 2000), (12, 31, None), (1, 1, 1950), (4, 30, 2027)],
)
def test_valid_month_days_pass(month, day, year):
    assert validate_month_day(month, day, year) is None


@pytest.mark.parametrize(
    ("month", "day", "year", "fragment"),
    [
        (2, 29, 2027, "29 February does not exist in 2027"),
        (2, 29, 1900, "29 February does not exist in 1900"),
        (2, 30, None, "February never has a day 30"),
        (2, 30, 2028, "February 2028 has 29 days"),
        (4, 31, None, "April never has a day 31"),
        (13, 1, None, "Month must be a whole number from 1 to 12"),
        (0, 1, None, "Month must be"),
        (1, 0, None, "January never has a day 0"),
        (1, 1, 0, "Year must be"),
        (True, 1, None, "Month must be"),
    ],
)
def test_invalid_month_days_raise_a_clear_sentence(month, day, year, fragment):
    with pytest.raises(ValueError, match=fragment) as info:
        validate_month_day(month, day, year)
    message = str(info.value)
    assert (message[0].isupper() or message[0].isdigit()) and message.endswith(".")


# --- occurrences --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "policy", "expected"),
    [
        (2025, FEB28, date(2025, 2, 28)),
        (2026, FEB28, date(2026, 2, 28)),
        (2027, FEB28, date(2027, 2, 28)),
        (2028, FEB28, date(2028, 2, 29)),
        (2025, MAR1, date(2025, 3, 1)),
        (2026, MAR1, date(2026, 3, 1)),
        (2027, MAR1, date(2027, 3, 1)),
        (2028, MAR1, date(2028, 2, 29)),
        (2100, FEB28, date(2100, 2, 28)),  # not a leap year (century rule)
        (2000, MAR1, date(2000, 2, 29)),  # a leap year (400 rule)
    ],
)
def test_leap_day_occurrence_in_each_year(year, policy, expected):
    assert occurrence_in_year(2, 29, year, policy) == expected


def test_leap_day_next_occurrences_2025_to_2028_feb28():
    seen = []
    day = date(2025, 1, 1)
    while (occurrence := next_occurrence(2, 29, day, FEB28)).year <= 2028:
        seen.append(occurrence)
        day = occurrence + timedelta(days=1)
    assert seen == [date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)]


def test_leap_day_next_occurrences_2025_to_2028_mar1():
    seen = []
    day = date(2025, 1, 1)
    while (occurrence := next_occurrence(2, 29, day, MAR1)).year <= 2028:
        seen.append(occurrence)
        day = occurrence + timedelta(days=1)
    assert seen == [date(2025, 3, 1), date(2026, 3, 1), date(2027, 3, 1), date(2028, 2, 29)]


def test_leap_day_after_substitute_day_moves_to_next_year():
    assert next_occurrence(2, 29, date(2027, 3, 1), FEB28) == date(2028, 2, 29)
    assert next_occurrence(2, 29, date(2027, 3, 2), MAR1) == date(2028, 2, 29)
    assert next_occurrence(2, 29, date(2028, 3, 1), MAR1) == date(2029, 3, 1)
    assert next_occurrence(2, 29, date(2028, 2, 29), FEB28) == date(2028, 2, 29)


def test_today_counts_as_next_occurrence():
    assert next_occurrence(6, 15, date(2027, 6, 15), FEB28) == date(2027, 6, 15)
    assert next_occurrence(6, 15, date(2027, 6, 16), FEB28) == date(2028, 6, 15)


def test_december_to_january_wrap():
    assert next_occurrence(1, 3, date(2026, 12, 30), FEB28) == date(2027, 1, 3)
    assert next_occurrence(12, 31, date(2026, 12, 31), FEB28) == date(2026, 12, 31)
    assert next_occurrence(12, 30, date(2026, 12, 31), FEB28) == date(2027, 12, 30)


def test_ordinary_dates_ignore_policy():
    for policy in LeapDayPolicy:
        assert occurrence_in_year(2, 28, 2027, policy) == date(2027, 2, 28)
        assert occurrence_in_year(3, 1, 2027, policy) == date(2027, 3, 1)


def test_occurrence_in_year_rejects_impossible_dates():
    with pytest.raises(ValueError, match="February never has a day 30"):
        occurrence_in_year(2, 30, 2028, FEB28)


def test_occurrence_in_window():
    assert occurrence_in_window(1, 2, date(2026, 12, 25), date(2027, 1, 8), FEB28) == date(
        2027, 1, 2
    )
    assert occurrence_in_window(1, 9, date(2026, 12, 25), date(2027, 1, 8), FEB28) is None
    assert occurrence_in_window(2, 29, date(2027, 2, 20), date(2027, 2, 28), FEB28) == date(
        2027, 2, 28
    )
    assert occurrence_in_window(2, 29, date(2027, 2, 20), date(2027, 2, 28), MAR1) is None
    assert occurrence_in_window(5, 1, date(2027, 5, 2), date(2027, 5, 1), FEB28) is None
    # Two occurrences inside a long window: the first one.
    assert occurrence_in_window(5, 1, date(2026, 1, 1), date(2027, 12, 31), FEB28) == date(
        2026, 5, 1
    )


# --- years reached ------------------------------------------------------------------------


def test_years_reached_on_the_occurrence_day():
    assert years_reached(1987, date(2027, 5, 1)) == 40
    assert years_reached(2026, date(2027, 1, 2)) == 1
    assert years_reached(2027, date(2027, 1, 2)) == 0
    assert years_reached(None, date(2027, 1, 2)) is None
    assert years_reached(2030, date(2027, 1, 2)) is None


def test_leap_day_baby_age_on_substitute_day():
    born_2028 = 2028
    occurrence = next_occurrence(2, 29, date(2031, 1, 1), FEB28)
    assert occurrence == date(2031, 2, 28)
    assert years_reached(born_2028, occurrence) == 3


# --- keys and key ranges ------------------------------------------------------------------


def test_month_day_key():
    assert month_day_key(1, 1) == 101
    assert month_day_key(2, 29) == 229
    assert month_day_key(12, 31) == 1231
    with pytest.raises(ValueError):
        month_day_key(2, 30)


def test_all_keys_are_every_storable_month_day():
    assert len(ALL_MONTH_DAY_KEYS) == 366
    assert list(ALL_MONTH_DAY_KEYS) == sorted(ALL_MONTH_DAY_KEYS)
    assert 229 in ALL_MONTH_DAY_KEYS and 230 not in ALL_MONTH_DAY_KEYS


@pytest.mark.parametrize(
    ("start", "end", "policy", "expected"),
    [
        (date(2027, 1, 1), date(2027, 1, 14), FEB28, [(101, 114)]),
        (date(2026, 12, 25), date(2027, 1, 7), FEB28, [(101, 107), (1225, 1231)]),
        (date(2027, 2, 20), date(2027, 2, 28), FEB28, [(220, 229)]),
        (date(2027, 2, 20), date(2027, 2, 28), MAR1, [(220, 228)]),
        (date(2027, 3, 1), date(2027, 3, 5), MAR1, [(229, 305)]),
        (date(2027, 3, 1), date(2027, 3, 5), FEB28, [(301, 305)]),
        (date(2028, 2, 28), date(2028, 2, 28), FEB28, [(228, 228)]),
        (date(2028, 3, 1), date(2028, 3, 1), MAR1, [(301, 301)]),
        (date(2027, 1, 31), date(2027, 2, 1), FEB28, [(131, 201)]),
        (date(2027, 5, 2), date(2027, 5, 1), FEB28, []),
        (date(2027, 1, 1), date(2027, 12, 31), FEB28, [(101, 1231)]),
        (date(2027, 6, 1), date(2030, 6, 1), MAR1, [(101, 1231)]),
    ],
)
def test_key_ranges_examples(start, end, policy, expected):
    assert month_day_key_ranges(start, end, policy) == expected


def _reference_occurrences(policy: LeapDayPolicy) -> dict[int, list[int]]:
    """Brute force written from the rule itself: every occurrence ordinal per key, 2023-2031."""
    table: dict[int, list[int]] = {}
    for month in range(1, 13):
        for day in range(1, 30 if month == 2 else calendar.monthrange(2027, month)[1] + 1):
            ordinals = []
            for year in range(2023, 2032):
                if (month, day) == (2, 29) and not calendar.isleap(year):
                    substitute = (2, 28) if policy is FEB28 else (3, 1)
                    ordinals.append(date(year, *substitute).toordinal())
                else:
                    ordinals.append(date(year, month, day).toordinal())
            table[month * 100 + day] = ordinals
    return table


WINDOW_LENGTHS = (0, 1, 2, 6, 7, 13, 29, 30, 59, 180, 363, 364, 365, 366, 400)


@pytest.mark.parametrize("policy", list(LeapDayPolicy))
# Two years (a leap year, three year ends) by default; the long variant (--long) adds two more.
@pytest.mark.parametrize("first_year", [2027, pytest.param(2025, marks=pytest.mark.long)])
def test_key_ranges_match_brute_force_for_every_window(policy, first_year):
    """For every start day from `first_year` to 2028 and many lengths, the SQL ranges select
    exactly the (month, day)s that have an occurrence in the window, and occurrence_in_window
    agrees."""
    reference = _reference_occurrences(policy)
    assert len(reference) == 366
    keys = sorted(reference)
    start = date(first_year, 1, 1)
    checked = 0
    while start.year <= 2028:
        s = start.toordinal()
        # Next occurrence ordinal of every key on or after `start`, from the brute force.
        upcoming = sorted((occ[bisect_left(occ, s)], key) for key, occ in reference.items())
        ordinals = [o for o, _ in upcoming]
        for length in WINDOW_LENGTHS:
            end = start + timedelta(days=length)
            expected = {key for _, key in upcoming[: bisect_right(ordinals, end.toordinal())]}
            ranges = month_day_key_ranges(start, end, policy)
            selected = {k for k in keys if key_in_ranges(k, ranges)}
            assert selected == expected, (start, end, policy, ranges)
            checked += 1
        # The Python-side helper must agree with the brute force too (one length to stay fast).
        end = start + timedelta(days=30)
        for key, occ in reference.items():
            first = occ[bisect_left(occ, s)]
            got = occurrence_in_window(key // 100, key % 100, start, end, policy)
            assert got == (date.fromordinal(first) if first <= end.toordinal() else None)
        start += timedelta(days=1)
    days = (date(2029, 1, 1) - date(first_year, 1, 1)).days
    assert checked == days * len(WINDOW_LENGTHS)


@pytest.mark.parametrize("policy", list(LeapDayPolicy))
def test_key_ranges_are_sorted_disjoint_and_not_touching(policy):
    index = {k: i for i, k in enumerate(ALL_MONTH_DAY_KEYS)}
    start = date(2025, 1, 1)
    while start.year <= 2028:
        for length in (0, 7, 30, 200, 364):
            ranges = month_day_key_ranges(start, start + timedelta(days=length), policy)
            assert 1 <= len(ranges) <= 2
            for lo, hi in ranges:
                assert lo in index and hi in index and lo <= hi
            if len(ranges) == 2:
                assert index[ranges[1][0]] > index[ranges[0][1]] + 1
        start += timedelta(days=3)


def test_key_in_ranges():
    ranges = [(101, 107), (1225, 1231)]
    assert key_in_ranges(101, ranges) and key_in_ranges(107, ranges)
    assert key_in_ranges(1231, ranges) and key_in_ranges(1225, ranges)
    assert not key_in_ranges(108, ranges) and not key_in_ranges(1224, ranges)
    assert not key_in_ranges(100, ranges)
    assert not key_in_ranges(101, [])


# --- time zones: date-only facts never go through UTC -------------------------------------

_TZ_SCRIPT = """
import json, sys
from datetime import datetime, timezone
from crmcompanion.core.clock import FixedClock
from crmcompanion.core.dates import LeapDayPolicy, next_occurrence

month, day = int(sys.argv[1]), int(sys.argv[2])
local = datetime.fromisoformat(sys.argv[3])          # naive: read as local wall time
clock = FixedClock(local)
aware_clock = FixedClock(local.astimezone())          # the same instant, tz-aware
utc_day = clock.now().astimezone(timezone.utc).date()
print(json.dumps({
    "offset_hours": clock.now().utcoffset().total_seconds() / 3600,
    "today": clock.today().isoformat(),
    "aware_today": aware_clock.today().isoformat(),
    "utc_day": utc_day.isoformat(),
    "next": next_occurrence(month, day, clock.today(), LeapDayPolicy.FEB28).isoformat(),
    "next_aware": next_occurrence(
        month, day, aware_clock.today(), LeapDayPolicy.FEB28).isoformat(),
    "next_via_utc": next_occurrence(month, day, utc_day, LeapDayPolicy.FEB28).isoformat(),
}))
"""


def _run_in_zone(tz: str, month: int, day: int, local: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "CRMCOMPANION_NOW"}
    env["TZ"] = tz
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run(
        [sys.executable, "-c", _TZ_SCRIPT, str(month), str(day), local],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_birthday_stays_on_its_day_in_kiritimati():
    # UTC+14: at 08:00 on 31 December local it is still 30 December in UTC.
    out = _run_in_zone("Pacific/Kiritimati", 12, 30, "2026-12-31T08:00")
    assert out["offset_hours"] == 14  # the zone really applied, so the test means something
    assert out["today"] == out["aware_today"] == "2026-12-31"
    assert out["utc_day"] == "2026-12-30"
    # The birthday was yesterday locally: next is a year away, on the same calendar day.
    assert out["next"] == out["next_aware"] == "2027-12-30"
    assert out["next_via_utc"] != out["next"]  # going through UTC would have been wrong


def test_birthday_stays_on_its_day_in_adak():
    # UTC-10 in winter: at 20:00 on 31 December local it is already 1 January in UTC.
    out = _run_in_zone("America/Adak", 12, 31, "2026-12-31T20:00")
    assert out["offset_hours"] == -10
    assert out["today"] == out["aware_today"] == "2026-12-31"
    assert out["utc_day"] == "2027-01-01"
    assert out["next"] == out["next_aware"] == "2026-12-31"  # today, not next year
    assert out["next_via_utc"] == "2027-12-31"
