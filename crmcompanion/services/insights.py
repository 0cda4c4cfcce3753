"""Insights: who is happiest, who is at risk, who was lost and why, and the dashboard's figures.

Segments are stored (`customer_health`) so the customer list can filter by them and show them
as columns, and are brought up to date before any answer (`refresh`): only the customers
whose data changed since (marked dirty by triggers) when the day and the thresholds are the
same, everyone when the day or a threshold changed, or on databases without the triggers.
The rules are `core.segments`; the facts are SQL aggregates (`store.insights`).
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from crmcompanion.core.clock import Clock, SystemClock
from crmcompanion.core.customer import Status
from crmcompanion.core.errors import DomainError, NotFoundError
from crmcompanion.core.lost import (
    HalveTarget,
    LostReason,
    ReasonShare,
    halve_top_reason,
    last_quarters,
    parse_lost_reason,
    quarter_label,
    shares,
    shares_from_counts,
    trend_by_quarter,
)
from crmcompanion.core.segments import (
    INSIGHT_SETTINGS,
    SEGMENT_ORDER,
    Assessments,
    Segment,
    Thresholds,
    at_risk_order,
)
from crmcompanion.core.why_stay import HAPPIEST, WhyTheyStay, compare_totals
from crmcompanion.services.changes import Changed
from crmcompanion.store import insights as repo
from crmcompanion.store import models as m
from crmcompanion.store.database import Database, utcnow

logger = logging.getLogger(__name__)

__all__ = ["LostReason", "Segment"]

# More dirty customers than this: recompute everyone (one pass beats chunks of IN lists).
_FULL_ABOVE = 5_000
MAX_YEARLY_VALUE = 1e12


@dataclass(frozen=True)
class DashboardFilter:
    """The dashboard's date range (inclusive, either end open) and tag."""

    start: date | None = None
    end: date | None = None
    tag: str | None = None


@dataclass(frozen=True)
class Dashboard:
    """Every dashboard figure; `as_json()` is the `insights --json` shape (issue 16)."""

    segments: dict[str, int]
    lost_reasons: list[ReasonShare]
    complaints_by_theme: list[tuple[str, int, int]]
    ideas_by_requesters: list[tuple[int, str, int]]
    touchpoints: dict[str, int]
    median_resolution_days: float | None
    satisfaction_by_month: list[tuple[str, float, int]]

    def as_json(self) -> dict[str, Any]:
        return {
            "segments": dict(self.segments),
            "lost_reasons": [{"reason": s.reason, "count": s.count, "share": round(s.share, 4)}
                             for s in self.lost_reasons],
            "complaints_by_theme": [{"theme": t, "open": o, "resolved": r}
                                    for t, o, r in self.complaints_by_theme],
            "ideas_by_requesters": [{"id": i, "title": t, "requesters": n}
                                    for i, t, n in self.ideas_by_requesters],
            "touchpoints": dict(self.touchpoints),
            "median_resolution_days": self.median_resolution_days,
            "satisfaction_by_month": [{"month": mo, "average": a, "count": n}
                                      for mo, a, n in self.satisfaction_by_month],
        }


@dataclass(frozen=True)
class SegmentMember:
    customer_id: int
    name: str
    yearly_value: float | None
    reasons: str


@dataclass(frozen=True)
class MovedCustomer:
    customer_id: int
    name: str
    reasons: str
    moved_on: date


@dataclass(frozen=True)
class LostReport:
    """The top three reasons with share and quarterly trend, the complaint themes lost
    customers had before leaving, and the "halve the top reason" target."""

    top: list[ReasonShare]
    quarters: list[str]
    trend: dict[str, list[int]]
    complaint_themes: list[tuple[str, int]]
    target: HalveTarget
    total: int = 0


@dataclass(frozen=True)
class MarkedLost:
    customer_id: int
    follow_up_id: int | None
    changed: Changed = field(default_factory=Changed)


def idea_title(text: str, width: int = 80) -> str:
    """An idea's first line, cut at a word near `width` characters."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    if len(line) <= width:
        return line
    cut = line[:width].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "…"


class InsightsService:
    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        staff_id: int | None = None,
        *,
        settings: Callable[[], dict[str, Any]] | None = None,
        sync_rhythm: Callable[[], object] | None = None,
        touchpoints: Any = None,
    ) -> None:
        self._db = db
        self._clock = clock or SystemClock()
        self._staff_id = staff_id
        self._settings = settings or dict
        self._sync_rhythm = sync_rhythm
        self._touchpoints = touchpoints

    def thresholds(self) -> Thresholds:
        values = self._settings()
        return Thresholds.from_settings({s.key: values.get(s.key, s.default)
                                         for s in INSIGHT_SETTINGS})

    # --- segments ------------------------------------------------------------------------

    def refresh(self, full: bool = False) -> int:
        """Bring every stored segment up to date; returns how many customers were computed."""
        if self._sync_rhythm is not None:
            self._sync_rhythm()  # the rhythm rules read must be current first
        today = self._clock.today()
        rules = self.thresholds()
        key = f"{today.isoformat()}|{rules.key()}"
        with self._db.write() as session:
            triggers = session.get_bind().dialect.name == "sqlite"
            if full or not triggers or repo.state(session, repo.SEGMENTS_KEY) != key:
                ids = None
            else:
                ids = repo.needing_update(session)
                if not ids:
                    return 0
                if len(ids) > _FULL_ABOVE:
                    ids = None
            computed, moved = self._recompute(session, today, rules, ids)
            repo.set_state(session, repo.SEGMENTS_KEY, key)
        logger.info("Insights: computed %d segments (%s), %d moved", computed,
                    "all" if ids is None else "changed", moved)
        return computed

    @staticmethod
    def _recompute(session: Any, today: date, rules: Thresholds,
                   ids: list[int] | None) -> tuple[int, int]:
        """Assess the customers (`ids`, None: everyone) from the store's facts and write only
        what changed, a chunk of customers at a time (`store.insights.fact_chunks`): the
        first refresh of a day holds one chunk's rows and changes, not 100,000 customers'.
        Returns (customers computed, segments moved)."""
        assessed = Assessments(today, rules)
        count = moved = 0
        # A tight loop over plain tuples: a customer's (segment, reasons) is a look-up of its
        # facts (the enum's value read once per distinct facts, not per customer). Kept
        # across chunks: a few thousand distinct facts among 100,000 customers.
        words: dict[tuple, tuple[str, str]] = {}
        writer = repo.HealthWriter(session, today, ids)
        for rows in repo.fact_chunks(session, today, rules.window_days, ids):
            inserts: list[tuple[int, str, str]] = []
            moves: list[tuple[int, str, str, str]] = []
            rewords: list[tuple[int, str]] = []
            for cid, stored, stored_reasons, facts in rows:
                pair = words.get(facts)
                if pair is None:
                    health = assessed[facts]
                    pair = words[facts] = (health.segment.value, health.reasons)
                segment, reasons = pair
                if stored is None:
                    inserts.append((cid, segment, reasons))
                elif stored != segment:
                    moves.append((cid, segment, reasons, stored))
                elif stored_reasons != reasons:
                    rewords.append((cid, reasons))
            writer.write(inserts, moves, rewords)
            count += len(rows)
            moved += len(moves)
        writer.finish(computed=count)
        logger.debug("Insights: %d distinct sets of facts among %d customers, %d assessed",
                     len(assessed), count, assessed.assessed)
        return count, moved

    def segment_counts(self, tag: str | None = None) -> dict[str, int]:
        self.refresh()
        with self._db.read() as session:
            counts = repo.segment_counts(session, tag)
        return {s.value: counts.get(s.value, 0) for s in SEGMENT_ORDER}

    def members(self, segment: Segment | str, tag: str | None = None) -> list[SegmentMember]:
        """Customers in one segment; at-risk ones by what is at stake (yearly value) first."""
        segment = Segment(segment)
        self.refresh()
        with self._db.read() as session:
            rows = repo.customers_in(session, segment.value, tag)
        if segment is Segment.AT_RISK:
            rows.sort(key=lambda r: at_risk_order(r[2], r[1], r[0]))
        else:
            rows.sort(key=lambda r: (r[1].casefold(), r[0]))
        return [SegmentMember(cid, name, value, reasons) for cid, name, value, reasons in rows]

    def health(self, customer_ids: list[int]) -> dict[int, tuple[Segment, str]]:
        """Segment and reasons of each given customer (archived ones have none)."""
        self.refresh()
        with self._db.read() as session:
            found = repo.health_of(session, customer_ids)
        return {cid: (Segment(seg), reasons) for cid, (seg, reasons) in found.items()}

    def stored_health(self, customer_ids: list[int]) -> dict[int, tuple[Segment, str]]:
        """Segment and reasons as last stored, without bringing them up to date: for a screen
        that shows these at once and calls `health` off its GUI thread for the current ones
        (the first answer of a day recomputes every customer)."""
        with self._db.read() as session:
            found = repo.health_of(session, customer_ids)
        return {cid: (Segment(seg), reasons) for cid, (seg, reasons) in found.items()}

    def moved_to_at_risk(self, days: int = 7) -> list[MovedCustomer]:
        """Customers who moved to at risk in the last `days` days, newest first: Today's
        "moved to at risk this week"."""
        self.refresh()
        since = self._clock.today() - timedelta(days=days - 1)
        with self._db.read() as session:
            rows = repo.moved_since(session, Segment.AT_RISK.value, since)
        return [MovedCustomer(*row) for row in rows]

    # --- dashboard -----------------------------------------------------------------------

    def dashboard(self, scope: DashboardFilter | None = None) -> Dashboard:
        scope = scope or DashboardFilter()
        tag = scope.tag.strip() if scope.tag and scope.tag.strip() else None
        counts = self.segment_counts(tag)
        span = (scope.start, scope.end)
        today = self._clock.today()
        with self._db.read() as session:
            lost = repo.lost_reason_counts(session, *span, tag)
            themes = repo.complaints_by_theme(session, *span, tag)
            ideas = repo.ideas_by_requesters(session, 20, *span, tag)
            touch = repo.touchpoint_outcomes(session, today, *span, tag)
            days = repo.resolution_days(session, *span, tag)
            months = repo.satisfaction_by_month(session, *span, tag)
        median = round(statistics.median(days), 1) if days else None
        return Dashboard(
            segments=counts,
            lost_reasons=shares_from_counts(lost),
            complaints_by_theme=themes,
            ideas_by_requesters=[(i, idea_title(t), n) for i, t, n in ideas],
            touchpoints=touch,
            median_resolution_days=median,
            satisfaction_by_month=[(mo, round(total / n, 2), n) for mo, total, n in months],
        )

    def why_they_stay(self, tag: str | None = None) -> WhyTheyStay:
        """The happiest against everyone else: share with their rhythm kept, greetings sent
        in the last year, median days to resolve a complaint; and the top 5 praise themes."""
        from crmcompanion.core.occasions import SPECIAL_DATE_KINDS, Occasion

        self.refresh()
        today = self._clock.today()
        rules = self.thresholds()
        greeting_kinds = [o.value for o in (*SPECIAL_DATE_KINDS, Occasion.CUSTOMER_ANNIVERSARY)]
        with self._db.read() as session:
            totals = repo.stay_totals(session, today, rules.default_rhythm_days,
                                      today - timedelta(days=365), greeting_kinds, tag)
            praise = repo.praise_theme_counts(session, tag)
        return compare_totals(totals[HAPPIEST], totals["others"], praise)

    def lost_report(self, tag: str | None = None) -> LostReport:
        today = self._clock.today()
        with self._db.read() as session:
            lost = repo.lost_rows(session, tag=tag)
            themes = repo.lost_complaint_themes(session)
        top = shares(reason for reason, _ in lost)[:3]
        quarters = last_quarters(today, 8)
        return LostReport(
            top=top,
            quarters=[quarter_label(q) for q in quarters],
            trend=trend_by_quarter(lost, [s.reason for s in top], today, 8),
            complaint_themes=themes,
            target=halve_top_reason(lost, today),
            total=len(lost),
        )

    # --- lost customers and yearly value ----------------------------------------------------

    def mark_lost(self, customer_id: int, reason: str, note: str = "",
                  win_back_on: date | None = None) -> MarkedLost:
        """Mark a customer lost with the reason they left (and a note); optionally leave a
        win-back follow-up on a day. The reason is asked for every time: it is what the lost
        customers report counts."""
        from crmcompanion.store import customers as customers_repo

        chosen, clean_note = parse_lost_reason(reason, note)
        if win_back_on is not None and win_back_on <= self._clock.today():
            raise DomainError("The win-back day must be in the future.")
        with self._db.write() as session:
            row = session.get(m.Customer, customer_id)
            if row is None or row.archived_at is not None:
                raise NotFoundError(f"Customer #{customer_id} does not exist or is archived.")
            row.status = Status.LOST.value
            row.lost_reason = chosen.value
            row.lost_note = clean_note
            row.lost_on = self._clock.today()
            row.updated_at = utcnow()
            row.updated_by_id = self._staff_id
            session.flush()
            draft = customers_repo.load_customers(session, [customer_id])[0].to_draft()
            customers_repo.index_customer(session, customer_id, draft)
        follow_up = None
        changed = Changed(customers=frozenset({customer_id}), customer_list=True,
                          touchpoints=True)
        if win_back_on is not None and self._touchpoints is not None:
            from crmcompanion.core.occasions import Occasion

            record = self._touchpoints.add_follow_up(
                customer_id, win_back_on, f"Left for {chosen.title.lower()}"
                + (f" ({clean_note})" if clean_note else ""),
                occasion=Occasion.WIN_BACK, source_id=customer_id)
            follow_up = record.id
        logger.info("Customer #%s marked lost (%s)", customer_id, chosen.value)
        return MarkedLost(customer_id, follow_up, changed)

    def set_yearly_value(self, customer_id: int, value: float | None) -> Changed:
        if value is not None and not (0 <= value <= MAX_YEARLY_VALUE):
            raise DomainError("The yearly value must be a number from 0 up.")
        with self._db.write() as session:
            row = session.get(m.Customer, customer_id)
            if row is None:
                raise NotFoundError(f"Customer #{customer_id} does not exist.")
            row.yearly_value = value
            row.updated_at = utcnow()
        return Changed(customers=frozenset({customer_id}), customer_list=True)

    def yearly_value(self, customer_id: int) -> float | None:
        with self._db.read() as session:
            row = session.get(m.Customer, customer_id)
            return row.yearly_value if row is not None else None
