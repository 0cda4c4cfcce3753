"""Customer persistence: ORM mapping to plain records, the search index, tags and paging.

Everything here runs inside a session given by a unit of work; nothing commits on its own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    delete,
    exists,
    false,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload

from crmcompanion.core import customer as c
from crmcompanion.core.dates import LeapDayPolicy, month_day_key, next_occurrence
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.text import digits, fts_query, indexable, phone_tokens, sort_key
from crmcompanion.store import models as m
from crmcompanion.store import postgres_search as pg
from crmcompanion.store.database import SEARCH_TERMS
from crmcompanion.store.fts_structure import STRUCTURE_ROWID, level_sizes
from crmcompanion.store.rows import FLAG_MARK, search_name

logger = logging.getLogger(__name__)

# Bound parameters per IN (...) list: far below SQLite's 32,766 variables.
_IN_CHUNK = 5000


def to_record(row: m.Customer, tags: Sequence[str],
              staff_names: dict[int, str] | None = None) -> c.Customer:
    names = staff_names or {}
    return c.Customer(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        display_name=row.display_name,
        company=row.company,
        emails=tuple(c.EmailAddress(e.address, e.label) for e in row.emails),
        phones=tuple(c.PhoneNumber(p.number, p.label) for p in row.phones),
        address=c.PostalAddress(row.street, row.city, row.region, row.postcode, row.country),
        tags=tuple(tags),
        status=c.Status(row.status),
        kind=c.Kind(row.kind),
        key_account=row.key_account,
        preferred_channel=c.Channel(row.preferred_channel) if row.preferred_channel else None,
        customer_since=row.customer_since,
        notes=row.notes,
        special_dates=tuple(
            c.SpecialDate(c.SpecialDateKind(s.kind), s.month, s.day, s.year, s.label)
            for s in row.special_dates
        ),
        archived_at=row.archived_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        source_uid=row.source_uid,
        created_by_name=names.get(row.created_by_id or 0, ""),
        updated_by_name=names.get(row.updated_by_id or 0, ""),
    )


def staff_names(session: Session, staff_ids: Iterable[int | None]) -> dict[int, str]:
    """Staff names by id, for "created / last changed by" (one small query)."""
    ids = sorted({i for i in staff_ids if i is not None})
    if not ids:
        return {}
    return dict(session.execute(select(m.Staff.id, m.Staff.name).where(m.Staff.id.in_(ids))).all())


def tags_by_customer(session: Session, customer_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(customer_ids)
    result: dict[int, list[str]] = {cid: [] for cid in ids}
    if not ids:
        return result
    rows = session.execute(
        select(m.CustomerTag.customer_id, m.Tag.name)
        .join(m.Tag, m.Tag.id == m.CustomerTag.tag_id)
        .where(m.CustomerTag.customer_id.in_(ids))
        .order_by(m.Tag.name_key)
    )
    for customer_id, name in rows:
        result[customer_id].append(name)
    return result


def load_customers(session: Session, ids: Sequence[int]) -> list[c.Customer]:
    """Records for ids, in the order given; unknown ids are left out."""
    if not ids:
        return []
    rows = session.scalars(
        select(m.Customer)
        .where(m.Customer.id.in_(ids))
        .options(
            selectinload(m.Customer.emails),
            selectinload(m.Customer.phones),
            selectinload(m.Customer.special_dates),
        )
    ).all()
    by_id = {row.id: row for row in rows}
    tags = tags_by_customer(session, by_id)
    names = staff_names(session, [s for r in rows for s in (r.created_by_id, r.updated_by_id)])
    return [to_record(by_id[i], tags[i], names) for i in ids if i in by_id]


def ensure_tags(session: Session, names: Iterable[str]) -> dict[str, int]:
    """Tag ids by folded name, creating missing tags (first spelling wins)."""
    wanted = {name.casefold(): name for name in names}
    if not wanted:
        return {}
    existing = dict(
        session.execute(select(m.Tag.name_key, m.Tag.id).where(m.Tag.name_key.in_(wanted)))
        .all()
    )
    for key, name in wanted.items():
        if key not in existing:
            tag = m.Tag(name=name, name_key=key)
            session.add(tag)
            session.flush()
            existing[key] = tag.id
    return existing


def uid_taken(session: Session, uid: str, customer_id: int | None = None) -> bool:
    """Whether another customer than `customer_id` has this UID (UIDs are unique)."""
    return bool(uid) and session.scalar(select(m.Customer.id).where(
        m.Customer.source_uid == uid, m.Customer.id != (customer_id or 0)).limit(1)) is not None


def apply_draft(row: m.Customer, draft: c.CustomerDraft) -> None:
    """Copy a validated draft onto an ORM row, including the denormalised list columns."""
    row.first_name = draft.first_name
    row.last_name = draft.last_name
    row.display_name = draft.effective_display_name()
    row.company = draft.company
    row.sort_name = sort_key(row.display_name)
    row.sort_company = sort_key(draft.company)
    row.primary_email = draft.emails[0].address if draft.emails else ""
    row.primary_phone = draft.phones[0].number if draft.phones else ""
    row.tags_text = ", ".join(draft.tags)
    row.street = draft.address.street
    row.city = draft.address.city
    row.region = draft.address.region
    row.postcode = draft.address.postcode
    row.country = draft.address.country
    row.status = draft.status.value
    row.kind = draft.kind.value
    row.key_account = draft.key_account
    row.preferred_channel = draft.preferred_channel.value if draft.preferred_channel else None
    row.customer_since = draft.customer_since
    row.notes = draft.notes
    # Every customer has its own UID from creation on (see core.customer.new_uids); a draft
    # without one (a form, the CLI) keeps the stored one.
    row.source_uid = draft.source_uid or row.source_uid or c.new_uid()
    row.emails = [
        m.CustomerEmail(position=i, label=e.label, address=e.address, address_key=e.address.lower())
        for i, e in enumerate(draft.emails)
    ]
    row.phones = [
        m.CustomerPhone(position=i, label=p.label, number=p.number, digits=digits(p.number))
        for i, p in enumerate(draft.phones)
    ]
    row.special_dates = [
        m.SpecialDate(
            kind=s.kind.value,
            label=s.label,
            month=s.month,
            day=s.day,
            year=s.year,
            md_key=month_day_key(s.month, s.day),
        )
        for s in draft.special_dates
    ]


def set_customer_tags(session: Session, customer_id: int, tags: Sequence[str]) -> None:
    session.execute(delete(m.CustomerTag).where(m.CustomerTag.customer_id == customer_id))
    ids = ensure_tags(session, tags)
    for tag_id in dict.fromkeys(ids[name.casefold()] for name in tags):
        session.add(m.CustomerTag(customer_id=customer_id, tag_id=tag_id))


def search_document(draft: c.CustomerDraft) -> tuple[str, str, str, str, str, str]:
    """The FTS row: phones as digit suffixes so any part of a number matches."""
    display = draft.effective_display_name()
    name = search_name(display, draft.first_name, draft.last_name)
    phones = draft.phones
    return (
        name,
        indexable(draft.company),
        indexable(" ".join([e.address for e in draft.emails])),
        " ".join(phone_tokens([p.number for p in phones])) if phones else "",
        indexable(" ".join(draft.tags)),
        indexable(draft.notes),
    )


# The hidden `flags` column of the search index holds one token per list filter (status,
# kind, archived), so a filtered search count stays inside FTS5 (0.5 ms for 17k matches)
# instead of probing the customers table once per match (6-10 ms). Each flag token starts
# with a private-use character: the tokenizer keeps it inside the token, while a typed query
# is made of core.text.words, which leave private-use characters out, so no typed word can
# ever match a flag and the user's words need no column filter (a column filter cost ~30% on
# big result sets). The flag
# phrases themselves are confined to the flags column. A trigger in migration 0001 keeps the
# flags in step when status, kind or archived_at change.
SEARCH_FLAGS_SQL = (
    "char(57344) || 'status' || {t}.status || ' ' || char(57344) || 'kind' || {t}.kind"
    " || CASE WHEN {t}.archived_at IS NULL THEN '' ELSE ' ' || char(57344) || 'archived' END"
)


def _flag(name: str) -> str:
    return f'(flags : "{FLAG_MARK}{name}")'


def index_customer(session: Session, customer_id: int, draft: c.CustomerDraft | None) -> None:
    """Replace the customer's search row (None removes it)."""
    session.execute(text("DELETE FROM customer_search WHERE rowid = :id"), {"id": customer_id})
    if draft is not None:
        flags = (pg.FLAGS_SQL if pg.is_postgres(session) else SEARCH_FLAGS_SQL).format(
            t="customers")
        session.execute(
            text(
                "INSERT INTO customer_search"
                "(rowid, name, company, emails, phones, tags, notes, flags) "
                f"SELECT :id, :name, :company, :emails, :phones, :tags, :notes, {flags} "
                "FROM customers WHERE customers.id = :id"
            ),
            dict(
                zip(
                    ("name", "company", "emails", "phones", "tags", "notes"),
                    search_document(draft),
                    strict=True,
                ),
                id=customer_id,
            ),
        )


_SEARCH_COLUMNS = ("name", "company", "emails", "phones", "tags", "notes", "flags")


def search_rows(session: Session, customer_ids: Sequence[int]) -> list[dict[str, object]]:
    """The customers' search rows as stored, so an undone delete puts them back as they were
    (one insert per row instead of rebuilding each from the loaded customer)."""
    statement = text(
        f"SELECT rowid AS id, {', '.join(_SEARCH_COLUMNS)} FROM customer_search "
        "WHERE rowid IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    ids = list(customer_ids)
    out: list[dict[str, object]] = []
    for start in range(0, len(ids), _IN_CHUNK):
        out += (dict(r) for r in session.execute(
            statement, {"ids": ids[start:start + _IN_CHUNK]}).mappings())
    return out


def restore_search_rows(session: Session, rows: Sequence[dict[str, object]]) -> None:
    if rows:
        session.execute(text(
            f"INSERT INTO customer_search(rowid, {', '.join(_SEARCH_COLUMNS)}) "
            f"VALUES (:id, {', '.join(':' + c for c in _SEARCH_COLUMNS)})"), list(rows))


def match_expression(
    search: str,
    archived: bool | None = False,
    status: c.Status | None = None,
    kind: c.Kind | None = None,
    exact: Mapping[str, tuple[str, ...]] | None = None,
) -> str | None:
    """The FTS5 MATCH for a typed search plus list filters; None if nothing is searchable.
    `exact`: typed prefixes written as the index's terms that begin with them (see
    _exact_terms), the same matches."""
    words = fts_query(search)
    if words is None:
        return None
    if exact:
        words = _with_exact_terms(words, exact)
    expression = f"({words})"
    if status is not None:
        expression += f" AND {_flag('status' + status.value)}"
    if kind is not None:
        expression += f" AND {_flag('kind' + kind.value)}"
    if archived is True:
        expression += f" AND {_flag('archived')}"
    elif archived is False:
        expression = f"({expression} NOT {_flag('archived')})"
    return expression


def search_ids(session: Session, query: str, limit: int, include_archived: bool) -> list[int]:
    """Customer ids matching every word as a prefix, best match first (bm25, name weighted)."""
    if pg.is_postgres(session):
        return pg.search_ids(session, query, limit, include_archived)
    expression = match_expression(query, archived=None if include_archived else False)
    if expression is None:
        return []
    rows = session.execute(
        text(
            "SELECT c.id FROM customer_search s JOIN customers c ON c.id = s.rowid "
            "WHERE customer_search MATCH :q "
            "ORDER BY bm25(customer_search, 10.0, 5.0, 3.0, 3.0, 2.0, 1.0, 0.0), c.sort_name, c.id "
            "LIMIT :limit"
        ),
        {"q": expression, "limit": limit},
    )
    return [r[0] for r in rows]


# --- The customer list: filters, sorting through indexes, keyset paging ------------------


class SortColumn:
    """List columns that can be sorted, each backed by an (column, id) index."""

    NAME = "name"
    COMPANY = "company"
    EMAIL = "email"
    STATUS = "status"
    KIND = "kind"
    UPDATED = "updated"
    CREATED = "created"


SORT_COLUMNS = {
    SortColumn.NAME: m.Customer.sort_name,
    SortColumn.COMPANY: m.Customer.sort_company,
    SortColumn.EMAIL: m.Customer.primary_email,
    SortColumn.STATUS: m.Customer.status,
    SortColumn.KIND: m.Customer.kind,
    SortColumn.UPDATED: m.Customer.updated_at,
    SortColumn.CREATED: m.Customer.created_at,
}


@dataclass(frozen=True)
class ListQuery:
    """What the customer list shows: a search, filters and one sort order."""

    search: str = ""
    tag: str | None = None
    status: c.Status | None = None
    kind: c.Kind | None = None
    archived: bool | None = False  # False: hide archived; True: only archived; None: all
    # A health segment (core.segments.Segment value): customers whose stored segment it is.
    # The caller brings the stored segments up to date first (services.insights.refresh).
    segment: str | None = None
    sort: str = SortColumn.NAME
    descending: bool = False


LIST_COLUMNS = (
    m.Customer.id,
    m.Customer.display_name,
    m.Customer.company,
    m.Customer.primary_email,
    m.Customer.primary_phone,
    m.Customer.tags_text,
    m.Customer.status,
    m.Customer.kind,
    m.Customer.key_account,
    m.Customer.archived_at,
    m.Customer.updated_at,
)


# Walking the sort index costs ~140 ns per index entry read plus ~110 ns per match to
# materialise the match set it probes; sorting the matches ~1.2 µs per match (reading each
# wide customer row; CPU times at 100k customers). Walking reads ~page * population / matches
# entries when the matches are spread through the sort order, the whole index (~14 ms) when
# they cluster at its far end ("z" sorted by name: 3,464 matches, 27 ms walked, 8 ms sorted).
# Walking is chosen from population / _WALK_RATIO matches on: at 5,000 even a whole-index walk
# costs about what the sort does, and the 10,000-14,000-match searches typed most ("we",
# "wedding", "503": 13-15 ms sorted, ~2.5 ms walked) walk. (It was 7: those sorted.)
_WALK_RATIO = 20
_MATCH_SUBQUERY = "SELECT rowid FROM customer_search WHERE customer_search MATCH :fts_q"


def _list_match(query: ListQuery) -> str | None:
    return match_expression(query.search, query.archived, query.status, query.kind,
                            _EXACT_TERMS.get())


# A typed word longer than the prefixes the search index holds ready (prefix='1 2 3', in
# bytes: "exam"*, "mülle"*) is gathered by FTS5 from every term it begins, each time a
# statement uses it: their whole doclists read and merged before the first match comes out
# (3 ms for the 100,000 customers "exam" begins at 100,000 customers, ~3.5 ms per probe of
# one customer). The terms it begins are few ("exam": "example"; "rossi": "rossi", "rossi1"
# ...): written as those exact terms, FTS5 reads their doclists lazily like any word's (the
# first 5,000 matches 3.1 -> 0.4 ms, a probe 3.5 ms -> 15 us, on a one-segment index). The
# terms are read from the index's vocabulary in the same read transaction as the page, so
# both forms match the same customers. A prefix beginning more terms than this stays a prefix.
_EXACT_UP_TO = 4
_EXACT_TERMS: ContextVar[Mapping[str, tuple[str, ...]] | None] = ContextVar(
    "exact_terms", default=None)


def _exact_terms(session: Session, search: str) -> dict[str, tuple[str, ...]]:
    """The index's terms each long typed prefix of `search` begins ({} when none is longer
    than the index's own prefixes, or one begins more than _EXACT_UP_TO terms). Stepping
    from term to term (`term >= next`, one row each) reads one instance of each term, never
    its doclist (the vocabulary's row and count forms read every match: 2.7 ms for
    "example")."""
    words = fts_query(search)
    # ASCII words only: the tokenizer leaves [a-z0-9] as typed (folded), so the terms looked
    # up are the ones FTS5 would gather; another script's word stays a prefix.
    long = [prefix for prefix in _PREFIX_TERM.findall(words or "")
            if len(prefix) > _INDEXED_PREFIX and prefix.isascii() and prefix.isalnum()]
    if not long:
        return {}
    connection = session.connection()
    step = f"SELECT term FROM {SEARCH_TERMS} WHERE term >= ? LIMIT 1"
    found: dict[str, tuple[str, ...]] = {}
    for quoted in long:
        prefix = quoted.replace('""', '"')
        terms: list[str] = []
        at = prefix
        while len(terms) <= _EXACT_UP_TO:
            try:
                term = connection.exec_driver_sql(step, (at,)).scalar()
            except OperationalError:
                # A connection made without the vocabulary (not through store.database):
                # the prefixes stay prefixes, the same matches read the slower way.
                logger.debug("No search vocabulary on this connection", exc_info=True)
                return {}
            if not isinstance(term, str) or not term.startswith(prefix):
                break
            terms.append(term)
            at = term + "\0"  # the next term after it (no term holds a NUL)
        if len(terms) <= _EXACT_UP_TO:
            found[quoted] = tuple(terms)
    return found


@contextmanager
def _exact_words(session: Session, query: ListQuery) -> Iterator[None]:
    """Inside the block, the list's MATCH (_list_match) writes the query's long prefixes as
    the terms they begin (SQLite only; one read unit: the terms are this snapshot's)."""
    token = _EXACT_TERMS.set(_exact_terms(session, query.search))
    try:
        yield
    finally:
        _EXACT_TERMS.reset(token)


def _with_exact_terms(words: str, exact: Mapping[str, tuple[str, ...]]) -> str:
    """fts_query's expression with each prefix of `exact` replaced by its terms: one term as
    a phrase, several as an OR group (then the implicit ANDs between words are written out:
    FTS5 takes no implicit AND after a group). No term: the prefix as an exact word, which
    nothing in the index is (every term it would be begins with it), so it matches nothing."""
    def phrase(term: str) -> str:
        return '"' + term.replace('"', '""') + '"'

    def written(prefix: str) -> str:  # `prefix` as quoted in `words`
        terms = exact.get(prefix)
        if terms is None:
            return f'"{prefix}"*'
        if not terms:
            return f'"{prefix}"'
        if len(terms) == 1:
            return phrase(terms[0])
        return "(" + " OR ".join(phrase(term) for term in terms) + ")"

    prefixes = _PREFIX_TERM.findall(words)
    if words == " ".join(f'"{prefix}"*' for prefix in prefixes):
        # Words ANDed (every typed word a prefix): rebuilt with the ANDs written out.
        return " AND ".join(written(prefix) for prefix in prefixes)
    # The phone form ('("493 930" OR "4930"*)'): its prefix is an OR's operand.
    return _PREFIX_TERM.sub(lambda match: written(match.group(1)), words)


def list_filters(query: ListQuery, walk: bool = False, sqlite: bool = False) -> list:
    """WHERE conditions for the list; `walk` makes SQLite follow the sort index (see below).
    `sqlite`: for a statement known to run on SQLite, the search condition as plain SQL text,
    whose compiled form SQLAlchemy caches across searches (pg.SearchCondition, which serves
    either engine, carries the typed words in its cache key: a compile per keystroke, ~0.9 ms)."""
    conditions: list = []
    if query.archived is False:
        conditions.append(m.Customer.archived_at.is_(None))
    elif query.archived is True:
        conditions.append(m.Customer.archived_at.is_not(None))
    if query.status is not None:
        conditions.append(m.Customer.status == query.status.value)
    if query.kind is not None:
        conditions.append(m.Customer.kind == query.kind.value)
    if query.segment:
        conditions.append(m.Customer.id.in_(
            select(m.CustomerHealth.customer_id).where(
                m.CustomerHealth.segment == query.segment)))
    if query.tag:
        conditions.append(
            exists().where(
                m.CustomerTag.customer_id == m.Customer.id,
                m.CustomerTag.tag_id
                == select(m.Tag.id).where(m.Tag.name_key == query.tag.casefold()).scalar_subquery(),
            )
        )
    if query.search.strip():
        expression = _list_match(query)
        if expression is None:
            conditions.append(false())  # "0" on SQLite, "false" on PostgreSQL
        else:
            # The unary plus stops SQLite from driving the query by the FTS rowids (then
            # sorting all of them); it walks the sort index instead, probing the materialised
            # match set, and stops as soon as the page is full.
            prefix = "+" if walk else ""
            condition = text(f"{prefix}customers.id IN ({_MATCH_SUBQUERY})").bindparams(
                fts_q=expression)
            conditions.append(condition if sqlite else pg.SearchCondition(
                condition, query.search, walk))
    return conditions


def _match_count(session: Session, expression: str) -> int:
    return (
        session.scalar(
            text("SELECT count(*) FROM customer_search WHERE customer_search MATCH :q"),
            {"q": expression},
        )
        or 0
    )


def count_customers(session: Session, query: ListQuery) -> int:
    if query.search.strip():
        expression = _list_match(query)
        if expression is None:
            return 0
        if not (query.tag or query.segment) and not pg.is_postgres(session):
            # Every other filter is a flag token: the count never leaves the FTS index.
            return _match_count(session, expression)
        if not (query.tag or query.segment or query.status or query.kind):
            # PostgreSQL (team mode): from its search indexes, less the archived matches.
            return pg.count_matches(session, query.search, query.archived)
    elif query.archived is False and not (query.status or query.kind or query.tag
                                          or query.segment):
        # All minus archived: both counted from indexes (the archived one is partial and
        # small), instead of reading archived_at from every wide customer row.
        everyone = session.scalar(select(func.count()).select_from(m.Customer)) or 0
        archived = session.scalar(
            select(func.count()).select_from(m.Customer).where(m.Customer.archived_at.is_not(None))
        )
        return everyone - (archived or 0)
    return (
        session.scalar(select(func.count()).select_from(m.Customer).where(*list_filters(query)))
        or 0
    )


def _plan(session: Session, query: ListQuery, matches: int | None,
          population: int | None = None) -> tuple[ListQuery, bool]:
    """How to read a page: (the query to run, walk the sort index?).

    Without a search: as asked. With one, three cases (measured on 100k customers):
    every listed customer matches (typing "e" or a shared e-mail domain): drop the search,
    0.2 ms instead of 13 ms materialising 100k matches; many matches: walk the sort index
    probing the match set and stop when the page is full; fewer: sort the matches.
    """
    if not query.search.strip():
        return query, False
    if matches is None:
        matches = count_customers(session, query)
    if matches <= 0:
        return query, False
    if population is None:
        population = _population(session)
    if 10 * matches > 9 * population:
        # `matches` is the caller's count of this very query (page_at's documented `total`).
        unsearched = replace(query, search="")
        if count_customers(session, unsearched) == matches:
            return unsearched, False
    return query, matches * _WALK_RATIO > population


def _population(session: Session) -> int:
    """How many customers a search could match at most: the highest id (ids are dense
    enough, and max() reads one index entry where count() reads them all)."""
    return session.scalar(select(func.max(m.Customer.id))) or 0


def _ordered(
    query: ListQuery, reverse: bool, walk: bool = False, columns: Sequence = LIST_COLUMNS,
    sqlite: bool = False,
) -> Select:
    column = SORT_COLUMNS[query.sort]
    descending = query.descending != reverse
    order = (column.desc(), m.Customer.id.desc()) if descending else (column, m.Customer.id)
    return select(*columns).where(*list_filters(query, walk, sqlite)).order_by(*order)


# Enum members by stored value: a dict lookup instead of Enum.__call__ for each listed row.
_STATUS_BY_VALUE = {status.value: status for status in c.Status}
_KIND_BY_VALUE = {kind.value: kind for kind in c.Kind}


_NO_OCCASION: tuple[str, date | None] = ("", None)
_NO_HEALTH = ("", "")


def _to_row(r: Sequence, last_contact: date | None = None,
            occasion: tuple[str, date | None] = _NO_OCCASION,
            health: tuple[str, str] = _NO_HEALTH) -> c.CustomerRow:
    # Built once with the page's activity columns: dataclasses.replace() on each row cost
    # about as much again as building it (~20 us a row).
    return c.CustomerRow(
        id=r[0],
        display_name=r[1],
        company=r[2],
        email=r[3],
        phone=r[4],
        tags=r[5],
        status=_STATUS_BY_VALUE.get(r[6]) or c.Status(r[6]),
        kind=_KIND_BY_VALUE.get(r[7]) or c.Kind(r[7]),
        key_account=bool(r[8]),
        archived=r[9] is not None,
        updated_at=r[10],
        last_contact=last_contact,
        next_occasion=occasion[0],
        next_occasion_on=occasion[1],
        segment=health[0],
        segment_reasons=health[1],
    )


def page_after(
    session: Session, query: ListQuery, after: tuple[object, int] | None, limit: int
) -> list[tuple[c.CustomerRow, object]]:
    """Keyset page: the `limit` rows following the (sort value, id) key, or the first rows."""
    column = SORT_COLUMNS[query.sort]
    query, walk = _plan(session, query, None)
    statement = _ordered(query, reverse=False, walk=walk).add_columns(column)
    if after is not None:
        key = tuple_(column, m.Customer.id)
        statement = statement.where(key < after if query.descending else key > after)
    return [(_to_row(r), r[-1]) for r in session.execute(statement.limit(limit))]


# A search matching many customers reads its first pages from the first customers in list
# order: this many times the rows wanted, scaled by population / matches (see _from_prefix).
_PREFIX_MARGIN = 3


def _from_prefix(
    session: Session, query: ListQuery, offset: int, limit: int, total: int, population: int,
    columns: Sequence, exact: bool = True,
) -> list[Sequence] | None:
    """Rows [offset, offset+limit) of a search with many matches, from a prefix of the sort
    order; None when that prefix held too few of them (clustered matches: walk instead).

    The walk probes a set of every match, which SQLite builds first (~250 ns a match: 10-20
    ms for the 50,000-80,000 matches of one typed letter at 100,000 customers). Here the one
    pass over the matches only checks each against the first K customers in list order
    (K ~ 3 x the rows wanted x population / matches, a few hundred ids): 30-40% less CPU
    for those keystrokes. The prefix ignores the list's filters (the FTS expression holds
    them, as flags), so its customers are the list's first rows whenever it holds enough.
    Not `exact`: `total` is an estimate of the matches (not counted yet); a prefix too small
    for it holds too few and the walk reads the page instead.
    """
    wanted = min(limit, total - offset) if exact else limit
    if wanted <= 0 or total <= 0:
        return []
    expression = _list_match(query)
    if expression is None:
        return None
    size = -(-_PREFIX_MARGIN * (offset + limit) * max(population, total) // total)
    if size >= population:
        if exact:
            return None  # the prefix would be every customer: the walk reads less
        # An estimate from a small sample (a small list) can fall short of what the prefix
        # would need; at most every customer, which one pass reads all the same.
        size = population
    direction = "DESC" if query.descending else "ASC"
    sort_column = SORT_COLUMNS[query.sort].expression.name
    # `+rowid`: each match is checked against the prefix as the pass goes by, never looked
    # up in the index one prefix customer at a time (such a probe costs ~0.1 ms).
    in_prefix = text(
        "customers.id IN (SELECT rowid FROM customer_search WHERE customer_search MATCH :fts_q "
        f"AND +rowid IN (SELECT id FROM customers ORDER BY {sort_column} {direction}, "
        f"id {direction} LIMIT :prefix_size))"
    ).bindparams(fts_q=expression, prefix_size=size)
    statement = _ordered(replace(query, search=""), reverse=False, columns=columns).where(
        in_prefix)
    rows = list(session.execute(statement.offset(offset).limit(limit)))
    return rows if len(rows) == wanted else None


# The FTS5 index's b-tree segments, above which a probe of one customer is dearer than the pass
# over every match that _from_prefix makes. Each probe (MATCH and rowid = ?) seeks the typed
# prefix in every segment: ~8-15 us with the index merged into one (FTS5 'optimize'),
# ~90-250 us with the 15 a 100,000-customer demo left before its load merged its full levels
# (store.bulk._settle_search_index).
_PROBE_SEGMENTS = 2
# At most this many customers probed for a page (a search matching a quarter of the customers
# or more): past it, a page of sparser matches probes more than one pass over them costs.
_MAX_PROBES = 600
# Only a prefix the index holds ready (the table's prefix='1 2 3', in bytes) is probed: a
# longer one ("exam"*) is gathered from every term it begins, per probe (~12 ms each).
_INDEXED_PREFIX = 3
_PREFIX_TERM = re.compile(r'"((?:[^"]|"")*)"\*')


def search_segments(session: Session) -> int | None:
    """How many b-tree segments the search index has (None: unreadable, or not SQLite)."""
    if pg.is_postgres(session):
        return None
    block = session.connection().exec_driver_sql(
        f"SELECT block FROM customer_search_data WHERE id = {STRUCTURE_ROWID}").scalar()
    sizes = level_sizes(block) if isinstance(block, bytes) else None
    return None if sizes is None else sum(sizes)


def _from_probes(
    session: Session, query: ListQuery, offset: int, limit: int, estimate: int,
    population: int, columns: Sequence,
) -> list[Sequence] | None:
    """Rows [offset, offset+limit) of a search with many matches: the customers in list order
    (the sort index walked, bounded by the first K of them, K sized as _from_prefix sizes its
    prefix), each probed in the search index by its id, stopping once the page is full. None
    when the first K held too few matches (_from_prefix then reads the page). Only on a
    compact index (search_segments): a probe seeks the typed prefix in every segment."""
    expression = _list_match(query)
    if expression is None or estimate <= 0:
        return None
    prefixes = _PREFIX_TERM.findall(expression)
    if any(len(prefix.encode()) > _INDEXED_PREFIX for prefix in prefixes):
        return None
    size = -(-_PREFIX_MARGIN * (offset + limit) * max(population, estimate) // estimate)
    if size >= population or size > _MAX_PROBES:
        return None
    column = SORT_COLUMNS[query.sort]
    unsearched = replace(query, search="")
    key_order = (column.desc(), m.Customer.id.desc()) if query.descending else (
        column, m.Customer.id)
    last = session.execute(select(column, m.Customer.id).order_by(*key_order)
                           .offset(size - 1).limit(1)).first()
    if last is None:
        return None
    key = tuple_(column, m.Customer.id)
    bound = key >= tuple_(*last) if query.descending else key <= tuple_(*last)
    probe = text(
        "EXISTS (SELECT 1 FROM customer_search WHERE customer_search MATCH :fts_q "
        "AND rowid = customers.id)").bindparams(fts_q=expression)
    statement = _ordered(unsearched, reverse=False, columns=columns).where(bound, probe)
    rows = list(session.execute(statement.offset(offset).limit(limit)))
    return rows if len(rows) == limit else None


def _window(
    session: Session, query: ListQuery, offset: int, limit: int, total: int | None,
    columns: Sequence, population: int | None = None,
) -> list[Sequence]:
    """Rows [offset, offset+limit) of `columns`: walks the index from whichever end is nearer.
    `total` None: the list's count is not known yet (see _uncounted_window)."""
    if total is None:
        return _uncounted_window(session, query, offset, limit, columns)[0]
    from_end = total - (offset + limit)
    if population is None and query.search.strip():
        population = _population(session)
    query, walk = _plan(session, query, total, population)
    if walk and offset <= from_end and not pg.is_postgres(session):
        rows = _from_prefix(session, query, offset, limit, total, population or 0, columns)
        if rows is not None:
            return rows
    sqlite = not pg.is_postgres(session)
    if not walk and offset <= from_end and query.search.strip() and not sqlite:
        rows = pg.sorted_matches(session, query, offset, limit, columns, _ordered)
        if rows is not None:
            return rows
    reverse = offset > from_end and total > 0  # nearer the end: read backwards from it
    start, size = (max(0, from_end), min(limit, total - offset)) if reverse else (offset, limit)
    statement = _matches_by_sort_name(query, reverse, columns, start, size) if (
        sqlite and not walk) else None
    if statement is None:
        statement = _ordered(query, reverse=reverse, walk=walk, columns=columns,
                             sqlite=sqlite).offset(start).limit(size)
    rows = list(session.execute(statement))
    if reverse:
        rows.reverse()
    return rows


def _matches_by_sort_name(query: ListQuery, reverse: bool, columns: Sequence, offset: int,
                          limit: int) -> Select | None:
    """Rows [offset, offset+limit), from `reverse`'s end, of a search on SQLite sorted by name
    whose matches are sorted (too few to walk the name index: _plan): every match sorted on
    its sort name read from ix_customers_id_sort_name alone (migration 0014), then only the
    page's customers read. Found by primary key, each match read its wide customer row (one
    4 KB page) for that one column: 3,360 pages for "so" at 100,000 customers, ~45% of the
    statement's CPU. None when the list filters on a tag or segment (not in the index) or
    nothing is searchable.

    The list's archived state, status and kind are flags in the MATCH (match_expression),
    so no match's row is read to filter it either. `INDEXED BY`: SQLite's planner finds
    each match by the table's primary key even though the index covers the sort, and
    SQLAlchemy's SQLite compiler drops `with_hint`, hence the text (like _from_prefix's)."""
    if query.sort != SortColumn.NAME or query.tag or query.segment:
        return None
    expression = _list_match(query) if query.search.strip() else None
    if expression is None:
        return None
    descending = query.descending != reverse
    direction = "DESC" if descending else "ASC"
    on_page = text(
        "customers.id IN (SELECT id FROM customers INDEXED BY ix_customers_id_sort_name "
        f"WHERE id IN ({_MATCH_SUBQUERY}) ORDER BY sort_name {direction}, id {direction} "
        "LIMIT :page_size OFFSET :page_offset)"
    ).bindparams(fts_q=expression, page_size=limit, page_offset=offset)
    order = ((m.Customer.sort_name.desc(), m.Customer.id.desc()) if descending
             else (m.Customer.sort_name, m.Customer.id))
    return select(*columns).where(on_page).order_by(*order)


# How many of a search's matches a keystroke reads at most to choose how to read its first
# page without counting them: up to population / _WALK_RATIO, where walking starts to pay
# (see _plan). The read stops there (~0.6 ms for the 51,000 matches of "a" at 100,000
# customers, against 3-5 ms to count them all, 12-15 ms for "example.o"); below it, it is the
# exact count. Above it, the highest id read tells how dense the matches are: matches ~ read
# x population / highest id read, which sizes the prefix of _from_prefix. LIMIT -1 (no
# limit) when the ratio is 0: nothing ever walks.
_PROBE = text(
    "SELECT count(*), max(rowid), (SELECT max(id) FROM customers) FROM ("
    "SELECT rowid FROM customer_search WHERE customer_search MATCH :q LIMIT CASE "
    "WHEN :ratio > 0 THEN (SELECT max(id) FROM customers) / :ratio + 1 ELSE -1 END)"
)


def _uncounted_window(
    session: Session, query: ListQuery, offset: int, limit: int, columns: Sequence,
) -> tuple[list[Sequence], int | None]:
    """Rows [offset, offset+limit) in list order without counting the list first, and its
    count when that came free: the page was not full, or a search has fewer matches than the
    probe reads (issue 13: a keystroke shows its first page; the exact count is taken after,
    off the GUI thread). Rows and order are those of _window with the count."""
    search = query.search.strip()
    if search and pg.is_postgres(session):
        # PostgreSQL (team mode): its sort index walked with a probe per customer, stopping
        # once the page is full (GIN would build the whole match bitmap to count first).
        return pg.uncounted_window(session, query, offset, limit, columns, _ordered)
    if not search:
        return _uncounted_sqlite(session, query, offset, limit, columns)
    with _exact_words(session, query):
        return _uncounted_sqlite(session, query, offset, limit, columns)


def _uncounted_sqlite(
    session: Session, query: ListQuery, offset: int, limit: int, columns: Sequence,
) -> tuple[list[Sequence], int | None]:
    """_uncounted_window on SQLite."""
    walk = False
    if query.search.strip():
        expression = _list_match(query)
        if expression is None:
            return [], 0
        found, highest, population = session.execute(
            _PROBE, {"q": expression, "ratio": _WALK_RATIO}).one()
        population = population or 0
        few = _WALK_RATIO <= 0 or found <= population // _WALK_RATIO
        if few and not (query.tag or query.segment):
            # Every match was read: that is the count (the filters are flags in the FTS).
            return _window(session, query, offset, limit, found, columns, population), found
        walk = not few
        if walk:
            # Many matches: the first page from the first customers listed (a prefix sized
            # by the estimated matches), else the walk (both stop once the page is full).
            estimate = max(found, found * population // max(highest or 1, 1))
            segments = search_segments(session)
            if segments is not None and segments <= _PROBE_SEGMENTS:
                # A compact index: the first customers listed, each probed (for a search
                # (nearly) everyone matches, ~50 probes, 1-2 ms at 100,000 customers).
                rows = _from_probes(session, query, offset, limit, estimate, population,
                                    columns)
                if rows is not None:
                    return rows, None
            if 10 * estimate > 9 * population:
                # (Nearly) everyone matches ("e", "example" in every e-mail) and the probes
                # could not read the page: counted here, so that the search can drop out
                # when it lists everyone (_plan), ~8 ms instead of checking each of ~100,000
                # matches against the prefix (16-22 ms).
                total = count_customers(session, query)
                return _window(session, query, offset, limit, total, columns, population), total
            rows = _from_prefix(session, query, offset, limit, estimate, population,
                                columns, exact=False)
            if rows is not None:
                return rows, None
    statement = _ordered(query, reverse=False, walk=walk, columns=columns,
                         sqlite=not pg.is_postgres(session))
    rows = list(session.execute(statement.offset(offset).limit(limit)))
    # A page that is not full ends the list: its count is known (unless it starts beyond it).
    return rows, (offset + len(rows) if len(rows) < limit and (rows or offset == 0) else None)


def page_at(
    session: Session, query: ListQuery, offset: int, limit: int, total: int | None,
    today: date | None = None, population: int | None = None,
) -> list[tuple[c.CustomerRow, object]]:
    """Rows [offset, offset+limit): walks the index from whichever end is nearer.

    Jumping to the end of 100,000 rows reads the last page backwards from the end of the
    index, so it costs the same as reading the first page. `total` is the list's count (as
    from count_customers); it also tells a search whether walking the sort index pays. None:
    not counted yet, the rows are read forward from the start of the list's order.
    With `today`, each row carries its last contact and next occasion (two indexed reads for
    the page's ids, not columns of the sorted query: a sort of every match would compute
    them for each match).
    """
    columns = (*LIST_COLUMNS, SORT_COLUMNS[query.sort])
    rows = _window(session, query, offset, limit, total, columns, population)
    return _listed(session, rows, today)


def page_uncounted(
    session: Session, query: ListQuery, offset: int, limit: int, today: date | None = None,
) -> tuple[list[tuple[c.CustomerRow, object]], int | None]:
    """page_at for a list whose count is not known: the rows, and the count when it came
    free (see _uncounted_window), else None."""
    columns = (*LIST_COLUMNS, SORT_COLUMNS[query.sort])
    rows, total = _uncounted_window(session, query, offset, limit, columns)
    return _listed(session, rows, today), total


def _listed(session: Session, rows: list[Sequence], today: date | None
            ) -> list[tuple[c.CustomerRow, object]]:
    """The list's rows, with their activity columns when `today` is given."""
    if today is None or not rows:
        return [(_to_row(r), r[-1]) for r in rows]
    last, upcoming, health = _activity(session, [r[0] for r in rows], today)
    return [(_to_row(r, last.get(r[0]), upcoming.get(r[0], _NO_OCCASION),
                     health.get(r[0], _NO_HEALTH)), r[-1]) for r in rows]


def first_page(
    session: Session, query: ListQuery, limit: int, today: date | None = None
) -> tuple[list[tuple[c.CustomerRow, object]], int | None]:
    """A new query's first `limit` rows, what a keystroke in the list's search box reads
    (issue 13), and its count only when that came free (a page that is not full, a search
    with few matches; on PostgreSQL always). None: the caller counts later, off the GUI
    thread (count_customers), and shows the rows meanwhile."""
    return page_uncounted(session, query, 0, limit, today)


# A page's activity columns in one statement, one round trip: the last logged conversation
# (part 0), the health segment and its reasons (issue 16's optional columns; part 1), the
# special dates (part 2), each an indexed read for the page's ids, each in its own columns
# (PostgreSQL's UNION wants one type a column and takes an untyped NULL for text). Sent
# as driver SQL with the ids written in (integers the list itself read): through
# SQLAlchemy, three statements with expanding IN lists cost ~1.5 ms of Python per keystroke
# against ~0.35 ms of SQL (issue 13).
_ACTIVITY = (
    "SELECT 0, customer_id, max(occurred_on), NULL, NULL, CAST(NULL AS INTEGER), "
    "CAST(NULL AS INTEGER), CAST(NULL AS INTEGER) FROM interactions "
    "WHERE customer_id IN ({ids}) GROUP BY customer_id "
    "UNION ALL SELECT 1, customer_id, NULL, segment, reasons, NULL, NULL, NULL "
    "FROM customer_health WHERE customer_id IN ({ids}) "
    "UNION ALL SELECT 2, customer_id, NULL, kind, label, month, day, md_key FROM special_dates "
    "WHERE customer_id IN ({ids})"
)


def _activity(
    session: Session, ids: list[int], today: date
) -> tuple[dict[int, date], dict[int, tuple[str, date]], dict[int, tuple[str, str]]]:
    """For the customers `ids`: the day of their last logged conversation, their next
    special date from today on (its title, its day), and their health segment and reasons.

    Each customer's next date is picked by its month*100+day key first, so the calendar is
    asked once per customer, not once per date."""
    id_list = ",".join(str(int(i)) for i in ids)  # int(): only numbers are ever written in
    # exec_driver_sql: no compilation or IN-list expansion, but still the engine's own
    # execution path (its statement events, which the tests count, and the read retry).
    found = session.connection().exec_driver_sql(_ACTIVITY.format(ids=id_list)).fetchall()
    last: dict[int, date] = {}
    health: dict[int, tuple[str, str]] = {}
    today_key = month_day_key(today.month, today.day)
    nearest: dict[int, tuple[tuple[bool, int], str, str, int, int]] = {}
    for part, customer_id, day_on, a, b, month, day, md_key in found:
        if part == 0:
            last[customer_id] = date.fromisoformat(day_on) if isinstance(day_on, str) else day_on
        elif part == 1:
            health[customer_id] = (a, b)
        else:
            order = (md_key < today_key, md_key)  # later this year first, then next year's
            if customer_id not in nearest or order < nearest[customer_id][0]:
                nearest[customer_id] = (order, a, b, month, day)
    upcoming: dict[int, tuple[str, date]] = {}
    for customer_id, (_, kind, label, month, day) in nearest.items():
        custom = kind == c.SpecialDateKind.CUSTOM.value and label
        upcoming[customer_id] = (label if custom else Occasion(kind).title,
                                 next_occurrence(month, day, today, LeapDayPolicy.FEB28))
    return last, upcoming, health


def ids_at(session: Session, query: ListQuery, offset: int, limit: int, total: int | None
           ) -> list[int]:
    """Customer ids of rows [offset, offset+limit) in list order: a range selected in the list
    resolved without reading its rows (the (sort column, id) index covers it)."""
    return [r[0] for r in _window(session, query, offset, limit, total, (m.Customer.id,))]


# Up to this many ids, positions_of counts the rows between one id and the next (cost: the
# rows up to the last of them); more, it numbers the whole list once.
_STEPWISE_UP_TO = 100


def positions_of(session: Session, query: ListQuery, ids: Sequence[int]) -> dict[int, int]:
    """Row index of each of `ids` still in the list (to keep a selection across a refresh).

    A few ids: their keys in list order, then one count of the rows between each and the next,
    so customers near the top cost a few ms even in 100k (numbering the whole list: ~180 ms).
    """
    if not ids:
        return {}
    if len(set(ids)) > _STEPWISE_UP_TO or query.search.strip():
        # Each count of a search re-reads its matches: numbering them once is cheaper.
        return _numbered_positions(session, query, ids)
    column = SORT_COLUMNS[query.sort]
    order = (column.desc(), m.Customer.id.desc()) if query.descending else (column, m.Customer.id)
    listed = session.execute(
        select(m.Customer.id, column)
        .where(m.Customer.id.in_(sorted(set(ids))), *list_filters(query))
        .order_by(*order)
    ).all()
    key = tuple_(column, m.Customer.id)
    found: dict[int, int] = {}
    position, previous = -1, None
    for customer_id, value in listed:
        here = (value, customer_id)
        before = key > here if query.descending else key < here
        if previous is not None:
            after_previous = key < previous if query.descending else key > previous
            before = and_(before, after_previous)
        between = session.scalar(
            select(func.count()).select_from(m.Customer).where(*list_filters(query), before)
        ) or 0
        position += between + 1
        found[customer_id] = position
        previous = here
    return found


def _numbered_positions(session: Session, query: ListQuery, ids: Sequence[int]
                        ) -> dict[int, int]:
    """positions_of for many ids: one pass numbering the list in order."""
    column = SORT_COLUMNS[query.sort]
    order = (column.desc(), m.Customer.id.desc()) if query.descending else (column, m.Customer.id)
    numbered = (
        select(m.Customer.id, (func.row_number().over(order_by=order) - 1).label("position"))
        .where(*list_filters(query))
        .subquery()
    )
    wanted = sorted(set(ids))
    found: dict[int, int] = {}
    for start in range(0, len(wanted), _IN_CHUNK):  # each chunk is one pass: keep them few
        part = wanted[start:start + _IN_CHUNK]
        rows = session.execute(
            select(numbered.c.id, numbered.c.position).where(numbered.c.id.in_(part)))
        found.update((customer_id, position) for customer_id, position in rows)
    return found


def position_of(session: Session, query: ListQuery, customer_id: int) -> int | None:
    """Row index of a customer in the list (to select it after save), via the index."""
    column = SORT_COLUMNS[query.sort]
    value = session.scalar(select(column).where(m.Customer.id == customer_id))
    if value is None and query.sort not in (SortColumn.NAME,):
        return None
    key = tuple_(column, m.Customer.id)
    before = key > (value, customer_id) if query.descending else key < (value, customer_id)
    present = session.scalar(
        select(func.count())
        .select_from(m.Customer)
        .where(*list_filters(query), m.Customer.id == customer_id)
    )
    if not present:
        return None
    if query == ListQuery(archived=query.archived, sort=query.sort,
                          descending=query.descending) and query.archived is not True:
        # The plain list (every customer, or every one not archived): rows before it in the
        # sort index alone (a covering index count, ~9 ms at 100,000), less the archived rows
        # before it found through their own index. Counted with `archived_at IS NULL`,
        # SQLite read every earlier row of the table: ~150 ms of CPU at 100,000, on every
        # open_customer (issue 15's timeline figure).
        ahead = session.scalar(select(func.count()).select_from(m.Customer).where(before)) or 0
        if query.archived is None:
            return ahead
        archived = select(m.Customer.id).where(m.Customer.archived_at.is_not(None))
        return ahead - (session.scalar(
            select(func.count()).select_from(m.Customer)
            .where(m.Customer.id.in_(archived), before)) or 0)
    return session.scalar(
        select(func.count()).select_from(m.Customer).where(*list_filters(query), before)
    )


def find_by_email(session: Session, address: str) -> list[int]:
    return list(
        session.scalars(
            select(m.CustomerEmail.customer_id).where(
                m.CustomerEmail.address_key == address.lower()
            )
        ).unique()
    )


def find_by_phone_digits(session: Session, phone_digits: str) -> list[int]:
    return list(
        session.scalars(
            select(m.CustomerPhone.customer_id).where(m.CustomerPhone.digits == phone_digits)
        ).unique()
    )


def find_by_folded_name(session: Session, name: str) -> list[int]:
    """Exact name match ignoring case, accents and spacing (via the indexed sort_name)."""
    return list(
        session.scalars(select(m.Customer.id).where(m.Customer.sort_name == sort_key(name)))
    )


def all_tags(session: Session) -> list[tuple[str, int]]:
    rows = session.execute(
        select(m.Tag.name, func.count(m.CustomerTag.customer_id))
        .outerjoin(m.CustomerTag, m.CustomerTag.tag_id == m.Tag.id)
        .group_by(m.Tag.id)
        .order_by(m.Tag.name_key)
    )
    return [(name, count) for name, count in rows]


def customer_exists(session: Session, customer_id: int) -> bool:
    return session.get(m.Customer, customer_id) is not None


def touch(row: m.Customer, staff_id: int | None, now: datetime) -> None:
    row.updated_at = now
    row.updated_by_id = staff_id


# --- one tag for several customers (the list's multi-selection) ---------------------------

TagTexts = dict[int, tuple[str, str]]  # customer id -> (tags_text, the search row's tags)


def add_tag(session: Session, customer_ids: Sequence[int], tag: str) -> tuple[str, TagTexts]:
    """Give `tag` to each customer that lacks it, appended as the editor appends it. Returns
    the tag as stored (an existing tag keeps its spelling) and the previous list and search
    texts of the customers changed, so Undo can put them back exactly."""
    tag_id = ensure_tags(session, [tag])[tag.casefold()]
    tag = session.scalar(select(m.Tag.name).where(m.Tag.id == tag_id)) or tag
    statement = text(
        "SELECT c.id, c.tags_text, coalesce(s.tags, '') FROM customers c "
        "LEFT JOIN customer_search s ON s.rowid = c.id WHERE c.id IN :ids AND NOT EXISTS "
        "(SELECT 1 FROM customer_tags t WHERE t.customer_id = c.id AND t.tag_id = :tag)"
    ).bindparams(bindparam("ids", expanding=True))
    ids = list(customer_ids)
    previous: TagTexts = {}
    for start in range(0, len(ids), _IN_CHUNK):
        for cid, listed, searched in session.execute(
                statement, {"ids": ids[start:start + _IN_CHUNK], "tag": tag_id}):
            previous[cid] = (listed, searched)
    if previous:
        session.execute(m.CustomerTag.__table__.insert(),
                        [{"customer_id": cid, "tag_id": tag_id} for cid in previous])
        _set_tag_texts(session, {
            cid: (f"{listed}, {tag}" if listed else tag, f"{searched} {tag}".strip())
            for cid, (listed, searched) in previous.items()})
    return tag, previous


def undo_add_tag(session: Session, tag: str, previous: TagTexts) -> None:
    tag_id = session.scalar(select(m.Tag.id).where(m.Tag.name_key == tag.casefold()))
    ids = list(previous)
    if tag_id is not None:
        for start in range(0, len(ids), _IN_CHUNK):
            session.execute(delete(m.CustomerTag).where(
                m.CustomerTag.tag_id == tag_id,
                m.CustomerTag.customer_id.in_(ids[start:start + _IN_CHUNK])))
    _set_tag_texts(session, previous)


def _set_tag_texts(session: Session, texts: TagTexts) -> None:
    session.execute(text("UPDATE customers SET tags_text = :listed WHERE id = :id"),
                    [{"id": cid, "listed": listed} for cid, (listed, _) in texts.items()])
    session.execute(text("UPDATE customer_search SET tags = :searched WHERE rowid = :id"),
                    [{"id": cid, "searched": indexable(searched)}
                     for cid, (_, searched) in texts.items()])
