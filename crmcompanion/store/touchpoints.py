"""Touchpoint persistence: keeping the derived tables in step, and index-range queries.

Two derived tables make the Today view a handful of index range scans instead of a Python
loop over every customer:

* `contact_rhythm`: one row per customer with its keep-in-touch `next_due_on` (NULL when the
  customer gets no keep-in-touch), so "who is past their cadence" is a range on an index.
* `touchpoint_sources`: one row per yearly date (birthday, wedding, custom, customer-since)
  of customers who allow that occasion, so a section count is a covering-index range count.

SQLite triggers mark a customer's rhythm row dirty when anything these are derived from
changes; `sync_dirty` recomputes only the dirty rows, with the pure rules of
`core.touchpoints` (so the cadence precedence lives in one place). Everything here runs in
a session given by a unit of work; nothing commits on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from crmcompanion.core.customer import Kind, Status
from crmcompanion.core.dates import LeapDayPolicy, month_day_key, month_day_key_ranges
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import (
    ContactPreferences,
    TouchpointSettings,
    cadence_days,
)
from crmcompanion.store import models as m

logger = logging.getLogger(__name__)

_CHUNK = 500

# Occasions stored in `touchpoint_sources` (recurring every year).
YEARLY_OCCASIONS: frozenset[Occasion] = frozenset(
    {Occasion.BIRTHDAY, Occasion.WEDDING_ANNIVERSARY, Occasion.CUSTOM,
     Occasion.CUSTOMER_ANNIVERSARY}
)
# Occasions stored in `follow_ups` (one-off, created by the owner or other features).
ONE_OFF_OCCASIONS: frozenset[Occasion] = frozenset(
    {Occasion.FOLLOW_UP, Occasion.COMPLAINT_CHECKBACK, Occasion.IDEA_SHIPPED}
)
# The occurrence in the year of the date itself (year 0) is the wedding or the first day as
# a customer, not an anniversary; a birthday or custom date in its own year is still shown.
_ANNIVERSARIES = (Occasion.WEDDING_ANNIVERSARY.value, Occasion.CUSTOMER_ANNIVERSARY.value)


def _chunks(ids: Sequence[int], size: int = _CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def local_date(utc_naive: datetime) -> date:
    """The machine-local calendar day of a stored naive-UTC timestamp."""
    return utc_naive.replace(tzinfo=UTC).astimezone().date()


# --- keeping the derived tables in step ----------------------------------------------------


def has_dirty(session: Session) -> bool:
    """Whether any customer's derived rows are stale (a lookup in a partial index)."""
    found = session.scalar(
        select(m.ContactRhythm.customer_id).where(m.ContactRhythm.dirty.is_(True)).limit(1)
    )
    return found is not None


def mark_dirty(session: Session, customer_ids: Iterable[int]) -> None:
    ids = list(customer_ids)
    for chunk in _chunks(ids):
        session.execute(
            update(m.ContactRhythm)
            .where(m.ContactRhythm.customer_id.in_(chunk))
            .values(dirty=True)
            .execution_options(synchronize_session=False)
        )


def tag_cadences(session: Session) -> dict[str, int]:
    """Tag name -> keep-in-touch cadence, for the tags that set one."""
    rows = session.execute(
        select(m.Tag.name, m.Tag.cadence_days).where(m.Tag.cadence_days.is_not(None))
    )
    return {name: days for name, days in rows}


def sync_dirty(session: Session, settings: TouchpointSettings) -> int:
    """Recompute the derived rows of every dirty customer; returns how many."""
    ids = list(
        session.scalars(
            select(m.ContactRhythm.customer_id).where(m.ContactRhythm.dirty.is_(True))
        )
    )
    if not ids:
        return 0
    tagged = tag_cadences(session)
    if tagged:
        settings = TouchpointSettings(
            lead_days=settings.lead_days,
            leap_day_policy=settings.leap_day_policy,
            cadence=settings.cadence,
            tag_cadences=tagged,
        )
    for chunk in _chunks(ids):
        _sync_chunk(session, chunk, settings, bool(tagged))
    logger.debug("Recomputed touchpoint data of %d customers", len(ids))
    return len(ids)


def _sync_chunk(
    session: Session, ids: Sequence[int], settings: TouchpointSettings, any_tag_cadence: bool
) -> None:
    c = m.Customer
    customers = session.execute(
        select(
            c.id, c.status, c.kind, c.key_account, c.cadence_days, c.customer_since,
            c.created_at, c.do_not_contact, c.archived_at,
        ).where(c.id.in_(ids))
    ).all()
    rhythm = {
        r.customer_id: (r.last_interaction_on, r.reset_on)
        for r in session.execute(
            select(
                m.ContactRhythm.customer_id,
                m.ContactRhythm.last_interaction_on,
                m.ContactRhythm.reset_on,
            ).where(m.ContactRhythm.customer_id.in_(ids))
        )
    }
    opted: dict[int, set[Occasion]] = {}
    for cid, occasion in session.execute(
        select(m.TouchpointOptOut.customer_id, m.TouchpointOptOut.occasion).where(
            m.TouchpointOptOut.customer_id.in_(ids)
        )
    ):
        opted.setdefault(cid, set()).add(Occasion(occasion))
    tags: dict[int, list[str]] = {}
    if any_tag_cadence:
        for cid, name in session.execute(
            select(m.CustomerTag.customer_id, m.Tag.name)
            .join(m.Tag, m.Tag.id == m.CustomerTag.tag_id)
            .where(m.CustomerTag.customer_id.in_(ids), m.Tag.cadence_days.is_not(None))
        ):
            tags.setdefault(cid, []).append(name)
    specials: dict[int, list[tuple[int, str, int, int | None, str]]] = {}
    for sid, cid, kind, md_key, year, label in session.execute(
        select(
            m.SpecialDate.id, m.SpecialDate.customer_id, m.SpecialDate.kind,
            m.SpecialDate.md_key, m.SpecialDate.year, m.SpecialDate.label,
        ).where(m.SpecialDate.customer_id.in_(ids))
    ):
        specials.setdefault(cid, []).append((sid, kind, md_key, year, label))

    session.execute(delete(m.TouchpointSource).where(m.TouchpointSource.customer_id.in_(ids)))
    sources: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    for row in customers:
        prefs = ContactPreferences(
            do_not_contact=bool(row.do_not_contact),
            opted_out=frozenset(opted.get(row.id, ())),
            archived=row.archived_at is not None,
            lost=row.status == Status.LOST.value,
        )
        for sid, kind, md_key, year, label in specials.get(row.id, ()):
            if prefs.allows(Occasion(kind)):
                sources.append(
                    dict(customer_id=row.id, occasion=kind, source_id=sid, md_key=md_key,
                         year=year, label=label)
                )
        since = row.customer_since
        if since is not None and prefs.allows(Occasion.CUSTOMER_ANNIVERSARY):
            sources.append(
                dict(customer_id=row.id, occasion=Occasion.CUSTOMER_ANNIVERSARY.value,
                     source_id=None, md_key=month_day_key(since.month, since.day),
                     year=since.year, label="")
            )
        last, reset = rhythm.get(row.id, (None, None))
        base = last or since or local_date(row.created_at)
        next_due: date | None = None
        cadence: int | None = None
        if prefs.allows(Occasion.KEEP_IN_TOUCH):
            try:
                cadence = cadence_days(
                    settings=settings,
                    status=Status(row.status),
                    kind=Kind(row.kind),
                    key_account=bool(row.key_account),
                    tags=tags.get(row.id, ()),
                    override=row.cadence_days,
                )
            except ValueError:
                # A bad stored override must not hide the customer: fall back to defaults.
                logger.warning("Ignoring invalid cadence of customer #%s", row.id)
                cadence = cadence_days(
                    settings=settings, status=Status(row.status), kind=Kind(row.kind),
                    key_account=bool(row.key_account), tags=tags.get(row.id, ()),
                )
            start = max(base, reset) if reset is not None else base
            next_due = start + timedelta(days=cadence)
        updates.append(
            dict(customer_id=row.id, dirty=False, contact_base_on=base, cadence_days=cadence,
                 next_due_on=next_due)
        )
    if sources:
        session.execute(insert(m.TouchpointSource), sources)
    if updates:
        session.execute(update(m.ContactRhythm), updates)


def refresh_last_interaction(session: Session, customer_id: int) -> date | None:
    """Set the customer's last-interaction day from its history and mark it for recompute."""
    last = session.scalar(
        select(func.max(m.Interaction.occurred_on)).where(
            m.Interaction.customer_id == customer_id
        )
    )
    session.execute(
        update(m.ContactRhythm)
        .where(m.ContactRhythm.customer_id == customer_id)
        .values(last_interaction_on=last, dirty=True)
        .execution_options(synchronize_session=False)
    )
    return last


# --- yearly dates --------------------------------------------------------------------------


def year_segments(start: date, end: date) -> list[tuple[date, date]]:
    """[start, end] cut at New Year, in chronological order."""
    segments: list[tuple[date, date]] = []
    current = start
    while current <= end:
        last = min(end, date(current.year, 12, 31))
        segments.append((current, last))
        current = last + timedelta(days=1)
    return segments


def _segment_condition(seg_start: date, seg_end: date, policy: LeapDayPolicy) -> object | None:
    s = m.TouchpointSource
    ranges = month_day_key_ranges(seg_start, seg_end, policy)
    if not ranges:
        return None
    in_range = or_(*(s.md_key.between(lo, hi) for lo, hi in ranges))
    y = seg_start.year
    year_ok = or_(
        s.year.is_(None),
        s.year < y,
        and_(s.year == y, s.occasion.not_in(_ANNIVERSARIES)),
    )
    return and_(in_range, year_ok)


def count_yearly(session: Session, start: date, end: date, policy: LeapDayPolicy) -> int:
    """How many yearly occurrences fall in [start, end] (a covering-index range count)."""
    total = 0
    for seg_start, seg_end in year_segments(start, end):
        condition = _segment_condition(seg_start, seg_end, policy)
        if condition is not None:
            total += session.scalar(
                select(func.count()).select_from(m.TouchpointSource).where(condition)
            ) or 0
    return total


@dataclass(frozen=True)
class YearlyHit:
    customer_id: int
    display_name: str
    occasion: Occasion
    source_id: int | None
    month: int
    day: int
    year: int | None
    label: str
    segment: tuple[date, date]


def yearly_hits(
    session: Session,
    start: date,
    end: date,
    policy: LeapDayPolicy,
    limit: int | None = None,
    customer_id: int | None = None,
) -> list[YearlyHit]:
    """Yearly sources occurring in [start, end], in date order (md_key order per year)."""
    s = m.TouchpointSource
    hits: list[YearlyHit] = []
    for segment in year_segments(start, end):
        condition = _segment_condition(*segment, policy)
        if condition is None:
            continue
        statement = (
            select(s.customer_id, m.Customer.display_name, s.occasion, s.source_id, s.md_key,
                   s.year, s.label)
            .join(m.Customer, m.Customer.id == s.customer_id)
            .where(condition)
            .order_by(s.md_key, m.Customer.sort_name, s.id)
        )
        if customer_id is not None:
            statement = statement.where(s.customer_id == customer_id)
        if limit is not None:
            statement = statement.limit(limit - len(hits))
        for cid, name, occasion, sid, md_key, year, label in session.execute(statement):
            hits.append(
                YearlyHit(cid, name, Occasion(occasion), sid, md_key // 100, md_key % 100,
                          year, label, segment)
            )
        if limit is not None and len(hits) >= limit:
            break
    return hits


# --- keep in touch -------------------------------------------------------------------------


@dataclass(frozen=True)
class RhythmHit:
    customer_id: int
    display_name: str
    next_due_on: date
    contact_base_on: date
    cadence_days: int
    last_interaction_on: date | None


def count_keep_in_touch(session: Session, start: date | None, end: date) -> int:
    r = m.ContactRhythm
    condition = r.next_due_on <= end if start is None else r.next_due_on.between(start, end)
    return session.scalar(select(func.count()).select_from(r).where(condition)) or 0


def keep_in_touch_hits(
    session: Session,
    start: date | None,
    end: date,
    limit: int | None = None,
    customer_id: int | None = None,
) -> list[RhythmHit]:
    """Customers whose next check-in is due in [start, end] (start None: any time before)."""
    r = m.ContactRhythm
    condition = r.next_due_on <= end if start is None else r.next_due_on.between(start, end)
    statement = (
        select(r.customer_id, m.Customer.display_name, r.next_due_on, r.contact_base_on,
               r.cadence_days, r.last_interaction_on)
        .join(m.Customer, m.Customer.id == r.customer_id)
        .where(condition)
        .order_by(r.next_due_on, r.customer_id)
    )
    if customer_id is not None:
        statement = statement.where(r.customer_id == customer_id)
    if limit is not None:
        statement = statement.limit(limit)
    return [RhythmHit(*row) for row in session.execute(statement)]


# --- one-off follow-ups --------------------------------------------------------------------


def _eligible_customer() -> object:
    c = m.Customer
    return and_(c.do_not_contact.is_(False), c.archived_at.is_(None),
                c.status != Status.LOST.value)


def _not_opted_out() -> object:
    o = m.TouchpointOptOut
    return ~select(o.customer_id).where(
        o.customer_id == m.FollowUp.customer_id, o.occasion == m.FollowUp.occasion
    ).exists()


def follow_up_hits(
    session: Session,
    start: date | None,
    end: date,
    limit: int | None = None,
    customer_id: int | None = None,
) -> list[tuple[m.FollowUp, str]]:
    """Open follow-ups due in [start, end] of customers who may be contacted, with names."""
    f = m.FollowUp
    due = f.due_on <= end if start is None else f.due_on.between(start, end)
    statement = (
        select(f, m.Customer.display_name)
        .join(m.Customer, m.Customer.id == f.customer_id)
        .where(f.open.is_(True), due, _eligible_customer(), _not_opted_out())
        .order_by(f.due_on, f.id)
    )
    if customer_id is not None:
        statement = statement.where(f.customer_id == customer_id)
    if limit is not None:
        statement = statement.limit(limit)
    return [(row, name) for row, name in session.execute(statement)]


def count_follow_ups(session: Session, start: date | None, end: date) -> int:
    f = m.FollowUp
    due = f.due_on <= end if start is None else f.due_on.between(start, end)
    return session.scalar(
        select(func.count())
        .select_from(f)
        .join(m.Customer, m.Customer.id == f.customer_id)
        .where(f.open.is_(True), due, _eligible_customer(), _not_opted_out())
    ) or 0


# --- recorded states -----------------------------------------------------------------------


def hiding_states(session: Session, today: date, since: date) -> list[m.TouchpointRecord]:
    """States that hide an occurrence today: done or skipped on or after `since`, and every
    snooze that has not ended. Few rows: only what the owner recorded recently."""
    t = m.TouchpointRecord
    return list(
        session.scalars(
            select(t).where(
                or_(
                    and_(t.occurrence_on >= since, t.state.in_(("done", "skipped"))),
                    and_(t.state == "snoozed", t.snoozed_until > today),
                )
            )
        )
    )


def customer_states(session: Session, customer_id: int) -> list[m.TouchpointRecord]:
    t = m.TouchpointRecord
    return list(session.scalars(select(t).where(t.customer_id == customer_id)))
