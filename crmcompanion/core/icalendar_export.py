"""iCalendar (RFC 5545) export of customers' yearly dates and upcoming touchpoints.

A small-business owner wants birthdays, anniversaries and planned touchpoints in the calendar
they already use (Google, Apple, Outlook, Thunderbird). Yearly dates become recurring all-day
events (``DTSTART;VALUE=DATE`` + ``RRULE:FREQ=YEARLY``); touchpoints become single all-day
events. Written by hand, like the vCard codec whose content-line helpers it shares, so the
output is exactly what we test.

29 February follows the app's `LeapDayPolicy` (core.dates): in leap years it is the 29th, in
other years the 28th ("feb28") or 1 March ("mar1"). Two encodings are offered:

- ``LeapDayEncoding.RULE``: one recurring event whose RRULE is right in every year.
  feb28 -> ``FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1`` (the last day of February);
  mar1 -> ``FREQ=YEARLY;BYYEARDAY=60``: day 60 is 1 March in a common year and 29 February in
  a leap year, which is exactly the policy (in leap years the date is the 29th again).
  DTSTART is a 29 February (a leap year), so it is itself an instance of the rule, as RFC 5545
  requires for a well-defined recurrence set.
- ``LeapDayEncoding.DATED``: separate single events for the next N years, for calendars that
  handle BYMONTHDAY=-1 / BYYEARDAY poorly (Outlook's yearly patterns have no BYYEARDAY).

Yearless dates start in 2000, a past leap year, so a yearless 29 February has a valid DTSTART.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from crmcompanion.core.customer import SpecialDate, SpecialDateKind
from crmcompanion.core.dates import LeapDayPolicy, occurrence_in_year, validate_month_day
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.vcard import escape_text, fold_content_line

__all__ = [
    "YEARLESS_START_YEAR",
    "LeapDayEncoding",
    "TouchpointEvent",
    "YearlyEvent",
    "export_icalendar",
    "yearly_events_for_customer",
]

PRODID = "-//CRM Companion//Calendar export//EN"
YEARLESS_START_YEAR = 2000  # a leap year in the past: valid for 29 February too
DEFAULT_DATED_YEARS = 10

_KIND_OCCASION = {
    SpecialDateKind.BIRTHDAY: Occasion.BIRTHDAY,
    SpecialDateKind.WEDDING_ANNIVERSARY: Occasion.WEDDING_ANNIVERSARY,
    SpecialDateKind.CUSTOM: Occasion.CUSTOM,
}


class LeapDayEncoding(StrEnum):
    """How a 29 February yearly date is written (see the module docstring)."""

    RULE = "rule"
    DATED = "dated"


@dataclass(frozen=True)
class YearlyEvent:
    """A customer's yearly date (birthday, anniversary...) as one calendar series."""

    uid: str
    customer_name: str
    occasion: Occasion
    month: int
    day: int
    year: int | None = None
    label: str = ""  # the name of a custom date
    description: str = ""

    @property
    def title(self) -> str:
        if self.occasion is Occasion.CUSTOM and self.label.strip():
            return self.label.strip()
        return self.occasion.title

    @property
    def summary(self) -> str:
        return f"{self.customer_name} – {self.title}" if self.customer_name else self.title


@dataclass(frozen=True)
class TouchpointEvent:
    """An upcoming touchpoint (follow-up, check-back...) as a single all-day event."""

    uid: str
    date: date
    summary: str
    description: str = ""


def yearly_events_for_customer(
    customer_uid: str,
    customer_name: str,
    special_dates: Iterable[SpecialDate],
    *,
    customer_since: date | None = None,
) -> list[YearlyEvent]:
    """The yearly events of one customer with UIDs stable across exports.

    UIDs are derived from `customer_uid` and the occasion (plus a counter when a customer has
    several of one kind), so re-importing a newer export updates the events instead of adding
    copies.
    """
    events: list[YearlyEvent] = []
    seen: dict[str, int] = {}
    for special in special_dates:
        occasion = _KIND_OCCASION[special.kind]
        n = seen.get(occasion.value, 0)
        seen[occasion.value] = n + 1
        suffix = f"-{n + 1}" if n else ""
        events.append(YearlyEvent(
            uid=f"{occasion.value}{suffix}.{customer_uid}",
            customer_name=customer_name,
            occasion=occasion,
            month=special.month,
            day=special.day,
            year=special.year,
            label=special.label,
        ))
    if customer_since is not None:
        events.append(YearlyEvent(
            uid=f"{Occasion.CUSTOMER_ANNIVERSARY.value}.{customer_uid}",
            customer_name=customer_name,
            occasion=Occasion.CUSTOMER_ANNIVERSARY,
            month=customer_since.month,
            day=customer_since.day,
            year=customer_since.year,
        ))
    return events


def _ical_date(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _utc_stamp(now: datetime) -> str:
    # A naive `now` is local wall time, as with FixedClock.
    aware = now if now.tzinfo is not None else now.astimezone()
    return aware.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(
    uid: str, stamp: str, start: date, summary: str, description: str, rrule: str | None
) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(uid)}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{_ical_date(start)}",
        # The day after 9999-12-31 is no `date`: that one event says its length instead
        # (RFC 5545 allows DURATION for DTEND), so no stored date can make the export fail.
        f"DTEND;VALUE=DATE:{_ical_date(start + timedelta(days=1))}" if start < date.max
        else "DURATION:P1D",
    ]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    lines.append(f"SUMMARY:{escape_text(summary)}")
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    lines += ["TRANSP:TRANSPARENT", "END:VEVENT"]  # an all-day reminder, not a busy day
    return lines


def _yearly_lines(
    event: YearlyEvent,
    stamp: str,
    policy: LeapDayPolicy,
    encoding: LeapDayEncoding,
    first_dated_year: int,
    dated_years: int,
) -> list[str]:
    validate_month_day(event.month, event.day, event.year)
    start_year = event.year if event.year is not None else YEARLESS_START_YEAR
    leap_day = (event.month, event.day) == (2, 29)
    if not leap_day:
        start = date(start_year, event.month, event.day)
        return _event(event.uid, stamp, start, event.summary, event.description, "FREQ=YEARLY")
    if encoding is LeapDayEncoding.RULE:
        # start_year is a leap year: a known year was validated with 29 Feb, and 2000 is leap.
        rule = (
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1"
            if policy is LeapDayPolicy.FEB28
            else "FREQ=YEARLY;BYYEARDAY=60"
        )
        start = date(start_year, 2, 29)
        return _event(event.uid, stamp, start, event.summary, event.description, rule)
    lines: list[str] = []
    for year in range(first_dated_year, first_dated_year + dated_years):
        if event.year is not None and year < event.year:
            continue
        day = occurrence_in_year(2, 29, year, policy)
        lines += _event(
            f"{event.uid}-{year}", stamp, day, event.summary, event.description, None
        )
    return lines


def export_icalendar(
    *,
    now: datetime,
    yearly: Iterable[YearlyEvent] = (),
    touchpoints: Iterable[TouchpointEvent] = (),
    leap_day_policy: LeapDayPolicy | str = LeapDayPolicy.FEB28,
    leap_day_encoding: LeapDayEncoding | str = LeapDayEncoding.RULE,
    dated_years: int = DEFAULT_DATED_YEARS,
    calendar_name: str = "CRM Companion",
) -> str:
    """A VCALENDAR text (CRLF, folded at 75 octets). Write it as UTF-8 bytes.

    `now` is the DTSTAMP of every event and, with ``LeapDayEncoding.DATED``, its year is the
    first of the `dated_years` years written for each 29 February date. Raises ValueError for
    an impossible date or two events with the same UID (calendars would drop one silently).
    """
    policy = LeapDayPolicy(leap_day_policy)
    encoding = LeapDayEncoding(leap_day_encoding)
    if dated_years < 1:
        raise ValueError(f"dated_years must be at least 1, not {dated_years}")
    stamp = _utc_stamp(now)
    first_dated_year = (now if now.tzinfo is None else now.astimezone()).year

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    if calendar_name:
        lines.append(f"X-WR-CALNAME:{escape_text(calendar_name)}")
    body: list[str] = []
    for event in yearly:
        body += _yearly_lines(event, stamp, policy, encoding, first_dated_year, dated_years)
    for touchpoint in touchpoints:
        body += _event(touchpoint.uid, stamp, touchpoint.date, touchpoint.summary,
                       touchpoint.description, None)
    uids = [line for line in body if line.startswith("UID:")]
    if len(uids) != len(set(uids)):
        duplicates = sorted({u[4:] for u in uids if uids.count(u) > 1})
        raise ValueError(f"Two calendar events share a UID: {', '.join(duplicates)}")
    lines += body
    lines.append("END:VCALENDAR")
    return "".join(fold_content_line(line) + "\r\n" for line in lines)

