"""Customer health segments: who is happiest, healthy, at risk, lost, or could become a customer.

Issue 16 asks for segments the owner can trust because every one comes with its reasons in
words. The rules live here, in plain Python with the day a parameter, so they are tested with
fixed dates and read the same from the window, the command line and the benchmark; the store
only gathers each customer's facts (`HealthFacts`) with SQL aggregates.

Order of the rules (each customer lands in exactly one segment):

1. `lost`: the stored status is lost (the reason the owner gave is the explanation);
2. `potential`: a lead;
3. `at_risk`: any warning sign (out of touch for longer than the rhythm allows, an open
   complaint old enough, low or falling satisfaction, a check-back answered "not satisfied");
   key accounts get no grace: past their rhythm at all, or any open complaint, is a sign;
4. `happiest`: no warning sign, in touch within the rhythm, and high recent satisfaction or
   repeated praise;
5. `healthy`: everyone else.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from crmcompanion.core.lost import lost_reason_words
from crmcompanion.core.settings import SettingSpec, register

logger = logging.getLogger(__name__)


class Segment(StrEnum):
    HAPPIEST = "happiest"
    HEALTHY = "healthy"
    AT_RISK = "at_risk"
    LOST = "lost"
    POTENTIAL = "potential"

    @property
    def title(self) -> str:
        return SEGMENT_TITLES[self]


SEGMENT_TITLES: dict[Segment, str] = {
    Segment.HAPPIEST: "Happiest",
    Segment.HEALTHY: "Healthy",
    Segment.AT_RISK: "At risk",
    Segment.LOST: "Lost",
    Segment.POTENTIAL: "Potential",
}

# The order segments are shown in (charts, JSON, the filter menu).
SEGMENT_ORDER: tuple[Segment, ...] = (
    Segment.HAPPIEST, Segment.HEALTHY, Segment.AT_RISK, Segment.LOST, Segment.POTENTIAL,
)


# --- thresholds (settings, Settings dialog "Insights") ---------------------------------------

OVERDUE_FACTOR_PERCENT = register(SettingSpec(
    "insights.overdue_factor_percent", int, 150,
    "A customer is at risk when out of touch for longer than this share of their rhythm "
    "(percent; 150 = one and a half rhythms).",
    choices=tuple(range(100, 501)),
))
DEFAULT_RHYTHM_DAYS = register(SettingSpec(
    "insights.default_rhythm_days", int, 90,
    "The rhythm (days) used for customers who have no keep-in-touch rhythm.",
    choices=tuple(range(1, 731)),
))
COMPLAINT_AGE_DAYS = register(SettingSpec(
    "insights.complaint_age_days", int, 7,
    "An open complaint at least this many days old puts a customer at risk.",
    choices=tuple(range(0, 366)),
))
WINDOW_DAYS = register(SettingSpec(
    "insights.window_days", int, 180,
    "Recent satisfaction, praise and check-back answers count over this many days.",
    choices=tuple(range(30, 731)),
))
LOW_SATISFACTION_TENTHS = register(SettingSpec(
    "insights.low_satisfaction_tenths", int, 25,
    "Recent average satisfaction (tenths, 25 = 2.5 of 5) at or below which a customer is at "
    "risk.",
    choices=tuple(range(10, 51)),
))
FALLING_SATISFACTION_TENTHS = register(SettingSpec(
    "insights.falling_satisfaction_tenths", int, 10,
    "A fall in average satisfaction against the window before (tenths, 10 = one point) that "
    "puts a customer at risk.",
    choices=tuple(range(1, 41)),
))
HAPPY_SATISFACTION_TENTHS = register(SettingSpec(
    "insights.happy_satisfaction_tenths", int, 45,
    "Recent average satisfaction (tenths, 45 = 4.5 of 5) at or above which a customer is "
    "among the happiest.",
    choices=tuple(range(10, 51)),
))
HAPPY_PRAISE = register(SettingSpec(
    "insights.happy_praise", int, 2,
    "Praise received in the window that makes a customer one of the happiest.",
    choices=tuple(range(1, 101)),
))

INSIGHT_SETTINGS: tuple[SettingSpec, ...] = (
    OVERDUE_FACTOR_PERCENT, DEFAULT_RHYTHM_DAYS, COMPLAINT_AGE_DAYS, WINDOW_DAYS,
    LOW_SATISFACTION_TENTHS, FALLING_SATISFACTION_TENTHS, HAPPY_SATISFACTION_TENTHS,
    HAPPY_PRAISE,
)


# Bumped when `assess` words its reasons differently: the stored reasons of every customer
# are then rewritten by the next refresh (its key changes), the same day, not the next.
# 2: "(you aim for every 90 days)" instead of "(rhythm 90)", and numbers grouped ("4,939").
REASONS_WORDING = "w2"


@dataclass(frozen=True)
class Thresholds:
    """The segment rules' numbers, with the settings' defaults."""

    overdue_factor_percent: int = 150
    default_rhythm_days: int = 90
    complaint_age_days: int = 7
    window_days: int = 180
    low_satisfaction: float = 2.5
    falling_satisfaction: float = 1.0
    happy_satisfaction: float = 4.5
    happy_praise: int = 2

    @classmethod
    def from_settings(cls, values: dict[str, object]) -> Thresholds:
        def get(spec: SettingSpec) -> int:
            value = values.get(spec.key, spec.default)
            try:
                return int(spec.coerce(value))
            except ValueError:
                logger.warning("Setting %s has an unusable value; using its default", spec.key)
                return int(spec.default)

        return cls(
            overdue_factor_percent=get(OVERDUE_FACTOR_PERCENT),
            default_rhythm_days=get(DEFAULT_RHYTHM_DAYS),
            complaint_age_days=get(COMPLAINT_AGE_DAYS),
            window_days=get(WINDOW_DAYS),
            low_satisfaction=get(LOW_SATISFACTION_TENTHS) / 10,
            falling_satisfaction=get(FALLING_SATISFACTION_TENTHS) / 10,
            happy_satisfaction=get(HAPPY_SATISFACTION_TENTHS) / 10,
            happy_praise=get(HAPPY_PRAISE),
        )

    def key(self) -> str:
        """A short fingerprint: stored segments computed under other numbers, or worded
        by an older version (`REASONS_WORDING`), are stale."""
        return (
            f"{REASONS_WORDING}/{self.overdue_factor_percent}/{self.default_rhythm_days}/"
            f"{self.complaint_age_days}/{self.window_days}/{self.low_satisfaction}/"
            f"{self.falling_satisfaction}/{self.happy_satisfaction}/{self.happy_praise}"
        )


@dataclass(slots=True)
class HealthFacts:
    """What the rules read about one customer, gathered by SQL aggregates.

    `contact_base` is the last interaction's day, or (never contacted) the day the customer
    became one; `rhythm_days` the keep-in-touch cadence (None: no rhythm, the default
    applies). Satisfaction figures cover the window and the window before it. Not frozen
    (slots only): 100,000 are built per recompute and a frozen init costs twice as much;
    nothing keeps one beyond its call to `assess`.
    """

    status: str = "active"
    key_account: bool = False
    last_contact: date | None = None
    contact_base: date | None = None
    rhythm_days: int | None = None
    open_complaints: int = 0
    oldest_open_complaint: date | None = None
    satisfaction_sum: int = 0
    satisfaction_count: int = 0
    previous_satisfaction_sum: int = 0
    previous_satisfaction_count: int = 0
    praise: int = 0
    not_satisfied: int = 0
    lost_reason: str | None = None
    lost_note: str = ""

    @property
    def satisfaction(self) -> float | None:
        return self.satisfaction_sum / self.satisfaction_count if self.satisfaction_count else None

    @property
    def previous_satisfaction(self) -> float | None:
        if not self.previous_satisfaction_count:
            return None
        return self.previous_satisfaction_sum / self.previous_satisfaction_count


@dataclass(frozen=True, slots=True)
class Health:
    segment: Segment
    reasons: str


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n:,} days"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n:,} {word}s"


def _aim(rhythm: int) -> str:
    """The keep-in-touch rhythm as the owner says it: "you aim for every 90 days"."""
    return "you aim for every day" if rhythm == 1 else f"you aim for every {_days(rhythm)}"


def _score(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def assess(facts: HealthFacts, today: date, rules: Thresholds | None = None) -> Health:
    """The customer's segment and the reasons in words ("At risk: no contact for 120 days
    (you aim for every 60 days); 1 open complaint, 14 days old")."""
    rules = rules or Thresholds()
    if facts.status == "lost":
        return Health(Segment.LOST, "Lost: " + lost_reason_words(facts.lost_reason,
                                                                 facts.lost_note))
    if facts.status == "lead":
        return Health(Segment.POTENTIAL, "Potential: a lead")
    base = facts.last_contact or facts.contact_base
    quiet = max(0, (today - base).days) if base is not None else None
    rhythm = facts.rhythm_days or rules.default_rhythm_days
    warnings: list[str] = []
    # Key accounts get no grace: past their rhythm at all is a warning.
    allowed = rhythm if facts.key_account else rhythm * rules.overdue_factor_percent / 100
    if quiet is not None and quiet > allowed:
        warnings.append(f"{_quiet_words(facts, quiet)} ({_aim(rhythm)})")
    if facts.open_complaints and facts.oldest_open_complaint is not None:
        age = max(0, (today - facts.oldest_open_complaint).days)
        if facts.key_account or age >= rules.complaint_age_days:
            oldest = "" if facts.open_complaints == 1 else "oldest "
            warnings.append(
                f"{_plural(facts.open_complaints, 'open complaint')}, {oldest}{_days(age)} old"
            )
    recent, before = facts.satisfaction, facts.previous_satisfaction
    if recent is not None and recent <= rules.low_satisfaction:
        warnings.append(f"recent satisfaction {_score(recent)} of 5")
    elif recent is not None and before is not None \
            and before - recent >= rules.falling_satisfaction:
        warnings.append(f"satisfaction fell from {_score(before)} to {_score(recent)}")
    if facts.not_satisfied:
        warnings.append(f"{_plural(facts.not_satisfied, 'check-back')} answered not satisfied")
    if warnings:
        if facts.key_account:
            warnings.append("key account")
        return Health(Segment.AT_RISK, "At risk: " + "; ".join(warnings))
    happy: list[str] = []
    if recent is not None and recent >= rules.happy_satisfaction:
        happy.append(f"satisfaction {_score(recent)} of 5"
                     f" ({_plural(facts.satisfaction_count, 'answer')})")
    if facts.praise >= rules.happy_praise:
        happy.append(f"{facts.praise:,} praise")
    # Words without day counts for customers doing well: their reasons stay the same from one
    # day to the next, so a day's first recompute rewrites only the rows that really moved.
    in_touch = quiet is not None and quiet <= rhythm
    last = "the last day" if rhythm == 1 else f"the last {_days(rhythm)}"
    contact = (f"in touch within {last}, as you aim" if in_touch and facts.last_contact
               else f"joined within {last}" if in_touch
               else f"a check-in is due ({_aim(rhythm)})" if quiet is not None
               else "no contact yet")
    if happy and in_touch and not facts.open_complaints:
        return Health(Segment.HAPPIEST, "Happiest: " + "; ".join([*happy, contact]))
    details = [contact]
    if facts.open_complaints:
        details.append(_plural(facts.open_complaints, "open complaint"))
    if recent is not None:
        details.append(f"satisfaction {_score(recent)} of 5")
    return Health(Segment.HEALTHY, "Healthy: " + "; ".join(details))


# One customer's facts as plain values, ages in whole days before the day assessed: what the
# store gathers for every customer (`store.insights.fact_rows`).
# `base_days` (days since the customer joined) comes last and only counts for a customer
# never contacted: for everyone else it is left off, so customers with the same facts share
# one tuple whatever day they joined.
FACT_FIELDS: tuple[str, ...] = (
    "status", "key_account", "lost_reason", "lost_note", "last_days", "rhythm_days",
    "open_complaints", "oldest_open_days", "satisfaction_sum", "satisfaction_count",
    "previous_satisfaction_sum", "previous_satisfaction_count", "praise", "not_satisfied",
    "base_days",
)


def facts_from_days(values: Sequence, today: date) -> HealthFacts:
    """The `HealthFacts` of a FACT_FIELDS tuple (`base_days` may be left off)."""
    (status, key_account, lost_reason, lost_note, last_days, rhythm_days, open_complaints,
     oldest_days, s_sum, s_count, p_sum, p_count, praise, not_satisfied) = values[:14]
    base_days = values[14] if len(values) > 14 else None

    def day(days: int | None) -> date | None:
        return None if days is None else today - timedelta(days=int(days))

    last = day(last_days)
    return HealthFacts(
        status=status, key_account=bool(key_account), last_contact=last,
        contact_base=last if last is not None else day(base_days),
        rhythm_days=rhythm_days, open_complaints=int(open_complaints or 0),
        oldest_open_complaint=day(oldest_days),
        satisfaction_sum=int(s_sum or 0), satisfaction_count=int(s_count or 0),
        previous_satisfaction_sum=int(p_sum or 0),
        previous_satisfaction_count=int(p_count or 0), praise=int(praise or 0),
        not_satisfied=int(not_satisfied or 0), lost_reason=lost_reason,
        lost_note=lost_note or "",
    )


class Assessments(dict):
    """`assess` for many customers on one day: look a FACT_FIELDS tuple up and get its
    `Health`. Each distinct tuple is assessed once: 100,000 customers share a few thousand
    (most differ only in the days since their last conversation), so a day's recompute is a
    dictionary look-up a customer, and the rules stay the single definition above.

    Lost customers and leads share one assessment per `outcome_key`: `assess` answers them
    from their status (and a lost one's reason and note) before it reads anything else, so
    their days since the last conversation or since joining, which make most of their
    tuples distinct (6,500 of 14,700 on the 100,000-customer demo), need no assessment each.
    `assessed` counts the calls to `assess`."""

    def __init__(self, today: date, rules: Thresholds | None = None) -> None:
        super().__init__()
        self.today = today
        self.rules = rules or Thresholds()
        self.assessed = 0
        self._by_outcome: dict[tuple, Health] = {}

    def __missing__(self, key: tuple) -> Health:
        outcome = outcome_key(key)
        health = self._by_outcome.get(outcome) if outcome is not None else None
        if health is None:
            health = assess(facts_from_days(key, self.today), self.today, self.rules)
            self.assessed += 1
            if outcome is not None:
                self._by_outcome[outcome] = health
        self[key] = health
        return health


def outcome_key(values: Sequence) -> tuple | None:
    """What `assess` reads of a FACT_FIELDS tuple when it reads only part of it: a lost
    customer's status, reason and note, a lead's status; None for everyone else (the whole
    tuple counts)."""
    status = values[0]
    if status == "lost":
        return (status, values[2], values[3])
    if status == "lead":
        return (status,)
    return None


def _quiet_words(facts: HealthFacts, quiet: int) -> str:
    if facts.last_contact is None:
        return f"no contact in the {_days(quiet)} since joining"
    return f"no contact for {_days(quiet)}"


def at_risk_order(value: float | None, name: str, customer_id: int) -> tuple:
    """Sort key for at-risk customers: most at stake first (no value last), then by name."""
    return (value is None, -(value or 0.0), name.casefold(), customer_id)


def reasons_without_title(reasons: str) -> str:
    """The reasons without the segment's title, as a sentence, for where a badge or a column
    already names the segment: "At risk: no contact for 120 days" -> "No contact for 120 days"."""
    _title, sep, rest = reasons.partition(": ")
    words = rest if sep else reasons
    return words[:1].upper() + words[1:]
