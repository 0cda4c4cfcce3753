"""Imports into PostgreSQL (team mode): the staged rows read from their SQLite scratch file.

Why: an import stages the file's rows in an SQLite scratch file (store.staging) and, on
SQLite, ATTACHes it to the database connection to match duplicates and copy the rows in with
INSERT ... SELECT. A server cannot attach a local file. Here the staging file is attached to
a private in-memory SQLite connection instead, under the same schema name, so every staging
query (candidates, keys, numbering, drafts to merge) runs unchanged; the database's own
duplicate keys that the file's rows could match are first copied into that connection's
`main` tables (only the keys the file holds), and the numbered rows go to the server by COPY
(store.postgres_bulk), in the caller's transaction.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.orm import Session

from crmcompanion.core.customer import new_uids
from crmcompanion.store import customers as repo
from crmcompanion.store import postgres_bulk as pgb
from crmcompanion.store.rows import DATA_COLUMNS
from crmcompanion.store.staging import SCHEMA

if TYPE_CHECKING:
    from crmcompanion.core.touchpoints import TouchpointSettings
    from crmcompanion.store.bulk import LastContacts

logger = logging.getLogger(__name__)

STAGE_CURSOR = "crmcompanion.stage_cursor"  # where session.info keeps it
# Each customer's rows in their staged order (the draft's order).
_THEN = {"emails": ", s.position", "phones": ", s.position", "dates": ", s.seq"}
_KEYS = (  # (live table, its key column, the staged table and column holding the same keys)
    ("customers", "source_uid", "customers", "source_uid"),
    ("customer_emails", "address_key", "emails", "address_key"),
    ("customer_phones", "digits", "phones", "digits"),
)


def stage_cursor(session: Session, path: str) -> sqlite3.Cursor:
    """A cursor seeing the staging file as SCHEMA and, as `main`, the database's keys the
    staged rows hold (see module doc); kept in session.info for `insert_staged`."""
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    conn.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (path,))
    for live, column, staged, staged_column in _KEYS:
        conn.execute(f"CREATE TABLE main.{live} ({column} TEXT)")
        if not session.execute(text(f"SELECT EXISTS (SELECT 1 FROM {live})")).scalar_one():
            continue  # nothing stored to match (an import into an empty database): no lookups
        wanted = [k for (k,) in conn.execute(
            f"SELECT DISTINCT {staged_column} FROM {SCHEMA}.{staged} "
            f"WHERE {staged_column} <> ''")]
        for start in range(0, len(wanted), 10_000):
            found = session.execute(
                text(f"SELECT DISTINCT {column} FROM {live} WHERE {column} = ANY(:keys)"),
                {"keys": wanted[start:start + 10_000]}).all()
            conn.executemany(f"INSERT INTO main.{live} VALUES (?)", found)
    cursor = conn.cursor()
    session.info[STAGE_CURSOR] = cursor
    return cursor


def insert_staged(session: Session, first_id: int, last_id: int, now: datetime,
                  staff_id: int | None, batch_id: int, chunk: int,
                  after_chunk: Callable[[int], None] | None = None,
                  contacts: LastContacts | None = None,
                  rhythm: TouchpointSettings | None = None) -> None:
    """store.bulk.insert_staged on PostgreSQL: the rows numbered in temp.import_ids (on the
    stage cursor) as customers first_id..last_id of batch `batch_id`, with their "Last
    contact" conversations (`contacts`). With the touchpoint settings `rhythm`, the new
    customers' touchpoint rows are written once with their final values
    (`touchpoints.insert_new_rhythm`);
    without, marked dirty for the caller's `touchpoints.sync_dirty`."""
    if last_id < first_id:
        return
    cursor: sqlite3.Cursor = session.info[STAGE_CURSOR]
    s = SCHEMA
    joined = f"FROM temp.import_ids m JOIN {s}.{{table}} s ON s.row = m.row ORDER BY m.id{{then}}"
    names: dict[str, str] = {}
    for key, name in cursor.execute(
            f"SELECT DISTINCT key, name FROM {s}.tags "
            "WHERE row NOT IN (SELECT row FROM temp.import_dups)"):
        if key not in names or name < names[key]:
            names[key] = name
    tag_ids = repo.ensure_tags(session, list(names.values()))
    pgb.lock_customers(session)
    empty = pgb.is_empty(session)
    customers = _staged_customers(cursor, joined, now, staff_id)
    from crmcompanion.store import touchpoints as tp_repo

    if empty:
        pgb.set_checks_aside(session)
    with tp_repo.triggers_set_aside(
            session, tp_repo.BULK_INSERT_TRIGGERS + tp_repo.DUE_COUNT_TRIGGERS), \
            pgb.foreign_keys_checked_after(session, _COPIED):
        done = 0
        while True:  # one COPY per chunk: progress and cancelling between them
            copied = pgb.copy_rows(session, "customers", pgb.TABLES[0][2],
                                   islice(customers, chunk))
            done += copied
            if copied and after_chunk is not None:
                after_chunk(done)
            if copied < chunk:
                break
        for field, table, columns in pgb.TABLES[1:]:
            if field == "interactions":
                continue  # an import brings none
            # Read as the COPY sends them (see _staged_customers), never fetched first.
            rows: Iterable[tuple[object, ...]]
            if field == "tags":
                rows = ((cid, tag_ids[key]) for cid, key in cursor.execute(
                    "SELECT m.id, s.key " + joined.format(table="tags", then=", s.seq")))
            else:
                rows = cursor.execute(
                    f"SELECT m.id, {', '.join('s.' + c for c in columns[1:])} "
                    + joined.format(table=field, then=_THEN[field]))
            pgb.copy_rows(session, table, columns, rows)
        # The batch's rows made by the server: ids first_id..last_id need no shipping.
        session.execute(text(
            "INSERT INTO import_batch_customers (batch_id, customer_id) "
            "SELECT :batch, g FROM generate_series(CAST(:first AS bigint), "
            "CAST(:last AS bigint)) g"),
            {"batch": batch_id, "first": first_id, "last": last_id})
    # After the block above: the search table's statistics trigger must run.
    pgb.copy_search(session, cursor.execute(
        f"SELECT m.id, {', '.join('s.' + c for c in pgb.SEARCH_COLUMNS[1:])} "
        + joined.format(table="search", then="")))
    pgb.advance_sequences(session)
    with pgb.foreign_keys_checked_after(session, ("interactions",)):
        logged = contacts is not None and bool(contacts.lines) and _log_staged_last_contacts(
            session, contacts)
    if rhythm is None:
        tp_repo.mark_customers_dirty(session, first_id, last_id)
        if logged:
            _mark_last_contacts(session, first_id, last_id)
        pgb.analyze_loaded(session)
    else:
        tp_repo.insert_new_rhythm(session, first_id, last_id, rhythm,
                                  _LAST_DAYS if logged else None)
        pgb.analyze_loaded(session, _ANALYZED_WITH_RHYTHM)
    logger.debug("Copied %d imported customers into PostgreSQL", last_id - first_id + 1)


def _staged_customers(cursor: sqlite3.Cursor, joined: str, now: datetime,
                      staff_id: int | None) -> Iterator[tuple[object, ...]]:
    """The numbered staged customers as rows of the customers table, in id order, read from
    the staging file as the COPY sends them (a row without a UID given a new one).

    Why read as sent: fetched into a list first (100,000 rows of 30 columns), the reading
    was time the server sat idle before each COPY, and the list was held to the end of the
    import; read row by row inside the COPY, the server parses and stores the rows as the
    next ones are read."""
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    uid_at = 1 + DATA_COLUMNS.index("source_uid")
    fresh = _fresh_uids()
    tail = (0, None, None, stamp, stamp, staff_id, staff_id, 1)
    for r in cursor.execute(f"SELECT m.id, {', '.join('s.' + c for c in DATA_COLUMNS)} "
                            + joined.format(table="customers", then="")):
        yield (*r[:uid_at], r[uid_at] or next(fresh), *r[uid_at + 1:], *tail)


def _fresh_uids() -> Iterator[str]:
    """New UIDs one at a time, made a thousand at a time (new_uids' cost is per call)."""
    while True:
        yield from new_uids(1_000)


# The tables the import COPYs its customers' rows into (their foreign keys checked once after,
# into a database that holds customers: postgres_bulk.foreign_keys_checked_after).
_COPIED = ("customers", "customer_emails", "customer_phones", "customer_tags", "special_dates",
           "import_batch_customers")


# The new customers' last interaction days (touchpoints.insert_new_rhythm's
# `last_interactions` shape: customer_id, occurred_on): their "Last contact" conversations,
# the only interactions an import brings (a join, not a second COPY of the days into a temp
# table).
_LAST_DAYS = (
    "(SELECT customer_id, max(occurred_on) AS occurred_on FROM interactions "
    "WHERE customer_id BETWEEN :first AND :last GROUP BY customer_id)"
)


def _log_staged_last_contacts(session: Session, contacts: LastContacts) -> bool:
    """The just-imported customers' "Last contact" (file line and UTC minute since the epoch
    of each row that has one) as one conversation each: their new ids read from the stage
    cursor's numbering (temp.import_ids), the rows written through the column types (the
    SQLite path builds SQLite's storage forms, which a server refuses), by COPY (an
    executemany of 100,000 inserts took ~17 s). Whether any was logged."""
    cursor: sqlite3.Cursor = session.info[STAGE_CURSOR]
    by_line = dict(zip(contacts.lines, contacts.minutes, strict=True))
    staff_id, summary, created = contacts.staff_id, contacts.summary, contacts.created

    def rows() -> Iterator[tuple[object, ...]]:
        for customer_id, line in cursor.execute(
                f"SELECT i.id, s.line FROM temp.import_ids i JOIN {SCHEMA}.customers s "
                "ON s.row = i.row ORDER BY i.id"):
            minute = by_line.get(line)
            if minute is None:
                continue
            moment = datetime.fromtimestamp(minute * 60, UTC)
            # the local calendar day, as add_interaction stores it
            yield (customer_id, moment.replace(tzinfo=None),
                   datetime.fromtimestamp(minute * 60).date(), None, staff_id, summary, created)

    return pgb.copy_rows(session, "interactions", pgb.INTERACTION_COLUMNS, rows()) > 0


def _mark_last_contacts(session: Session, first_id: int, last_id: int) -> None:
    """The dirty rhythm rows of customers first_id..last_id given their last interaction
    day (for `touchpoints.sync_dirty` to recompute): one joined UPDATE."""
    session.execute(text(
        "UPDATE contact_rhythm r SET dirty = true, last_interaction_on = d.occurred_on "
        f"FROM {_LAST_DAYS} d WHERE r.customer_id = d.customer_id"),
        {"first": first_id, "last": last_id})


# The tables an import with its touchpoint rows written final has filled or rewritten and
# whose plans go wrong without statistics (see postgres_bulk.ANALYZED_AFTER_LOAD; the
# rhythm and touchpoint rows for the Today reads, which sync_dirty analyzed before). The
# search table by its matched columns only: its folded texts, which no plan looks at, made
# its ANALYZE 1.0-1.3 s of 100,000 rows instead of ~0.5 s. Not customers (~2 s, every
# column): its row count comes from its size, its columns' statistics from autovacuum.
_ANALYZED_WITH_RHYTHM = ("customer_search (rowid, terms)", "customer_phones", "contact_rhythm",
                         "touchpoint_sources")
