"""Customer search on PostgreSQL (team mode), behind the same functions as FTS5 on SQLite.

Why: SQLite searches with FTS5 (prefix queries, bm25 with the columns weighted, flags tokens
for the list filters); PostgreSQL has no FTS5. Migration 0001 gives it the same
`customer_search` table holding the same folded texts, plus `terms` (every word, for a GIN
prefix match: `'jo':*`), `doc_len` (the row's token count) and `customer_search_stats` (rows
and tokens in all). From those this module computes FTS5's own bm25 formula
(sqlite/ext/fts5/fts5_aux.c: k1 = 1.2, b = 0.75, each hit weighted by its column, IDF
floored at 1e-6) with the same column weights, then the same tie-break on sort_name, so a
search returns the same order on both engines (tests/postgres check a shared set of cases).

Phone numbers: FTS5 finds typed digits as a phrase of digit trigrams; here the same rows are
found by the stored digits (`customer_phones.digits LIKE '%typed%'`, a pg_trgm index) or a
word starting with the typed digits. A phone search's order may differ from SQLite's in
ties (the phrase's hits are counted per number, not per trigram run).

The list filters (status, kind, archived) are plain conditions on `customers` here: the
flags column exists (bm25 counts its tokens) but nothing matches on it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import ClassVar

from sqlalchemy import Boolean, bindparam, literal_column, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement, ColumnElement, TextClause
from sqlalchemy.sql.visitors import InternalTraversal

from crmcompanion.core.text import MIN_PHONE_SUFFIX, digits, is_phone_query, words

# Column weights of store.customers.search_ids' bm25(customer_search, 10, 5, 3, 3, 2, 1, 0).
WEIGHTS = (("name", 10.0), ("company", 5.0), ("emails", 3.0), ("phones", 3.0),
           ("tags", 2.0), ("notes", 1.0))
K1 = 1.2
B = 0.75


# Where the search table's words split: the same character class as crm_words (migration
# 0001), so terms made here for a bulk load equal those the trigger makes for one row.
_SEPARATORS = re.compile(
    r"[\s!-/:-@\[-`{-~\u00a1\u00ab\u00b7\u00bb\u00bf\u2010-\u2027\u2030-\u205e"
    r"\u3001-\u3003\u3008-\u3011\uff01-\uff0f]+")
_MAX_LEXEME_BYTES = 2000


def _words(value: str) -> list[str]:
    return [w for w in _SEPARATORS.split(value) if w] if value else []


def with_terms(rows: Iterable[Sequence[object]]) -> Iterator[tuple[object, ...]]:
    """Search rows (rowid, name, company, emails, phones, tags, notes, flags) with their
    `terms` (tsvector text) and `doc_len` appended, as the table's trigger would make them.

    Written for a bulk load's 100,000 rows (~2.5 million words): the six texts are split
    as one (a space is a separator, so no word spans two columns) and the lexemes quoted in
    one pass over their joined text (no lexeme holds a space), where a split and a quote per
    column and per word cost ~5 s of CPU per 100,000 rows."""
    split = _SEPARATORS.split
    # A word under 500 characters is under the byte limit whatever its characters.
    short = _MAX_LEXEME_BYTES // 4
    # The flags' token count per flags text: a handful of distinct texts (status, kind,
    # archived), split once each instead of once per row (~0.5 s of 100,000).
    flag_words: dict[str, int] = {}
    for row in rows:
        joined = " ".join([str(v or "") for v in row[1:7]])
        found = split(joined)  # with "" at either end when a text starts or ends with one
        unique = set(found)
        unique.discard("")
        if len(joined) >= short and max(map(len, unique), default=0) >= short:
            unique = {w for w in unique if len(w.encode()) < _MAX_LEXEME_BYTES}
        terms = ""
        if unique:
            # Unsorted: the server sorts a tsvector's lexemes as it reads it.
            body = " ".join(unique).replace("\\", "\\\\").replace("'", "''")
            terms = "'" + body.replace(" ", "' '") + "'"
        words = len(found) - found.count("")
        flags = str(row[7] or "")
        flagged = flag_words.get(flags)
        if flagged is None:
            flagged = flag_words[flags] = len(_words(flags))
        yield (*row, terms, words + flagged)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


WORD_IDS = "SELECT w.rowid FROM customer_search w WHERE w.terms @@ CAST(:pg_q AS tsquery)"
PHONE_IDS = "SELECT p.customer_id FROM customer_phones p WHERE p.digits LIKE :pg_digits"


class Match:
    """A typed search as PostgreSQL conditions on `customer_search s` (and the terms bm25
    counts): None-like (`empty`) when nothing in it is searchable."""

    def __init__(self, search: str) -> None:
        self.phone: str | None = None
        if is_phone_query(search):
            typed = digits(search)
            # Three digits are one prefix query on FTS5 too (their trigram is a word).
            self.phone = typed if len(typed) > MIN_PHONE_SUFFIX else None
            self.terms = [typed]
        else:
            self.terms = list(dict.fromkeys(words(search)))
        self.tsquery = " & ".join(f"{_lexeme(t)}:*" for t in self.terms)

    @property
    def empty(self) -> bool:
        return not self.terms

    def condition(self, alias: str = "s") -> str:
        """SQL: the row `alias` of customer_search matches (binds :pg_q, :pg_digits)."""
        if self.phone is None:
            return f"{alias}.terms @@ CAST(:pg_q AS tsquery)"
        # The ids of both kinds of hit as one UNION, each through its own index (GIN on the
        # words, pg_trgm on the digits). `terms @@ q OR rowid IN (...)` could use neither:
        # every search row was read and its words tested (~0.2-0.9 s at 100,000 customers).
        return f"{alias}.rowid IN ({self.ids()})"

    def ids(self) -> str:
        """SQL: the ids of the matching customers (binds :pg_q, :pg_digits)."""
        if self.phone is None:
            return WORD_IDS
        return f"{WORD_IDS} UNION {PHONE_IDS}"

    def params(self) -> dict[str, object]:
        out: dict[str, object] = {"pg_q": self.tsquery}
        if self.phone is not None:
            out["pg_digits"] = f"%{self.phone}%"
        return out


def matching_ids_sql(match: Match) -> str:
    """A sub-query of the matching customer ids (for `customers.id IN (...)`)."""
    return match.ids()


# A typed phone number's first phrase on FTS5: its digit trigrams in a row, which occur where
# the digits occur inside a stored number (core.text.phone_tokens); counted per occurrence.
_PHONE_HITS = (
    "(SELECT count(*) FROM customer_phones p CROSS JOIN LATERAL generate_series(1, "
    "length(p.digits) - length(:pg_typed) + 1) i WHERE p.customer_id = s.rowid "
    "AND substr(p.digits, i, length(:pg_typed)) = :pg_typed)"
)


def _phrases(match: Match) -> list[tuple[str, str]]:
    """FTS5's phrases of the query, each as (its weighted hits in row `s`, a count of the
    rows it matches): a typed phone number is two (its trigram phrase OR its prefix)."""
    phrases = []
    if match.phone is not None:
        phrases.append((
            f"{dict(WEIGHTS)['phones']} * {_PHONE_HITS}",
            "SELECT count(DISTINCT customer_id) FROM customer_phones WHERE digits LIKE "
            ":pg_digits"))
    for i, _term in enumerate(match.terms):
        phrases.append((
            " + ".join(f"{weight} * crm_hits(s.{column}, :t{i})" for column, weight in WEIGHTS),
            f"SELECT count(*) FROM customer_search WHERE terms @@ CAST(:q{i} AS tsquery)"))
    return phrases


def _idf(session: Session, counts: list[str], params: dict[str, object], rows: int
         ) -> list[float]:
    """FTS5's IDF of each phrase: ln((N - n + 0.5) / (n + 0.5)), at least 1e-6. With one
    phrase it scales every score alike and is not worth a count."""
    if len(counts) == 1:
        return [1.0]
    out = []
    for count in counts:
        hits = session.execute(text(count), params).scalar_one()
        idf = math.log((rows - hits + 0.5) / (hits + 0.5))
        out.append(idf if idf > 0 else 1e-6)
    return out


def search_ids(session: Session, query: str, limit: int, include_archived: bool) -> list[int]:
    """store.customers.search_ids on PostgreSQL: every word as a prefix, bm25 order."""
    match = Match(query)
    if match.empty:
        return []
    rows, tokens = session.execute(
        text("SELECT rows, tokens FROM customer_search_stats")).one()
    if not rows:
        return []
    params: dict[str, object] = {
        **match.params(), "limit": limit, "k1": K1, "k1p": K1 + 1.0, "b": B,
        "one_minus_b": 1 - B, "avgdl": float(tokens) / float(rows),
    }
    if match.phone is not None:
        params["pg_typed"] = match.phone
    for i, term in enumerate(match.terms):
        params[f"t{i}"], params[f"q{i}"] = term, f"{_lexeme(term)}:*"
    phrases = _phrases(match)
    idf = _idf(session, [count for _, count in phrases], params, rows)
    frequencies, scores = [], []
    for i, (hits, _count) in enumerate(phrases):
        params[f"idf{i}"] = idf[i]
        frequencies.append(f"({hits})::float8 AS f{i}")
        scores.append(f"CAST(:idf{i} AS float8) * ((f.f{i} * :k1p) / (f.f{i} + :k1 * "
                      f"(:one_minus_b + :b * s.doc_len / CAST(:avgdl AS float8))))")
    score = " + ".join(scores)
    archived = "" if include_archived else "AND c.archived_at IS NULL "
    statement = text(
        "SELECT c.id FROM customer_search s JOIN customers c ON c.id = s.rowid "
        f"CROSS JOIN LATERAL (SELECT {', '.join(frequencies)}) f "
        f"WHERE {match.condition()} {archived}"
        f"ORDER BY {score} DESC, c.sort_name, c.id LIMIT :limit"
    )
    return [r[0] for r in session.execute(statement, params)]


def archived_matches_sql(match: Match) -> str:
    """SQL: how many archived customers `match` finds (binds :pg_q, :pg_digits), each of the
    few archived (their partial index) probed by primary key (`_row_probe`). As a join of
    the archived to the search rows on `terms @@ q OR rowid IN (numbers)`, typed digits
    looked like half the book to the planner, which then tested every search row's words
    to join them (~100,000 rows: 30-200 ms of each count of '5035' or '+49 30' with 140
    archived customers at 100,000)."""
    return ("SELECT count(*) FROM customers WHERE customers.archived_at IS NOT NULL AND "
            f"{_row_probe(match)}")


def count_matches(session: Session, search: str, archived: bool | None = False) -> int:
    """How many customers the list shows for `search` (archived: False hides the archived,
    True shows only them, None both): the matches counted from the search indexes alone,
    as FTS5 counts on SQLite, less the archived ones, found from the few archived customers
    (their partial index) and tested row by row. Joining every match to its customer row
    made PostgreSQL read all 100,000 customers to count 1,700 matches (~100-300 ms)."""
    match = Match(search)
    if match.empty:
        return 0
    every = f"(SELECT count(*) FROM ({match.ids()}) m)"
    hidden = f"({archived_matches_sql(match)})"
    counted = {None: every, False: f"{every} - {hidden}", True: hidden}[archived]
    return session.execute(text(f"SELECT {counted}"), match.params()).scalar_one()


def _list_condition(search: str, walk: bool) -> TextClause:
    match = Match(search)
    if match.empty:
        return text("false")
    if walk and match.phone is None:
        # Many matches, spread through the sort order: the planner walks the sort index and
        # probes each row's search row, stopping at a full page.
        condition = f"customers.id IN ({WORD_IDS})"
    elif walk:
        # The same walk for typed digits: two sub-plans, each run once and hashed (the
        # words by GIN, the numbers by pg_trgm), probed per row walked. As one IN of their
        # UNION it was a hash join over every customer (~250 ms for "+49 30").
        condition = f"(customers.id IN ({WORD_IDS}) OR customers.id IN ({PHONE_IDS}))"
    else:
        # Few matches (store.customers._plan): read them first, then their customers by
        # primary key, then sort. As IN (...), PostgreSQL's planner walks the sort index
        # all the same when it guesses the matches spread evenly, which names clustered at
        # its far end are not ("z": ~1 s at 100,000 customers, 97,000 rows probed).
        condition = f"customers.id = ANY(ARRAY({matching_ids_sql(match)}))"
    return text(condition).bindparams(*(bindparam(k, v) for k, v in match.params().items()))


# A page without its count walks at most this many times the rows it shows of the list in
# order, probing each customer's search row (store.customers._WALK_RATIO: walking pays from
# one match in 20 customers on).
WALK_SPAN = 20


def _row_probe(match: Match) -> str:
    """SQL: the row `customers` matches, tested on its own: its search row by primary key (a
    scalar sub-query, so the planner can neither hash every match first nor join them and
    sort), and for typed digits its numbers by customer (binds :pg_q, :pg_digits)."""
    # ts_match_vq is `@@` as a function: PostgreSQL estimates an opaque boolean function
    # at one row in three, so with the page's LIMIT it walks the sort index and stops at a
    # full page (as `@@` over a sub-query it guessed 0.5% and read the whole span first).
    words = ("ts_match_vq((SELECT w.terms FROM customer_search w WHERE w.rowid = "
             "customers.id), CAST(:pg_q AS tsquery))")
    if match.phone is not None:
        words = (f"({words} OR EXISTS (SELECT 1 FROM customer_phones p WHERE "
                 "p.customer_id = customers.id AND p.digits LIKE :pg_digits))")
    return words


def _probe(match: Match) -> TextClause:
    """The list's customer matches, tested row by row as a walk reaches it (`_row_probe`)."""
    return text(_row_probe(match)).bindparams(
        *(bindparam(k, v) for k, v in match.params().items()))


def estimated_matches(session: Session, match: Match) -> int:
    """The planner's estimate of how many customers `match` finds (EXPLAIN: planning only,
    from GIN's statistics of the search words; within a few % for one word at 100,000
    customers once the table is analyzed, as every bulk load leaves it). Several words are
    estimated one by one and the least taken: words typed together are often found together
    ('trade fa'), which the planner's product of their shares put at 4,817 for 21,025."""
    params: dict[str, object] = dict(match.params())
    if len(match.terms) > 1 and match.phone is None:
        parts = []
        for i, term in enumerate(match.terms):
            params[f"pg_t{i}"] = f"{_lexeme(term)}:*"
            parts.append(f"(SELECT w.rowid FROM customer_search w "
                         f"WHERE w.terms @@ CAST(:pg_t{i} AS tsquery))")
        statement = " UNION ALL ".join(parts)
    else:
        statement = match.ids()
    plan = session.execute(text(f"EXPLAIN (FORMAT JSON) {statement}"), params).scalar_one()
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    top = plan[0]["Plan"]
    if len(match.terms) > 1 and match.phone is None:
        return min(int(part["Plan Rows"]) for part in top["Plans"])
    return int(top["Plan Rows"])


# The fewest matches a rarer search's walk is sized for (see uncounted_window).
FEW_MATCHES = 1000
# Whether the customers table's pages are nearly all marked all-visible (VACUUM's
# visibility map; ANALYZE reports it too): only then does an index-only walk read no
# customer row. Right after a bulk load, before autovacuum has come by, each walked entry
# read its heap page ('so' and 'z': ~330 ms at 100,000 customers, against ~140 ms for the
# walk of the span and the read of every match).
_ALL_VISIBLE = literal_column(
    "(SELECT relallvisible >= 0.8 * relpages FROM pg_class "
    "WHERE oid = CAST('customers' AS regclass))")
# A rarer search's walk (`_hashed_walk`) reads at most this many times its expected matches
# of the sort index before giving up for the read of all matches: a walk entry costs ~1/20
# of a customer read by primary key, so a walk that fails costs less than that read.
HASHED_WALK_RATIO = 4


def uncounted_window(session: Session, query: object, offset: int, limit: int,
                     columns: Sequence[object], ordered: object
                     ) -> tuple[list[Sequence[object]], int | None]:
    """Rows [offset, offset+limit) of the customer list of `query` (a store.customers
    ListQuery with a search), in list order, without counting the matches first (issue 13:
    the keystroke shows the first page, the exact count comes after, off the GUI thread);
    and the count when it came free (a short list read whole), else None. `ordered` is
    store.customers._ordered (query, reverse, walk, columns) -> Select.

    How, by the planner's estimate of the matches (`estimated_matches`):
    - one customer in WALK_SPAN or more ('a', 'e', "example.org"): the list's first
      (offset + limit) x WALK_SPAN customers in order are walked, each probed for a match
      (`_probe`), stopping as soon as the page is full (~100-250 customers read by index,
      where an exact count re-checks every match after building GIN's whole bitmap,
      45-70 ms at 100,000 customers). The walk ends at the sort key of the last customer
      in that span;
    - rarer ('mül', 'ross', 'lena': 1-4% of the book), when the list filters on nothing but
      the archived state and the table's visibility map is set (`_ALL_VISIBLE`): the sort
      index walked index-only against the matching ids hashed once (`_hashed_walk`), for
      at most HASHED_WALK_RATIO x the expected matches;
    - when a walk found too few rows (rare matches, or matches bunched further down the
      list, 'z', 'zoë'), or a filtered list's walk of its span: the page is read as the
      counted list reads few matches: every match by GIN, their customers by primary key,
      sorted.
    Same rows and order as store.customers.page_at with the count."""
    from dataclasses import replace

    from sqlalchemy import func, select, tuple_

    from crmcompanion.store import models as m
    from crmcompanion.store.customers import SORT_COLUMNS

    match = Match(query.search)  # type: ignore[attr-defined]
    if match.empty:
        return [], 0
    plain = replace(query, search="")  # type: ignore[type-var]
    sort = SORT_COLUMNS[plain.sort]
    span = (offset + limit) * WALK_SPAN
    few = ordered(query, reverse=False, walk=False, columns=columns  # type: ignore[operator]
                  ).offset(offset).limit(limit)
    # The span's end from the sort index alone (an index-only scan: no filter, whose columns
    # are on the heap; a few filtered-out customers in it only shorten the walk), and the
    # book's size (the highest id: one index entry).
    everyone = replace(plain, archived=None, status=None, kind=None, tag=None, segment=None)
    population = select(func.max(m.Customer.id)).scalar_subquery()
    found = session.execute(ordered(  # type: ignore[operator]
        everyone, reverse=False, columns=(sort, m.Customer.id, population, _ALL_VISIBLE))
        .offset(span - 1).limit(1)).first()
    last = None if found is None else tuple(found[:2])
    if found is not None and found[3] and _id_walkable(plain):
        expected = estimated_matches(session, match)
        if expected * WALK_SPAN < (found[2] or 0):
            # The walk is bounded by the estimate, but never below FEW_MATCHES' worth: an
            # estimate can be far too low (typed digits, '030': 253 for 10,248 matches;
            # words found together, 'trade fa': 4,817 for 21,025), and then the matches
            # are dense and the walk fills the page early.
            return _hashed_walk(session, match, plain, offset, limit, columns, ordered,
                                offset + limit + HASHED_WALK_RATIO * max(expected,
                                                                         FEW_MATCHES)), None
    walk = ordered(plain, reverse=False, columns=columns).where(_probe(match))  # type: ignore[operator]
    if last is not None:
        key = tuple_(sort, m.Customer.id)
        walk = walk.where(key >= last if plain.descending else key <= last)
    rows = list(session.execute(walk.offset(offset).limit(limit)))
    if len(rows) == limit:
        return rows, None
    if last is None:  # the whole list was walked: these are all its matches from offset on
        return rows, (offset + len(rows)) if rows or offset == 0 else None
    return list(session.execute(few)), None


def sorted_matches(session: Session, query: object, offset: int, limit: int,
                   columns: Sequence[object], ordered: object) -> list[Sequence[object]] | None:
    """Rows [offset, offset+limit) of the counted list of `query` (a store.customers ListQuery
    whose search matches few enough customers not to walk the sort index: store.customers
    _plan), or None when the list filters on more than the archived state: every match
    sorted on its sort name from ix_customers_id_sort_name alone, then only the page's
    customers read (`_hashed_walk`'s fallback, with no walk before it). Read as
    `id = ANY(matches) ORDER BY sort_name`, each match's wide customer row was read to sort
    it (3,809 rows for "o'br" at 100,000 customers)."""
    from dataclasses import replace

    match = Match(query.search)  # type: ignore[attr-defined]
    plain = replace(query, search="")  # type: ignore[type-var]
    if match.empty or not _id_walkable(plain):
        return None
    return _hashed_walk(session, match, plain, offset, limit, columns, ordered, 0)


def _id_walkable(plain: object) -> bool:
    """Whether the list of `plain` (a ListQuery without its search) filters on nothing but
    the archived state, hidden or shown: then which customers are listed follows from their
    ids alone, and the sort index holds everything a walk needs (`_hashed_walk`)."""
    return (plain.archived is not True and plain.status is None  # type: ignore[attr-defined]
            and plain.kind is None and not plain.tag  # type: ignore[attr-defined]
            and not plain.segment)  # type: ignore[attr-defined]


def _hashed_walk(session: Session, match: Match, plain: object, offset: int, limit: int,
                 columns: Sequence[object], ordered: object, entries: int
                 ) -> list[Sequence[object]]:
    """uncounted_window's page of a search matching 1-5% of the book, in ONE statement: the
    sort index walked in order, index only, each entry tested against the matching ids,
    read once from the search indexes and hashed, stopping at the page; when the list's
    first `entries` customers hold too few matches (they sort further down: 'z', 'jose'),
    the same statement reads every match's customer by primary key to sort them, from the
    ids it has read already; then only the page's customers are read.

    It replaced a walk probing a thousand search rows one by one (~26 ms of execution for
    'mül' at 100,000 customers), which then fell back to reading every match's customer
    by primary key to sort them all (~2,600 for 'mül': ~60 ms). As a plain `id IN
    (sub-query)` the planner turned the match into a semi-join probing each walked
    customer's search row again (1.3 s for 'z'); under `OR false` the sub-query is not
    pulled up and stays a hashed sub-plan, built once. The archived customers are left out
    the same way from their own partial index, so no customer row is read during the walk.
    The fallback was a second statement that read the matches from the search indexes
    again (for 'z', 3,464 matches: ~2,600 pages of the search table, ~13 ms of 61 under
    EXPLAIN ANALYZE) and cost a round trip; now both parts share the ids (`m`, materialized)
    and the fallback runs only when the walk's count falls short (a one-time filter).

    Same rows as the counted list's page: the walk's rows are the first matches in list
    order, so when they are fewer than `limit` they are all on the fallback's page."""
    from crmcompanion.store.customers import SORT_COLUMNS

    column = SORT_COLUMNS[plain.sort].expression.name  # type: ignore[attr-defined]
    way = " DESC" if plain.descending else ""  # type: ignore[attr-defined]
    shown_only = plain.archived is not None  # type: ignore[attr-defined]
    archived_ids = "SELECT a.id FROM customers a WHERE a.archived_at IS NOT NULL"
    hidden = f" AND w.id NOT IN ({archived_ids})" if shown_only else ""
    listed_first = ("WITH m AS MATERIALIZED (" + match.ids() + "), "
                    f"walked AS MATERIALIZED (SELECT w.id FROM (SELECT c.id, c.{column} AS k "
                    f"FROM customers c ORDER BY c.{column}{way}, c.id{way} LIMIT :pg_walk) w "
                    f"WHERE (w.id IN (SELECT m.rowid FROM m) OR false){hidden} "
                    f"ORDER BY w.k{way}, w.id{way} OFFSET :pg_offset LIMIT :pg_limit) ")
    # The fallback's customers are read from ix_customers_id_sort_name (migration 0013: id
    # with its sort name), index only, and the archived ones left out by their ids as in the
    # walk: `f.archived_at IS NULL` read each match's wide customer row (3,464 for 'z').
    fallback = ("SELECT f.id FROM customers f WHERE "
                "f.id = ANY(ARRAY(SELECT m.rowid FROM m)) "
                + (f"AND f.id NOT IN ({archived_ids}) " if shown_only else "")
                + "AND (SELECT count(*) FROM walked) < :pg_limit "
                f"ORDER BY f.{column}{way}, f.id{way} OFFSET :pg_offset LIMIT :pg_limit")
    page = f"{listed_first}SELECT walked.id FROM walked UNION ALL ({fallback})"
    listed = text(f"customers.id = ANY(ARRAY({page}))").bindparams(
        *(bindparam(k, v) for k, v in match.params().items()),
        bindparam("pg_walk", entries), bindparam("pg_offset", offset),
        bindparam("pg_limit", limit))
    # The walk's rows, if too few, are among the fallback's: at most `limit` ids in all.
    return list(session.execute(ordered(plain, reverse=False, columns=columns)  # type: ignore[operator]
                                .where(listed)))


class SearchCondition(ColumnElement[bool]):
    """The customer list's "matches the search" condition, written once by store.customers
    (its FTS5 form) and compiled for the engine that runs it: the list's queries are built
    without a session, so the engine is known only here."""

    # Cacheable like the text it wraps: the search is part of the cache key (the PostgreSQL
    # form is made from it), the SQLite form's bound values are extracted as usual.
    inherit_cache = True
    _traverse_internals: ClassVar[list[tuple[str, InternalTraversal]]] = [
        ("sqlite", InternalTraversal.dp_clauseelement),
        ("search", InternalTraversal.dp_string),
        ("walk", InternalTraversal.dp_boolean),
    ]
    type = Boolean()
    # A condition in itself: without this, SQLite (no native boolean) gets it as
    # "customers.id IN (...) = 1", which hides the IN from the planner, so every search
    # walked the sort index instead of sorting a small match set ("so": 30 ms instead of 5).
    _is_implicitly_boolean = True

    def __init__(self, sqlite: ClauseElement, search: str, walk: bool = False) -> None:
        self.sqlite = sqlite
        self.search = search
        self.walk = walk  # store.customers._plan's choice: walk the sort index


@compiles(SearchCondition)
def _compile_sqlite(element: SearchCondition, compiler: SQLCompiler, **kw: object) -> str:
    return compiler.process(element.sqlite, **kw)


@compiles(SearchCondition, "postgresql")
def _compile_postgres(element: SearchCondition, compiler: SQLCompiler, **kw: object) -> str:
    return compiler.process(_list_condition(element.search, element.walk), **kw)


FLAGS_SQL = (
    "chr(57344) || 'status' || {t}.status || ' ' || chr(57344) || 'kind' || {t}.kind"
    " || CASE WHEN {t}.archived_at IS NULL THEN '' ELSE ' ' || chr(57344) || 'archived' END"
)
