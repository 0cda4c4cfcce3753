"""A customer's timeline merges its providers newest first, pages on without losing or
repeating an entry, filters by kind, names the author, and takes new providers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.services import timeline as tl
from crmcompanion.services.timeline import TimelineEntry, TimelineService
from tests.services.helpers import fixed_services

NOW = datetime(2026, 3, 1, 9, 30)


@pytest.fixture()
def svc(tmp_path):
    yield from fixed_services(tmp_path, NOW)


def test_pages_merge_every_kind_newest_first_without_loss(svc):
    cid = svc.customers.create(CustomerDraft(first_name="Ada")).customer.id
    start = datetime(2025, 1, 1, 10).astimezone()
    for n in range(40):
        svc.interactions.log(cid, f"Call {n:02d}", "phone", start + timedelta(days=n))
    svc.touchpoints.add_follow_up(cid, date(2026, 3, 9), "Send the quote")
    key = svc.touchpoints.due(400)[0].key
    svc.touchpoints.skip(key, "Saw her yesterday")
    timeline = TimelineService(svc.db)
    seen: list[TimelineEntry] = []
    page = timeline.page(cid, 7)
    assert page.total == 42
    while True:
        seen.extend(page.entries)
        if not page.more:
            break
        page = timeline.page(cid, 7, seen[-1])
    assert len(seen) == 42 and len({e.key for e in seen}) == 42
    assert [(e.at, e.key) for e in seen] == sorted(((e.at, e.key) for e in seen), reverse=True)
    kinds = {e.kind for e in seen}
    assert kinds == {tl.CONVERSATION, tl.NEXT_STEP, tl.SKIPPED}
    calls = [e.text for e in seen if e.kind == tl.CONVERSATION]
    assert calls == [f"Call {n:02d}" for n in reversed(range(40))]
    assert all(e.author == svc.staff.current().name for e in seen)
    skipped = next(e for e in seen if e.kind == tl.SKIPPED)
    assert skipped.text == "Saw her yesterday"
    step = next(e for e in seen if e.kind == tl.NEXT_STEP)
    assert (step.text, step.on) == ("Send the quote", date(2026, 3, 9))


def test_filter_by_kind(svc):
    cid = svc.customers.create(CustomerDraft(first_name="Bo")).customer.id
    svc.interactions.log(cid, "Hello", "email")
    svc.touchpoints.add_follow_up(cid, date(2026, 3, 2), "Call back")
    timeline = TimelineService(svc.db)
    only_steps = timeline.page(cid, 10, kinds=frozenset({tl.NEXT_STEP}))
    assert [e.kind for e in only_steps.entries] == [tl.NEXT_STEP] and only_steps.total == 1
    only_occasions = timeline.page(cid, 10, kinds=frozenset({tl.OCCASION}))
    assert only_occasions.entries == () and only_occasions.total == 0


def test_a_new_provider_adds_its_kind(svc):
    cid = svc.customers.create(CustomerDraft(first_name="Cy")).customer.id
    moment = datetime(2026, 2, 1, 12).astimezone()

    @dataclass
    class Praise:
        kinds = (("praise", "Praise"),)

        def entries(self, session, customer_id, before, limit, kinds):
            entry = TimelineEntry(customer_id, moment, "praise", "p:1", "Loved the roses")
            return [] if before is not None and (before.at, before.key) <= (moment, "p:1") \
                else [entry]

        def count(self, session, customer_id, kinds):
            return 1

    timeline = TimelineService(svc.db, [*TimelineService(svc.db).providers, Praise()])
    assert ("praise", "Praise") in timeline.kinds()
    page = timeline.page(cid, 10)
    assert [e.text for e in page.entries] == ["Loved the roses"] and page.total == 1


def test_the_first_page_counts_only_the_providers_with_more_than_it_shows(svc):
    """Opening a profile: one count statement (the 40 calls), not one per provider; the
    total is still every entry."""
    from sqlalchemy import event

    cid = svc.customers.create(CustomerDraft(first_name="Di")).customer.id
    start = datetime(2025, 1, 1, 10).astimezone()
    for n in range(40):
        svc.interactions.log(cid, f"Call {n:02d}", "phone", start + timedelta(days=n))
    svc.touchpoints.add_follow_up(cid, date(2026, 3, 9), "Send the quote")
    timeline = TimelineService(svc.db)
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_rest):
        seen.append(" ".join(statement.split()))

    event.listen(svc.db.read_engine, "before_cursor_execute", record)
    try:
        page = timeline.page(cid, 30)
    finally:
        event.remove(svc.db.read_engine, "before_cursor_execute", record)
    assert page.total == 41 and page.more and len(page.entries) == 30
    counts = [s for s in seen if s.startswith("SELECT count(*)")]
    assert len(counts) == 1 and "FROM interactions" in counts[0], counts
    # Further pages count as before (a provider's entries past `before` say nothing).
    older = timeline.page(cid, 30, page.entries[-1])
    assert older.total == 41 and len(older.entries) == 11 and not older.more


def test_pages_reuse_the_statements_built_once(svc):
    """Issue 13 (`timeline_ms`): building each provider's select per call, then executing it
    through the ORM, was most of a page's cost. Every page runs statement objects built once
    per shape: the second profile opened, and the next page, build none."""
    from sqlalchemy import event

    ada = svc.customers.create(CustomerDraft(first_name="Ada")).customer.id
    bo = svc.customers.create(CustomerDraft(first_name="Bo")).customer.id
    start = datetime(2025, 1, 1, 10).astimezone()
    for cid in (ada, bo):
        for n in range(12):
            svc.interactions.log(cid, f"Call {n:02d}", "phone", start + timedelta(days=n))
        svc.touchpoints.add_follow_up(cid, date(2026, 3, 9), "Send the quote")
    svc.feedback.add(bo, "complaint", "The parcel came late")
    timeline = TimelineService(svc.db)
    run: list[object] = []

    def record(_conn, clause, *_rest):
        run.append(clause)

    def statements_of(call) -> list[object]:
        run.clear()
        event.listen(svc.db.read_engine, "before_execute", record)
        try:
            result = call()
        finally:
            event.remove(svc.db.read_engine, "before_execute", record)
        assert result.entries  # (the pages below are not empty)
        return [s for s in run if "select" in type(s).__name__.lower()]

    first = statements_of(lambda: timeline.page(ada, 5))
    again = statements_of(lambda: timeline.page(bo, 5))
    assert len(first) >= 5  # every provider's page and the count of the calls
    assert [id(s) for s in again] == [id(s) for s in first]
    page = timeline.page(ada, 5)
    older = statements_of(lambda: timeline.page(ada, 5, page.entries[-1]))
    older_again = statements_of(lambda: timeline.page(bo, 5, page.entries[-1]))
    assert [id(s) for s in older_again] == [id(s) for s in older]
    # The entries are the customer's own, whichever statement object read them.
    assert {e.customer_id for e in timeline.page(bo, 50).entries} == {bo}
    assert "Complaint: The parcel came late" in [e.text for e in timeline.page(bo, 50).entries]
    assert not any("parcel" in e.text for e in timeline.page(ada, 50).entries)
