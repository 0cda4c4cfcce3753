"""Insights persistence: each customer's facts for the segment rules as SQL aggregates, the
stored segments kept current, and the dashboard's figures.

Why a module of its own: the segment of 100,000 customers must be computed in about a second
(issue 16), so the facts come from a handful of grouped queries over indexes (the newest
conversation per customer is a walk of `ix_interactions_customer`, feedback is small), never
from a query per customer; the rules themselves stay in `core.segments`. Everything here runs
in a session given by a unit of work; nothing commits on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Date, and_, case, cast, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from crmcompanion.core.feedback import ComplaintStatus
from crmcompanion.core.segments import Health, HealthFacts
from crmcompanion.store import models as m

logger = logging.getLogger(__name__)

_CHUNK = 500
SEGMENTS_KEY = "segments_key"
OPEN_COMPLAINT = tuple(s.value for s in ComplaintStatus if s.is_open)
RESOLVED_COMPLAINT = (ComplaintStatus.RESOLVED.value, ComplaintStatus.SATISFIED.value)


@dataclass(frozen=True)
class FactRow:
    customer_id: int
    name: str
    yearly_value: float | None
    facts: HealthFacts


def _day(value: object) -> date | None:
    """A stored date or timestamp (object or ISO text from an untyped aggregate) as a date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def gather_facts(
    session: Session, today: date, window_days: int, ids: Sequence[int] | None = None
) -> list[FactRow]:
    """The facts of every non-archived customer (or of `ids` among them)."""
    if ids is not None:
        out: list[FactRow] = []
        for chunk in _chunks(ids):
            out += _gather(session, today, window_days, chunk)
        return out
    return _gather(session, today, window_days, None)


class _Days(dict):
    """Stored dates and timestamps (ISO text from SQLite, objects from other drivers) as
    dates, each distinct value parsed once: 100,000 customers share a few thousand days."""

    def __missing__(self, value: object) -> date | None:
        day = _day(value)
        self[value] = day
        return day


_CUSTOMER_FACTS = (
    "SELECT c.id, c.display_name, c.status, c.key_account, c.lost_reason, c.lost_note, "
    "c.yearly_value, c.customer_since, c.created_at, r.cadence_days FROM customers c "
    "LEFT JOIN contact_rhythm r ON r.customer_id = c.id WHERE c.archived_at IS NULL"
)
# The newest conversation per customer: a walk of ix_interactions_customer, no table row read.
_LAST_CONTACT = "SELECT customer_id, max(occurred_at) FROM interactions GROUP BY customer_id"


def _gather(
    session: Session, today: date, window_days: int, ids: Sequence[int] | None
) -> list[FactRow]:
    if ids is None:
        # Everyone: the two big reads on the driver's cursor, without per-value type
        # processing (~1 s of 100,000 customers' and 1,000,000 conversations' rows).
        cursor = session.connection().connection.cursor()
        try:
            customers = cursor.execute(_CUSTOMER_FACTS).fetchall()
            last = dict(cursor.execute(_LAST_CONTACT).fetchall())
        finally:
            cursor.close()
    else:
        c, r, i = m.Customer, m.ContactRhythm, m.Interaction
        customers = session.execute(
            select(c.id, c.display_name, c.status, c.key_account, c.lost_reason, c.lost_note,
                   c.yearly_value, c.customer_since, c.created_at, r.cadence_days)
            .outerjoin(r, r.customer_id == c.id).where(c.archived_at.is_(None), c.id.in_(ids))
        ).all()
        last = dict(session.execute(
            select(i.customer_id, func.max(i.occurred_at)).where(i.customer_id.in_(ids))
            .group_by(i.customer_id)
        ).all())

    def of(column: object) -> list:
        return [column.in_(ids)] if ids is not None else []  # type: ignore[attr-defined]

    f = m.FeedbackItem
    window = datetime.combine(today - timedelta(days=window_days), datetime.min.time())
    before = datetime.combine(today - timedelta(days=2 * window_days), datetime.min.time())
    complaints = {
        row[0]: (row[1], row[2]) for row in session.execute(
            select(f.customer_id, func.count(), func.min(f.created_at))
            .where(f.kind == "complaint", f.status.in_(OPEN_COMPLAINT),
                   f.customer_id.is_not(None), *of(f.customer_id))
            .group_by(f.customer_id)
        )
    }
    recent = f.created_at >= window
    rated = f.satisfaction.is_not(None)
    feedback = {
        row[0]: row[1:] for row in session.execute(
            select(
                f.customer_id,
                func.sum(case((and_(recent, rated), f.satisfaction), else_=0)),
                func.count(case((and_(recent, rated), 1))),
                func.sum(case((and_(~recent, rated), f.satisfaction), else_=0)),
                func.count(case((and_(~recent, rated), 1))),
                func.count(case((and_(recent, f.kind == "praise"), 1))),
            )
            .where(f.created_at >= before, f.customer_id.is_not(None), *of(f.customer_id))
            .group_by(f.customer_id)
        )
    }
    e = m.FeedbackEvent
    not_satisfied = dict(session.execute(
        select(f.customer_id, func.count())
        .join(e, e.item_id == f.id)
        .where(e.to_status == ComplaintStatus.NOT_SATISFIED.value, e.at >= window,
               f.customer_id.is_not(None), *of(f.customer_id))
        .group_by(f.customer_id)
    ).all())

    days = _Days()
    rows: list[FactRow] = []
    append = rows.append
    empty = (0, 0, 0, 0, 0)
    no_complaint = (0, None)
    for (cid, name, status, key_account, lost_reason, lost_note, value, since, created,
         cadence) in customers:
        open_count, oldest = complaints.get(cid, no_complaint)
        s_sum, s_count, p_sum, p_count, praise = feedback.get(cid, empty)
        contact = last.get(cid)
        append(FactRow(cid, name, value, HealthFacts(
            status, bool(key_account),
            days[contact] if contact is not None else None,
            days[since] if since is not None else days[created],
            cadence, open_count,
            days[oldest] if oldest is not None else None,
            int(s_sum or 0), s_count, int(p_sum or 0), p_count, praise,
            not_satisfied.get(cid, 0), lost_reason, lost_note or "",
        )))
    return rows


# --- stored segments ------------------------------------------------------------------------


def state(session: Session, name: str) -> str | None:
    return session.scalar(select(m.InsightState.value).where(m.InsightState.name == name))


def set_state(session: Session, name: str, value: str) -> None:
    session.execute(delete(m.InsightState).where(m.InsightState.name == name))
    session.execute(insert(m.InsightState).values(name=name, value=value))


def needing_update(session: Session) -> list[int]:
    """Customers whose stored segment is marked dirty (archived ones among them: their row
    goes), and non-archived customers without one yet.

    Usually none: no dirty row (one probe of the partial index) and as many stored rows as
    customers not archived (two counts over indexes) answer that without the join. Equal
    counts with a customer missing need another one archived or deleted: an archived one is
    dirty, a deleted one took its row along."""
    c, h = m.Customer, m.CustomerHealth
    # "dirty = 1" is the partial index's own predicate, so SQLite uses the index.
    marked = text("customer_health.dirty = 1") \
        if session.get_bind().dialect.name == "sqlite" else h.dirty.is_(True)
    dirty = set(session.scalars(select(h.customer_id).where(marked)))
    if not dirty:
        everyone = session.scalar(select(func.count()).select_from(c)) or 0
        archived = session.scalar(select(func.count()).select_from(c).where(
            c.archived_at.is_not(None))) or 0
        stored = session.scalar(select(func.count()).select_from(h)) or 0
        if stored == everyone - archived:
            return []
    missing = session.scalars(
        select(c.id).outerjoin(h, h.customer_id == c.id)
        .where(c.archived_at.is_(None), h.customer_id.is_(None)))
    return sorted(dirty.union(missing))


def store_health(
    session: Session, computed: Sequence[tuple[int, Health]], today: date,
    ids: Sequence[int] | None = None,
) -> int:
    """Make the stored segments of `ids` (None: everyone) those in `computed`, writing only
    rows that changed (a day's first recompute rewrites the customers whose words or segment
    moved, not all); a customer whose segment changed remembers the one before and the day.
    Returns how many changed segment."""
    h = m.CustomerHealth
    stored = select(h.customer_id, h.segment, h.reasons, h.previous_segment, h.changed_on)
    old: dict[int, tuple] = {}
    if ids is None:
        old = {row[0]: tuple(row[1:]) for row in session.execute(stored)}
    else:
        for chunk in _chunks(ids):
            old.update({row[0]: tuple(row[1:]) for row in session.execute(
                stored.where(h.customer_id.in_(chunk)))})
    moved = 0
    inserts: list[tuple] = []
    updates: list[tuple] = []
    for cid, health in computed:
        segment = health.segment.value
        before = old.pop(cid, None)
        if before is None:
            inserts.append((cid, segment, health.reasons, None, None))
        elif before[0] != segment:
            moved += 1
            updates.append((segment, health.reasons, before[0], today.isoformat(), cid))
        elif before[1] != health.reasons:
            changed = before[3].isoformat() if isinstance(before[3], date) else before[3]
            updates.append((segment, health.reasons, before[2], changed, cid))
    gone = list(old)  # stored but no longer computed: archived or deleted since
    if ids is not None:
        # Rows asked for but clean and unchanged still lose their dirty mark.
        for chunk in _chunks(list(ids)):
            session.execute(update(h).where(h.customer_id.in_(chunk), h.dirty.is_(True))
                            .values(dirty=False))
    if session.get_bind().dialect.name == "sqlite":
        # One DB-API executemany each: the ORM's per-row bookkeeping would cost ~1 s at 100k.
        raw = session.connection().connection.driver_connection
        raw.executemany(  # type: ignore[union-attr]
            "INSERT INTO customer_health (customer_id, segment, reasons, dirty, "
            "previous_segment, changed_on) VALUES (?, ?, ?, 0, ?, ?)", inserts)
        raw.executemany(  # type: ignore[union-attr]
            "UPDATE customer_health SET segment = ?, reasons = ?, dirty = 0, "
            "previous_segment = ?, changed_on = ? WHERE customer_id = ?", updates)
    else:
        if inserts:
            session.execute(insert(h), [
                {"customer_id": v[0], "segment": v[1], "reasons": v[2], "dirty": False,
                 "previous_segment": None, "changed_on": None} for v in inserts])
        for v in updates:
            session.execute(update(h).where(h.customer_id == v[4]).values(
                segment=v[0], reasons=v[1], dirty=False, previous_segment=v[2],
                changed_on=_day(v[3])))
    for chunk in _chunks(gone):
        session.execute(delete(h).where(h.customer_id.in_(chunk)))
    return moved


def segment_counts(session: Session, tag: str | None = None) -> dict[str, int]:
    h = m.CustomerHealth
    query = select(h.segment, func.count()).group_by(h.segment)
    if tag:
        query = query.where(h.customer_id.in_(_tagged(tag)))
    return {segment: count for segment, count in session.execute(query)}


def health_of(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    h = m.CustomerHealth
    out: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(list(ids)):
        out.update({row[0]: (row[1], row[2]) for row in session.execute(
            select(h.customer_id, h.segment, h.reasons).where(h.customer_id.in_(chunk)))})
    return out


def customers_in(session: Session, segment: str, tag: str | None = None) -> list[tuple]:
    """(id, name, yearly value, reasons) of every customer in a segment."""
    h, c = m.CustomerHealth, m.Customer
    query = (select(c.id, c.display_name, c.yearly_value, h.reasons)
             .join(h, h.customer_id == c.id).where(h.segment == segment))
    if tag:
        query = query.where(c.id.in_(_tagged(tag)))
    return [tuple(row) for row in session.execute(query)]


def moved_since(session: Session, segment: str, since: date) -> list[tuple]:
    """(id, name, reasons, day) of customers who moved into `segment` on or after `since`."""
    h, c = m.CustomerHealth, m.Customer
    return [tuple(row) for row in session.execute(
        select(c.id, c.display_name, h.reasons, h.changed_on)
        .join(h, h.customer_id == c.id)
        .where(h.changed_on >= since, h.segment == segment,
               h.previous_segment.is_not(None), h.previous_segment != segment)
        .order_by(h.changed_on.desc(), c.sort_name, c.id)
    )]


def mark_dirty(session: Session, ids: Iterable[int]) -> None:
    """What the triggers do, for databases without them and for writes that bypass them."""
    h = m.CustomerHealth
    for chunk in _chunks(list(ids)):
        session.execute(update(h).where(h.customer_id.in_(chunk)).values(dirty=True))


# --- dashboard figures ----------------------------------------------------------------------


def _tagged(tag: str) -> object:
    return select(m.CustomerTag.customer_id).where(
        m.CustomerTag.tag_id == select(m.Tag.id).where(m.Tag.name_key == tag.casefold())
        .scalar_subquery())


def _between(column: object, start: date | None, end: date | None, timestamp: bool) -> list:
    out = []
    if start is not None:
        out.append(column >= (datetime.combine(start, datetime.min.time())  # type: ignore
                              if timestamp else start))
    if end is not None:
        out.append(column < (datetime.combine(end + timedelta(days=1), datetime.min.time())  # type: ignore
                             if timestamp else end + timedelta(days=1)))
    return out


def lost_rows(session: Session, start: date | None = None, end: date | None = None,
              tag: str | None = None) -> list[tuple[str | None, date]]:
    """(reason, day lost) of every non-archived lost customer."""
    c = m.Customer
    query = select(c.lost_reason, c.lost_on, c.updated_at).where(
        c.status == "lost", c.archived_at.is_(None), *_between(c.lost_on, start, end, False))
    if tag:
        query = query.where(c.id.in_(_tagged(tag)))
    return [(reason, on or updated.date()) for reason, on, updated in session.execute(query)]


def _feedback_scope(query: object, start: date | None, end: date | None,
                    tag: str | None) -> object:
    f = m.FeedbackItem
    query = query.where(*_between(f.created_at, start, end, True))  # type: ignore[attr-defined]
    if tag:
        query = query.where(f.customer_id.in_(_tagged(tag)))
    return query


def complaints_by_theme(session: Session, start: date | None = None, end: date | None = None,
                        tag: str | None = None) -> list[tuple[str, int, int]]:
    """(theme, open, resolved) for every theme with complaints, most complaints first."""
    f, it, t = m.FeedbackItem, m.FeedbackItemTheme, m.Theme
    open_ = func.count(case((f.status.in_(OPEN_COMPLAINT), 1)))
    resolved = func.count(case((f.status.in_(RESOLVED_COMPLAINT), 1)))
    query = (select(t.name, open_, resolved).join(it, it.theme_id == t.id)
             .join(f, f.id == it.item_id).where(f.kind == "complaint")
             .group_by(t.id, t.name).order_by((open_ + resolved).desc(), t.name))
    return [tuple(row) for row in session.execute(_feedback_scope(query, start, end, tag))]


def ideas_by_requesters(session: Session, limit: int = 20, start: date | None = None,
                        end: date | None = None, tag: str | None = None) -> list[tuple]:
    """(id, text, requesters) of ideas still on the board, most requested first."""
    f, r = m.FeedbackItem, m.IdeaRequester
    count = func.count(r.customer_id)
    query = (select(f.id, f.text, count).outerjoin(r, r.idea_id == f.id)
             .where(f.kind == "idea", f.merged_into_id.is_(None))
             .group_by(f.id, f.text).order_by(count.desc(), f.id).limit(limit))
    return [tuple(row) for row in session.execute(_feedback_scope(query, start, end, tag))]


def touchpoint_outcomes(session: Session, today: date, start: date | None = None,
                        end: date | None = None, tag: str | None = None) -> dict[str, int]:
    """Touchpoints done on time (on or before their day), late, and missed (skipped, or a
    follow-up still open past its day)."""
    s = m.TouchpointRecord
    done_day = func.date(s.recorded_at) if session.get_bind().dialect.name == "sqlite" \
        else cast(s.recorded_at, Date)
    query = select(
        func.count(case((and_(s.state == "done", done_day <= s.occurrence_on), 1))),
        func.count(case((and_(s.state == "done", done_day > s.occurrence_on), 1))),
        func.count(case((s.state == "skipped", 1))),
    ).where(*_between(s.occurrence_on, start, end, False))
    if tag:
        query = query.where(s.customer_id.in_(_tagged(tag)))
    on_time, late, skipped = session.execute(query).one()
    fu = m.FollowUp
    open_query = select(func.count()).select_from(fu).where(
        fu.open.is_(True), fu.due_on < today, *_between(fu.due_on, start, end, False))
    if tag:
        open_query = open_query.where(fu.customer_id.in_(_tagged(tag)))
    missed = skipped + (session.scalar(open_query) or 0)
    return {"on_time": on_time, "late": late, "missed": missed}


def resolution_pairs(session: Session, start: date | None = None, end: date | None = None,
                     tag: str | None = None) -> list[tuple[datetime, datetime]]:
    f, d = m.FeedbackItem, m.ComplaintDetail
    query = (select(f.created_at, d.resolved_at).join(d, d.item_id == f.id)
             .where(f.kind == "complaint", d.resolved_at.is_not(None)))
    return [tuple(row) for row in session.execute(_feedback_scope(query, start, end, tag))]


def satisfaction_rows(session: Session, start: date | None = None, end: date | None = None,
                      tag: str | None = None) -> list[tuple[datetime, int]]:
    f = m.FeedbackItem
    query = select(f.created_at, f.satisfaction).where(f.satisfaction.is_not(None))
    return [tuple(row) for row in session.execute(_feedback_scope(query, start, end, tag))]


def lost_complaint_themes(session: Session, limit: int = 5) -> list[tuple[str, int]]:
    """The themes of complaints lost customers had before they left, most frequent first."""
    f, it, t, c = m.FeedbackItem, m.FeedbackItemTheme, m.Theme, m.Customer
    count = func.count(func.distinct(f.id))
    return [tuple(row) for row in session.execute(
        select(t.name, count).join(it, it.theme_id == t.id).join(f, f.id == it.item_id)
        .join(c, c.id == f.customer_id)
        .where(f.kind == "complaint", c.status == "lost", c.archived_at.is_(None))
        .group_by(t.id, t.name).order_by(count.desc(), t.name).limit(limit))]


def raw_text(session: Session, sql: str) -> list[tuple]:
    """For the benchmark's baselines: one raw statement's rows."""
    return [tuple(row) for row in session.execute(text(sql))]


# --- why customers stay (core.why_stay) ----------------------------------------------------

def all_segments(session: Session, tag: str | None = None) -> dict[int, str]:
    """Every stored segment by customer id (optionally of the customers with a tag)."""
    h = m.CustomerHealth
    query = select(h.customer_id, h.segment)
    if tag:
        query = query.where(h.customer_id.in_(_tagged(tag)))
    return {cid: segment for cid, segment in session.execute(query)}


def greetings_done_since(session: Session, since: date,
                         occasions: Sequence[str]) -> dict[int, int]:
    """Greetings sent (touchpoints of those occasions done) per customer since a day."""
    s = m.TouchpointRecord
    return {cid: n for cid, n in session.execute(
        select(s.customer_id, func.count()).where(
            s.state == "done", s.occasion.in_(list(occasions)), s.occurrence_on >= since)
        .group_by(s.customer_id))}


def resolution_by_customer(session: Session) -> list[tuple[int, datetime, datetime]]:
    """(customer id, opened, resolved) of every resolved complaint of a known customer."""
    f, d = m.FeedbackItem, m.ComplaintDetail
    return [tuple(row) for row in session.execute(
        select(f.customer_id, f.created_at, d.resolved_at).join(d, d.item_id == f.id)
        .where(f.kind == "complaint", d.resolved_at.is_not(None),
               f.customer_id.is_not(None)))]


def praise_theme_counts(session: Session, tag: str | None = None) -> list[tuple[str, int]]:
    """(theme, praise items) for every theme praise mentions."""
    f, it, t = m.FeedbackItem, m.FeedbackItemTheme, m.Theme
    count = func.count(func.distinct(f.id))
    query = (select(t.name, count).join(it, it.theme_id == t.id).join(f, f.id == it.item_id)
             .where(f.kind == "praise").group_by(t.id, t.name))
    if tag:
        query = query.where(f.customer_id.in_(_tagged(tag)))
    return [tuple(row) for row in session.execute(query)]
