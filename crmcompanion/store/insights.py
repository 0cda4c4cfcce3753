"""Insights persistence: each customer's facts for the segment rules as SQL aggregates, the
stored segments kept current, and the dashboard's figures.

Why a module of its own: the segment of 100,000 customers must be computed within two seconds
(issue 16), so every customer's facts come from three statements a chunk of 5,000 customers
(the customers with the newest conversation an index probe of `ix_interactions_customer` a
customer and the stored segment beside; feedback and check-back answers grouped once; ages as
whole days computed by the database), and only rows that changed are written back, chunk by
chunk (the first refresh of a day at start-up must not hold 100,000 customers' rows at once,
issue 13); the rules themselves stay in `core.segments`. Everything here runs in a session
given by a unit of work; nothing commits on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from crmcompanion.core.feedback import ComplaintStatus
from crmcompanion.core.why_stay import HAPPIEST, OTHERS, GroupTotals
from crmcompanion.store import models as m

logger = logging.getLogger(__name__)

_CHUNK = 500
SEGMENTS_KEY = "segments_key"
OPEN_COMPLAINT = tuple(s.value for s in ComplaintStatus if s.is_open)
RESOLVED_COMPLAINT = (ComplaintStatus.RESOLVED.value, ComplaintStatus.SATISFIED.value)


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def days_before(session: Session, today: date, column: object) -> object:
    """Whole days from a stored date or timestamp's day to `today` (NULL stays NULL), in SQL:
    the rules' ages arrive as small integers, not as 100,000 dates to parse in Python."""
    if session.get_bind().dialect.name == "sqlite":
        # Dates and timestamps are ISO text; the day is their first ten characters.
        return cast(func.julianday(today.isoformat())
                    - func.julianday(func.substr(column, 1, 10)), Integer)
    return literal(today, Date) - cast(column, Date)


def _when(session: Session, moment: datetime) -> object:
    """A timestamp bound the way the dialect stores it (ISO text on SQLite)."""
    if session.get_bind().dialect.name == "sqlite":
        return literal(moment.strftime("%Y-%m-%d %H:%M:%S.%f"))
    return literal(moment, DateTime)


# The feedback facts of a customer without any feedback (FACT_FIELDS from open_complaints
# to praise).
_NO_FEEDBACK = (0, None, 0, 0, 0, 0, 0)

# Customers whose facts are read (and whose segments are written) at a time by a full
# recompute. The facts of every customer at once were 100,000 tuples (with their stored
# reasons, the lists of rows to write beside) held together: ~55 MB more peak RSS in the
# first refresh of a day, at start-up (issue 13's `startup_rss_mb`). 5,000 at a time keep
# that to a few MB for ~60 more statements of a few ms each (2,000: ~3 MB less, more CPU).
FACT_CHUNK = 5_000
# Below every customer id: the keyset's start.
_BEFORE_ANY_ID = -(2**63)

FactRow = tuple[int, "str | None", "str | None", tuple]


def fact_chunks(
    session: Session, today: date, window_days: int, ids: Sequence[int] | None = None
) -> Iterator[list[FactRow]]:
    """(id, stored segment, stored reasons, facts) of every non-archived customer (or those
    of `ids`), a chunk at a time in id order: None, None when no segment is stored; the facts
    a `core.segments.FACT_FIELDS` tuple, `base_days` left off for a customer ever contacted
    (it only counts for one never contacted, so customers with the same facts share one
    tuple).

    Three statements a chunk: the customers' own columns with the last conversation (a
    correlated max over `ix_interactions_customer`, one index probe a customer) and ages as
    whole days before `today` computed by the database, the next `FACT_CHUNK` after the
    previous chunk's last id (a keyset over the primary key: each chunk reads only its own
    rows); feedback and check-back answers grouped by customer over their small tables for
    the chunk's id range, joined here by id. Fetched apart because most customers have no
    feedback: 100,000 rows of eight feedback columns, nearly all zero, cost ~150 ms of CPU
    more to fetch than the few thousand grouped rows (the 100,000-customer demo, same
    process, sqlite3). Each statement is compiled once for every chunk (~4 ms a compile).
    The caller may write between chunks in the same transaction: a chunk is read whole
    before it is yielded, no read stays open."""
    c, f = m.Customer, m.FeedbackItem
    if ids is not None:
        for chunk in _chunks(ids):
            customers, feedback, answers = _fact_statements(
                session, today, window_days, c.id.in_(chunk), f.customer_id.in_(chunk))
            yield _joined(customers.rows(), feedback.rows(), answers.rows())
        return
    lo = bindparam("lo", _BEFORE_ANY_ID, type_=BigInteger)
    hi = bindparam("hi", _BEFORE_ANY_ID, type_=BigInteger)
    customers, feedback, answers = _fact_statements(
        session, today, window_days, c.id > lo, f.customer_id.between(lo, hi), FACT_CHUNK)
    after = _BEFORE_ANY_ID
    while True:
        rows = customers.rows(lo=after)
        if rows:
            span = {"lo": rows[0][0], "hi": rows[-1][0]}
            yield _joined(rows, feedback.rows(**span), answers.rows(**span))
        if len(rows) < FACT_CHUNK:
            return
        after = rows[-1][0]


def _joined(customers: Sequence[Sequence], feedback: Sequence[Sequence],
            answers: Sequence[Sequence]) -> list[FactRow]:
    """The customers' rows (`_customers_query`) with their feedback facts
    (`_feedback_query`) and answers (`_not_satisfied_query`), as `fact_chunks` yields them."""
    by_customer = {row[0]: tuple(int(v) if v is not None else None for v in row[1:])
                   for row in feedback}
    answered = {cid: int(n) for cid, n in answers}
    out = []
    get_feedback, get_answers, no_feedback = by_customer.get, answered.get, _NO_FEEDBACK
    for cid, segment, reasons, status, key, reason, note, last, rhythm, base in customers:
        facts = (status, key, reason, note, last, rhythm, *get_feedback(cid, no_feedback),
                 get_answers(cid, 0))
        out.append((cid, segment, reasons, facts if last is not None else (*facts, base)))
    return out


class _Prepared:
    """A statement compiled once and run with new values for its named parameters. SQLite:
    through the driver's own cursor, no per-value type processing (100,000 rows);
    PostgreSQL: `session.execute` (its compiled cache)."""

    def __init__(self, session: Session, query: Select) -> None:
        self._session = session
        self._query = query
        self._sqlite = session.get_bind().dialect.name == "sqlite"
        if self._sqlite:
            compiled = query.compile(dialect=session.get_bind().dialect,
                                     compile_kwargs={"render_postcompile": True})
            self._sql = str(compiled)
            self._params = compiled.construct_params()
            self._names = compiled.positiontup or []

    def rows(self, **values: object) -> list[Sequence]:
        if not self._sqlite:
            return [tuple(row) for row in self._session.execute(self._query, values)]
        params = {**self._params, **values}
        cursor = self._session.connection().connection.cursor()
        try:
            return cursor.execute(self._sql, [params[name] for name in self._names]).fetchall()
        finally:
            cursor.close()


def _fact_statements(
    session: Session, today: date, window_days: int, customers: ColumnElement[bool],
    feedback: ColumnElement[bool], limit: int | None = None,
) -> tuple[_Prepared, _Prepared, _Prepared]:
    """The three statements of `fact_chunks` for the customers `customers` picks (the first
    `limit` of them in id order) and the feedback rows `feedback` picks."""
    query = _customers_query(session, today, customers)
    if limit is not None:
        query = query.order_by(m.Customer.id).limit(limit)
    return (_Prepared(session, query),
            _Prepared(session, _feedback_query(session, today, window_days, feedback)),
            _Prepared(session, _not_satisfied_query(session, today, window_days, feedback)))


def _window(session: Session, today: date, days: int) -> object:
    return _when(session, datetime.combine(today - timedelta(days=days), datetime.min.time()))


def _customers_query(session: Session, today: date, where: ColumnElement[bool]) -> Select:
    """(id, stored segment, stored reasons, status, key account, lost reason, lost note, days
    since the last conversation, rhythm, days since joining) of each non-archived customer
    `where` picks."""
    c, r, i, h = m.Customer, m.ContactRhythm, m.Interaction, m.CustomerHealth
    last_at = (select(func.max(i.occurred_at)).where(i.customer_id == c.id)
               .correlate(c).scalar_subquery())
    since = func.coalesce(c.customer_since, c.created_at) if _postgres(session) \
        else func.coalesce(func.substr(c.customer_since, 1, 10), func.substr(c.created_at, 1, 10))
    return (
        select(c.id, h.segment, h.reasons, c.status, c.key_account, c.lost_reason, c.lost_note,
               days_before(session, today, last_at), r.cadence_days,
               days_before(session, today, since))
        .select_from(c)
        .outerjoin(r, r.customer_id == c.id)
        .outerjoin(h, h.customer_id == c.id)
        .where(c.archived_at.is_(None), where)
    )


def _feedback_query(session: Session, today: date, window_days: int,
                    where: ColumnElement[bool]) -> Select:
    """Customer id, open complaints, days since the oldest open one, satisfaction sum and
    count in the window, the same in the window before, praise in the window: one GROUP BY
    over the feedback `where` picks (customers that have any)."""
    f = m.FeedbackItem
    window = _window(session, today, window_days)
    before = _window(session, today, 2 * window_days)
    open_complaint = and_(f.kind == "complaint", f.status.in_(OPEN_COMPLAINT))
    recent = f.created_at >= window
    earlier = and_(f.created_at >= before, f.created_at < window)
    rated = f.satisfaction.is_not(None)
    return (
        select(
            f.customer_id,
            func.count(case((open_complaint, 1))),
            days_before(session, today, func.min(case((open_complaint, f.created_at)))),
            func.sum(case((and_(recent, rated), f.satisfaction), else_=0)),
            func.count(case((and_(recent, rated), 1))),
            func.sum(case((and_(earlier, rated), f.satisfaction), else_=0)),
            func.count(case((and_(earlier, rated), 1))),
            func.count(case((and_(recent, f.kind == "praise"), 1))),
        )
        .where(f.customer_id.is_not(None), where)
        .group_by(f.customer_id)
    )


def _not_satisfied_query(session: Session, today: date, window_days: int,
                         where: ColumnElement[bool]) -> Select:
    """Customer id, check-backs answered "not satisfied" in the window, of the feedback
    `where` picks."""
    f, e = m.FeedbackItem, m.FeedbackEvent
    return (
        select(f.customer_id, func.count())
        .join(e, e.item_id == f.id)
        .where(e.to_status == ComplaintStatus.NOT_SATISFIED.value,
               e.at >= _window(session, today, window_days),
               f.customer_id.is_not(None), where)
        .group_by(f.customer_id)
    )


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


class HealthWriter:
    """Writes what a recompute finds, a chunk at a time (`write`), then `finish`es: clears
    the dirty marks of the customers computed (`ids`; None: every row) and drops the rows
    of customers archived or deleted since. Everything in the caller's transaction.

    The first recompute of a database (at least `_REINDEX_ABOVE` customers, at least half of
    them without a row; on SQLite) drops the indexes on segment and day moved before the
    first row and builds them once in `finish` (a sort), not kept up row by row."""

    def __init__(self, session: Session, today: date, ids: Sequence[int] | None) -> None:
        self._session = session
        self._today = today
        self._ids = ids
        self._sqlite = session.get_bind().dialect.name == "sqlite"
        self._rebuild: list[tuple[str, str]] = []
        if self._sqlite and ids is None:
            self._rebuild = _drop_for_bulk(session)

    def write(self, inserts: Sequence[tuple[int, str, str]],
              moves: Sequence[tuple[int, str, str, str]],
              rewords: Sequence[tuple[int, str]]) -> None:
        """New rows (id, segment, reasons), segment moves (id, segment, reasons, segment
        before: the day is remembered), reasons reworded (id, reasons): one executemany per
        kind of change."""
        if self._sqlite:
            # DB-API executemany: the ORM's per-row bookkeeping would cost ~1 s at 100k.
            raw = self._session.connection().connection.driver_connection
            day = self._today.isoformat()
            raw.executemany(  # type: ignore[union-attr]
                "INSERT INTO customer_health (customer_id, segment, reasons, dirty, "
                "previous_segment, changed_on) VALUES (?, ?, ?, 0, NULL, NULL)", inserts)
            raw.executemany(  # type: ignore[union-attr]
                "UPDATE customer_health SET segment = ?, reasons = ?, previous_segment = ?, "
                "changed_on = ?, dirty = 0 WHERE customer_id = ?",
                [(seg, why, was, day, cid) for cid, seg, why, was in moves])
            raw.executemany(  # type: ignore[union-attr]
                "UPDATE customer_health SET reasons = ?, dirty = 0 WHERE customer_id = ?",
                [(why, cid) for cid, why in rewords])
            return
        # Core statements on the table: one executemany each, no ORM row bookkeeping.
        table = m.CustomerHealth.__table__
        if inserts:
            self._session.execute(insert(table), [
                {"customer_id": cid, "segment": seg, "reasons": why, "dirty": False,
                 "previous_segment": None, "changed_on": None} for cid, seg, why in inserts])
        if moves:
            self._session.execute(
                update(table).where(table.c.customer_id == bindparam("cid")).values(
                    segment=bindparam("seg"), reasons=bindparam("why"),
                    previous_segment=bindparam("was"), changed_on=self._today, dirty=False),
                [{"cid": cid, "seg": seg, "why": why, "was": was}
                 for cid, seg, why, was in moves])
        if rewords:
            self._session.execute(
                update(table).where(table.c.customer_id == bindparam("cid")).values(
                    reasons=bindparam("why"), dirty=False),
                [{"cid": cid, "why": why} for cid, why in rewords])

    def finish(self, computed: int | None = None) -> None:
        """Rows computed but unchanged lose their dirty mark; left-over rows go.

        `computed` (with `ids` None): how many customers the recompute covered, every one
        of them now with a row; as many rows in the table means none is left over, and the
        search for rows to drop (a probe of `customers` per row) is skipped."""
        session, h, c = self._session, m.CustomerHealth, m.Customer
        raw = session.connection().connection.driver_connection if self._rebuild else None
        for _name, sql in self._rebuild:
            raw.execute(sql)  # type: ignore[union-attr]
        self._rebuild = []
        # "dirty = 1" is the partial index's own predicate, so SQLite finds them through it.
        dirty = text("customer_health.dirty = 1") if self._sqlite else h.dirty.is_(True)
        kept = select(c.id).where(c.id == h.customer_id, c.archived_at.is_(None)).exists()
        if self._ids is None:
            session.execute(update(h).where(dirty).values(dirty=False))
            if computed is None or session.scalar(select(func.count()).select_from(h)) != computed:
                session.execute(delete(h).where(~kept))
        else:
            for chunk in _chunks(list(self._ids)):
                session.execute(update(h).where(h.customer_id.in_(chunk), dirty)
                                .values(dirty=False))
                session.execute(delete(h).where(h.customer_id.in_(chunk), ~kept))


# A full recompute with this many customers without a row, at least half of the customers:
# the indexes on segment and day moved are dropped first and built once after.
_REINDEX_ABOVE = 10_000
_REBUILT_INDEXES = ("ix_customer_health_segment", "ix_customer_health_changed")


def _drop_for_bulk(session: Session) -> list[tuple[str, str]]:
    """On the first recompute of a database (SQLite): drop the secondary indexes of
    `customer_health` and return their (name, CREATE statement) to build after the rows.
    Decided before the first chunk, from two counts: customers not archived less the rows
    stored (fewer than the customers without a row when some rows belong to customers
    archived since; a first recompute has no row at all)."""
    c, h = m.Customer, m.CustomerHealth
    # Everyone less the archived (its partial index): no scan of the customers' rows.
    customers = (session.scalar(select(func.count()).select_from(c)) or 0) - (session.scalar(
        select(func.count()).select_from(c).where(c.archived_at.is_not(None))) or 0)
    stored = session.scalar(select(func.count()).select_from(h)) or 0
    new = customers - stored
    if new < _REINDEX_ABOVE or 2 * new < customers:
        return []
    raw = session.connection().connection.driver_connection
    marks = ", ".join("?" for _ in _REBUILT_INDEXES)
    rebuild = raw.execute(  # type: ignore[union-attr]
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
        f"tbl_name = 'customer_health' AND name IN ({marks})", _REBUILT_INDEXES).fetchall()
    for name, _sql in rebuild:
        raw.execute(f'DROP INDEX "{name}"')  # type: ignore[union-attr]
    return rebuild


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


def lost_reason_counts(session: Session, start: date | None = None, end: date | None = None,
                       tag: str | None = None) -> dict[str, int]:
    """Lost customers (not archived) per reason ("unknown" for none), one GROUP BY."""
    c = m.Customer
    reason = func.coalesce(c.lost_reason, "unknown")
    query = select(reason, func.count()).where(
        c.status == "lost", c.archived_at.is_(None), *_between(c.lost_on, start, end, False)
    ).group_by(reason)
    if tag:
        query = query.where(c.id.in_(_tagged(tag)))
    return {r: n for r, n in session.execute(query)}


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


def resolution_days(session: Session, start: date | None = None, end: date | None = None,
                    tag: str | None = None) -> list[float]:
    """Each resolved complaint's days from opened to resolved, computed by the database
    (one number a complaint, for the median)."""
    f, d = m.FeedbackItem, m.ComplaintDetail
    query = (select(_resolution_days(session)).select_from(f).join(d, d.item_id == f.id)
             .where(f.kind == "complaint", d.resolved_at.is_not(None)))
    return [float(days) for (days,) in session.execute(_feedback_scope(query, start, end, tag))]


def satisfaction_by_month(session: Session, start: date | None = None, end: date | None = None,
                          tag: str | None = None) -> list[tuple[str, int, int]]:
    """(month "YYYY-MM", sum of scores, answers) of rated feedback, oldest month first: one
    GROUP BY, not a row per answer."""
    f = m.FeedbackItem
    month = func.to_char(f.created_at, "YYYY-MM") if _postgres(session) \
        else func.substr(f.created_at, 1, 7)
    query = (select(month, func.sum(f.satisfaction), func.count())
             .where(f.satisfaction.is_not(None)).group_by(month).order_by(month))
    return [(mo, int(total), n) for mo, total, n
            in session.execute(_feedback_scope(query, start, end, tag))]


def lost_complaint_themes(session: Session, limit: int = 5) -> list[tuple[str, int]]:
    """The themes of complaints lost customers had before they left, most frequent first."""
    f, it, t, c = m.FeedbackItem, m.FeedbackItemTheme, m.Theme, m.Customer
    count = func.count(func.distinct(f.id))
    return [tuple(row) for row in session.execute(
        select(t.name, count).join(it, it.theme_id == t.id).join(f, f.id == it.item_id)
        .join(c, c.id == f.customer_id)
        .where(f.kind == "complaint", c.status == "lost", c.archived_at.is_(None))
        .group_by(t.id, t.name).order_by(count.desc(), t.name).limit(limit))]


# --- why customers stay (core.why_stay) ----------------------------------------------------

def _resolution_days(session: Session) -> object:
    """A resolved complaint's days from opened to resolved (fractional), in SQL."""
    f, d = m.FeedbackItem, m.ComplaintDetail
    if _postgres(session):
        return func.extract("epoch", d.resolved_at - f.created_at) / 86400.0
    return func.julianday(d.resolved_at) - func.julianday(f.created_at)


def stay_totals(
    session: Session, today: date, default_rhythm_days: int, greeting_since: date,
    greeting_occasions: Sequence[str], tag: str | None = None,
) -> dict[str, GroupTotals]:
    """`core.why_stay`'s two groups' totals (keys HAPPIEST and "others"), each a SQL
    aggregate grouped by segment: customers and those in touch within their rhythm (the last
    conversation by an index probe a customer), greetings done since a day, and every
    resolved complaint's days (one number a complaint, for the median)."""
    c, r, i, h, s = (m.Customer, m.ContactRhythm, m.Interaction, m.CustomerHealth,
                     m.TouchpointRecord)
    f, d = m.FeedbackItem, m.ComplaintDetail
    happiest = (h.segment == HAPPIEST).label("happiest")
    compared = [h.segment.in_((HAPPIEST, *OTHERS))]
    if tag:
        compared.append(h.customer_id.in_(_tagged(tag)))
    last_at = (select(func.max(i.occurred_at)).where(i.customer_id == c.id)
               .correlate(c).scalar_subquery())
    since = c.customer_since if _postgres(session) else func.substr(c.customer_since, 1, 10)
    joined = c.created_at if _postgres(session) else func.substr(c.created_at, 1, 10)
    quiet = days_before(session, today, func.coalesce(last_at, since, joined))
    kept = func.count(case((quiet <= func.coalesce(r.cadence_days, default_rhythm_days), 1)))
    totals: dict[bool, list] = {True: [0, 0, 0, []], False: [0, 0, 0, []]}
    for group, customers, in_rhythm in session.execute(
        select(happiest, func.count(), kept).select_from(h)
        .join(c, c.id == h.customer_id).outerjoin(r, r.customer_id == c.id)
        .where(*compared).group_by(happiest)
    ):
        totals[bool(group)][:2] = [customers, in_rhythm]
    for group, greetings in session.execute(
        select(happiest, func.count()).select_from(s).join(h, h.customer_id == s.customer_id)
        .where(s.state == "done", s.occasion.in_(list(greeting_occasions)),
               s.occurrence_on >= greeting_since, *compared)
        .group_by(happiest)
    ):
        totals[bool(group)][2] = greetings
    for group, days in session.execute(
        select(happiest, _resolution_days(session)).select_from(f)
        .join(d, d.item_id == f.id).join(h, h.customer_id == f.customer_id)
        .where(f.kind == "complaint", d.resolved_at.is_not(None), *compared)
    ):
        totals[bool(group)][3].append(float(days))
    return {
        HAPPIEST if group else "others": GroupTotals(n, kept_n, greetings, tuple(days))
        for group, (n, kept_n, greetings, days) in totals.items()
    }


def praise_theme_counts(session: Session, tag: str | None = None) -> list[tuple[str, int]]:
    """(theme, praise items) for every theme praise mentions."""
    f, it, t = m.FeedbackItem, m.FeedbackItemTheme, m.Theme
    count = func.count(func.distinct(f.id))
    query = (select(t.name, count).join(it, it.theme_id == t.id).join(f, f.id == it.item_id)
             .where(f.kind == "praise").group_by(t.id, t.name))
    if tag:
        query = query.where(f.customer_id.in_(_tagged(tag)))
    return [tuple(row) for row in session.execute(query)]
