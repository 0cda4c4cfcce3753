"""The ask-for-feedback rhythm per tag, kept as open `ask_feedback` follow-ups (issue 15).

"Ask key accounts for feedback every 6 months": a customer with a tag that sets a rhythm is
due to be asked `months` months (the shortest among their tags) after the later of their
last ask (`feedback_asks`, skipped asks included) and the last feedback item received; a
customer never asked and never heard from counts from the customer-since day, else the day
the record was made (`core.feedback.feedback_ask_due` is the same rule in Python).

Why a follow-up row and not a fourth source for Today: the follow-up path already gives the
Today sections, counts, paging, `due --json`, done/snooze/skip and the reminder pass, all as
index ranges. So the rhythm is computed here in SQL, set-based, for the customers whose
inputs changed, and written as at most one open `ask_feedback` follow-up per customer (its
occurrence key names the customer and the due day). Which customers changed: those whose
touchpoint rows are dirty (their tags, status or customer-since day changed: the rhythm
triggers of migration 0002 mark them), those of a tag whose rhythm was set, and a customer
who was asked or gave feedback (the services say so).

Everything runs in the caller's unit of work; nothing commits here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Boolean, DateTime, bindparam, select, text
from sqlalchemy.orm import Session

from crmcompanion.store import models as m
from crmcompanion.store.database import utcnow
from crmcompanion.store.postgres_touchpoints import local_zone

logger = logging.getLogger(__name__)

ASK_FEEDBACK = "ask_feedback"
_CHUNK = 500

# The customers a refresh covers, as a sub-query of customer ids.
DIRTY = "SELECT customer_id FROM contact_rhythm WHERE dirty IS 1"
OF_TAG = "SELECT customer_id FROM customer_tags WHERE tag_id = :tag_id"

# Each customer of `{who}` with a rhythm: its months (the shortest among its tags).
_RHYTHM = (
    "rhythm AS (SELECT ct.customer_id AS cid, min(t.feedback_months) AS months "
    "FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id "
    "WHERE t.feedback_months IS NOT NULL AND ct.customer_id IN ({who}) "
    "GROUP BY ct.customer_id)"
)
# ask_rhythm_base: the later of the last ask and the last feedback item (its local day),
# else customer-since, else the local creation day; then add_months, clamped to the month.
_SQLITE_DESIRED = (
    "based AS (SELECT r.cid AS cid, r.months AS months, coalesce(nullif(max("
    "coalesce((SELECT max(a.asked_on) FROM feedback_asks a WHERE a.customer_id = r.cid), ''), "
    "coalesce((SELECT date(max(f.created_at), 'localtime') FROM feedback_items f "
    "WHERE f.customer_id = r.cid), '')), ''), "
    "c.customer_since, date(c.created_at, 'localtime')) AS base "
    "FROM rhythm r JOIN customers c ON c.id = r.cid), "
    # SQLite's '+N months' overflows (31 Aug + 6 months = 3 March): when the day of the
    # month changed, the last day of the month before is the clamped answer.
    "desired AS (SELECT cid, months, CASE WHEN strftime('%d', date(base, '+' || months || "
    "' months')) = strftime('%d', base) THEN date(base, '+' || months || ' months') "
    "ELSE date(base, '+' || months || ' months', 'start of month', '-1 day') END AS due "
    "FROM based)"
)
_POSTGRES_DESIRED = (
    "based AS (SELECT r.cid AS cid, r.months AS months, coalesce(greatest("
    "(SELECT max(a.asked_on) FROM feedback_asks a WHERE a.customer_id = r.cid), "
    "(SELECT max(timezone(CAST(:zone AS text), f.created_at AT TIME ZONE 'UTC'))::date "
    "FROM feedback_items f WHERE f.customer_id = r.cid)), "
    "c.customer_since, (timezone(CAST(:zone AS text), c.created_at AT TIME ZONE 'UTC'))::date"
    ") AS base FROM rhythm r JOIN customers c ON c.id = r.cid), "
    # PostgreSQL's month interval is clamped to the month's last day already.
    "desired AS (SELECT cid, months, "
    "CAST(base + make_interval(months => months) AS date) AS due FROM based)"
)
# An open ask that no longer matches (another due day, the tag or its rhythm gone, a row
# moved over by a merge) is withdrawn: nothing was done about it, nothing is lost.
_DELETE = (
    "DELETE FROM follow_ups WHERE occasion = 'ask_feedback' AND open IS 1 "
    "AND customer_id IN ({who}) AND NOT EXISTS (SELECT 1 FROM desired d "
    "WHERE d.cid = follow_ups.customer_id AND d.due = follow_ups.due_on "
    "AND follow_ups.source_id = d.cid)"
)
_INSERT = (
    "INSERT INTO follow_ups (customer_id, occasion, due_on, note, source_id, open, created_at, "
    "created_by_id) SELECT d.cid, 'ask_feedback', d.due, 'How are things going? (every ' "
    "|| d.months || CASE WHEN d.months = 1 THEN ' month)' ELSE ' months)' END, d.cid, "
    ":open, :now, NULL FROM desired d WHERE NOT EXISTS (SELECT 1 FROM follow_ups f "
    "WHERE f.customer_id = d.cid AND f.occasion = 'ask_feedback' AND f.due_on = d.due)"
)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def any_rhythm(session: Session) -> bool:
    """Whether any tag sets a rhythm (a look at the small tags table)."""
    return session.execute(
        text("SELECT 1 FROM tags WHERE feedback_months IS NOT NULL LIMIT 1")).first() is not None


def refresh(session: Session, who: str, params: dict[str, object],
            now: datetime | None = None) -> None:
    """Bring the open `ask_feedback` follow-ups of the customers `who` selects (a sub-query
    of customer ids, with its `params`) in step with their rhythm: two set-based statements
    whatever their number. `now`: the creation time of new rows (naive UTC)."""
    now = now or utcnow()
    postgres = _postgres(session)
    desired = _POSTGRES_DESIRED if postgres else _SQLITE_DESIRED
    prefix = f"WITH {_RHYTHM.format(who=who)}, {desired} "
    values = dict(params)
    if postgres:
        values["zone"] = local_zone()

    def run(sql: str, extra: dict[str, object], *binds: object) -> None:
        statement = prefix + sql
        if postgres:  # SQLite's boolean test as PostgreSQL writes it
            statement = statement.replace(" IS 1", " IS TRUE")
        session.execute(text(statement).bindparams(*binds), {**values, **extra})

    run(_DELETE.format(who=who), {})
    run(_INSERT, {"open": True, "now": now},
        bindparam("open", type_=Boolean()), bindparam("now", type_=DateTime()))


def refresh_dirty(session: Session, now: datetime | None = None) -> None:
    """`refresh` for the customers whose touchpoint rows are dirty (before they are
    recomputed), when any tag sets a rhythm: one small look-up otherwise."""
    if any_rhythm(session):
        refresh(session, DIRTY, {}, now)


def refresh_customers(session: Session, customer_ids: Iterable[int],
                      now: datetime | None = None) -> None:
    """`refresh` for these customers (asked, or heard from), when any tag sets a rhythm."""
    ids = sorted(set(customer_ids))
    if not ids or not any_rhythm(session):
        return
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        marks = ", ".join(f":c{i}" for i in range(len(chunk)))
        refresh(session, marks, {f"c{i}": cid for i, cid in enumerate(chunk)}, now)


def refresh_tag(session: Session, tag_id: int, now: datetime | None = None) -> None:
    """`refresh` for everyone with this tag (its rhythm was just set, changed or removed)."""
    refresh(session, OF_TAG, {"tag_id": tag_id}, now)


def record_ask(session: Session, customer_id: int, asked_on: date, now: datetime,
               staff_id: int | None, skipped: bool = False) -> None:
    """Remember that the customer was asked (or the rhythm's ask skipped) on `asked_on`."""
    session.add(m.FeedbackAsk(customer_id=customer_id, asked_on=asked_on, skipped=skipped,
                              created_at=now, created_by_id=staff_id))
    session.flush()


def tag_rhythms(session: Session) -> dict[str, int]:
    """Tag name -> its ask-for-feedback rhythm in months, for the tags that set one."""
    rows = session.execute(select(m.Tag.name, m.Tag.feedback_months)
                           .where(m.Tag.feedback_months.is_not(None)).order_by(m.Tag.name))
    return {name: months for name, months in rows}
