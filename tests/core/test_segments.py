"""Health segment rules (issue 16) on a fixed day: each rule, its boundaries, ties, and the
reasons in words; lost reasons' shares, quarterly trend and the "halve the top reason" target."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crmcompanion.core.lost import (
    LostReasonError,
    halve_top_reason,
    last_quarters,
    parse_lost_reason,
    shares,
    trend_by_quarter,
)
from crmcompanion.core.segments import (
    FACT_FIELDS,
    Assessments,
    HealthFacts,
    Segment,
    Thresholds,
    assess,
    at_risk_order,
    facts_from_days,
)

TODAY = date(2026, 12, 6)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def test_issue_example_reasons() -> None:
    facts = HealthFacts(last_contact=ago(120), rhythm_days=60, open_complaints=1,
                        oldest_open_complaint=ago(14))
    health = assess(facts, TODAY)
    assert health.segment is Segment.AT_RISK
    assert health.reasons == "At risk: no contact for 120 days (you aim for every 60 days); " \
        "1 open complaint, 14 days old"


@pytest.mark.parametrize(("quiet", "segment"), [(90, Segment.HEALTHY), (91, Segment.AT_RISK)])
def test_overdue_boundary_is_one_and_a_half_rhythms(quiet: int, segment: Segment) -> None:
    assert assess(HealthFacts(last_contact=ago(quiet), rhythm_days=60), TODAY).segment is segment


@pytest.mark.parametrize(("quiet", "segment"), [(60, Segment.HEALTHY), (61, Segment.AT_RISK)])
def test_key_accounts_have_no_grace(quiet: int, segment: Segment) -> None:
    facts = HealthFacts(last_contact=ago(quiet), rhythm_days=60, key_account=True)
    health = assess(facts, TODAY)
    assert health.segment is segment
    if segment is Segment.AT_RISK:
        assert health.reasons.endswith("; key account")


def test_no_rhythm_uses_the_default_and_settings_change_it() -> None:
    facts = HealthFacts(last_contact=ago(136))
    assert assess(facts, TODAY).segment is Segment.AT_RISK  # 136 > 90 * 1.5
    rules = Thresholds.from_settings({"insights.default_rhythm_days": 100})
    assert assess(facts, TODAY, rules).segment is Segment.HEALTHY
    assert "(you aim for every 100 days)" in assess(facts, TODAY, rules).reasons


def test_never_contacted_counts_from_joining() -> None:
    facts = HealthFacts(contact_base=ago(200), rhythm_days=60)
    health = assess(facts, TODAY)
    assert health.segment is Segment.AT_RISK
    assert "no contact in the 200 days since joining" in health.reasons


def test_reasons_read_as_the_owner_says_them() -> None:
    """Day counts grouped and the rhythm in plain words: "4939 days (rhythm 90)" was seen on
    the demo book's profile, in Insights and in the export's "Segment reasons" column."""
    joined_long_ago = HealthFacts(contact_base=ago(4939))
    assert assess(joined_long_ago, TODAY).reasons == "At risk: no contact in the 4,939 days " \
        "since joining (you aim for every 90 days)"
    daily = HealthFacts(last_contact=ago(3), rhythm_days=1, key_account=True)
    assert assess(daily, TODAY).reasons == \
        "At risk: no contact for 3 days (you aim for every day); key account"
    for facts in (joined_long_ago, daily, HealthFacts(last_contact=ago(1), rhythm_days=1200),
                  HealthFacts(contact_base=ago(5), rhythm_days=1500)):
        assert "rhythm" not in assess(facts, TODAY).reasons
    assert assess(HealthFacts(contact_base=ago(5), rhythm_days=1500), TODAY).reasons == \
        "Healthy: joined within the last 1,500 days"


@pytest.mark.parametrize(("age", "segment"), [(6, Segment.HEALTHY), (7, Segment.AT_RISK)])
def test_complaint_age_boundary(age: int, segment: Segment) -> None:
    facts = HealthFacts(last_contact=ago(1), rhythm_days=60, open_complaints=2,
                        oldest_open_complaint=ago(age))
    health = assess(facts, TODAY)
    assert health.segment is segment
    if segment is Segment.AT_RISK:
        assert "2 open complaints, oldest 7 days old" in health.reasons


def test_key_account_any_open_complaint() -> None:
    facts = HealthFacts(last_contact=ago(1), rhythm_days=60, key_account=True,
                        open_complaints=1, oldest_open_complaint=TODAY)
    assert assess(facts, TODAY).reasons == \
        "At risk: 1 open complaint, 0 days old; key account"


@pytest.mark.parametrize(("total", "count", "segment"),
                         [(5, 2, Segment.AT_RISK), (6, 2, Segment.HEALTHY)])
def test_low_satisfaction_boundary(total: int, count: int, segment: Segment) -> None:
    facts = HealthFacts(last_contact=ago(3), rhythm_days=60, satisfaction_sum=total,
                        satisfaction_count=count)
    assert assess(facts, TODAY).segment is segment


def test_falling_satisfaction() -> None:
    falling = HealthFacts(last_contact=ago(3), rhythm_days=60, satisfaction_sum=4,
                          satisfaction_count=1, previous_satisfaction_sum=10,
                          previous_satisfaction_count=2)
    health = assess(falling, TODAY)
    assert health.segment is Segment.AT_RISK
    assert "satisfaction fell from 5 to 4" in health.reasons
    steady = HealthFacts(last_contact=ago(3), rhythm_days=60, satisfaction_sum=8,
                         satisfaction_count=2, previous_satisfaction_sum=9,
                         previous_satisfaction_count=2)
    assert assess(steady, TODAY).segment is Segment.HEALTHY  # fell 0.5 < 1.0


def test_not_satisfied_check_back() -> None:
    facts = HealthFacts(last_contact=ago(3), rhythm_days=60, not_satisfied=1,
                        satisfaction_sum=5, satisfaction_count=1)
    health = assess(facts, TODAY)
    assert health.segment is Segment.AT_RISK
    assert "1 check-back answered not satisfied" in health.reasons


def test_happiest_needs_signal_contact_and_no_open_complaint() -> None:
    happy = HealthFacts(last_contact=ago(10), rhythm_days=60, satisfaction_sum=9,
                        satisfaction_count=2)
    health = assess(happy, TODAY)
    assert health == type(health)(Segment.HAPPIEST, "Happiest: satisfaction 4.5 of 5 "
                                  "(2 answers); in touch within the last 60 days, as you aim")
    praised = HealthFacts(last_contact=ago(60), rhythm_days=60, praise=2)
    assert assess(praised, TODAY).segment is Segment.HAPPIEST
    one_praise = HealthFacts(last_contact=ago(10), rhythm_days=60, praise=1)
    assert assess(one_praise, TODAY).segment is Segment.HEALTHY
    # Within the grace but past the rhythm: healthy, not happiest.
    late = HealthFacts(last_contact=ago(61), rhythm_days=60, praise=3)
    assert assess(late, TODAY).reasons == "Healthy: a check-in is due (you aim for every 60 days)"
    # A healthy customer's words do not change from one day to the next.
    steady = HealthFacts(last_contact=ago(10), rhythm_days=60)
    assert assess(steady, TODAY).reasons == assess(steady, TODAY + timedelta(days=1)).reasons \
        == "Healthy: in touch within the last 60 days, as you aim"
    young_complaint = HealthFacts(last_contact=ago(1), rhythm_days=60, praise=3,
                                  open_complaints=1, oldest_open_complaint=ago(1))
    assert assess(young_complaint, TODAY).segment is Segment.HEALTHY


def test_lost_and_potential_come_first() -> None:
    lost = HealthFacts(status="lost", last_contact=ago(400), lost_reason="price",
                       lost_note="found it cheaper")
    assert assess(lost, TODAY).reasons == "Lost: price (found it cheaper)"
    assert assess(HealthFacts(status="lost"), TODAY).reasons == "Lost: reason unknown"
    lead = HealthFacts(status="lead", last_contact=ago(500), open_complaints=3,
                       oldest_open_complaint=ago(100))
    health = assess(lead, TODAY)
    assert health.segment is Segment.POTENTIAL
    assert health.reasons == "Potential: a lead"


def test_at_risk_order_by_value_then_name() -> None:
    rows = [(None, "Zed", 1), (500.0, "bob", 2), (1500.0, "Amy", 3), (500.0, "Al", 4)]
    ordered = sorted(rows, key=lambda r: at_risk_order(*r))
    assert [r[2] for r in ordered] == [3, 4, 2, 1]


def test_lost_reason_parsing() -> None:
    assert parse_lost_reason(" Price ") == ("price", "")
    with pytest.raises(LostReasonError, match="choose one of: price"):
        parse_lost_reason("cost")
    with pytest.raises(LostReasonError, match="note"):
        parse_lost_reason("other")
    with pytest.raises(LostReasonError, match="unknown"):
        parse_lost_reason("unknown")


def test_shares_highest_first_ties_by_name() -> None:
    result = shares(["service", "price", None, "price", "service", "moved_away"])
    assert [(s.reason, s.count) for s in result] == \
        [("price", 2), ("service", 2), ("moved_away", 1), ("unknown", 1)]
    assert sum(s.share for s in result) == pytest.approx(1.0)
    assert result[0].share == pytest.approx(2 / 6)


def test_quarters_and_trend() -> None:
    assert last_quarters(TODAY, 3) == [(2026, 2), (2026, 3), (2026, 4)]
    assert last_quarters(date(2027, 1, 1), 2) == [(2026, 4), (2027, 1)]
    lost = [("price", date(2026, 10, 1)), ("price", date(2026, 9, 30)),
            ("price", date(2024, 12, 31)), (None, date(2026, 12, 6))]
    trend = trend_by_quarter(lost, ["price", "unknown"], TODAY, quarters=4)
    assert trend == {"price": [0, 0, 1, 1], "unknown": [0, 0, 0, 1]}


def test_halve_the_top_reason() -> None:
    # Last 4 quarters: 2026-Q1..Q4; the 4 before: 2025-Q1..Q4.
    lost = [("price", date(2026, 3, 1))] * 2 + [("price", date(2025, 5, 1))] * 5 \
        + [("service", date(2026, 11, 1))] * 2 + [("service", date(2025, 1, 1))] \
        + [("quality", date(2024, 12, 31))] * 9
    target = halve_top_reason(lost, TODAY)
    # Price leads over the two years (7 against 3; quality's 9 are older than that).
    assert (target.reason, target.last_four, target.previous_four) == ("price", 2, 5)
    assert target.target == 2 and target.met
    assert "halved" in target.words()
    assert halve_top_reason([], TODAY).reason is None
    # A tie over the two years: more in the last four quarters wins, then the name.
    tie = [("service", date(2026, 5, 1))] * 2 + [("price", date(2025, 5, 1))] * 2
    assert halve_top_reason(tie, TODAY).reason == "service"
    even = [("service", date(2026, 5, 1)), ("price", date(2026, 6, 1))]
    assert halve_top_reason(even, TODAY).reason == "price"


def _as_days(facts: HealthFacts) -> tuple:
    """A HealthFacts as the store's FACT_FIELDS tuple (ages in days before TODAY)."""
    def days(day: date | None) -> int | None:
        return None if day is None else (TODAY - day).days

    values = (facts.status, facts.key_account, facts.lost_reason, facts.lost_note,
              days(facts.last_contact), facts.rhythm_days, facts.open_complaints,
              days(facts.oldest_open_complaint), facts.satisfaction_sum,
              facts.satisfaction_count, facts.previous_satisfaction_sum,
              facts.previous_satisfaction_count, facts.praise, facts.not_satisfied)
    # base_days only for a customer never contacted (as the refresh keys them).
    return values if facts.last_contact else (*values, days(facts.contact_base))


@pytest.mark.parametrize("facts", [
    HealthFacts(last_contact=ago(135), rhythm_days=90),  # exactly 1.5 rhythms: healthy
    HealthFacts(last_contact=ago(136), rhythm_days=90),  # one more day: at risk
    HealthFacts(contact_base=ago(400)),  # never contacted, joined long ago
    HealthFacts(contact_base=ago(3)),  # never contacted, joined lately
    HealthFacts(last_contact=ago(1), key_account=True, open_complaints=1,
                oldest_open_complaint=ago(0)),
    HealthFacts(last_contact=ago(5), open_complaints=2, oldest_open_complaint=ago(7)),
    HealthFacts(last_contact=ago(5), satisfaction_sum=9, satisfaction_count=2, praise=2),
    HealthFacts(last_contact=ago(5), satisfaction_sum=4, satisfaction_count=1,
                previous_satisfaction_sum=10, previous_satisfaction_count=2),
    HealthFacts(last_contact=ago(5), not_satisfied=1),
    HealthFacts(status="lost", lost_reason="price", lost_note="Cheaper online"),
    HealthFacts(status="lead"),
])
def test_assessments_from_days_are_assess(facts: HealthFacts) -> None:
    key = _as_days(facts)
    assert len(FACT_FIELDS) - len(key) in (0, 1)
    rebuilt = facts_from_days(key, TODAY)
    assert rebuilt.last_contact == facts.last_contact
    assessed = Assessments(TODAY)
    assert assessed[key] == assess(facts, TODAY)
    assert assessed[key] is assessed[key]  # each distinct set of facts assessed once


def test_lost_customers_and_leads_are_assessed_once_per_outcome() -> None:
    """Lost customers and leads differ in days and feedback that `assess` never reads for
    them: one assessment per status, reason and note serves them all, and each answer is
    still exactly `assess` of that customer's facts."""
    lost = [
        HealthFacts(status="lost", lost_reason="price", lost_note="Cheaper online",
                    last_contact=ago(days), key_account=key, open_complaints=complaints,
                    oldest_open_complaint=ago(30) if complaints else None)
        for days, key, complaints in ((3, False, 0), (400, True, 2), (90, False, 1))
    ]
    other_note = HealthFacts(status="lost", lost_reason="price", lost_note="Budget cut",
                             last_contact=ago(3))
    other_reason = HealthFacts(status="lost", lost_reason="service",
                               lost_note="Cheaper online", last_contact=ago(3))
    unknown = HealthFacts(status="lost", lost_reason=None, contact_base=ago(50))
    leads = [HealthFacts(status="lead", contact_base=ago(days), praise=praise)
             for days, praise in ((1, 0), (700, 3))]
    everyone = [*lost, other_note, other_reason, unknown, *leads]
    assessed = Assessments(TODAY)
    for facts in everyone:
        assert assessed[_as_days(facts)] == assess(facts, TODAY)
    assert len(assessed) == len(everyone)  # every distinct tuple answered...
    assert assessed.assessed == 5  # ...from five assessments: 3 lost outcomes, unknown, lead
    # An active customer is never folded into another: its whole tuple counts.
    assert assessed[_as_days(HealthFacts(last_contact=ago(200)))].segment is Segment.AT_RISK
    assert assessed[_as_days(HealthFacts(last_contact=ago(2)))].segment is Segment.HEALTHY
    assert assessed.assessed == 7
