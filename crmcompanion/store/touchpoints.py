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

import calendar
import json
import logging
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import (
    Date,
    Row,
    Select,
    TextClause,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from crmcompanion.core.customer import Status
from crmcompanion.core.dates import LeapDayPolicy, month_day_key_ranges
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import MAX_CADENCE_DAYS, TouchpointSettings, occurrence_key
from crmcompanion.store import feedback_rhythm, tables
from crmcompanion.store import models as m
from crmcompanion.store import postgres_touchpoints as pgt

logger = logging.getLogger(__name__)

_CHUNK = 500

# Occasions stored in `touchpoint_sources` (recurring every year).
YEARLY_OCCASIONS: frozenset[Occasion] = frozenset(
    {Occasion.BIRTHDAY, Occasion.WEDDING_ANNIVERSARY, Occasion.CUSTOM,
     Occasion.CUSTOMER_ANNIVERSARY}
)
# Occasions stored in `follow_ups` (one-off, created by the owner or other features).
ONE_OFF_OCCASIONS: frozenset[Occasion] = frozenset(
    {Occasion.FOLLOW_UP, Occasion.COMPLAINT_CHECKBACK, Occasion.IDEA_SHIPPED, Occasion.WIN_BACK,
     Occasion.ASK_FEEDBACK}
)
# The list order of touchpoints, defined once: by day, then by occasion in `Occasion`'s
# order, then by the customer's sort name (the customer list's accent-folded key), customer
# id and source id. Each source below reads its rows in this order (ORDER BY ... LIMIT), so
# a limited read is exactly the head of the whole; the service merges the sources by
# (day, occasion rank) alone, since an occasion belongs to one source.
OCCASION_RANK: dict[Occasion, int] = {occasion: rank for rank, occasion in enumerate(Occasion)}


def occasion_rank(column: object) -> object:
    """`OCCASION_RANK` of an occasion column, in SQL (for ORDER BY)."""
    return case({o.value: rank for o, rank in OCCASION_RANK.items()}, value=column, else_=99)


# Built once: a CASE of ten branches costs ~0.3 ms of SQLAlchemy work per statement built.
# The list reads below are written against the tables (store.tables), not the mapped
# classes: plain Core statements, which neither configure the mappers before Today's first
# rows nor load their rows through the ORM (issue 13).
_RANKS = {"yearly": occasion_rank(tables.touchpoint_sources.c.occasion),
          "follow_ups": occasion_rank(tables.follow_ups.c.occasion)}
_OCCASION_OF = {o.value: o for o in Occasion}


# --- "not yet in this staff member's reminder log", in SQL ---------------------------------
#
# A reminder pass covers its last 7 days again, so nearly everything it reads was delivered
# by an earlier pass (~8,300 touchpoints at 100,000 customers, built only to be thrown
# away). Each source can leave those out in SQL: the row's occurrence key, written in SQL
# exactly as core.touchpoints.occurrence_key writes it (tests/reminders/test_pass_work.py
# compares the two for every occasion), probed in the log's unique (key, staff) index.


def _source_prefix(occasion: Occasion) -> str:
    """The letters before a source id in `occasion`'s keys ("d", "f", "fb", "c"), read off
    core.touchpoints.occurrence_key itself so the key format stays defined there."""
    if occasion in (Occasion.KEEP_IN_TOUCH, Occasion.CUSTOMER_ANNIVERSARY):
        return ""
    return occurrence_key(1, occasion, 0, date(2000, 1, 1)).split("/")[2][:-1]


def _two_digits(session: Session, sql: str) -> str:
    if _postgres(session):
        return f"lpad(CAST({sql} AS text), 2, '0')"
    return f"printf('%02d', {sql})"


def _iso_day(session: Session, column: str) -> str:
    """A DATE column as 'YYYY-MM-DD' text (SQLite stores it so)."""
    return f"to_char({column}, 'YYYY-MM-DD')" if _postgres(session) else column


def _not_fired(session: Session, key_sql: str, staff_id: int) -> object:
    return text(
        "NOT EXISTS (SELECT 1 FROM fired_reminders nf WHERE nf.staff_id = :nf_staff "
        f"AND nf.occurrence_key = {key_sql})"
    ).bindparams(nf_staff=staff_id)


def _yearly_day_sql(session: Session, year: int, policy: LeapDayPolicy) -> str:
    """The day a touchpoint_sources row occurs in `year`, as 'YYYY-MM-DD' text (29 February
    by `policy` when the year has none)."""
    s = "touchpoint_sources"
    month_day = (f"{_two_digits(session, f'{s}.md_key / 100')} || '-' || "
                 f"{_two_digits(session, f'{s}.md_key % 100')}")
    day = f"'{year:04d}-' || {month_day}"
    if not calendar.isleap(year):
        moved = "02-28" if policy is LeapDayPolicy.FEB28 else "03-01"
        day = f"CASE WHEN {s}.md_key = 229 THEN '{year:04d}-{moved}' ELSE {day} END"
    return day


def _yearly_date_sql(session: Session, year: int, policy: LeapDayPolicy) -> str:
    """`_yearly_day_sql` as the engine compares it with a stored day: SQLite's 'YYYY-MM-DD'
    text; on PostgreSQL a DATE made by store.postgres_touchpoints.yearly_date (text built
    and cast per row cost ~20% of the hidden-occurrence reads there)."""
    if _postgres(session):
        return pgt.yearly_date("touchpoint_sources", year, policy is LeapDayPolicy.FEB28)
    return _yearly_day_sql(session, year, policy)


def _yearly_key_sql(session: Session, year: int, policy: LeapDayPolicy) -> str:
    """The occurrence key of a touchpoint_sources row in `year`."""
    s = "touchpoint_sources"
    return (f"{s}.occasion || '/c' || {s}.customer_id || '/' || CASE WHEN {s}.source_id IS "
            f"NULL THEN '-' ELSE 'd' || {s}.source_id END || '/' || "
            f"{_yearly_day_sql(session, year, policy)}")


def _keep_in_touch_key_sql(session: Session) -> str:
    r = "contact_rhythm"
    return (f"'{Occasion.KEEP_IN_TOUCH.value}/c' || {r}.customer_id || '/-/' || "
            f"{_iso_day(session, f'{r}.next_due_on')}")


def _follow_up_key_sql(session: Session) -> str:
    f = "follow_ups"
    prefix = " ".join(f"WHEN '{o.value}' THEN '{_source_prefix(o)}'"
                      for o in sorted(ONE_OFF_OCCASIONS))
    return (f"{f}.occasion || '/c' || {f}.customer_id || '/' || CASE {f}.occasion {prefix} "
            f"END || coalesce({f}.source_id, {f}.id) || '/' || {_iso_day(session, f'{f}.due_on')}")


# --- "not hidden by a recorded state", in SQL ---------------------------------------------
#
# A state hides its occurrence when it is done or skipped and dated on or after the overdue
# look-back's first day, or snoozed past today (`hiding_state_rows`). A list that leaves
# those out in SQL reads exactly its LIMIT: no rows read beyond it in case some are hidden,
# and no check of each row in Python. Yearly occurrences are matched by (customer, occasion,
# day), since editing a customer rewrites its special-date rows; the others by key.


@dataclass(frozen=True)
class Shown:
    """Leave out what recorded states hide on `today` (look-back from `since`)."""

    today: date
    since: date


def _hiding(session: Session, alias: str) -> str:
    del session
    return (f"((({alias}.occurrence_on >= :hs_since AND {alias}.state IN ('done', 'skipped')) "
            f"OR ({alias}.state = 'snoozed' AND {alias}.snoozed_until > :hs_today)))")


def _dates(**days: date) -> list[object]:
    """Bound DATE values (typed: PostgreSQL compares no date with a VARCHAR)."""
    return [bindparam(name, day, type_=Date) for name, day in days.items()]


def _shown_params(shown: Shown) -> list[object]:
    return _dates(hs_since=shown.since, hs_today=shown.today)


def _not_hidden_by_key(session: Session, key_sql: str, shown: Shown) -> object:
    return _text(
        "NOT EXISTS (SELECT 1 FROM touchpoint_states hs WHERE hs.occurrence_key = "
        f"{key_sql} AND {_hiding(session, 'hs')})"
    ).bindparams(*_shown_params(shown))


def _not_hidden_yearly(session: Session, year: int, policy: LeapDayPolicy,
                       shown: Shown) -> object:
    day = _yearly_date_sql(session, year, policy)
    s = "touchpoint_sources"
    return _text(
        "NOT EXISTS (SELECT 1 FROM touchpoint_states hs WHERE hs.customer_id = "
        f"{s}.customer_id AND hs.occasion = {s}.occasion AND hs.occurrence_on = {day} "
        f"AND {_hiding(session, 'hs')})"
    ).bindparams(*_shown_params(shown))


@lru_cache(maxsize=64)
def _text(sql: str) -> TextClause:
    """`text(sql)`, made once per SQL string. text() finds its bound names with a regular
    expression over the whole string (the Today counts' statements are several KB), and
    the Today reads run the same few statements on every refresh (issue 13). The clause is
    never changed in place: `.bindparams` returns a copy."""
    return text(sql)


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
    # Plain SQL: this runs before every Today read, where ORM statement overhead adds up.
    found = session.execute(
        _text(_sql(session, "SELECT 1 FROM contact_rhythm WHERE dirty IS 1 LIMIT 1"))
    ).first()
    return found is not None


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _sql(session: Session, sql: str) -> str:
    """`sql` as the session's engine writes it (SQLite's `IS 1` on PostgreSQL: `IS TRUE`)."""
    return pgt.adapt(sql) if _postgres(session) else sql


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


# Above this many stale rows, one set-based pass with the per-row count triggers set aside,
# then a rebuild of the per-day counts (a ~20 ms scan), beats 2 trigger statements per row.
_REBUILD_COUNTS_ABOVE = 2000


# The per-row triggers (migration 0002) a bulk load or a bulk recompute does set-based itself.
BULK_INSERT_TRIGGERS = (
    "trg_customers_rhythm_insert",
    "trg_special_dates_rhythm_insert",
    "trg_customer_tags_rhythm_insert",
)
DUE_COUNT_TRIGGERS = (
    "trg_rhythm_due_counts_replace",
    "trg_rhythm_due_counts_insert",
    "trg_rhythm_due_counts_update",
    "trg_rhythm_due_counts_delete",
)


@contextmanager
def triggers_set_aside(session: Session, names: Sequence[str]) -> Iterator[None]:
    """Drop the named triggers for this block and re-create them, in the caller's transaction.

    Why drop rather than a flag in a WHEN clause: a trigger still runs its sub-program for
    every row even when WHEN is false (~5 us a row: ~1.4 s of a 100,000-customer load).
    DDL is transactional in SQLite, so a failure rolls the drop back with everything else,
    and other connections never see the schema without them. The caller must do the
    triggers' work itself (`mark_customers_dirty`, `rebuild_due_counts`).
    """
    if _postgres(session):  # a setting their WHEN clauses check (store.postgres_touchpoints)
        pgt.set_aside(session, names, True)
        yield
        pgt.set_aside(session, names, False)
        return
    marks = ", ".join(f":n{i}" for i in range(len(names)))
    saved = session.execute(
        text(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})"),
        {f"n{i}": name for i, name in enumerate(names)},
    ).all()
    for name, _ in saved:
        session.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _, sql in saved:
        session.execute(text(sql))


def mark_customers_dirty(
    session: Session,
    first_id: int,
    last_id: int,
    with_interactions: bool = False,
    last_interactions: str | None = None,
) -> None:
    """Give customers first_id..last_id (just bulk-inserted) their dirty rhythm rows, with
    their last interaction day when interactions were loaded with them: from the table
    `last_interactions` names when the load made one (customer_id INTEGER PRIMARY KEY,
    occurred_on; a key lookup per customer), else from the interactions."""
    if _postgres(session):
        pgt.mark_customers_dirty(session, first_id, last_id, with_interactions,
                                 last_interactions)
        return
    if last_interactions is not None:
        last = (
            f"(SELECT l.occurred_on FROM {last_interactions} l "
            "WHERE l.customer_id = customers.id)"
        )
    elif with_interactions:
        last = "(SELECT max(i.occurred_on) FROM interactions i WHERE i.customer_id = customers.id)"
    else:
        last = "NULL"
    session.execute(
        text(
            "INSERT INTO contact_rhythm (customer_id, dirty, last_interaction_on) "
            f"SELECT id, 1, {last} FROM customers WHERE id BETWEEN :first AND :last"
        ),
        {"first": first_id, "last": last_id},
    )


def rebuild_due_counts(session: Session) -> None:
    """Recount keep_in_touch_due_counts from contact_rhythm (a scan of its due-date index)."""
    session.execute(text("DELETE FROM keep_in_touch_due_counts"))
    session.execute(
        text(
            "INSERT INTO keep_in_touch_due_counts (due_on, customers) "
            "SELECT next_due_on, count(*) FROM contact_rhythm "
            "WHERE next_due_on IS NOT NULL GROUP BY next_due_on"
        )
    )


# The rules of core.touchpoints in SQL, for every dirty customer at once. Each fragment names
# the rule it mirrors; tests/store/test_touchpoint_sync.py checks the result row by row
# against the pure functions over varied customers.
#
# ContactPreferences.allows(occasion): nobody archived, lost or do-not-contact, and no
# opt-out of that occasion.
_ELIGIBLE = "c.do_not_contact = 0 AND c.archived_at IS NULL AND c.status != 'lost'"
_NOT_OPTED_OUT = (
    "NOT EXISTS (SELECT 1 FROM touchpoint_opt_outs o "
    "WHERE o.customer_id = c.id AND o.occasion = {occasion})"
)
_DIRTY_CUSTOMERS = (
    "FROM contact_rhythm r JOIN customers c ON c.id = r.customer_id WHERE r.dirty IS 1"
)
def _insert_sources(customers: str) -> str:
    """The INSERT of the allowed yearly sources of the customers `customers` selects (a
    "FROM ... c ... WHERE ..." clause naming them `c`)."""
    return (
        "INSERT INTO touchpoint_sources (customer_id, occasion, source_id, md_key, year, label) "
        # Stored special dates (birthday, wedding anniversary, custom): kind is the occasion.
        "SELECT c.id, sd.kind, sd.id, sd.md_key, sd.year, sd.label "
        f"{customers.replace('WHERE', 'JOIN special_dates sd ON sd.customer_id = c.id WHERE')}"
        f" AND {_ELIGIBLE} AND {_NOT_OPTED_OUT.format(occasion='sd.kind')} "
        "UNION ALL "
        # Customer anniversaries from customer_since (ISO text): month_day_key(month, day).
        "SELECT c.id, 'customer_anniversary', NULL, "
        "CAST(substr(c.customer_since, 6, 2) AS INTEGER) * 100 "
        "+ CAST(substr(c.customer_since, 9, 2) AS INTEGER), "
        "CAST(substr(c.customer_since, 1, 4) AS INTEGER), '' "
        f"{customers} AND c.customer_since IS NOT NULL AND {_ELIGIBLE} "
        f"AND {_NOT_OPTED_OUT.format(occasion=chr(39) + 'customer_anniversary' + chr(39))}"
    )


_INSERT_SOURCES = _insert_sources(_DIRTY_CUSTOMERS)
# cadence_days(): a valid own override; else the shortest tag cadence; else key account;
# else the shorter of the lead / internal defaults that apply; else the active default.
_DEFAULT_CADENCE = (
    "CASE WHEN c.key_account THEN :key_account "
    "WHEN c.status = 'lead' AND c.kind = 'internal' THEN min(:lead, :internal) "
    "WHEN c.status = 'lead' THEN :lead "
    "WHEN c.kind = 'internal' THEN :internal ELSE :active END"
)
_TAG_CADENCE = (
    "(SELECT min(t.cadence_days) FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id "
    "WHERE ct.customer_id = c.id AND t.cadence_days IS NOT NULL)"
)
_OVERRIDE = (
    "CASE WHEN typeof(c.cadence_days) = 'integer' AND c.cadence_days BETWEEN 1 AND "
    f"{MAX_CADENCE_DAYS} THEN c.cadence_days END"
)
# Keep-in-touch base: the last interaction, else customer_since, else the local creation day
# (local_date: stored naive UTC seen in the machine's time zone, as 'localtime' does).
_RHYTHM_ROWS = (
    "SELECT c.id AS id, "
    "coalesce(r.last_interaction_on, c.customer_since, date(c.created_at, 'localtime')) "
    "AS base, "
    f"CASE WHEN {_ELIGIBLE} AND "
    f"{_NOT_OPTED_OUT.format(occasion=chr(39) + 'keep_in_touch' + chr(39))} "
    "THEN coalesce({override}, {tags}, {default}) END AS cadence "
    f"{_DIRTY_CUSTOMERS}"
)
_UPDATE_RHYTHM = (
    "UPDATE contact_rhythm SET dirty = 0, contact_base_on = x.base, cadence_days = x.cadence, "
    # The next check-in: cadence days after the later of the base and a skip's reset day.
    "next_due_on = CASE WHEN x.cadence IS NULL THEN NULL ELSE "
    "date(CASE WHEN contact_rhythm.reset_on > x.base THEN contact_rhythm.reset_on "
    "ELSE x.base END, '+' || x.cadence || ' days') END "
    "FROM ({rows}) AS x WHERE contact_rhythm.customer_id = x.id"
)

# The same rules for customers just bulk-inserted (first..last, no rhythm rows yet): their
# rows are inserted with their final values (`insert_new_rhythm`), not inserted dirty and
# then updated by `sync_dirty`. `{last}`: the loaded customer's last interaction day, or NULL.
_NEW_CUSTOMERS = "FROM customers c WHERE c.id BETWEEN :first AND :last"
_INSERT_NEW_SOURCES = _insert_sources(_NEW_CUSTOMERS)
_INSERT_NEW_RHYTHM = (
    "INSERT INTO contact_rhythm (customer_id, dirty, last_interaction_on, reset_on, "
    "contact_base_on, cadence_days, next_due_on) "
    "SELECT x.id, 0, x.last, NULL, x.base, x.cadence, CASE WHEN x.cadence IS NULL THEN NULL "
    "ELSE date(x.base, '+' || x.cadence || ' days') END FROM ("
    "SELECT c.id AS id, {last} AS last, "
    "coalesce({last}, c.customer_since, date(c.created_at, 'localtime')) AS base, "
    f"CASE WHEN {_ELIGIBLE} AND "
    f"{_NOT_OPTED_OUT.format(occasion=chr(39) + 'keep_in_touch' + chr(39))} "
    "THEN coalesce({override}, {tags}, {default}) END AS cadence "
    f"{_NEW_CUSTOMERS} ORDER BY c.id) AS x"
)
# The due counts of the rows just inserted (the count triggers set aside), added to the days'.
_ADD_NEW_DUE_COUNTS = (
    "INSERT INTO keep_in_touch_due_counts (due_on, customers) "
    "SELECT next_due_on, count(*) FROM contact_rhythm "
    "WHERE customer_id BETWEEN :first AND :last AND next_due_on IS NOT NULL "
    "GROUP BY next_due_on ON CONFLICT (due_on) DO UPDATE SET customers = customers + "
    "excluded.customers"
)


def insert_new_rhythm(session: Session, first_id: int, last_id: int,
                      settings: TouchpointSettings, last_interactions: str | None = None
                      ) -> None:
    """The derived rows of customers first_id..last_id, just bulk-inserted with the
    per-row triggers set aside (`triggers_set_aside` of BULK_INSERT_TRIGGERS and
    DUE_COUNT_TRIGGERS): their ask-for-feedback follow-ups, yearly sources and rhythm rows,
    the rhythm rows written once with their final values (what `mark_customers_dirty` and
    then `sync_dirty` give, whose UPDATE of every new row cost ~1.5-2 s of a 100,000-row
    import), and their due days added to the counts. `last_interactions`, on both engines:
    the SQL of a relation (a table's name, or a parenthesised SELECT) of (customer_id,
    occurred_on), one row per loaded customer that has an interaction, its last interaction
    day (SQLite's import passes its staging table, keyed by customer_id; PostgreSQL's a
    grouped read of the conversations just copied). Four statements whatever the number of
    customers (five with a feedback rhythm)."""
    params: dict[str, object] = {"first": first_id, "last": last_id}
    if feedback_rhythm.any_rhythm(session):
        feedback_rhythm.refresh(session, "SELECT id FROM customers WHERE id BETWEEN :first "
                                "AND :last", params)
    if _postgres(session):
        pgt.insert_new_rhythm(session, params, settings, last_interactions, DUE_COUNT_TRIGGERS)
        return
    session.execute(text(_INSERT_NEW_SOURCES), params)
    any_tag_cadence = session.scalar(
        select(m.Tag.id).where(m.Tag.cadence_days.is_not(None)).limit(1)
    ) is not None
    last = "NULL" if last_interactions is None else (
        f"(SELECT l.occurred_on FROM {last_interactions} l WHERE l.customer_id = c.id)")
    cadence = settings.cadence
    session.execute(
        text(_INSERT_NEW_RHYTHM.format(
            last=last, override=_OVERRIDE, tags=_TAG_CADENCE if any_tag_cadence else "NULL",
            default=_DEFAULT_CADENCE)),
        {**params, "key_account": cadence.key_account, "active": cadence.active,
         "lead": cadence.lead, "internal": cadence.internal})
    session.execute(text(_ADD_NEW_DUE_COUNTS), params)


def sync_dirty(session: Session, settings: TouchpointSettings) -> int:
    """Recompute the derived rows of every dirty customer, set-based; returns how many.

    Three statements whatever the number of customers (the ORM loop it replaced took ~10 s
    for 100,000): drop their yearly sources, insert the allowed ones, update their rhythm.
    First, while they are still marked, their ask-for-feedback follow-ups (issue 15; one
    look at the tags table when no tag sets that rhythm).
    """
    feedback_rhythm.refresh_dirty(session)
    if _postgres(session):
        return pgt.sync_dirty(session, settings)
    count = session.scalar(
        select(func.count()).select_from(m.ContactRhythm).where(m.ContactRhythm.dirty.is_(True))
    ) or 0
    if not count:
        return 0
    any_tag_cadence = session.scalar(
        select(m.Tag.id).where(m.Tag.cadence_days.is_not(None)).limit(1)
    ) is not None
    session.execute(
        text(
            "DELETE FROM touchpoint_sources WHERE customer_id IN "
            "(SELECT customer_id FROM contact_rhythm WHERE dirty IS 1)"
        )
    )
    session.execute(text(_INSERT_SOURCES))
    rows = _RHYTHM_ROWS.format(
        override=_OVERRIDE, tags=_TAG_CADENCE if any_tag_cadence else "NULL",
        default=_DEFAULT_CADENCE,
    )
    cadence = settings.cadence
    params = {"key_account": cadence.key_account, "active": cadence.active,
              "lead": cadence.lead, "internal": cadence.internal}
    update_rhythm = text(_UPDATE_RHYTHM.format(rows=rows))
    if count > _REBUILD_COUNTS_ABOVE:
        with triggers_set_aside(session, DUE_COUNT_TRIGGERS):
            session.execute(update_rhythm, params)
        rebuild_due_counts(session)
    else:
        session.execute(update_rhythm, params)
    logger.debug("Recomputed touchpoint data of %d customers", count)
    return count


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
    s = tables.touchpoint_sources.c
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
                select(func.count()).select_from(tables.touchpoint_sources).where(condition)
            ) or 0
    return total


def _yearly_count_sql(
    seg_start: date, seg_end: date, policy: LeapDayPolicy, params: dict[str, object], tag: str
) -> str | None:
    """`_segment_condition` as a plain-SQL count (binding its values into `params`)."""
    ranges = month_day_key_ranges(seg_start, seg_end, policy)
    if not ranges:
        return None
    in_range = []
    for i, (lo, hi) in enumerate(ranges):
        params[f"{tag}lo{i}"], params[f"{tag}hi{i}"] = lo, hi
        in_range.append(f"md_key BETWEEN :{tag}lo{i} AND :{tag}hi{i}")
    params[f"{tag}y"] = seg_start.year
    return (
        f"(SELECT count(*) FROM touchpoint_sources WHERE ({' OR '.join(in_range)}) "
        f"AND (year IS NULL OR year < :{tag}y OR (year = :{tag}y AND occasion NOT IN "
        f"('{_ANNIVERSARIES[0]}', '{_ANNIVERSARIES[1]}'))))"
    )


def window_totals(
    session: Session,
    windows: Sequence[tuple[date, date, date | None]],
    policy: LeapDayPolicy,
) -> list[int]:
    """For each window (start, end, open_start): yearly occurrences in [start, end] plus
    keep-in-touch check-ins and open follow-ups due in [open_start, end] (open_start None:
    any time before), before recorded states are taken off.

    The sum of `count_yearly`, `count_keep_in_touch` and `count_follow_ups`, with the same
    conditions and index range scans, as ONE statement of scalar sub-queries: the Today
    counts were ~12 small statements whose per-statement overhead (ORM compile, execute,
    result objects) cost several times the scans themselves.
    """
    params: dict[str, object] = {}
    columns = []
    for w, (start, end, open_start) in enumerate(windows):
        tag = f"w{w}"
        parts = [
            sql
            for s, (seg_start, seg_end) in enumerate(year_segments(start, end))
            if (sql := _yearly_count_sql(seg_start, seg_end, policy, params, f"{tag}s{s}"))
        ]
        params[f"{tag}end"] = end.isoformat()
        if open_start is None:
            due = f"<= :{tag}end"
        else:
            params[f"{tag}start"] = open_start.isoformat()
            due = f"BETWEEN :{tag}start AND :{tag}end"
        parts.append(
            f"(SELECT coalesce(sum(customers), 0) FROM keep_in_touch_due_counts "
            f"WHERE due_on {due})"
        )
        # count_follow_ups: open, due, an eligible customer who has not opted out.
        parts.append(
            "(SELECT count(*) FROM follow_ups f JOIN customers c ON c.id = f.customer_id "
            f"WHERE f.open IS 1 AND f.due_on {due} AND c.archived_at IS NULL "
            "AND ((c.do_not_contact IS 0 AND c.status != 'lost') "
            "OR f.occasion = 'complaint_checkback' "
            "OR (f.occasion = 'win_back' AND c.do_not_contact IS 0)) AND NOT EXISTS "
            "(SELECT 1 FROM touchpoint_opt_outs o WHERE o.customer_id = f.customer_id "
            "AND o.occasion = f.occasion))"
        )
        columns.append(" + ".join(parts))
    row = session.execute(_text(_sql(session, "SELECT " + ", ".join(columns))), params).one()
    return [int(value) for value in row]


def yearly_counts_on(session: Session, days: Sequence[date], policy: LeapDayPolicy,
                     occasions: Sequence[Occasion]) -> list[list[int]]:
    """For each of `days`, how many yearly occurrences of each of `occasions` fall on it,
    before recorded states are taken off: covering-index counts, one statement."""
    params: dict[str, object] = {}
    columns = []
    for n, day in enumerate(days):
        for o, occasion in enumerate(occasions):
            sql = _yearly_count_sql(day, day, policy, params, f"d{n}o{o}")
            params[f"d{n}o{o}occ"] = occasion.value
            columns.append("0" if sql is None else f"{sql[:-1]} AND occasion = :d{n}o{o}occ)")
    row = [int(value) for value in session.execute(
        _text("SELECT " + ", ".join(columns)), params).one()]
    width = len(occasions)
    return [row[n * width:(n + 1) * width] for n in range(len(days))]


class YearlyHit(NamedTuple):
    """A yearly source row of a list read. A named tuple, not a frozen dataclass: a Today
    view builds ~600 of them per call, and a frozen dataclass's __init__ (one
    object.__setattr__ per field) cost ~3x a tuple's (issue 13, Today 30 days)."""

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
    offset: int = 0,
    customer_ids: Collection[int] | None = None,
    occasions: Collection[Occasion] | None = None,
    not_fired_for: int | None = None,
    shown: Shown | None = None,
) -> list[YearlyHit]:
    """Yearly sources occurring in [start, end], in list order (OCCASION_RANK), after
    skipping the first `offset` of them (a page of the Today list); `customer_ids`: only
    those customers' (the few a recorded state names); `occasions`: only those;
    `not_fired_for`: only occurrences not yet in that staff member's reminder log;
    `shown`: only occurrences no recorded state hides."""
    s, c = tables.touchpoint_sources.c, tables.customers.c
    hits: list[YearlyHit] = []
    skip = offset
    rank = _RANKS["yearly"]
    for segment in year_segments(start, end):
        condition = _segment_condition(*segment, policy)
        if condition is None:
            continue
        filters = [condition]
        if customer_id is not None:
            filters.append(s.customer_id == customer_id)
        if customer_ids is not None:
            filters.append(s.customer_id.in_(customer_ids))
        if occasions is not None:
            filters.append(s.occasion.in_([o.value for o in occasions]))
        if not_fired_for is not None:
            filters.append(_not_fired(
                session, _yearly_key_sql(session, segment[0].year, policy), not_fired_for))
        if shown is not None:
            filters.append(_not_hidden_yearly(session, segment[0].year, policy, shown))
        if skip:
            # A whole year segment before the page: counted (a covering-index range count),
            # not read row by row.
            counted = select(func.count()).select_from(tables.touchpoint_sources).where(
                *filters)
            in_segment = session.scalar(counted) or 0
            if in_segment <= skip:
                skip -= in_segment
                continue
        statement = (
            select(s.customer_id, c.display_name, s.occasion, s.source_id, s.md_key, s.year,
                   s.label)
            .join(tables.customers, c.id == s.customer_id)
            .where(*filters)
            .order_by(s.md_key, rank, c.sort_name, s.customer_id, func.coalesce(s.source_id, 0))
        )
        if skip:
            statement = statement.offset(skip)
            skip = 0
        if limit is not None:
            statement = statement.limit(limit - len(hits))
        # .all(): one fetch of the rows, not one per row (the result's iteration).
        for cid, name, occasion, sid, md_key, year, label in session.execute(statement).all():
            hits.append(
                YearlyHit(cid, name, _OCCASION_OF[occasion], sid, md_key // 100, md_key % 100,
                          year, label, segment)
            )
        if limit is not None and len(hits) >= limit:
            break
    return hits


# --- keep in touch -------------------------------------------------------------------------


class RhythmHit(NamedTuple):
    """A keep-in-touch row of a list read (a named tuple, as `YearlyHit`)."""

    customer_id: int
    display_name: str
    next_due_on: date
    contact_base_on: date
    cadence_days: int
    last_interaction_on: date | None


def count_keep_in_touch(session: Session, start: date | None, end: date) -> int:
    """Customers due for a check-in in [start, end] (start None: any time before): a sum
    over the per-day counts, so 97,000 overdue customers cost a few hundred rows, not 97,000."""
    d = tables.keep_in_touch_due_counts.c
    condition = d.due_on <= end if start is None else d.due_on.between(start, end)
    return session.scalar(select(func.sum(d.customers)).where(condition)) or 0


def keep_in_touch_hits(
    session: Session,
    start: date | None,
    end: date,
    limit: int | None = None,
    customer_id: int | None = None,
    offset: int = 0,
    customer_ids: Collection[int] | None = None,
    not_fired_for: int | None = None,
    shown: Shown | None = None,
) -> list[RhythmHit]:
    """Customers whose next check-in is due in [start, end] (start None: any time before),
    after skipping the first `offset` (a page of the Today list); `customer_ids`: only
    those customers; `not_fired_for`: only check-ins not yet in that staff member's
    reminder log; `shown`: only check-ins no recorded state hides."""
    r, c = tables.contact_rhythm.c, tables.customers.c
    condition = r.next_due_on <= end if start is None else r.next_due_on.between(start, end)
    statement = (
        select(r.customer_id, c.display_name, r.next_due_on, r.contact_base_on,
               r.cadence_days, r.last_interaction_on)
        .join(tables.customers, c.id == r.customer_id)
        .where(condition)
        .order_by(r.next_due_on, c.sort_name, r.customer_id)
    )
    if customer_id is not None:
        statement = statement.where(r.customer_id == customer_id)
    if customer_ids is not None:
        statement = statement.where(r.customer_id.in_(customer_ids))
    statement = _unhidden_page(session, statement, _keep_in_touch_key_sql(session),
                               not_fired_for, shown, offset, limit)
    return [RhythmHit(*row) for row in session.execute(statement).all()]


def _unhidden_page(session: Session, statement: Select, key_sql: str,
                   not_fired_for: int | None, shown: Shown | None, offset: int,
                   limit: int | None) -> Select:
    """A keep-in-touch or follow-up read narrowed by its occurrence key (`key_sql`): to
    those not yet in `not_fired_for`'s reminder log, to those no recorded state hides
    (`shown`), then to the page [offset, offset+limit)."""
    if not_fired_for is not None:
        statement = statement.where(_not_fired(session, key_sql, not_fired_for))
    if shown is not None:
        statement = statement.where(_not_hidden_by_key(session, key_sql, shown))
    if offset:
        statement = statement.offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return statement


# --- one-off follow-ups --------------------------------------------------------------------


def _eligible_customer() -> object:
    c = tables.customers.c
    return and_(c.do_not_contact.is_(False), c.archived_at.is_(None),
                c.status != Status.LOST.value)


def _eligible_for_follow_up() -> object:
    """`_eligible_customer`, except that a complaint check-back is for every customer who is
    not archived (internal, lost and do-not-contact included: the complaint is still open
    with them, issue 15)."""
    c, f = tables.customers.c, tables.follow_ups.c
    return or_(_eligible_customer(),
               and_(f.occasion == Occasion.COMPLAINT_CHECKBACK.value, c.archived_at.is_(None)),
               # A win-back is for a lost customer by definition (issue 16).
               and_(f.occasion == Occasion.WIN_BACK.value, c.archived_at.is_(None),
                    c.do_not_contact.is_(False)))


def _not_opted_out() -> object:
    o, f = tables.touchpoint_opt_outs.c, tables.follow_ups.c
    return ~select(o.customer_id).where(
        o.customer_id == f.customer_id, o.occasion == f.occasion
    ).exists()


def follow_up_hits(
    session: Session,
    start: date | None,
    end: date,
    limit: int | None = None,
    customer_id: int | None = None,
    offset: int = 0,
    customer_ids: Collection[int] | None = None,
    occasions: Collection[Occasion] | None = None,
    not_fired_for: int | None = None,
    shown: Shown | None = None,
) -> list[tuple[Row, str]]:
    """Open follow-ups due in [start, end] of customers who may be contacted (rows with a
    follow-up's id, customer_id, occasion, due_on, note and source_id), with names,
    after skipping the first `offset` (a page of the Today list); `customer_ids`: only
    those customers; `occasions`: only those; `not_fired_for`: only occurrences not yet
    in that staff member's reminder log; `shown`: only those no recorded state hides."""
    f, c = tables.follow_ups.c, tables.customers.c
    due = f.due_on <= end if start is None else f.due_on.between(start, end)
    # Columns of the tables, not the FollowUp entity: the rows are read, never changed (ORM
    # loading was most of a Today section's follow-up read, usually of a few rows).
    statement = (
        select(f.id, f.customer_id, f.occasion, f.due_on, f.note, f.source_id, c.display_name)
        .join(tables.customers, c.id == f.customer_id)
        .where(f.open.is_(True), due, _eligible_for_follow_up(), _not_opted_out())
        .order_by(f.due_on, _RANKS["follow_ups"], c.sort_name, f.customer_id, f.id)
    )
    if customer_id is not None:
        statement = statement.where(f.customer_id == customer_id)
    if customer_ids is not None:
        statement = statement.where(f.customer_id.in_(customer_ids))
    if occasions is not None:
        statement = statement.where(f.occasion.in_([o.value for o in occasions]))
    statement = _unhidden_page(session, statement, _follow_up_key_sql(session),
                               not_fired_for, shown, offset, limit)
    return [(row, row.display_name) for row in session.execute(statement).all()]


def count_follow_ups(session: Session, start: date | None, end: date) -> int:
    f = tables.follow_ups.c
    due = f.due_on <= end if start is None else f.due_on.between(start, end)
    return session.scalar(
        select(func.count())
        .select_from(tables.follow_ups)
        .join(tables.customers, tables.customers.c.id == f.customer_id)
        .where(f.open.is_(True), due, _eligible_for_follow_up(), _not_opted_out())
    ) or 0


# --- recorded states -----------------------------------------------------------------------


def state_versions(session: Session, keys: Sequence[str]) -> dict[str, int]:
    """The versions of the recorded states of `keys` (occurrence keys; few have one), by
    primary key, in one statement: on SQLite the keys go in as ONE bound JSON array read by
    `json_each`, on PostgreSQL as one bound text split by the server
    (store.postgres_touchpoints.state_versions).
    As an expanding `IN` of one bound value per key, SQLAlchemy rendered the ~800 bound
    names of a Today view again on every call (~3 ms of CPU, issue 13)."""
    if not keys:
        return {}
    if _postgres(session):
        return pgt.state_versions(session, keys)
    rows = session.execute(_text(
        "SELECT occurrence_key, version FROM touchpoint_states WHERE occurrence_key IN "
        "(SELECT value FROM json_each(:keys))"), {"keys": json.dumps(list(keys))}).all()
    return dict(rows)


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


def hiding_state_rows(
    session: Session, today: date, since: date, customer_id: int | None = None,
) -> list[tuple[int, str, date, str]]:
    """`hiding_states` as plain rows (customer_id, occasion, occurrence_on, occurrence_key),
    without building ORM objects: the Today counts read these on every refresh. With
    `customer_id`, that customer's only (a profile's Coming up: every customer's ~500 rows
    and their dictionary were half of its read)."""
    # Two index range reads: as one OR, SQLite read every done state through the state
    # index (6,300 at 100,000 demo customers, ~8 ms) to keep the ~500 of the look-back.
    # `+state` keeps the first part on the occurrence-date index.
    state = "state" if _postgres(session) else "+state"
    values: dict[str, object] = {"since": since.isoformat(), "today": today.isoformat()}
    one = ""
    if customer_id is not None:  # (SQLite reads the customer's index: their few states)
        one = "customer_id = :customer_id AND "
        values["customer_id"] = customer_id
    rows = session.execute(
        _text(
            "SELECT customer_id, occasion, occurrence_on, occurrence_key FROM touchpoint_states "
            f"WHERE {one}occurrence_on >= :since AND {state} IN ('done', 'skipped') "
            "UNION ALL "
            "SELECT customer_id, occasion, occurrence_on, occurrence_key FROM touchpoint_states "
            f"WHERE {one}state = 'snoozed' AND snoozed_until > :today"
        ),
        values,
    ).all()  # one fetch of the few hundred rows, not one per row
    return [(cid, occasion, on if isinstance(on, date) else date.fromisoformat(on), key)
            for cid, occasion, on, key in rows]


_FOLLOW_UP_ELIGIBLE = (
    "follow_ups.open IS 1 AND c.archived_at IS NULL "
    "AND ((c.do_not_contact IS 0 AND c.status != 'lost') "
    "OR follow_ups.occasion = 'complaint_checkback' "
    "OR (follow_ups.occasion = 'win_back' AND c.do_not_contact IS 0)) AND NOT EXISTS "
    "(SELECT 1 FROM touchpoint_opt_outs o WHERE o.customer_id = follow_ups.customer_id "
    "AND o.occasion = follow_ups.occasion)"
)


def real_hidden_days(
    session: Session,
    today: date,
    since: date,
    first: date,
    last: date,
    open_first: date | None,
    policy: LeapDayPolicy,
) -> list[tuple[bool, date]]:
    """(yearly, day) of each occurrence a recorded state hides today (look-back from
    `since`) that really occurs: yearly ones dated in [first, last], the others in
    [open_first, last] (open_first None: any earlier day). What the Today counts take off
    the window totals.

    One statement from the states' side (a few hundred), each probing its source by index
    for the occurrence it names, with the lists' own conditions (`_yearly_date_sql`, the
    keys, the follow-ups' eligibility): it replaced reading every source row of the
    customers those states name, with names and order, to match them in Python."""
    days: dict[str, date] = {"rh_since": since, "rh_today": today, "rh_last": last}
    years: dict[str, int] = {}
    hiding = (
        "SELECT customer_id, occasion, occurrence_on, occurrence_key FROM touchpoint_states "
        f"WHERE occurrence_on >= :rh_since AND {'state' if _postgres(session) else '+state'} "
        "IN ('done', 'skipped') UNION ALL "
        "SELECT customer_id, occasion, occurrence_on, occurrence_key FROM touchpoint_states "
        "WHERE state = 'snoozed' AND snoozed_until > :rh_today"
    )
    yearly_in = ", ".join(f"'{o.value}'" for o in sorted(YEARLY_OCCASIONS))
    one_off_in = ", ".join(f"'{o.value}'" for o in sorted(ONE_OFF_OCCASIONS))
    parts = []
    for n, (seg_start, seg_end) in enumerate(year_segments(first, last)):
        year = seg_start.year
        day = _yearly_date_sql(session, year, policy)
        days[f"rh_s{n}"], days[f"rh_e{n}"], years[f"rh_y{n}"] = seg_start, seg_end, year
        parts.append(
            "SELECT 1 AS yearly, h.occurrence_on FROM h WHERE h.occasion IN "
            f"({yearly_in}) AND h.occurrence_on BETWEEN :rh_s{n} AND :rh_e{n} AND EXISTS "
            "(SELECT 1 FROM touchpoint_sources WHERE touchpoint_sources.customer_id = "
            "h.customer_id AND touchpoint_sources.occasion = h.occasion "
            f"AND {day} = h.occurrence_on AND (touchpoint_sources.year IS NULL "
            f"OR touchpoint_sources.year < :rh_y{n} OR (touchpoint_sources.year = :rh_y{n} "
            f"AND touchpoint_sources.occasion NOT IN ('{_ANNIVERSARIES[0]}', "
            f"'{_ANNIVERSARIES[1]}'))))")
    window = "h.occurrence_on <= :rh_last"
    if open_first is not None:
        days["rh_open"] = open_first
        window += " AND h.occurrence_on >= :rh_open"
    parts.append(
        "SELECT 0 AS yearly, h.occurrence_on FROM h WHERE h.occasion = "
        f"'{Occasion.KEEP_IN_TOUCH.value}' AND {window} AND EXISTS (SELECT 1 FROM "
        "contact_rhythm WHERE contact_rhythm.customer_id = h.customer_id AND "
        f"{_keep_in_touch_key_sql(session)} = h.occurrence_key)")
    parts.append(
        f"SELECT 0 AS yearly, h.occurrence_on FROM h WHERE h.occasion IN ({one_off_in}) "
        f"AND {window} AND EXISTS (SELECT 1 FROM follow_ups JOIN customers c ON "
        "c.id = follow_ups.customer_id WHERE follow_ups.customer_id = h.customer_id AND "
        f"{_follow_up_key_sql(session)} = h.occurrence_key AND {_FOLLOW_UP_ELIGIBLE})")
    sql = f"WITH h AS ({hiding}) " + " UNION ALL ".join(parts)
    rows = session.execute(_text(_sql(session, sql)).bindparams(
        *_dates(**days), *(bindparam(name, year) for name, year in years.items()))).all()
    return [(bool(yearly), on if isinstance(on, date) else date.fromisoformat(on))
            for yearly, on in rows]
