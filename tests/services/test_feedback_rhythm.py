"""The ask-for-feedback rhythm per tag (issue 15), through the services on a real database:
a tag's "every N months" puts an ask on Today and in `due` for its customers when the last
ask or feedback is that old, and asking, done, skip and snooze behave like other touchpoints.

tests/postgres/test_feedback_rhythm_on_both_engines.py runs these on PostgreSQL too."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft, Status
from crmcompanion.core.errors import NotFoundError, ValidationError
from crmcompanion.core.feedback import feedback_ask_due
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import Section
from crmcompanion.services.container import Services, build_services

TODAY = date(2026, 11, 22)  # tests/conftest.py FIXED_NOW
TAG = "Key account"


def at(services: Services, day: date) -> Services:
    return build_services(services.db, FixedClock(datetime(day.year, day.month, day.day, 9)))


def customer(services: Services, name: str, since: date | None, *tags: str,
             **more: object) -> int:
    first, _, last = name.partition(" ")
    draft = CustomerDraft(first_name=first, last_name=last, customer_since=since,
                          tags=tuple(tags), **more)
    return services.customers.create(draft).customer.id


def asks(services: Services, days: int = 0) -> list:
    return [t for t in services.touchpoints.due(days) if t.occasion is Occasion.ASK_FEEDBACK]


def next_ask(services: Services, cid: int) -> date | None:
    found = [t.date for t in services.touchpoints.for_customer(cid, 5 * 366)
             if t.occasion is Occasion.ASK_FEEDBACK]
    assert len(found) <= 1, found
    return found[0] if found else None


def test_a_tagged_customer_is_asked_exactly_n_months_after_they_became_one(
        services: Services) -> None:
    due = customer(services, "Anna Weber", date(2026, 5, 22), TAG)
    later = customer(services, "Ben Okafor", date(2026, 5, 23), TAG)
    untagged = customer(services, "Cleo Park", date(2020, 1, 1), "Newsletter")
    assert asks(services) == []  # no rhythm set yet
    changed = services.touchpoints.set_tag_feedback_rhythm(TAG, 6)
    assert changed.touchpoints
    assert services.touchpoints.tag_feedback_rhythms() == {TAG: 6}
    [item] = asks(services)
    assert (item.customer_id, item.date, item.section) == (due, TODAY, Section.TODAY)
    assert item.key == f"ask_feedback/c{due}/c{due}/2026-11-22"
    assert item.label == "How are things going? (every 6 months)"
    assert next_ask(services, later) == date(2026, 11, 23)
    assert next_ask(services, untagged) is None
    # On Today too, in its own section, with the rest of the day.
    today = services.touchpoints.today_view()
    assert [t.key for t in today.section(Section.TODAY).items
            if t.occasion is Occasion.ASK_FEEDBACK] == [item.key]


def test_the_last_ask_or_feedback_counts_and_month_ends_clamp(services: Services) -> None:
    cid = customer(services, "Anna Weber", date(2020, 1, 15), TAG)
    services.touchpoints.set_tag_feedback_rhythm(TAG, 6)
    assert next_ask(services, cid) == date(2020, 7, 15)  # long overdue
    at(services, date(2026, 8, 31)).touchpoints.record_feedback_ask(cid)
    assert next_ask(services, cid) == date(2027, 2, 28)
    # Feedback received later moves the next ask on.
    at(services, date(2026, 10, 1)).feedback.add(cid, "praise", "Lovely service")
    assert next_ask(services, cid) == date(2027, 4, 1)


def test_the_shortest_tag_rhythm_wins_and_clearing_it_withdraws_the_ask(
        services: Services) -> None:
    cid = customer(services, "Anna Weber", date(2026, 1, 22), TAG, "VIP")
    services.touchpoints.set_tag_feedback_rhythm(TAG, 12)
    services.touchpoints.set_tag_feedback_rhythm("vip", 3)  # tags match ignoring case
    assert next_ask(services, cid) == date(2026, 4, 22)
    services.touchpoints.set_tag_feedback_rhythm("VIP", None)
    assert next_ask(services, cid) == date(2027, 1, 22)
    services.touchpoints.set_tag_feedback_rhythm(TAG, None)
    assert next_ask(services, cid) is None
    assert services.touchpoints.tag_feedback_rhythms() == {}


def test_removing_the_tag_from_the_customer_withdraws_the_ask(services: Services) -> None:
    cid = customer(services, "Anna Weber", date(2026, 1, 22), TAG)
    services.touchpoints.set_tag_feedback_rhythm(TAG, 6)
    assert next_ask(services, cid) == date(2026, 7, 22)
    stored = services.customers.get(cid)
    draft = CustomerDraft(first_name="Anna", last_name="Weber", customer_since=date(2026, 1, 22))
    services.customers.update(cid, draft, stored.version)
    assert next_ask(services, cid) is None
    assert asks(services) == []


def test_asking_from_the_row_drafts_the_request_and_the_rhythm_starts_again(
        services: Services) -> None:
    cid = customer(services, "Anna Weber", date(2026, 5, 22), TAG)
    services.touchpoints.set_tag_feedback_rhythm(TAG, 6)
    assert len(asks(services)) == 1
    asked = services.feedback.ask_for_feedback(cid)
    assert "how things are going" in asked.draft.body
    assert asked.changed.touchpoints
    assert asks(services) == []
    assert next_ask(services, cid) == date(2027, 5, 22)
    # The follow-up to record the answer waits as with any other ask.
    assert asked.follow_up.due_on == TODAY + timedelta(days=7)


def test_done_and_skip_restart_the_rhythm_and_snooze_hides_it(services: Services) -> None:
    done = customer(services, "Anna Weber", date(2026, 5, 22), TAG)
    skipped = customer(services, "Ben Okafor", date(2026, 5, 1), TAG)
    snoozed = customer(services, "Cleo Park", date(2026, 5, 10), TAG)
    services.touchpoints.set_tag_feedback_rhythm(TAG, 6)
    keys = {t.customer_id: t.key for t in asks(services)}
    assert set(keys) == {done, skipped, snoozed}
    services.touchpoints.mark_done(keys[done])
    services.touchpoints.skip(keys[skipped], "Asked them in person")
    services.touchpoints.snooze(keys[snoozed], TODAY + timedelta(days=3))
    assert asks(services) == []
    assert next_ask(services, done) == date(2027, 5, 22)
    assert next_ask(services, skipped) == date(2027, 5, 22)
    # A snoozed ask comes back on the day it was snoozed until, still the same occurrence.
    [back] = asks(at(services, TODAY + timedelta(days=3)))
    assert back.key == keys[snoozed]


def test_archived_lost_and_do_not_contact_customers_are_not_asked(services: Services) -> None:
    customer(services, "Anna Weber", date(2026, 1, 1), TAG, status=Status.LOST)
    quiet = customer(services, "Ben Okafor", date(2026, 1, 1), TAG)
    services.touchpoints.set_do_not_contact(quiet, True)
    archived = customer(services, "Cleo Park", date(2026, 1, 1), TAG)
    services.customers.set_archived(archived, True)
    kept = customer(services, "Dan Ito", date(2026, 1, 1), TAG)
    services.touchpoints.set_tag_feedback_rhythm(TAG, 6)
    assert [t.customer_id for t in asks(services)] == [kept]
    services.touchpoints.set_opt_out(kept, Occasion.ASK_FEEDBACK)
    assert asks(services) == []


def test_a_bad_rhythm_or_tag_is_refused_and_nothing_changes(services: Services) -> None:
    customer(services, "Anna Weber", date(2026, 1, 1), TAG)
    with pytest.raises(ValidationError):
        services.touchpoints.set_tag_feedback_rhythm(TAG, 0)
    with pytest.raises(NotFoundError, match="There is no tag"):
        services.touchpoints.set_tag_feedback_rhythm("Nobody has this", 6)
    assert services.touchpoints.tag_feedback_rhythms() == {}


@pytest.mark.parametrize("months", [1, 6, 12, 13])
def test_the_sql_due_day_is_the_core_rule_for_awkward_dates(services: Services,
                                                             months: int) -> None:
    bases = [date(2024, 2, 29), date(2025, 8, 31), date(2026, 1, 31), date(2025, 12, 31),
             date(2026, 3, 30), date(2023, 11, 30), date(2026, 6, 1)]
    ids = {customer(services, f"Person {i}", base, TAG): base for i, base in enumerate(bases)}
    services.touchpoints.set_tag_feedback_rhythm(TAG, months)
    for cid, base in ids.items():
        expected = feedback_ask_due(months, None, None, base, base)
        found = [t.date for t in services.touchpoints.for_customer(cid, 5 * 366)
                 if t.occasion is Occasion.ASK_FEEDBACK]
        if expected >= TODAY - timedelta(days=30):  # for_customer looks back 30 days
            assert found == [expected], (base, months)
        else:
            assert found == [] or found == [expected]
    # Every due one is in `due` (the overdue ones from any time before).
    overdue = {t.customer_id: t.date for t in asks(services)}
    for cid, base in ids.items():
        expected = feedback_ask_due(months, None, None, base, base)
        assert (cid in overdue) == (expected <= TODAY), (base, months)
        if cid in overdue:
            assert overdue[cid] == expected
