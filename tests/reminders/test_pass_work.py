"""A reminder pass does work in proportion to its few days, not to the whole customer base
(issue 13: at 100,000 customers the first pass built every overdue touchpoint, ~47 MB, and
offered each of its ~5,900 log rows in a statement of its own, ~5 s, even with nothing new to
deliver). Guarded by what it reads and the statements it runs, never by a timing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import TouchpointState
from crmcompanion.services import reminders
from crmcompanion.services.demo import fill_demo
from crmcompanion.services.reminders import TouchpointDueSource
from crmcompanion.store import models as m
from crmcompanion.store.database import utcnow
from tests.services.helpers import count_touchpoints_built
from tests.ui.helpers import counted_statements


def test_the_source_reads_only_the_days_of_its_pass(services):
    fill_demo(services.db, services.clock, 300, staff_id=services.staff_id)
    longest = max(services.touchpoints.settings().lead_for(o) for o in Occasion)
    everything = services.touchpoints.due(days=longest)
    today = services.clock.today()
    assert any(t.date < today - timedelta(days=6) for t in everything)  # old ones exist

    asked: list[int] = []

    class Recording:
        def __init__(self, inner):
            self._inner = inner

        def settings(self):
            return self._inner.settings()

        def due(self, days=7, since=None):
            found = self._inner.due(days, since)
            asked.extend(t.date.toordinal() for t in found)
            return found

        def for_customer(self, customer_id, days=365):
            return self._inner.for_customer(customer_id, days)

    since = today - timedelta(days=6)
    source = TouchpointDueSource(Recording(services.touchpoints), services.db)
    deliverable = source.deliverable(since, today)
    assert deliverable  # the demo has birthdays this week
    assert asked and min(asked) >= since.toordinal()
    assert len(asked) < len(everything)
    # Exactly what picking the pass's days out of the whole list gives.
    assert {d.occurrence_key for d in deliverable} == {
        t.key for t in everything
        if t.state is TouchpointState.DUE and since <= t.remind_on <= today}


def test_a_pass_offers_its_log_rows_in_a_few_statements_and_claims_each_once(services):
    fill_demo(services.db, services.clock, 300, staff_id=services.staff_id)
    with counted_statements(services) as statements:
        first = services.reminders.claim_due()
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO FIRED")]
    assert len(first.delivered) > 5
    assert len(inserts) < len(first.delivered) / 5, len(inserts)
    stored = {r.occurrence_key: r.id for r in services.reminders.unacknowledged()}
    assert {d.occurrence_key: d.id for d in first.delivered} == stored

    with counted_statements(services) as statements:
        again = services.reminders.claim_due()  # covers the same days: nothing new
    assert again.delivered == []
    assert len([s for s in statements if "INSERT INTO FIRED" in s.upper()]) <= 1


def test_a_pass_offers_its_log_rows_a_batch_at_a_time(services, monkeypatch):
    """At most CLAIM_BATCH rows per INSERT, their dicts built per batch: a pass at 100,000
    customers offers ~5,900 rows, which held ~5 MB at once as one list (startup_rss_mb)."""
    monkeypatch.setattr(reminders, "CLAIM_BATCH", 4)
    fill_demo(services.db, services.clock, 300, staff_id=services.staff_id)
    rows_per_insert: list[int] = []
    columns = 10  # bound values per log row (a multi-row INSERT binds them all, flat)

    def count(_conn, _cursor, statement, parameters, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO FIRED"):
            rows_per_insert.append(len(parameters) // columns)

    event.listen(services.db.write_engine, "before_cursor_execute", count)
    try:
        first = services.reminders.claim_due()
    finally:
        event.remove(services.db.write_engine, "before_cursor_execute", count)
    assert len(first.delivered) > 8  # more than two batches
    assert rows_per_insert and max(rows_per_insert) <= 4, rows_per_insert
    assert sum(rows_per_insert) == len(first.delivered)
    # Each claimed once, with the id its own insert returned.
    stored = {r.occurrence_key: r.id for r in services.reminders.unacknowledged()}
    assert {d.occurrence_key: d.id for d in first.delivered} == stored
    assert services.reminders.claim_due().delivered == []



def _every_one_off_occasion(services) -> set[Occasion]:
    """One open one-off touchpoint of each kind, due today (their keys differ by kind)."""
    today = services.clock.today()
    customers = [services.customers.create(CustomerDraft(first_name=f"One{n}")).customer.id
                 for n in range(5)]
    services.touchpoints.add_follow_up(customers[0], today, "Send the quote")
    services.touchpoints.add_follow_up(customers[1], today, "", Occasion.COMPLAINT_CHECKBACK,
                                       source_id=41)
    services.touchpoints.add_follow_up(customers[2], today, "", Occasion.IDEA_SHIPPED,
                                       source_id=42)
    services.touchpoints.add_follow_up(customers[3], today, "", Occasion.WIN_BACK,
                                       source_id=customers[3])
    services.touchpoints.add_follow_up(customers[4], today, "", Occasion.ASK_FEEDBACK,
                                       source_id=customers[4])
    return {Occasion.FOLLOW_UP, Occasion.COMPLAINT_CHECKBACK, Occasion.IDEA_SHIPPED,
            Occasion.WIN_BACK, Occasion.ASK_FEEDBACK}


def test_a_pass_builds_only_what_it_delivers_and_nothing_once_all_is_logged(
        services, monkeypatch):
    """The pass asks for what this user's log lacks, left out in SQL (issue 13: covering
    its last 7 days again, a pass built ~8,300 touchpoints at 100,000 customers, nearly all
    delivered before): the first pass builds one touchpoint per reminder it delivers, the
    next one none. Each source writes the occurrence key in SQL; a key written differently
    from core.touchpoints.occurrence_key would be offered again by the second pass."""
    fill_demo(services.db, services.clock, 300, staff_id=services.staff_id)
    one_offs = _every_one_off_occasion(services)
    services.touchpoints.counts()  # derived rows built before counting
    built = count_touchpoints_built(monkeypatch)
    first = services.reminders.claim_due()
    kinds = {d.occasion for d in first.delivered}
    assert one_offs | {Occasion.BIRTHDAY, Occasion.KEEP_IN_TOUCH} <= kinds, kinds
    assert len(first.delivered) > 20
    assert built[0] == len(first.delivered)
    built[0] = 0
    again = services.reminders.claim_due()
    assert again.delivered == []
    assert built[0] == 0


def test_what_the_log_lacks_is_what_the_pass_offered_before(services):
    """`undelivered` is `deliverable` less the log, row for row: nothing lost, nothing
    more; logged reminders (claimed by another process or an earlier pass) are left out."""
    fill_demo(services.db, services.clock, 300, staff_id=services.staff_id)
    _every_one_off_occasion(services)
    today = services.clock.today()
    since = today - timedelta(days=6)
    source = TouchpointDueSource(services.touchpoints, services.db)
    everything = source.deliverable(since, today)
    assert sorted(everything, key=lambda d: d.occurrence_key) == sorted(
        source.undelivered(since, today, services.staff_id), key=lambda d: d.occurrence_key)
    half = {d.occurrence_key for d in everything[::2]}
    with services.db.write() as session:
        from crmcompanion.services.reminders import _log_row

        for item in everything[::2]:
            session.add(m.FiredReminder(**_log_row(item.occurrence_key, item,
                                                   services.staff_id, utcnow())))
    left = source.undelivered(since, today, services.staff_id)
    assert {d.occurrence_key for d in left} == {
        d.occurrence_key for d in everything} - half
    # Another staff member's log leaves out nothing of this one's.
    assert len(source.undelivered(since, today, services.staff_id + 1000)) == len(everything)


@pytest.mark.parametrize("policy", ["feb28", "mar1"])
def test_a_leap_day_birthday_in_a_year_without_one_is_keyed_as_the_service_keys_it(
        tmp_path, policy):
    """29 February in 2027 falls on 28 February or 1 March by the leap-day policy; the key
    written in SQL follows it, so the pass after the one that delivered it offers nothing."""
    from crmcompanion.core.clock import FixedClock
    from crmcompanion.services.container import open_services

    services = open_services(f"sqlite:///{tmp_path / 'leap.sqlite3'}", tmp_path / "b",
                             FixedClock(datetime(2027, 2, 28, 10, 0)))
    try:
        services.settings.update({"touchpoints.leap_day_policy": policy})
        services.customers.create(CustomerDraft(first_name="Leap", special_dates=(
            SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, 1996),)))
        first = services.reminders.claim_due()
        expected = "2027-02-28" if policy == "feb28" else "2027-03-01"
        assert [d.occurrence_key.rsplit("/", 1)[1] for d in first.delivered
                if d.occasion is Occasion.BIRTHDAY] == [expected]
        source = TouchpointDueSource(services.touchpoints, services.db)
        assert source.undelivered(first.window.since, first.window.until,
                                  services.staff_id) == []
    finally:
        services.close()
