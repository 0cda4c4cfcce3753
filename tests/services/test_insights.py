"""The insights service on a real SQLite file: stored segments kept current incrementally
(conversations, complaints, edits, archiving), the segment filter of the customer list,
marking a customer lost with a reason, and the dashboard's figures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crmcompanion.core.customer import CustomerDraft, Status
from crmcompanion.core.errors import DomainError
from crmcompanion.core.segments import REASONS_WORDING
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.customers import ListQuery
from crmcompanion.services.insights import DashboardFilter
from crmcompanion.store import insights as insights_store
from crmcompanion.store import models as m
from tests.conftest import FIXED_NOW

TODAY = FIXED_NOW.date()


def _customer(services: Services, name: str, **extra: object) -> int:
    first, last = name.split()
    return services.customers.create(
        CustomerDraft(first_name=first, last_name=last, **extra)).customer.id


def _segments(services: Services, *ids: int) -> list[str]:
    found = services.insights.health(list(ids))
    return [found[i][0].value if i in found else "-" for i in ids]


def test_every_customer_in_one_segment_and_kept_current(services: Services) -> None:
    quiet = _customer(services, "Quiet Quinn", customer_since=TODAY - timedelta(days=400))
    lead = _customer(services, "Lead Lou", status=Status.LEAD)
    lost = _customer(services, "Gone Gil", status=Status.LOST)
    fresh = _customer(services, "Fresh Fay")
    assert _segments(services, quiet, lead, lost, fresh) == \
        ["at_risk", "potential", "lost", "healthy"]
    counts = services.insights.segment_counts()
    assert sum(counts.values()) == 4 and counts["at_risk"] == 1

    # A conversation today brings Quinn back: only that customer is recomputed (SQLite's
    # triggers mark it; PostgreSQL has none, so there every refresh recomputes everyone).
    services.interactions.log(quiet, "Called to catch up")
    assert services.insights.refresh() == (1 if services.db.info.url.startswith("sqlite")
                                           else 4)
    assert _segments(services, quiet) == ["healthy"]

    # A complaint a week old puts Fay at risk, with the reason in words.
    item = services.feedback.add(fresh, "complaint", "The order came late").item
    assert _segments(services, fresh) == ["healthy"]  # 0 days old: not yet
    later = open_services(services.db.info.url, None,
                          type(services.clock)(FIXED_NOW + timedelta(days=8)))
    try:
        health = later.insights.health([fresh])[fresh]
        assert health[0].value == "at_risk"
        assert "1 open complaint, 8 days old" in health[1]
        # It moved this week: Today's list names it with the reasons.
        moved = later.insights.moved_to_at_risk()
        assert [m.customer_id for m in moved] == [fresh]
    finally:
        later.close()
    assert item.id

    # Archived customers have no segment; the list filter finds exactly the segment.
    services.customers.set_archived(lead, True)
    assert _segments(services, lead) == ["-"]
    services.insights.refresh()
    at_risk = services.customers.list_customers(ListQuery(segment="at_risk"), 50)
    assert [c.id for c in at_risk] == [m.customer_id
                                        for m in services.insights.members("at_risk")]
    assert services.customers.count(ListQuery(segment="lost")) == 1


def test_reasons_stored_in_older_words_are_reworded_the_same_day(services: Services) -> None:
    """A database whose segments were refreshed today by a version that wrote "(rhythm 90)"
    reads in today's words at the next refresh, not tomorrow's: the wording is part of the
    key the stored segments were computed under (no migration rewrites them)."""
    cid = _customer(services, "Quiet Quinn", customer_since=TODAY - timedelta(days=4000))
    services.insights.refresh()
    old_words = "At risk: no contact in the 4000 days since joining (rhythm 90)"
    with services.db.write() as session:
        session.execute(m.CustomerHealth.__table__.update().values(reasons=old_words))
        key = insights_store.state(session, insights_store.SEGMENTS_KEY)
        assert key is not None
        # The key as the older version stored it: today's day and the same numbers.
        insights_store.set_state(session, insights_store.SEGMENTS_KEY,
                                 key.replace(f"{REASONS_WORDING}/", ""))
    assert services.insights.health([cid])[cid][1] == \
        "At risk: no contact in the 4,000 days since joining (you aim for every 90 days)"


def test_a_threshold_change_recomputes_everyone(services: Services) -> None:
    cid = _customer(services, "Slow Sam", customer_since=TODAY - timedelta(days=150))
    assert _segments(services, cid) == ["at_risk"]  # 150 > 90 * 1.5 (active cadence)
    services.settings.update({"insights.overdue_factor_percent": 200})
    assert _segments(services, cid) == ["healthy"]


def test_mark_lost_asks_for_a_reason_and_counts_it(services: Services) -> None:
    a = _customer(services, "Ann Alder")
    b = _customer(services, "Bob Birch")
    _customer(services, "Old Oak", status=Status.LOST)
    with pytest.raises(DomainError, match="choose one of"):
        services.insights.mark_lost(a, "too expensive")
    with pytest.raises(DomainError, match="note"):
        services.insights.mark_lost(a, "other")
    done = services.insights.mark_lost(a, "price", "Found a cheaper shop",
                                       win_back_on=TODAY + timedelta(days=90))
    assert done.follow_up_id is not None
    # The win-back is the one touchpoint a lost customer still gets, on its day.
    due = services.touchpoints.due(days=90)
    assert [(t.customer_id, t.occasion.value, t.date) for t in due
            if t.occasion.value == "win_back"] == [(a, "win_back", TODAY + timedelta(days=90))]
    win_back = next(t for t in due if t.occasion.value == "win_back")
    services.touchpoints.mark_done(win_back.key, "Called: coming back in spring")
    assert not [t for t in services.touchpoints.due(days=90) if t.occasion.value == "win_back"]
    services.insights.mark_lost(b, "price")
    assert services.customers.get(a).status is Status.LOST
    assert services.insights.health([a])[a][1] == "Lost: price (Found a cheaper shop)"
    # Found by status in the list's search index too.
    assert services.customers.count(ListQuery(status=Status.LOST)) == 3
    figures = services.insights.dashboard().as_json()
    assert figures["lost_reasons"] == [
        {"reason": "price", "count": 2, "share": 0.6667},
        {"reason": "unknown", "count": 1, "share": 0.3333},
    ]
    report = services.insights.lost_report()
    assert report.target.reason == "price" and report.target.last_four == 2


def test_dashboard_figures_and_filters(services: Services) -> None:
    a = _customer(services, "Ann Alder", tags=("VIP",))
    b = _customer(services, "Bob Birch")
    fb = services.feedback
    c1 = fb.add(a, "complaint", "Parcel late", themes=["Delivery"]).item.id
    fb.add(b, "complaint", "Rude on the phone", themes=["Staff"])
    for status in ("acknowledged", "planned", "in_progress", "resolved"):
        fb.move(c1, status)
    fb.add(a, "praise", "Lovely", satisfaction=5)
    fb.add(b, "feedback", "Okay", satisfaction=3)
    figures = services.insights.dashboard().as_json()
    assert sorted(figures) == sorted([
        "segments", "lost_reasons", "complaints_by_theme", "ideas_by_requesters",
        "touchpoints", "median_resolution_days", "satisfaction_by_month"])
    assert figures["complaints_by_theme"] == [
        {"theme": "Delivery", "open": 0, "resolved": 1},
        {"theme": "Staff", "open": 1, "resolved": 0}]
    assert figures["median_resolution_days"] == 0.0
    assert figures["satisfaction_by_month"] == [{"month": "2026-11", "average": 4.0, "count": 2}]
    vip = services.insights.dashboard(DashboardFilter(tag="vip")).as_json()
    assert sum(vip["segments"].values()) == 1
    assert vip["complaints_by_theme"] == [{"theme": "Delivery", "open": 0, "resolved": 1}]
    assert vip["satisfaction_by_month"][0]["average"] == 5.0
    none = services.insights.dashboard(DashboardFilter(start=date(2027, 1, 1))).as_json()
    assert none["complaints_by_theme"] == [] and none["median_resolution_days"] is None


def test_demo_shows_every_segment_and_chart(services: Services) -> None:
    from crmcompanion.services.demo import fill_demo

    fill_demo(services.db, services.clock, 400, seed=5, staff_id=services.staff_id)
    figures = services.insights.dashboard().as_json()
    assert all(n > 0 for n in figures["segments"].values()), figures["segments"]
    assert len(figures["lost_reasons"]) >= 3
    assert all(figures["touchpoints"][k] > 0 for k in ("on_time", "late", "missed"))
    assert figures["complaints_by_theme"] and figures["ideas_by_requesters"]
    assert figures["median_resolution_days"] is not None
    assert len(figures["satisfaction_by_month"]) >= 6
    report = services.insights.lost_report()
    assert report.target.reason is not None and len(report.top) == 3


@pytest.mark.parametrize("count", [1, 3, 10])
def test_tiny_demos_load(services: Services, count: int) -> None:
    from crmcompanion.services.demo import fill_demo

    fill_demo(services.db, services.clock, count, seed=2, staff_id=services.staff_id)
    assert sum(services.insights.segment_counts().values()) == count


def test_why_customers_stay_compares_the_happiest_with_everyone_else(
        services: Services) -> None:
    hana = _customer(services, "Hana Happy")
    services.interactions.log(hana, "Picked up her order")
    for theme in ("Friendly staff", "Friendly staff", "Fast delivery"):
        services.feedback.add(hana, "praise", f"Loved the {theme.lower()}", themes=[theme])
    quinn = _customer(services, "Quiet Quinn", customer_since=TODAY - timedelta(days=400))
    complaint = services.feedback.add(quinn, "complaint", "Late again").item.id
    for status in ("acknowledged", "planned", "in_progress", "resolved"):
        services.feedback.move(complaint, status)
    _customer(services, "Lead Lou", status=Status.LEAD)  # not a customer yet: left out
    assert _segments(services, hana, quinn) == ["happiest", "at_risk"]

    why = services.insights.why_they_stay()
    assert (why.happiest.customers, why.others.customers) == (1, 1)
    assert (why.happiest.rhythm_kept_share, why.others.rhythm_kept_share) == (1.0, 0.0)
    assert why.happiest.median_resolution_days is None
    assert why.others.median_resolution_days == 0.0  # resolved the day it came in
    assert why.praise_themes == [("Friendly staff", 2), ("Fast delivery", 1)]
    assert services.insights.why_they_stay(tag="nobody").happiest.customers == 0


def test_the_demo_tells_why_customers_stay(services: Services) -> None:
    """The demo's why-stay card has a story: greetings done on time (the happiest greeted
    more), and praise on recurring themes."""
    from crmcompanion.services.demo import fill_demo

    fill_demo(services.db, services.clock, 400, seed=5, staff_id=services.staff_id)
    why = services.insights.why_they_stay()
    assert why.happiest.customers and why.others.customers
    assert why.others.greetings_per_year is not None and why.others.greetings_per_year > 0
    assert why.happiest.greetings_per_year > why.others.greetings_per_year
    assert len(why.praise_themes) == 5, why.praise_themes
    counts = [n for _, n in why.praise_themes]
    assert counts[0] > counts[-1] and counts[0] >= 3, why.praise_themes
    # Greetings were recorded done on their day: on time in the touchpoint outcomes.
    assert services.insights.dashboard().touchpoints["on_time"] > 0
