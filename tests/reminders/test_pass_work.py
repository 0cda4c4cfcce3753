"""A reminder pass does work in proportion to its few days, not to the whole customer base
(issue 13: at 100,000 customers the first pass built every overdue touchpoint, ~47 MB, and
offered each of its ~5,900 log rows in a statement of its own, ~5 s, even with nothing new to
deliver). Guarded by what it reads and the statements it runs, never by a timing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import TouchpointState
from crmcompanion.services import reminders
from crmcompanion.services.demo import fill_demo
from crmcompanion.services.reminders import TouchpointDueSource
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

