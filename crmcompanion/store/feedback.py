"""Queries behind the voice of the customer: themes, item lists, vectors, word search, counts.

The feedback service composes these; they take the caller's session (one unit of work) and
return rows or plain tuples. Theme names are compared by `name_key` (case-folded), so
"Delivery" typed today joins the "delivery" of last month.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, delete, func, select, text
from sqlalchemy.orm import Session

from crmcompanion.core.feedback import normalise_theme
from crmcompanion.store import models as m

logger = logging.getLogger(__name__)


# --- themes ---------------------------------------------------------------------------------


def theme_ids(session: Session, names: Iterable[str]) -> list[int]:
    """The ids of themes `names` (normalised), creating the ones not stored yet; a theme keeps
    the spelling it was first typed with."""
    ids: list[int] = []
    for name in names:
        cleaned = normalise_theme(name)
        key = cleaned.casefold()
        found = session.scalar(select(m.Theme.id).where(m.Theme.name_key == key))
        if found is None:
            row = m.Theme(name=cleaned, name_key=key)
            session.add(row)
            session.flush()
            found = row.id
        if found not in ids:
            ids.append(found)
    return ids


def set_item_themes(session: Session, item_id: int, names: Iterable[str]) -> None:
    """Replace the item's themes with `names`."""
    wanted = theme_ids(session, names)
    session.execute(delete(m.FeedbackItemTheme).where(m.FeedbackItemTheme.item_id == item_id))
    session.add_all(m.FeedbackItemTheme(item_id=item_id, theme_id=t) for t in wanted)
    session.flush()


def add_item_themes(session: Session, item_id: int, names: Iterable[str]) -> None:
    """Add `names` to the item's themes (those it has already stay once)."""
    have = set(session.scalars(select(m.FeedbackItemTheme.theme_id)
                               .where(m.FeedbackItemTheme.item_id == item_id)))
    for theme_id in theme_ids(session, names):
        if theme_id not in have:
            session.add(m.FeedbackItemTheme(item_id=item_id, theme_id=theme_id))
            have.add(theme_id)
    session.flush()


def themes_of(session: Session, item_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each item's theme names, alphabetical (ignoring case)."""
    found: dict[int, list[str]] = {i: [] for i in item_ids}
    if not item_ids:
        return found
    link, theme = m.FeedbackItemTheme, m.Theme
    for start in range(0, len(item_ids), 900):
        chunk = list(item_ids[start:start + 900])
        rows = session.execute(
            select(link.item_id, theme.name).join(theme, theme.id == link.theme_id)
            .where(link.item_id.in_(chunk)).order_by(theme.name_key)
        )
        for item_id, name in rows:
            found[item_id].append(name)
    return found


def all_themes(session: Session) -> list[tuple[int, str]]:
    return [(i, n) for i, n in session.execute(
        select(m.Theme.id, m.Theme.name).order_by(m.Theme.name_key))]


# --- lists ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemRow:
    """One item with the names the lists show (customer, author)."""

    item: m.FeedbackItem
    customer: str
    author: str


def list_items(
    session: Session,
    *,
    kinds: Sequence[str] = (),
    status: str | None = None,
    theme: str | None = None,
    customer_id: int | None = None,
    include_merged: bool = False,
    limit: int | None = 500,
    ids: Sequence[int] | None = None,
) -> list[ItemRow]:
    """Items newest first, filtered; an unlinked public review's customer is its reviewer."""
    f = m.FeedbackItem
    statement = (
        select(f, m.Customer.display_name, m.Staff.name)
        .outerjoin(m.Customer, m.Customer.id == f.customer_id)
        .outerjoin(m.Staff, m.Staff.id == f.author_id)
        .order_by(f.created_at.desc(), f.id.desc())
    )
    if kinds:
        statement = statement.where(f.kind.in_(list(kinds)))
    if status is not None:
        statement = statement.where(f.status == status)
    if customer_id is not None:
        statement = statement.where(f.customer_id == customer_id)
    if ids is not None:
        statement = statement.where(f.id.in_(list(ids)))
    if not include_merged:
        statement = statement.where(f.merged_into_id.is_(None))
    if theme is not None:
        key = normalise_theme(theme).casefold()
        statement = statement.where(f.id.in_(
            select(m.FeedbackItemTheme.item_id).join(
                m.Theme, m.Theme.id == m.FeedbackItemTheme.theme_id)
            .where(m.Theme.name_key == key)))
    if limit is not None:
        statement = statement.limit(limit)
    return [ItemRow(item, name or item.reviewer, author or "")
            for item, name, author in session.execute(statement)]


def item_summaries(session: Session, ids: Sequence[int]
                   ) -> dict[int, tuple[int | None, str, str]]:
    """(customer id, customer name or reviewer, text) of comparable items `ids` (merged ones
    left out): plain rows, no ORM objects, for the similar-complaints list on every refresh."""
    if not ids:
        return {}
    f, c = m.FeedbackItem, m.Customer
    rows = session.execute(
        select(f.id, f.customer_id, func.coalesce(c.display_name, f.reviewer), f.text)
        .outerjoin(c, c.id == f.customer_id)
        .where(f.id.in_(list(ids)), f.merged_into_id.is_(None)))
    return {i: (cid, name or "", body) for i, cid, name, body in rows}


# --- vectors and word search -----------------------------------------------------------------

# What "similar complaints" compare a typed complaint with: complaints, and public reviews
# (which are often complaints nobody typed in).
SIMILAR_SQL = "(f.kind = 'complaint' OR f.source = 'public_review') AND f.merged_into_id IS NULL"


def save_vector(session: Session, item_id: int, model: str, vector: bytes) -> None:
    row = session.get(m.FeedbackVector, item_id)
    if row is None:
        session.add(m.FeedbackVector(item_id=item_id, model=model, vector=vector))
    else:
        row.model, row.vector = model, vector
    session.flush()


def stored_vectors(session: Session, model: str) -> list[tuple[int, bytes]]:
    """(item id, vector bytes) of every comparable item encoded by `model`."""
    return [(i, v) for i, v in session.execute(text(
        "SELECT f.id, v.vector FROM feedback_items f JOIN feedback_vectors v ON v.item_id = f.id "
        f"WHERE v.model = :model AND {SIMILAR_SQL} ORDER BY f.id"), {"model": model})]


def items_without_vector(session: Session, model: str, limit: int = 2000
                         ) -> list[tuple[int, str]]:
    """Comparable items not encoded by `model` yet (imported, or a model change)."""
    return [(i, t) for i, t in session.execute(text(
        "SELECT f.id, f.text FROM feedback_items f LEFT JOIN feedback_vectors v "
        f"ON v.item_id = f.id AND v.model = :model WHERE v.item_id IS NULL AND {SIMILAR_SQL} "
        "ORDER BY f.id LIMIT :limit"), {"model": model, "limit": limit})]


_WORD = re.compile(r"\w{2,}")


def _query_words(query: str) -> list[str]:
    """The words worth matching: content words (stop words of four languages dropped), or
    every word of two letters or more when the text is nothing but stop words."""
    from crmcompanion.core.similarity import content_words  # loads numpy: only when asked

    return content_words(query) or [w.casefold() for w in _WORD.findall(query)]


def lexical_similar(session: Session, query: str, limit: int) -> list[tuple[int, float]]:
    """(item id, score) of comparable items sharing words with `query`, best first: FTS5
    bm25 on SQLite (score = -bm25, higher is better); elsewhere a count of shared words."""
    words = list(dict.fromkeys(_query_words(query)))[:32]
    if not words:
        return []
    if session.get_bind().dialect.name == "sqlite":
        # Each word quoted (no FTS syntax from the user's text), any of them may match.
        match = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
        rows = session.execute(text(
            "SELECT f.id, -bm25(feedback_search) AS score FROM feedback_search "
            "JOIN feedback_items f ON f.id = feedback_search.rowid "
            f"WHERE feedback_search MATCH :match AND {SIMILAR_SQL} "
            "ORDER BY bm25(feedback_search), f.id LIMIT :limit"),
            {"match": match, "limit": limit})
        return [(i, float(s)) for i, s in rows]
    return word_count_similar(session, words, limit)


def word_count_similar(session: Session, words: Sequence[str], limit: int
                       ) -> list[tuple[int, float]]:
    """The fallback where there is no FTS5 (PostgreSQL): (item id, how many of `words` its
    text holds), most first; plain SQL every database runs."""
    f = m.FeedbackItem
    # Other databases: how many of the words the text holds (no FTS5 there).
    score = sum(case((func.lower(f.text).contains(w), 1), else_=0) for w in words)
    rows = session.execute(
        select(f.id, score).where(text(SIMILAR_SQL.replace("f.", "feedback_items.")), score > 0)
        .order_by(score.desc(), f.id).limit(limit))
    return [(i, float(s)) for i, s in rows]


# --- the themes view ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeCounts:
    theme_id: int
    name: str
    customers: int
    items: int
    open_complaints: int
    resolved_complaints: int


_OPEN = ("new", "acknowledged", "planned", "in_progress", "not_satisfied", "reopened")
_RESOLVED = ("resolved", "satisfied")


def theme_counts(session: Session) -> list[ThemeCounts]:
    """Per theme: customers affected (unlinked reviews count one each), items, open and
    resolved complaints; most customers first."""
    rows = session.execute(text(
        "SELECT t.id, t.name, "
        "count(DISTINCT coalesce(CAST(f.customer_id AS TEXT), 'r' || f.id)), count(f.id), "
        f"sum(CASE WHEN f.kind = 'complaint' AND f.status IN {_OPEN!r} THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN f.kind = 'complaint' AND f.status IN {_RESOLVED!r} THEN 1 ELSE 0 END) "
        "FROM themes t JOIN feedback_item_themes l ON l.theme_id = t.id "
        "JOIN feedback_items f ON f.id = l.item_id WHERE f.merged_into_id IS NULL "
        "GROUP BY t.id, t.name ORDER BY 3 DESC, t.name"))
    return [ThemeCounts(i, n, int(c), int(k), int(o or 0), int(r or 0))
            for i, n, c, k, o, r in rows]


def theme_months(session: Session, since: datetime) -> list[tuple[int, int, int, int]]:
    """(theme id, year, month, items) for items created since `since` (naive UTC)."""
    f, link = m.FeedbackItem, m.FeedbackItemTheme
    rows = session.execute(
        select(link.theme_id, f.created_at).join(f, f.id == link.item_id)
        .where(f.created_at >= since, f.merged_into_id.is_(None)))
    counts: dict[tuple[int, int, int], int] = {}
    for theme_id, created in rows:
        key = (theme_id, created.year, created.month)
        counts[key] = counts.get(key, 0) + 1
    return [(t, y, mo, n) for (t, y, mo), n in counts.items()]


def theme_texts(session: Session) -> dict[int, list[str]]:
    """Every item's text per theme id (for the distinctive words)."""
    found: dict[int, list[str]] = {}
    f, link = m.FeedbackItem, m.FeedbackItemTheme
    for theme_id, body in session.execute(
            select(link.theme_id, f.text).join(f, f.id == link.item_id)
            .where(f.merged_into_id.is_(None))):
        found.setdefault(theme_id, []).append(body)
    return found


def overdue_plans(session: Session, today: date) -> list[tuple[m.FeedbackItem, m.ComplaintDetail,
                                                              str]]:
    """Open complaints whose plan's target date is before `today`, the oldest first."""
    f, d = m.FeedbackItem, m.ComplaintDetail
    rows = session.execute(
        select(f, d, m.Customer.display_name).join(d, d.item_id == f.id)
        .outerjoin(m.Customer, m.Customer.id == f.customer_id)
        .where(d.target_date < today, f.status.in_(list(_OPEN)))
        .order_by(d.target_date, f.id))
    return [(item, detail, name or item.reviewer) for item, detail, name in rows]


# --- bulk (the demo) ------------------------------------------------------------------------


def next_item_id(session: Session) -> int:
    return int(session.scalar(select(func.max(m.FeedbackItem.id))) or 0) + 1


def _cell(value: object) -> object:
    # The storage forms SQLAlchemy's SQLite types write (so ORM reads parse them back).
    kind = type(value)
    if value is None or kind is str or kind is int:
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def insert_rows(session: Session, table: str, rows: Sequence[dict[str, object]]) -> None:
    """Many rows of one feedback (or follow-up) table in one DB-API executemany: the demo
    writes a few thousand at once inside its own transaction, and SQLAlchemy's per-row
    parameter processing cost more than SQLite's inserts."""
    if not rows:
        return
    if session.get_bind().dialect.name != "sqlite":
        # Elsewhere (PostgreSQL) the column types convert the values (booleans, dates): the
        # SQLite storage forms below would be refused. Explicit ids: the caller's bulk load
        # advances the sequences afterwards.
        session.execute(m.Base.metadata.tables[table].insert(), list(rows))
        return
    columns = [c.name for c in m.Base.metadata.tables[table].columns if c.name in rows[0]]
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' for _ in columns)})")
    session.connection().exec_driver_sql(
        sql, [tuple(_cell(row[c]) for c in columns) for row in rows])
