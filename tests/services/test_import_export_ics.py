"""iCalendar export of upcoming touchpoints (`export --format ics --days N`): one-off
touchpoints as single all-day events, parsed back with the icalendar library."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import icalendar
import pytest

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.services.container import Services
from crmcompanion.store.customers import ListQuery

# Clock-sensitive: a calendar export relative to a given now.
pytestmark = pytest.mark.clock_sensitive


def _events(path: Path) -> list[icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    return list(calendar.walk("VEVENT"))


def test_upcoming_follow_ups_become_single_all_day_events(services: Services,
                                                          tmp_path: Path) -> None:
    # FixedClock: 2026-11-22.
    ada = services.customers.create(CustomerDraft(
        first_name="Ada", last_name="Byron",
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 11, 25, 1990),))).customer.id
    bob = services.customers.create(CustomerDraft(first_name="Bob", last_name="Ng",
                                                  tags=("other",))).customer.id
    services.touchpoints.add_follow_up(ada, date(2026, 11, 30), "send the quote")
    services.touchpoints.add_follow_up(ada, date(2027, 3, 1), "too far out")
    services.touchpoints.add_follow_up(ada, date(2026, 11, 1), "overdue")
    services.touchpoints.add_follow_up(bob, date(2026, 11, 28))
    now = datetime(2026, 11, 22, 10, 30).astimezone()

    target = tmp_path / "cal.ics"
    services.import_export.export_ics(target, now=now, days=14)
    events = _events(target)
    singles = [e for e in events if "RRULE" not in e]
    assert sorted((e.decoded("DTSTART"), str(e["SUMMARY"])) for e in singles) == [
        (date(2026, 11, 28), "Follow-up: Bob Ng"),
        (date(2026, 11, 30), "Follow-up (send the quote): Ada Byron"),
    ]
    for event in singles:
        assert not isinstance(event.decoded("DTSTART"), datetime)  # all-day
        assert "RRULE" not in event
    # The birthday is a yearly event only, never doubled as a single one.
    assert len([e for e in events if "RRULE" in e]) == 1
    uids = {str(e["UID"]) for e in singles}
    assert len(uids) == 2

    # Only the exported customers' touchpoints; without --days none at all.
    services.import_export.export_ics(target, ListQuery(tag="other", archived=None), now=now,
                                      days=14)
    assert [str(e["SUMMARY"]) for e in _events(target)] == ["Follow-up: Bob Ng"]
    services.import_export.export_ics(target, now=now)
    assert all("RRULE" in e for e in _events(target))
