"""Touchpoint and interaction services on a real temporary SQLite database, fixed clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind, Status
from crmcompanion.core.errors import ValidationError
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import Section, TouchpointState
from crmcompanion.services.container import Services, build_services, open_services
from crmcompanion.services.touchpoints import TouchpointService

# Clock-sensitive: Today and touchpoints from a fixed clock over rows stamped with the real one.
pytestmark = pytest.mark.clock_sensitive


def services_at(tmp_path, day: date) -> Services:
    return open_services(
        f"sqlite:///{tmp_path}/db.sqlite3",
        clock=FixedClock(datetime(day.year, day.month, day.day, 9)),
    )


def at(services: Services, day: date) -> Services:
    return build_services(services.db, FixedClock(datetime(day.year, day.month, day.day, 9)))


def person(name: str, *dates: SpecialDate, since: date | None = None, **kw) -> CustomerDraft:
    return CustomerDraft(first_name=name, special_dates=dates, customer_since=since, **kw)


def birthday(month: int, day: int, year: int | None = None) -> SpecialDate:
    return SpecialDate(SpecialDateKind.BIRTHDAY, month, day, year)


def occurrences(tp: TouchpointService, occasion: Occasion, days: int = 40) -> list:
    return [t for t in tp.due(days) if t.occasion is occasion]


@pytest.fixture()
def svc(tmp_path):
    s = services_at(tmp_path, date(2026, 3, 1))
    yield s
    s.close()


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("feb28", {2025: date(2025, 2, 28), 2026: date(2026, 2, 28), 2027: date(2027, 2, 28),
                   2028: date(2028, 2, 29)}),
        ("mar1", {2025: date(2025, 3, 1), 2026: date(2026, 3, 1), 2027: date(2027, 3, 1),
                  2028: date(2028, 2, 29)}),
    ],
)
def test_leap_day_birthday_2025_to_2028(svc, policy, expected):
    svc.settings.update({"touchpoints.leap_day_policy": policy})
    cid = svc.customers.create(person("Leap", birthday(2, 29, 1988))).customer.id
    for year, day in expected.items():
        s = at(svc, date(year, 2, 20))
        found = [t for t in s.touchpoints.due(20) if t.customer_id == cid
                 and t.occasion is Occasion.BIRTHDAY]
        assert [t.date for t in found] == [day], (year, policy)
        assert found[0].label == f"turns {year - 1988}"


def test_yearless_birthday_and_year_wrap(svc):
    cid = svc.customers.create(person("Wrap", birthday(1, 3))).customer.id
    s = at(svc, date(2026, 12, 28))
    found = occurrences(s.touchpoints, Occasion.BIRTHDAY, 10)
    assert [(t.customer_id, t.date, t.label) for t in found] == [
        (cid, date(2027, 1, 3), "birthday")
    ]
    assert found[0].section is Section.NEXT_7_DAYS
    assert found[0].key.startswith(f"birthday/c{cid}/d")
    assert found[0].key.endswith("/2027-01-03")


def test_lead_time_sets_remind_on_and_state(svc):
    svc.customers.create(person("Lead", birthday(3, 10, 1980)))
    found = occurrences(svc.touchpoints, Occasion.BIRTHDAY, 10)[0]
    assert found.remind_on == date(2026, 3, 7)
    assert found.state is TouchpointState.UPCOMING
    svc.settings.update({"touchpoints.lead_days.birthday": 10})
    found = occurrences(svc.touchpoints, Occasion.BIRTHDAY, 10)[0]
    assert found.remind_on == date(2026, 2, 28)
    assert found.state is TouchpointState.DUE


def test_keep_in_touch_cadence_and_reset_by_logged_interaction(svc):
    cid = svc.customers.create(person("Kit", since=date(2025, 11, 1))).customer.id
    kit = occurrences(svc.touchpoints, Occasion.KEEP_IN_TOUCH)
    assert [(t.customer_id, t.date) for t in kit] == [(cid, date(2026, 1, 30))]  # 90 days
    assert kit[0].overdue and kit[0].label == "no contact for 120 days"
    assert [x.customer_id for x in svc.touchpoints.losing_touch()] == [cid]
    svc.interactions.log(cid, "Called about the order", "phone")
    assert occurrences(svc.touchpoints, Occasion.KEEP_IN_TOUCH, 80) == []
    assert svc.touchpoints.losing_touch() == []
    again = occurrences(svc.touchpoints, Occasion.KEEP_IN_TOUCH, 90)
    assert [t.date for t in again] == [date(2026, 5, 30)]
    svc.touchpoints.set_cadence(cid, 10)
    assert [t.date for t in occurrences(svc.touchpoints, Occasion.KEEP_IN_TOUCH, 20)] == [
        date(2026, 3, 11)
    ]


def test_tag_and_key_account_cadence(svc):
    vip = svc.customers.create(person("Vip", since=date(2026, 1, 1), tags=("VIP",))).customer.id
    key = svc.customers.create(person("Key", since=date(2026, 1, 1), key_account=True)).customer.id
    svc.touchpoints.set_tag_cadence("vip", 7)
    dues = {t.customer_id: t.date for t in occurrences(svc.touchpoints, Occasion.KEEP_IN_TOUCH)}
    assert dues == {vip: date(2026, 1, 8), key: date(2026, 1, 31)}


def test_done_records_interaction_and_never_repeats_but_next_year_does(svc):
    cid = svc.customers.create(person("Done", birthday(3, 5, 1990))).customer.id
    item = occurrences(svc.touchpoints, Occasion.BIRTHDAY)[0]
    result = svc.touchpoints.mark_done(item.key, "Sent a card", "letter")
    history = svc.interactions.history(cid)
    assert [h.summary for h in history] == ["Sent a card"]
    assert history[0].occurrence_key == item.key and result.changed.interactions
    assert occurrences(svc.touchpoints, Occasion.BIRTHDAY) == []
    # editing the customer rewrites its special-date rows: still done
    c = svc.customers.get(cid)
    svc.customers.update(cid, replace(c.to_draft(), notes="edited"), c.version)
    assert occurrences(svc.touchpoints, Occasion.BIRTHDAY) == []
    later = at(svc, date(2027, 3, 1))
    assert [t.date for t in occurrences(later.touchpoints, Occasion.BIRTHDAY)] == [date(2027, 3, 5)]


def test_skip_and_snooze(svc):
    a = svc.customers.create(person("Skip", birthday(3, 4))).customer.id
    b = svc.customers.create(person("Snooze", birthday(3, 6))).customer.id
    items = {t.customer_id: t for t in occurrences(svc.touchpoints, Occasion.BIRTHDAY)}
    svc.touchpoints.skip(items[a].key, "on holiday")
    svc.touchpoints.snooze(items[b].key, date(2026, 3, 8))
    assert occurrences(svc.touchpoints, Occasion.BIRTHDAY) == []
    assert svc.touchpoints.counts()[Section.NEXT_7_DAYS] == 0
    s = at(svc, date(2026, 3, 8))
    shown = occurrences(s.touchpoints, Occasion.BIRTHDAY)
    assert [(t.customer_id, t.state, t.section) for t in shown] == [
        (b, TouchpointState.DUE, Section.OVERDUE)
    ]
    with pytest.raises(ValidationError, match="snooze until then at the latest"):
        s.touchpoints.snooze(shown[0].key, date(2026, 6, 1))  # past the look-back


def test_overdue_lookback_is_bounded(svc):
    svc.customers.create(person("Old", birthday(2, 10)))
    assert [t.section for t in occurrences(svc.touchpoints, Occasion.BIRTHDAY)] == [
        Section.OVERDUE
    ]
    assert occurrences(at(svc, date(2026, 3, 20)).touchpoints, Occasion.BIRTHDAY) == []


def test_opt_outs_do_not_contact_archived_and_lost(svc):
    married = person("Wed", birthday(3, 3),
                     SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, 3, 4, 2000))
    a = svc.customers.create(married).customer.id
    b = svc.customers.create(person("Dnc", birthday(3, 3))).customer.id
    c = svc.customers.create(person("Arch", birthday(3, 3))).customer.id
    d = svc.customers.create(person("Lost", birthday(3, 3), status=Status.LOST)).customer.id
    svc.touchpoints.set_opt_out(a, Occasion.WEDDING_ANNIVERSARY)
    svc.touchpoints.set_do_not_contact(b, True)
    svc.customers.set_archived(c, True)
    shown = {(t.customer_id, t.occasion) for t in svc.touchpoints.due(10)}
    assert shown == {(a, Occasion.BIRTHDAY)}
    assert d not in {t.customer_id for t in svc.touchpoints.due(400)}
    assert svc.touchpoints.opt_outs(a) == frozenset({Occasion.WEDDING_ANNIVERSARY})
    svc.touchpoints.set_opt_out(a, Occasion.WEDDING_ANNIVERSARY, False)
    assert (a, Occasion.WEDDING_ANNIVERSARY) in {
        (t.customer_id, t.occasion) for t in svc.touchpoints.due(10)
    }


def test_follow_up_and_customer_anniversary(svc):
    cid = svc.customers.create(person("Fu", since=date(2016, 3, 9))).customer.id
    fu = svc.touchpoints.add_follow_up(cid, date(2026, 3, 3), "call back about the quote")
    items = {t.occasion: t for t in svc.touchpoints.due(10)}
    assert items[Occasion.FOLLOW_UP].label == "call back about the quote"
    assert items[Occasion.FOLLOW_UP].key == fu.key
    assert items[Occasion.CUSTOMER_ANNIVERSARY].label == "10 years as a customer"
    svc.touchpoints.mark_done(fu.key)
    assert Occasion.FOLLOW_UP not in {t.occasion for t in svc.touchpoints.due(10)}


def test_today_view_sections_and_counts_agree(svc):
    for i, day in enumerate((date(2026, 2, 20), date(2026, 3, 1), date(2026, 3, 5),
                             date(2026, 3, 20), date(2026, 5, 1))):
        svc.customers.create(person(f"P{i}", birthday(day.month, day.day), since=date(2026, 2, 1)))
    view = svc.touchpoints.today_view()
    counts = svc.touchpoints.counts()
    for section in view.sections:
        assert section.total == counts[section.section] == len(section.items)
    birthdays = {s.section: [t.date for t in s.items if t.occasion is Occasion.BIRTHDAY]
                 for s in view.sections}
    assert birthdays == {
        Section.OVERDUE: [date(2026, 2, 20)],
        Section.TODAY: [date(2026, 3, 1)],
        Section.NEXT_7_DAYS: [date(2026, 3, 5)],
        Section.DAYS_8_30: [date(2026, 3, 20)],
    }
    assert [o for o, _ in view.section(Section.DAYS_8_30).groups] == [Occasion.BIRTHDAY]


def test_undo_delete_restores_interactions_and_touchpoints(svc):
    cid = svc.customers.create(person("Undo", birthday(3, 4))).customer.id
    svc.interactions.log(cid, "hello")
    deleted = svc.customers.delete(cid)
    assert svc.touchpoints.due(10) == []
    svc.customers.undo_delete(deleted)
    assert [h.summary for h in svc.interactions.history(cid)] == ["hello"]
    assert [t.occasion for t in svc.touchpoints.due(10)] == [Occasion.BIRTHDAY]


def test_history_newest_first(svc):
    cid = svc.customers.create(person("Hist")).customer.id
    for d in (3, 1, 2):
        svc.interactions.log(cid, f"day {d}", when=datetime(2026, 2, d, 10).astimezone())
    assert [h.summary for h in svc.interactions.history(cid)] == ["day 3", "day 2", "day 1"]
    assert [h.summary for h in svc.interactions.history(cid, limit=1)] == ["day 3"]


def test_bulk_inserted_customers_get_touchpoints(svc):
    from crmcompanion.services.demo import fill_demo

    fill_demo(svc.db, svc.clock, 50, 3, False, svc.staff_id)
    items = svc.touchpoints.due(3)
    assert any(t.occasion is Occasion.BIRTHDAY and t.date == date(2026, 3, 1) for t in items)
    assert svc.touchpoints.counts()[Section.TODAY] >= 1
    assert all(t.date <= date(2026, 3, 4) for t in items)
    assert items == sorted(items, key=lambda t: t.date)
    assert svc.touchpoints.for_customer(items[0].customer_id)
