"""Reminder timing rules: when an occurrence becomes deliverable and which days a pass covers.

A reminder is tied to a calendar day (`remind_on`) and the owner's daily reminder time
(e.g. 09:00 local). These rules turn "now" into the last calendar day whose reminder instant
has passed, and the window of days one delivery pass looks at. They work on local calendar
days, never on timestamps, so DST changes, a time-zone change or a clock set back can shift
*when* a pass runs but never which occurrences exist; the exactly-once guarantee itself comes
from the occurrence key in the fired-reminder log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

__all__ = [
    "DEFAULT_REMINDER_TIME",
    "FIRST_PASS_DAYS",
    "LOOKBACK_DAYS",
    "PassWindow",
    "deliverable_until",
    "next_reminder_instant",
    "parse_reminder_time",
    "pass_window",
]

DEFAULT_REMINDER_TIME = time(9, 0)
# The very first pass on a database notifies only what came due in the last 7 days: a new
# install (or an imported database) must not fire a year of old birthdays at once.
FIRST_PASS_DAYS = 7
# Every later pass also looks this many days back, so an item added with a remind_on already
# in the past (a birthday in two days with a 3-day lead) is still notified once.
LOOKBACK_DAYS = 7


def parse_reminder_time(text: str) -> time:
    """"09:00" or "9:30" -> time; ValueError with a clear sentence otherwise."""
    parts = text.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"The reminder time must look like 09:00, not {text!r}.")
    hour, minute = int(parts[0]), int(parts[1])
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"The reminder time must be between 00:00 and 23:59, not {text!r}.")
    return time(hour, minute)


def deliverable_until(now: datetime, at: time) -> date:
    """The last local day whose reminder instant (`at` on that day) has been reached by `now`.

    `now` is read on its own wall clock (local time): at 08:59 with a 09:00 reminder time the
    answer is yesterday, from 09:00 on it is today.
    """
    today = now.date()
    return today if now.time().replace(tzinfo=None) >= at else today - timedelta(days=1)


def next_reminder_instant(now: datetime, at: time) -> datetime:
    """The next wall-clock instant strictly after `now` at which a new day becomes deliverable.

    Built from the local calendar day and `now`'s time zone, so with a zoneinfo zone the
    instant across a DST change is the right local 09:00.
    """
    day = now.date()
    for _ in range(3):
        candidate = datetime.combine(day, at, tzinfo=now.tzinfo)
        if candidate > now:
            return candidate
        day += timedelta(days=1)
    raise AssertionError("unreachable: a later day always has a later instant")


@dataclass(frozen=True)
class PassWindow:
    """The remind_on days [since, until] one pass delivers; `first` on a new database and
    `catch_up` when at least one earlier reminder instant was missed (app closed, asleep)."""

    since: date
    until: date
    first: bool
    catch_up: bool


def pass_window(until: date, last_until: date | None) -> PassWindow:
    """The days a pass covers given the last day an earlier pass covered (None: never)."""
    if last_until is None:
        return PassWindow(until - timedelta(days=FIRST_PASS_DAYS - 1), until, True, True)
    since = min(last_until + timedelta(days=1), until - timedelta(days=LOOKBACK_DAYS - 1))
    # More than one day since the last covered day: at least one daily instant was missed.
    catch_up = (until - last_until).days > 1
    return PassWindow(since, until, False, catch_up)
