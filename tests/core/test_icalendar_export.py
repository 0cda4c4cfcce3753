"""iCalendar export: parsed back with `icalendar`, recurrence expanded with dateutil."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, timezone

import icalendar
import pytest
from dateutil.rrule import rrulestr

from crmcompanion.core.customer import SpecialDate, SpecialDateKind
from crmcompanion.core.dates import LeapDayPolicy, occurrence_in_year
from crmcompanion.core.icalendar_export import (
    YEARLESS_START_YEAR,
    LeapDayEncoding,
    TouchpointEvent,
    YearlyEvent,
    export_icalendar,
    yearly_events_for_customer,
)
from crmcompanion.core.occasions import Occasion

# Clock-sensitive: DTSTAMP and local times in the calendar export.
pytestmark = pytest.mark.clock_sensitive

NOW = datetime(2026, 11, 3, 9, 30, tzinfo=timezone(timedelta(hours=1)))
YEARS = range(2025, 2033)  # 2028 and 2032 are leap years


def parse(text: str) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(text.encode("utf-8"))


def events(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(ev["UID"]): ev for ev in cal.walk("VEVENT")}


def expand(event: icalendar.Event, years: range = YEARS) -> list[date]:
    """The event's days in `years`: the RRULE expanded by dateutil, or the single date."""
    start: date = event["DTSTART"].dt
    assert type(start) is date  # all-day: VALUE=DATE, never a date-time
    if "RRULE" not in event:
        return [start] if start.year in years else []
    rule = event["RRULE"].to_ical().decode()
    dtstart = datetime(start.year, start.month, start.day)
    between = rrulestr(rule, dtstart=dtstart).between(
        datetime(years[0], 1, 1), datetime(years[-1], 12, 31), inc=True
    )
    return [d.date() for d in between]


def leap_event(year: int | None = None) -> YearlyEvent:
    return YearlyEvent("leap.urn:uuid:1", "Leap Day", Occasion.BIRTHDAY, 2, 29, year)


def test_calendar_and_event_properties():
    anna = yearly_events_for_customer(
        "urn:uuid:anna",
        "Anna Müller",
        [SpecialDate(SpecialDateKind.BIRTHDAY, 3, 14, None),
         SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, 6, 18, 2005),
         SpecialDate(SpecialDateKind.CUSTOM, 9, 1, None, "Erster Einkauf")],
        customer_since=date(2015, 4, 1),
    )
    touch = TouchpointEvent("tp-17@crmcompanion", date(2026, 11, 20),
                            "Call Anna Müller; follow-up, offer",
                            "Ask about the order,\nand the invoice; thanks \\ regards")
    text = export_icalendar(now=NOW, yearly=anna, touchpoints=[touch])
    cal = parse(text)
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == "-//CRM Companion//Calendar export//EN"
    assert str(cal["CALSCALE"]) == "GREGORIAN"

    evs = events(cal)
    assert list(evs) == [
        "birthday.urn:uuid:anna",
        "wedding_anniversary.urn:uuid:anna",
        "custom.urn:uuid:anna",
        "customer_anniversary.urn:uuid:anna",
        "tp-17@crmcompanion",
    ]
    for ev in evs.values():
        assert ev["DTSTAMP"].dt == datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
        assert ev["DTEND"].dt - ev["DTSTART"].dt == timedelta(days=1)

    birthday = evs["birthday.urn:uuid:anna"]
    assert str(birthday["SUMMARY"]) == "Anna Müller – Birthday"
    assert birthday["DTSTART"].dt == date(YEARLESS_START_YEAR, 3, 14)
    assert birthday["RRULE"] == icalendar.vRecur(FREQ=["YEARLY"])
    wedding = evs["wedding_anniversary.urn:uuid:anna"]
    assert str(wedding["SUMMARY"]) == "Anna Müller – Wedding anniversary"
    assert wedding["DTSTART"].dt == date(2005, 6, 18)
    assert str(evs["custom.urn:uuid:anna"]["SUMMARY"]) == "Anna Müller – Erster Einkauf"
    since = evs["customer_anniversary.urn:uuid:anna"]
    assert str(since["SUMMARY"]) == "Anna Müller – Customer anniversary"
    assert expand(since, range(2026, 2028)) == [date(2026, 4, 1), date(2027, 4, 1)]
    assert expand(birthday) == [date(y, 3, 14) for y in YEARS]

    tp = evs["tp-17@crmcompanion"]
    assert "RRULE" not in tp
    assert tp["DTSTART"].dt == date(2026, 11, 20)
    assert str(tp["SUMMARY"]) == touch.summary  # commas and semicolons unescaped back
    assert str(tp["DESCRIPTION"]) == touch.description


def test_text_is_crlf_and_folded_at_75_octets():
    long_name = "Ünal Çelik-Øster " * 8
    text = export_icalendar(
        now=NOW,
        yearly=yearly_events_for_customer(
            "urn:uuid:x", long_name, [SpecialDate(SpecialDateKind.BIRTHDAY, 1, 2, 1990)]),
    )
    data = text.encode("utf-8")
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")[:-1]
    assert any(line.startswith(b" ") for line in lines)
    for line in lines:
        assert len(line) <= 75
        line.decode("utf-8")
    (ev,) = parse(text).walk("VEVENT")
    assert str(ev["SUMMARY"]) == f"{long_name} – Birthday"


@pytest.mark.parametrize("policy", [LeapDayPolicy.FEB28, LeapDayPolicy.MAR1])
@pytest.mark.parametrize("year", [None, 1988])
def test_leap_day_rule_is_right_in_every_year(policy, year):
    text = export_icalendar(now=NOW, yearly=[leap_event(year)], leap_day_policy=policy)
    (ev,) = parse(text).walk("VEVENT")
    start = ev["DTSTART"].dt
    assert (start.month, start.day) == (2, 29)  # DTSTART is itself an instance of the rule
    assert calendar.isleap(start.year)
    assert start.year == (year or YEARLESS_START_YEAR)
    expected_rule = (
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1" if policy is LeapDayPolicy.FEB28
        else "FREQ=YEARLY;BYYEARDAY=60"
    )
    assert f"\r\nRRULE:{expected_rule}\r\n" in text
    assert ev["RRULE"] == icalendar.vRecur.from_ical(expected_rule)
    assert expand(ev) == [occurrence_in_year(2, 29, y, policy) for y in YEARS]
    # Spelled out, so a wrong shared helper cannot hide a wrong rule:
    days = {d.year: (d.month, d.day) for d in expand(ev)}
    substitute = (2, 28) if policy is LeapDayPolicy.FEB28 else (3, 1)
    assert days == {y: (2, 29) if y in (2028, 2032) else substitute for y in YEARS}
    # The first expanded instance is DTSTART itself (a synchronised rule).
    assert expand(ev, range(start.year, start.year + 1))[0] == start


@pytest.mark.parametrize("policy", ["feb28", "mar1"])
def test_leap_day_dated_events_for_next_years(policy):
    text = export_icalendar(
        now=NOW, yearly=[leap_event()], leap_day_policy=policy,
        leap_day_encoding=LeapDayEncoding.DATED, dated_years=7,
    )
    evs = events(parse(text))
    assert list(evs) == [f"leap.urn:uuid:1-{y}" for y in range(2026, 2033)]
    assert all("RRULE" not in ev for ev in evs.values())
    got = [ev["DTSTART"].dt for ev in evs.values()]
    assert got == [occurrence_in_year(2, 29, y, LeapDayPolicy(policy)) for y in range(2026, 2033)]
    assert date(2028, 2, 29) in got
    assert (date(2027, 2, 28) if policy == "feb28" else date(2027, 3, 1)) in got


def test_dated_encoding_keeps_other_dates_recurring_and_skips_years_before_birth():
    born = YearlyEvent("b.1", "Baby", Occasion.BIRTHDAY, 2, 29, 2028)
    other = YearlyEvent("o.1", "Other", Occasion.BIRTHDAY, 7, 1, None)
    text = export_icalendar(now=NOW, yearly=[born, other],
                            leap_day_encoding="dated", dated_years=5)
    evs = events(parse(text))
    assert list(evs) == ["b.1-2028", "b.1-2029", "b.1-2030", "o.1"]
    assert expand(evs["o.1"]) == [date(y, 7, 1) for y in YEARS]


def test_yearly_events_for_customer_uids_are_stable():
    dates = [SpecialDate(SpecialDateKind.CUSTOM, 1, 1, None, "A"),
             SpecialDate(SpecialDateKind.CUSTOM, 2, 2, None, "B"),
             SpecialDate(SpecialDateKind.BIRTHDAY, 3, 3, 1970)]
    first = yearly_events_for_customer("u", "N", dates)
    assert [e.uid for e in first] == ["custom.u", "custom-2.u", "birthday.u"]
    assert [e.summary for e in first] == ["N – A", "N – B", "N – Birthday"]
    assert first == yearly_events_for_customer("u", "N", dates)
    assert YearlyEvent("x", "N", Occasion.CUSTOM, 1, 1).summary == "N – Special date"


def test_naive_now_is_local_time():
    naive = datetime(2026, 6, 1, 12, 0)
    (ev,) = parse(export_icalendar(now=naive, touchpoints=[
        TouchpointEvent("t", date(2026, 6, 2), "x")])).walk("VEVENT")
    assert ev["DTSTAMP"].dt == naive.astimezone().astimezone(UTC)


def test_errors():
    with pytest.raises(ValueError, match="share a UID: t"):
        export_icalendar(now=NOW, touchpoints=[TouchpointEvent("t", date(2026, 1, 1), "a"),
                                                TouchpointEvent("t", date(2026, 1, 2), "b")])
    with pytest.raises(ValueError, match="February never has a day 30"):
        export_icalendar(now=NOW, yearly=[YearlyEvent("x", "N", Occasion.BIRTHDAY, 2, 30)])
    with pytest.raises(ValueError, match="not a leap year"):
        export_icalendar(now=NOW, yearly=[leap_event(2027)])
    with pytest.raises(ValueError, match="dated_years"):
        export_icalendar(now=NOW, dated_years=0)
    with pytest.raises(ValueError):
        export_icalendar(now=NOW, leap_day_policy="mar2")


def test_empty_calendar_is_valid():
    text = export_icalendar(now=NOW, calendar_name="Kunden, Geburtstage")
    cal = parse(text)
    assert cal.walk("VEVENT") == []
    # An x-prop is TEXT by default (RFC 5545 3.8.8.2), so it is escaped; icalendar does not
    # know the property and returns it raw.
    assert "\r\nX-WR-CALNAME:Kunden\\, Geburtstage\r\n" in text
    assert str(cal["X-WR-CALNAME"]) == "Kunden\\, Geburtstage"
