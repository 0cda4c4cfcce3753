"""Clocks: time is a parameter, so every rule can be tested on a fixed day.

Date-only facts (birthdays) are never passed through timestamps; `Clock.today()` is the
local calendar day of the wall clock, which is what a person means by "today".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

NOW_ENV_VAR = "CRMCOMPANION_NOW"
# The days the app's date arithmetic is meant for. Outside them a year-ahead window, a
# weekday or a local time zone can leave datetime's range (year 1 or 9999 crashed `due`,
# `log`, `demo` and ICS export, some after rewriting caches), so a clock set there is refused.
SUPPORTED_FIRST = date(1900, 1, 1)
SUPPORTED_LAST = date(2200, 12, 31)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current local date-time, timezone-aware."""
        ...

    def today(self) -> date:
        """The current local calendar day."""
        ...


class SystemClock:
    """The machine's wall clock, in the machine's local time zone."""

    def now(self) -> datetime:
        return datetime.now().astimezone()

    def today(self) -> date:
        return date.today()


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at one instant; naive values are read as local time."""

    instant: datetime

    def now(self) -> datetime:
        if self.instant.tzinfo is None:
            return self.instant.astimezone()
        return self.instant

    def today(self) -> date:
        return self.instant.date()


def parse_now(text: str) -> datetime:
    """Parse an ISO date or date-time given for CRMCOMPANION_NOW (a bare date means midnight)."""
    text = text.strip()
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(
            f"{NOW_ENV_VAR}={text!r} is not an ISO date-time (e.g. 2026-03-01T09:30)"
        ) from exc
    if not SUPPORTED_FIRST <= parsed.date() <= SUPPORTED_LAST:
        raise ValueError(
            f"{NOW_ENV_VAR}={text!r} is outside the supported range "
            f"{SUPPORTED_FIRST.isoformat()} to {SUPPORTED_LAST.isoformat()}"
        )
    return parsed


def clock_from_environment(environ: dict[str, str] | None = None) -> Clock:
    """The clock for CLI commands: CRMCOMPANION_NOW if set, else the system clock."""
    env = os.environ if environ is None else environ
    value = env.get(NOW_ENV_VAR, "").strip()
    if value:
        return FixedClock(parse_now(value))
    return SystemClock()
