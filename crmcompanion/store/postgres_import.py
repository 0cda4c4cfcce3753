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
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from crmcompanion.core.customer import new_uids
from crmcompanion.store import customers as repo
from crmcompanion.store import postgres_bulk as pgb
from crmcompanion.store.rows import DATA_COLUMNS
from crmcompanion.store.staging import SCHEMA

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
                  after_chunk: Callable[[int], None] | None = None) -> None:
    """store.bulk.insert_staged on PostgreSQL: the rows numbered in temp.import_ids (on the
    stage cursor) as customers first_id..last_id of batch `batch_id`."""
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
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    uid_at = DATA_COLUMNS.index("source_uid")
    staged = cursor.execute(
        f"SELECT m.id, {', '.join('s.' + c for c in DATA_COLUMNS)} "
        + joined.format(table="customers", then="")).fetchall()
    missing = iter(new_uids(sum(1 for r in staged if not r[1 + uid_at])))
    customers = [
        (*r[:1 + uid_at], r[1 + uid_at] or next(missing), *r[2 + uid_at:],
         0, None, None, stamp, stamp, staff_id, staff_id, 1)
        for r in staged]
    from crmcompanion.store import touchpoints as tp_repo

    if empty:
        pgb.set_checks_aside(session)
    with tp_repo.triggers_set_aside(
            session, tp_repo.BULK_INSERT_TRIGGERS + tp_repo.DUE_COUNT_TRIGGERS):
        for start in range(0, len(customers), chunk):
            pgb.copy_rows(session, "customers", pgb.TABLES[0][2],
                          customers[start:start + chunk])
            if after_chunk is not None:
                after_chunk(min(len(customers), start + chunk))
        for field, table, columns in pgb.TABLES[1:]:
            if field == "interactions":
                continue  # an import brings none
            if field == "tags":
                rows = [(cid, tag_ids[key]) for cid, key in cursor.execute(
                    "SELECT m.id, s.key " + joined.format(table="tags", then=", s.seq"))]
            else:
                rows = cursor.execute(
                    f"SELECT m.id, {', '.join('s.' + c for c in columns[1:])} "
                    + joined.format(table=field, then=_THEN[field])).fetchall()
            pgb.copy_rows(session, table, columns, rows)
        pgb.copy_rows(session, "import_batch_customers", ("batch_id", "customer_id"),
                      ((batch_id, cid) for cid in range(first_id, last_id + 1)))
        pgb.copy_search(session, cursor.execute(
            f"SELECT m.id, {', '.join('s.' + c for c in pgb.SEARCH_COLUMNS[1:])} "
            + joined.format(table="search", then="")))
    pgb.advance_sequences(session)
    tp_repo.mark_customers_dirty(session, first_id, last_id)
    pgb.analyze_loaded(session)
    logger.debug("Copied %d imported customers into PostgreSQL", last_id - first_id + 1)


def log_last_contacts(session: Session, contacts: Sequence[tuple[int, datetime, date]],
                      staff_id: int | None, summary: str, created: datetime) -> None:
    """The imported customers' "Last contact" as one conversation each (customer id, stamp
    in naive UTC, local day), and their keep-in-touch clock marked for a recompute from it:
    a COPY and one joined UPDATE (an executemany of 100,000 inserts and 100,000 updates
    took ~17 s)."""
    pgb.copy_rows(session, "interactions", pgb.INTERACTION_COLUMNS, (
        (cid, at, day, None, staff_id, summary, created) for cid, at, day in contacts))
    session.execute(text("CREATE TEMP TABLE import_contact_days "
                         "(customer_id integer PRIMARY KEY, day date) ON COMMIT DROP"))
    pgb.copy_rows(session, "import_contact_days", ("customer_id", "day"),
                  ((cid, day) for cid, _at, day in contacts))
    session.execute(text(
        "UPDATE contact_rhythm r SET dirty = true, last_interaction_on = d.day "
        "FROM import_contact_days d WHERE r.customer_id = d.customer_id"))
    session.execute(text("DROP TABLE import_contact_days"))


def log_staged_last_contacts(session: Session, lines: Sequence[int], minutes: Sequence[int],
                             staff_id: int | None, summary: str, created: datetime) -> None:
    """The just-imported customers' "Last contact" (file line and UTC minute since the epoch
    of each row that has one) as `log_last_contacts` takes them: their new ids read from the
    stage cursor's numbering (temp.import_ids), the rows written through the column types
    (the SQLite path builds SQLite's storage forms, which a server refuses)."""
    cursor: sqlite3.Cursor = session.info[STAGE_CURSOR]
    by_line = dict(zip(lines, minutes, strict=True))
    logged: list[tuple[int, datetime, date]] = []
    for customer_id, line in cursor.execute(
            f"SELECT i.id, s.line FROM temp.import_ids i JOIN {SCHEMA}.customers s "
            "ON s.row = i.row ORDER BY i.id"):
        minute = by_line.get(line)
        if minute is None:
            continue
        moment = datetime.fromtimestamp(minute * 60, UTC)
        # the local calendar day, as add_interaction stores it
        logged.append((customer_id, moment.replace(tzinfo=None),
                       datetime.fromtimestamp(minute * 60).date()))
    if logged:
        log_last_contacts(session, logged, staff_id, summary, created)
