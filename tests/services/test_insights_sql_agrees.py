"""The segments' and why-stay's SQL aggregates agree with a plain per-customer definition.

Issue 16's speed targets moved the gathering of every customer's facts into one SQL
statement (ages as whole days computed by the database, each distinct set of facts assessed
once) and the why-stay card into grouped aggregates. These tests gather the same facts the
slow, obvious way (one customer at a time, dates compared in Python), apply `core.segments`
and `core.why_stay` to them, and require the stored segments and the card to be exactly
that: on demo data plus customers made to hit every rule, on several days (boundaries move
as the days pass). A refresh also runs a bounded number of statements: one per changed row
at most, never a read per customer. tests/postgres runs these on PostgreSQL too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, event, func, select, text

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.feedback import ComplaintStatus
from crmcompanion.core.occasions import SPECIAL_DATE_KINDS, Occasion
from crmcompanion.core.segments import HealthFacts, Segment, assess
from crmcompanion.core.why_stay import StayFacts, compare, rhythm_kept
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.demo import fill_demo
from crmcompanion.store import insights as insights_store
from crmcompanion.store import models as m
from tests.conftest import FIXED_NOW

OPEN = {s.value for s in ComplaintStatus if s.is_open}
GREETINGS = {o.value for o in (*SPECIAL_DATE_KINDS, Occasion.CUSTOMER_ANNIVERSARY)}


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def reference_facts(services: Services, today: date, window_days: int) -> dict[int, HealthFacts]:
    """Every non-archived customer's facts, one customer at a time, in Python."""
    window = datetime.combine(today - timedelta(days=window_days), datetime.min.time())
    before = datetime.combine(today - timedelta(days=2 * window_days), datetime.min.time())
    out: dict[int, HealthFacts] = {}
    with services.db.read() as session:
        for c in session.scalars(select(m.Customer).where(m.Customer.archived_at.is_(None))):
            contacts = session.scalars(select(m.Interaction.occurred_at)
                                       .where(m.Interaction.customer_id == c.id)).all()
            rhythm = session.get(m.ContactRhythm, c.id)
            items = session.scalars(select(m.FeedbackItem)
                                    .where(m.FeedbackItem.customer_id == c.id)).all()
            open_ = [f for f in items if f.kind == "complaint" and f.status in OPEN]
            recent = [f.satisfaction for f in items
                      if f.satisfaction is not None and f.created_at >= window]
            earlier = [f.satisfaction for f in items
                       if f.satisfaction is not None and before <= f.created_at < window]
            answers = session.scalar(
                select(func.count()).select_from(m.FeedbackEvent)
                .join(m.FeedbackItem, m.FeedbackItem.id == m.FeedbackEvent.item_id)
                .where(m.FeedbackItem.customer_id == c.id,
                       m.FeedbackEvent.to_status == ComplaintStatus.NOT_SATISFIED.value,
                       m.FeedbackEvent.at >= window))
            out[c.id] = HealthFacts(
                status=c.status, key_account=bool(c.key_account),
                last_contact=_day(max(contacts)) if contacts else None,
                contact_base=_day(c.customer_since or c.created_at),
                rhythm_days=rhythm.cadence_days if rhythm is not None else None,
                open_complaints=len(open_),
                oldest_open_complaint=min(_day(f.created_at) for f in open_) if open_ else None,
                satisfaction_sum=sum(recent), satisfaction_count=len(recent),
                previous_satisfaction_sum=sum(earlier),
                previous_satisfaction_count=len(earlier),
                praise=sum(1 for f in items if f.kind == "praise" and f.created_at >= window),
                not_satisfied=answers or 0, lost_reason=c.lost_reason,
                lost_note=c.lost_note or "",
            )
    return out


def _on(services: Services, when: datetime) -> Services:
    return open_services(services.db.info.url, None, FixedClock(when))


def _customer(services: Services, name: str, **extra: object) -> int:
    first, last = name.split()
    return services.customers.create(
        CustomerDraft(first_name=first, last_name=last, **extra)).customer.id


def _every_rule(services: Services) -> None:
    """Customers the demo may not make: each at-risk sign and its boundaries."""
    earlier = _on(services, FIXED_NOW - timedelta(days=250))
    try:
        falling = _customer(earlier, "Fall Fern")
        earlier.feedback.add(falling, "feedback", "Great", satisfaction=5)
        checked = _customer(earlier, "Check Chad")
        earlier.interactions.log(checked, "Order")
        praised_long_ago = _customer(earlier, "Past Pat")  # praise outside the window
        for _ in range(2):
            earlier.feedback.add(praised_long_ago, "praise", "Lovely")
    finally:
        earlier.close()
    services.interactions.log(praised_long_ago, "Catch-up")
    services.feedback.add(falling, "feedback", "Fine", satisfaction=4)  # fell exactly 1.0
    low = _customer(services, "Low Lena")
    services.feedback.add(low, "feedback", "Poor", satisfaction=2)
    item = services.feedback.add(checked, "complaint", "Broken lid").item.id
    for status in ("acknowledged", "planned", "in_progress", "resolved", "not_satisfied"):
        services.feedback.move(item, status)
    key = _customer(services, "Key Kim", key_account=True,
                    customer_since=FIXED_NOW.date() - timedelta(days=91))
    services.feedback.add(key, "complaint", "Wrong size")
    week = _on(services, FIXED_NOW - timedelta(days=7))  # exactly the complaint age
    try:
        aged = _customer(week, "Aged Ada")
        week.feedback.add(aged, "complaint", "Still waiting")
        week.interactions.log(aged, "Call")
    finally:
        week.close()
    rhythm = _on(services, FIXED_NOW - timedelta(days=90))  # exactly the rhythm ago
    try:
        edge = _customer(rhythm, "Edge Eve")
        rhythm.interactions.log(edge, "Call")
    finally:
        rhythm.close()
    happy = _customer(services, "Happy Hal")
    services.interactions.log(happy, "Visit")
    for _ in range(2):
        services.feedback.add(happy, "praise", "Lovely")


@pytest.fixture
def varied(services: Services) -> Services:
    fill_demo(services.db, services.clock, 250, seed=11, staff_id=services.staff_id)
    _every_rule(services)
    return services


@pytest.mark.parametrize("days_later", [0, 1, 40, 200])
def test_stored_segments_are_the_rules_over_per_customer_facts(
        varied: Services, days_later: int) -> None:
    later = _on(varied, FIXED_NOW + timedelta(days=days_later))
    try:
        later.insights.refresh()
        today = later.clock.today()
        rules = later.insights.thresholds()
        facts = reference_facts(later, today, rules.window_days)
        expected = {cid: assess(f, today, rules) for cid, f in facts.items()}
        stored = later.insights.stored_health(list(facts))
    finally:
        later.close()
    assert {cid: (h.segment, h.reasons) for cid, h in expected.items()} == stored
    if days_later == 0:
        # The fixture hits every segment and every at-risk sign.
        words = " ".join(h.reasons for h in expected.values())
        assert {h.segment for h in expected.values()} == set(Segment)
        for sign in ("no contact", "open complaint", "recent satisfaction 2 of 5",
                     "satisfaction fell from 5 to 4", "answered not satisfied",
                     "key account", "7 days old", "Lost: "):
            assert sign in words, sign


def test_why_stay_aggregates_are_the_comparison_over_per_customer_facts(
        varied: Services) -> None:
    services = varied
    today = services.clock.today()
    why = services.insights.why_they_stay()
    rules = services.insights.thresholds()
    facts = reference_facts(services, today, rules.window_days)
    segments = services.insights.stored_health(list(facts))
    year_ago = today - timedelta(days=365)
    with services.db.read() as session:
        greetings = session.execute(select(m.TouchpointRecord.customer_id,
                                           m.TouchpointRecord.occasion,
                                           m.TouchpointRecord.occurrence_on,
                                           m.TouchpointRecord.state)).all()
        resolved = session.execute(
            select(m.FeedbackItem.customer_id, m.FeedbackItem.created_at,
                   m.ComplaintDetail.resolved_at)
            .join(m.ComplaintDetail, m.ComplaintDetail.item_id == m.FeedbackItem.id)
            .where(m.FeedbackItem.kind == "complaint",
                   m.ComplaintDetail.resolved_at.is_not(None))).all()
        praise_items = session.execute(
            select(m.Theme.name, m.FeedbackItem.id)
            .join(m.FeedbackItemTheme, m.FeedbackItemTheme.theme_id == m.Theme.id)
            .join(m.FeedbackItem, m.FeedbackItem.id == m.FeedbackItemTheme.item_id)
            .where(m.FeedbackItem.kind == "praise")).all()
    rows = []
    for cid, f in facts.items():
        done = sum(1 for c, occasion, on, state in greetings
                   if c == cid and state == "done" and occasion in GREETINGS and on >= year_ago)
        days = tuple((r - o).total_seconds() / 86400 for c, o, r in resolved if c == cid)
        rows.append(StayFacts(cid, segments[cid][0].value,
                              rhythm_kept(f.last_contact, f.contact_base,
                                          f.rhythm_days or rules.default_rhythm_days, today),
                              done, days))
    themes: dict[str, set[int]] = {}
    for name, item in praise_items:
        themes.setdefault(name, set()).add(item)
    assert why == compare(rows, [(t, len(ids)) for t, ids in themes.items()])
    assert why.happiest.customers and why.others.customers


# --- statements a refresh runs --------------------------------------------------------------


@contextmanager
def _statements(services: Services) -> Iterator[list[str]]:
    """Every SQL statement SQLite runs for `services` (executemany: once per row)."""
    seen: list[str] = []
    engine = services.db.write_engine

    def trace(dbapi: sqlite3.Connection, _record: object) -> None:
        dbapi.set_trace_callback(seen.append)

    engine.dispose()
    event.listen(engine, "connect", trace)
    try:
        yield seen
    finally:
        event.remove(engine, "connect", trace)
        engine.dispose()


def _quiet_customers(services: Services, count: int) -> None:
    # Never contacted, joined long ago: at risk, and the reasons name the days, so every
    # day's first refresh rewords each of them.
    for n in range(count):
        _customer(services, f"Quiet Q{n}",
                  customer_since=FIXED_NOW.date() - timedelta(days=400))


def _days_first_refresh(services: Services, days_later: int) -> list[str]:
    later = _on(services, FIXED_NOW + timedelta(days=days_later))
    try:
        later.touchpoints.sync()
        with _statements(later) as seen:
            assert later.insights.refresh() > 0
    finally:
        later.close()
    return [s for s in seen if not s.startswith(("BEGIN", "COMMIT", "PRAGMA"))]


def test_a_days_refresh_runs_a_bounded_number_of_statements(services: Services) -> None:
    if not services.db.info.url.startswith("sqlite"):
        pytest.skip("counted with SQLite's statement trace")
    _quiet_customers(services, 5)
    for _ in range(3):
        _customer(services, "Fresh Fay")  # healthy: the same words every day
    services.insights.refresh()
    small = _days_first_refresh(services, 1)
    _quiet_customers(services, 15)
    for _ in range(12):
        _customer(services, "Fresh Fay")
    services.insights.refresh()
    large = _days_first_refresh(services, 2)
    rewords = [s for s in large if s.startswith("UPDATE customer_health SET reasons")]
    # One UPDATE a reworded customer (executemany), nothing else grows with the customers.
    assert len(rewords) == 20
    assert len(large) - len(small) == 15, (small, large)
    reads = [s for s in large if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) < 20, reads


# --- the first refresh of a database (no stored segments) ---------------------------------


def _forget_segments(services: Services) -> None:
    """The database as before its first refresh: no stored segment, no day remembered."""
    with services.db.write() as session:
        session.execute(delete(m.CustomerHealth))
        session.execute(delete(m.InsightState))


def _stored(services: Services) -> dict[int, tuple[str, str]]:
    with services.db.read() as session:
        return {cid: (segment, reasons) for cid, segment, reasons in session.execute(
            select(m.CustomerHealth.customer_id, m.CustomerHealth.segment,
                   m.CustomerHealth.reasons))}


def _index_sql(services: Services) -> dict[str, str]:
    with services.db.read() as session:
        return dict(session.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'customer_health' AND sql IS NOT NULL")).all())


@pytest.mark.parametrize("bulk", [False, True])
def test_a_first_refresh_stores_what_a_days_refresh_does(
        varied: Services, monkeypatch: pytest.MonkeyPatch, bulk: bool) -> None:
    """A day's refresh after an earlier day's (rows moved and reworded in place) and the first
    refresh of the same database on that day (every row inserted; `bulk`: the secondary
    indexes built after the rows, as at 100,000 customers) store the same segments."""
    if bulk:
        monkeypatch.setattr(insights_store, "_REINDEX_ABOVE", 1)
    sqlite = varied.db.info.url.startswith("sqlite")
    indexes = _index_sql(varied) if sqlite else {}
    varied.insights.refresh()
    later = _on(varied, FIXED_NOW + timedelta(days=40))
    try:
        assert later.insights.refresh() > 0
        days_refresh = _stored(later)
        _forget_segments(later)
        assert later.insights.refresh() == len(days_refresh)
        first_refresh = _stored(later)
    finally:
        later.close()
    assert first_refresh == days_refresh
    # 40 days on, some customers moved: the day's refresh did update rows in place.
    assert {seg for seg, _ in days_refresh.values()} == {s.value for s in Segment}
    if sqlite:
        assert _index_sql(varied) == indexes  # rebuilt as they were


def test_a_first_refresh_runs_a_bounded_number_of_statements(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first refresh of a database writes its rows through one executemany (SQLite's
    trace shows each row's INSERT) and runs nothing else that grows with the customers,
    also when it builds the secondary indexes after the rows."""
    if not services.db.info.url.startswith("sqlite"):
        pytest.skip("counted with SQLite's statement trace")
    monkeypatch.setattr(insights_store, "_REINDEX_ABOVE", 1)

    def first_refresh() -> tuple[list[str], list[str]]:
        _forget_segments(services)
        services.touchpoints.sync()  # the keep-in-touch rhythm's own catching up, not ours
        with _statements(services) as seen:
            assert services.insights.refresh() > 0
        ran = [s for s in seen if not s.startswith(("BEGIN", "COMMIT", "PRAGMA"))]
        inserts = [s for s in ran if s.startswith("INSERT INTO customer_health")]
        return inserts, [s for s in ran if s not in inserts]

    _quiet_customers(services, 5)
    for _ in range(3):
        _customer(services, "Fresh Fay")
    small_inserts, small = first_refresh()
    _quiet_customers(services, 15)
    for _ in range(12):
        _customer(services, "Fresh Fay")
    large_inserts, large = first_refresh()
    assert (len(small_inserts), len(large_inserts)) == (8, 35)
    assert len(large) == len(small), (small, large)
    assert [s for s in large if s.startswith("CREATE INDEX")], large  # the bulk path ran
    reads = [s for s in large if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) < 20, reads


def test_a_full_refresh_drops_the_rows_of_customers_archived_since(services: Services) -> None:
    """A full recompute (a new day) skips the search for left-over rows only when the table
    holds exactly one row per customer computed: an archived customer's row still goes."""
    kept = _customer(services, "Kept Kay")
    gone = _customer(services, "Gone Gus")
    services.insights.refresh()
    assert set(_stored(services)) == {kept, gone}
    services.customers.set_archived(gone, True)
    later = _on(services, FIXED_NOW + timedelta(days=1))
    try:
        assert later.insights.refresh() == 1  # everyone, on a new day: Kay
        assert set(_stored(later)) == {kept}
    finally:
        later.close()
