"""Fast bulk insertion of many customers: demo data, and imports (from `store.staging`).

The ORM costs ~35 µs per object; a 100,000-customer import must take seconds, not minutes, so
this path writes plain tuples with the DBAPI's executemany inside the caller's transaction.
Ids are assigned here from MAX(id): safe because the write transaction (BEGIN IMMEDIATE) holds
SQLite's write lock until commit.

Measured at 100,000 customers (2-core machine, CPU seconds): the per-row derived-data
triggers cost ~1.4 s, so the load drops them (`store.touchpoints.triggers_set_aside`) and marks
its customers dirty with one INSERT ... SELECT; filling the customer indexes row by row in
random key order cost ~0.75 s more than building them afterwards by sorting, so a load at
least as big as the table drops and re-creates them; FTS5 flushes and merges its segments
less often during the load (~0.25 s). The demo indexes its search rows in one statement while
a worker thread builds its other rows (`insert_rows_while_building`, ~0.3 s), or, for a big
demo on Linux, while a forked child process writes them into scratch SQLite files that are
then copied in with INSERT ... SELECT (`StagedParts`, `insert_rows_staged`, ~1.2 s), and loads
an empty database through the rollback journal instead of the WAL when it can
(`rollback_journal_if_alone`, ~0.45 s).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import signal
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from crmcompanion.core.customer import CustomerDraft, new_uids
from crmcompanion.core.customer_values import values_of
from crmcompanion.core.touchpoints import TouchpointSettings
from crmcompanion.infra import forking
from crmcompanion.store import customers as repo
from crmcompanion.store import models as m
from crmcompanion.store import touchpoints as tp_repo
from crmcompanion.store.database import Database
from crmcompanion.store.rows import (
    CUSTOMER_COLUMNS,
    BulkRows,
    Row,
    open_scratch,
    rows_from_values,
)

if TYPE_CHECKING:  # for the annotation only
    from crmcompanion.store.search_aside import SearchAside

logger = logging.getLogger(__name__)

_INSERT_CUSTOMER = (
    f"INSERT INTO customers ({', '.join(CUSTOMER_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in CUSTOMER_COLUMNS)})"
)


# FTS5 keeps pending terms in a hash flushed to a new segment at `hashsize` bytes, and merges
# segments as it goes (automerge 4, crisismerge 16). A 4 MB hash and rarer merges during a bulk
# insert saved ~0.3 s CPU of ~1.3 s on 100k customers (bigger hashes were slower again); the
# defaults are restored after, so later edits behave as before.
_FTS_BULK_CONFIG = (("automerge", 16), ("crisismerge", 64), ("hashsize", 4 * 1024 * 1024))
_FTS_DEFAULT_CONFIG = (("automerge", 4), ("crisismerge", 16), ("hashsize", 1024 * 1024))
# An import's search rows: no merging during the load, and a hash big enough that each search
# statement (_SEARCH_CHUNK rows) is written out as ONE new segment at its end. With the bulk
# settings above, 100,000 rows into a 100,000-customer index spent ~5.2 s of CPU (4 MB
# flushes, merged with the old segments as they came), with these ~3.2 s and 2 new segments
# (on copies of one database, the same rows; what a search finds does not depend on how the
# index is split into segments). The pending terms of 50,000 rows take ~50 MB more memory.
# A level of the index must not reach the crisis-merge level the defaults restore (16
# segments): the first one-row edit after the import would merge that whole level (2.2 s of
# CPU after such an import into a `demo` index, whose level 0 holds 15 segments). Where it
# would, that level is merged first, in the import's transaction (`('merge', N)`: ~1.2 s
# there, work the next write would do anyway), then the rows go in unmerged: 3.7-4.3 s in
# all, against 5.1 s plus 0.4 s at the next edit with the bulk settings. An import of so many
# rows that its own segments would reach that level keeps the bulk settings. Also used for
# the index an import into an empty one builds aside (store.search_aside), whose segments are
# copied in as they are.
_FTS_IMPORT_CONFIG = (("automerge", 0), ("crisismerge", 64), ("hashsize", 128 * 1024 * 1024))
_CRISIS_MERGE = dict(_FTS_DEFAULT_CONFIG)["crisismerge"]
_MERGE_PAGES = 1 << 30  # `merge` stops after this many pages written: in effect, never


def _import_fts_settings(cursor: sqlite3.Cursor, rows: int) -> tuple[tuple[str, int], ...]:
    """_FTS_IMPORT_CONFIG when the index can take the import's new segments (one per search
    statement) on any one level without reaching the crisis-merge level, merging its fuller
    levels first if that makes room; else the bulk settings."""
    from crmcompanion.store import search_aside  # it needs nothing of this module's

    statements = -(-rows // _SEARCH_CHUNK)
    fullest = search_aside.fullest_level(cursor)
    if fullest is not None and fullest + statements >= _CRISIS_MERGE > statements:
        fullest = _merge_full_levels(cursor)
    return _FTS_IMPORT_CONFIG if fullest is not None \
        and fullest + statements < _CRISIS_MERGE else _FTS_BULK_CONFIG


def _merge_full_levels(cursor: sqlite3.Cursor) -> int | None:
    """Merge every level of the search index holding `usermerge` (4) segments or more, now
    (FTS5 'merge'); the fullest level after (see `search_aside.fullest_level`)."""
    from crmcompanion.store import search_aside

    cursor.execute("INSERT INTO customer_search(customer_search, rank) VALUES ('merge', ?)",
                   (_MERGE_PAGES,))
    return search_aside.fullest_level(cursor)


def _settle_search_index(cursor: sqlite3.Cursor) -> None:
    """After a demo load: merge, in the load's transaction, every level of the search index
    holding 4 segments or more, so the user's next edits do not.

    With the bulk settings a 100,000-customer demo left 15 segments on level 0; the first
    one-row edit after it brought the level to the crisis-merge level (16) and merged it whole
    (0.72 s of CPU in that save, 12,752 blocks written). Merged here: 0.57 s of CPU in the
    demo (~8.4 s in its process), then 60 one-row edits in 0.27 s in all. Measured and
    rejected: the import's settings (one 100,000-row segment on level 0, no merge): the same
    load time, but the 15th edit after it then merged that level (1.1 s). A smaller demo's
    fuller levels are merged too (`merge` leaves levels of fewer than 4 segments alone): each
    one-row edit adds a segment to level 0, so 7 there would reach 16 in 9 edits."""
    _merge_full_levels(cursor)


# Tables a bulk load fills; their plain indexes are rebuilt after a big load.
_LOADED_TABLES = (
    "customers", "customer_emails", "customer_phones", "customer_tags", "special_dates",
    "interactions",
)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects.

    Bulk work allocates hundreds of thousands of tuples and dataclasses that are never cyclic
    garbage; the collector still re-scans them all, which cost ~0.75 s of generating 100,000
    demo customers.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def rollback_journal_if_alone(db: Database) -> Iterator[bool]:
    """Around a bulk load into an EMPTY database: the rollback journal instead of the WAL
    while no other connection is open; yields whether it switched.

    In WAL mode every page of the load is written twice, into the WAL at commit and into the
    database by the checkpoint after (~200 MB for 100,000 demo customers; switching saved
    ~0.45 s of ~4.9 s). With the rollback journal an empty database's load writes its pages
    once and journals only the few it had. SQLite refuses to leave WAL mode at once ("database
    is locked", no busy wait) while any other connection is open, e.g. the running app in
    another process; the load then simply runs in WAL mode as always. The WAL is restored
    after (and every new connection asks for it anyway, see `database._configure_sqlite`).
    Only SQLite databases; the caller checks emptiness (a full one would journal every page).
    """
    if not db.is_sqlite:
        yield False
        return
    # Idle pooled connections of this process count as "other connections": close them
    # (checked-out ones stay, and then SQLite refuses the switch).
    db.read_engine.dispose()
    switched = False
    with db.write_engine.connect() as connection:
        raw = connection.connection.driver_connection
        try:
            mode = raw.execute("PRAGMA journal_mode = DELETE").fetchone()
            switched = bool(mode) and str(mode[0]).lower() == "delete"
        except sqlite3.OperationalError as error:
            logger.info("Bulk load keeps the WAL (another connection is open): %s", error)
    try:
        yield switched
    finally:
        if switched:
            with db.write_engine.connect() as connection:
                raw = connection.connection.driver_connection
                try:
                    raw.execute("PRAGMA journal_mode = WAL").fetchone()
                except sqlite3.OperationalError as error:
                    # The next connection opened sets WAL again (database._configure_sqlite).
                    logger.warning("Could not switch back to WAL after a bulk load: %s", error)


def iso_timestamp(value: datetime) -> str:
    """SQLAlchemy's SQLite DateTime storage format, so ORM reads parse what we write."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


_INTERACTION_COLUMNS = (
    "customer_id", "occurred_at", "occurred_on", "channel", "staff_id", "summary", "created_at",
)


def holds_customers(session: Session) -> bool:
    """Whether any customer row is stored (archived ones too), for a read unit: the question
    an import preview asks of `next_customer_id`, without its lock."""
    return session.scalar(select(m.Customer.id).limit(1)) is not None


def next_customer_id(session: Session) -> int:
    """The first id a bulk load in this (write) transaction gives its customers. On
    PostgreSQL it locks the customers table until the commit: only for a write unit (a read
    unit neither writes nor locks: `holds_customers` is its question)."""
    if session.get_bind().dialect.name == "postgresql":
        from crmcompanion.store import postgres_bulk

        postgres_bulk.lock_customers(session)  # no other writer takes these ids meanwhile
    return (session.scalar(select(func.max(m.Customer.id))) or 0) + 1


def rows_from_drafts(
    drafts: Sequence[CustomerDraft],
    first_id: int,
    stamp: str,
    staff_id: int | None,
    tag_ids: dict[str, int],
) -> BulkRows:
    """The rows of validated drafts for the live tables, customer ids from `first_id` (tag
    ids by folded name)."""
    rows = rows_from_values([values_of(d) for d in drafts], first_id)
    rows.customers = [(*c, 0, None, None, stamp, stamp, staff_id, staff_id, 1)
                      for c in rows.customers]
    rows.tags = [(cid, tag_ids[folded]) for cid, _, folded in rows.tags]
    return rows


def insert_customers(
    session: Session,
    drafts: Sequence[CustomerDraft],
    now: datetime,
    staff_id: int | None,
) -> list[int]:
    """Insert validated drafts in the session's transaction; returns their new ids."""
    if not drafts:
        return []
    first_id = next_customer_id(session)
    tag_ids = repo.ensure_tags(session, {t for d in drafts for t in d.tags})
    rows = rows_from_drafts(drafts, first_id, iso_timestamp(now), staff_id, tag_ids)
    insert_rows(session, rows)
    return list(range(first_id, first_id + len(drafts)))


@contextmanager
def _indexes_rebuilt_after(
    session: Session, rebuild: bool, tables: Sequence[str] = _LOADED_TABLES
) -> Iterator[Callable[[str], None]]:
    """When `rebuild`, drop the loaded tables' plain indexes and re-create them after the
    block (same transaction, so nobody ever sees them missing): sorting 100,000 keys once is
    cheaper than inserting them one by one in random order. Constraint indexes stay.

    Yields a function that re-creates one table's indexes at once, for a load that has
    finished that table while it still has others to do (a no-op without `rebuild`)."""
    if not rebuild:
        yield lambda _table: None
        return
    marks = ", ".join(f"'{t}'" for t in tables)
    saved = session.execute(
        text(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "
            f"AND sql IS NOT NULL AND tbl_name IN ({marks})"
        )
    ).all()
    for name, _, _ in saved:
        session.execute(text(f'DROP INDEX "{name}"'))
    pending = {name: (table, sql) for name, table, sql in saved}

    def now(table: str) -> None:
        for name, (of_table, sql) in list(pending.items()):
            if of_table == table:
                session.execute(text(sql))
                del pending[name]

    yield now
    for _, sql in pending.values():
        session.execute(text(sql))


_INSERT_SEARCH = (
    "INSERT INTO customer_search (rowid, name, company, emails, phones, tags, notes, flags) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def insert_rows(session: Session, rows: BulkRows) -> None:
    """Insert prepared rows in the session's (write) transaction.

    Customer ids must be consecutive (from `next_customer_id`); interactions, if any, must
    belong to these customers.
    """
    if rows.customers:
        _load(session, rows.search, lambda: rows, overlap=False)


def insert_rows_while_building(
    session: Session, search: list[Row], build: Callable[[], BulkRows]
) -> None:
    """Like `insert_rows`, but only the search rows are ready: `build()` makes the others
    (its `search` is ignored) in a worker thread while SQLite indexes the search rows.

    Indexing 100,000 search documents is ~0.8 s inside ONE statement (INSERT ... SELECT from
    a staging table), during which sqlite3 releases the GIL, so building the other rows
    there costs no wall time on a machine with two cores. (Fed row by row through
    executemany the statements are microseconds long and the two threads mostly wait for the
    GIL: measured, a worker saved only a third of its own time.) Staging the rows first costs
    ~0.03 s more than inserting them directly. `build` must not touch the session.
    """
    if search:
        _load(session, search, build, overlap=True)


@dataclass
class _Load:
    cursor: sqlite3.Cursor
    with_interactions: bool = False
    # A table of (customer_id INTEGER PRIMARY KEY, occurred_on): the loaded customers' last
    # interaction days, when the load has them already (see `mark_customers_dirty`).
    last_interactions: str | None = None
    # Re-create a finished table's indexes now (see `_indexes_rebuilt_after`).
    indexes_now: Callable[[str], None] = lambda _table: None


@contextmanager
def _loading(session: Session, first_id: int, last_id: int,
             tables: Sequence[str] = _LOADED_TABLES,
             rhythm: TouchpointSettings | None = None,
             fts: tuple[tuple[str, int], ...] | None = None) -> Iterator[_Load]:
    """Around inserting customers first_id..last_id (consecutive, new) and their rows into
    `tables`: the per-row triggers set aside, those tables' plain indexes rebuilt after a load
    at least as big as the customers table, FTS5 tuned for bulk (`fts`; None: a demo load, the
    bulk settings and `_settle_search_index` after); then the customers' rhythm rows:
    with the touchpoint settings `rhythm`, written with their final values
    (`touchpoints.insert_new_rhythm`), else dirty, for the next `sync_dirty`."""
    existing = session.scalar(select(func.count()).select_from(m.Customer)) or 0
    load = _Load(session.connection().connection.cursor())
    cursor = load.cursor
    try:
        # New rhythm rows have no due date yet: the due-count triggers have nothing to do.
        with tp_repo.triggers_set_aside(
            session, tp_repo.BULK_INSERT_TRIGGERS + tp_repo.DUE_COUNT_TRIGGERS
        ):
            size = last_id - first_id + 1
            with _indexes_rebuilt_after(session, size >= max(existing, 1000), tables) as now:
                load.indexes_now = now
                demo = fts is None
                fts = _FTS_BULK_CONFIG if fts is None else fts
                _configure_fts(cursor, fts)
                yield load
                if demo:
                    _settle_search_index(cursor)
                _configure_fts(cursor, _FTS_DEFAULT_CONFIG)
            # After the index rebuild: the last-interaction lookup uses the interactions index.
            if rhythm is not None and (load.last_interactions is not None
                                       or not load.with_interactions):
                tp_repo.insert_new_rhythm(session, first_id, last_id, rhythm,
                                          load.last_interactions)
            else:
                tp_repo.mark_customers_dirty(
                    session, first_id, last_id, with_interactions=load.with_interactions,
                    last_interactions=load.last_interactions,
                )
    finally:
        cursor.close()


def _configure_fts(cursor: sqlite3.Cursor, settings: tuple[tuple[str, int], ...]) -> None:
    for key, value in settings:
        cursor.execute(
            "INSERT INTO customer_search(customer_search, rank) VALUES (?, ?)", (key, value)
        )


def _load(
    session: Session, search: list[Row], build: Callable[[], BulkRows], overlap: bool
) -> None:
    if session.get_bind().dialect.name == "postgresql":
        from crmcompanion.store import postgres_bulk

        postgres_bulk.load(session, search, build)
        return
    with _loading(session, search[0][0], search[-1][0]) as load:
        if overlap:
            rows = _index_search_while(load.cursor, search, build)
        else:
            load.cursor.executemany(_INSERT_SEARCH, search)
            rows = build()
        _insert_tables(load.cursor, rows)
        load.with_interactions = bool(rows.interactions)


def _index_search_while(
    cursor: sqlite3.Cursor, search: list[Row], build: Callable[[], BulkRows]
) -> BulkRows:
    """Index the search rows in one statement while `build` runs in a worker thread."""
    cursor.execute(
        "CREATE TEMP TABLE bulk_search_stage (id INTEGER PRIMARY KEY, name, company, emails, "
        "phones, tags, notes, flags)"
    )
    try:
        cursor.executemany(
            "INSERT INTO bulk_search_stage VALUES (?, ?, ?, ?, ?, ?, ?, ?)", search
        )
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-build") as pool:
            built = pool.submit(build)
            cursor.execute(
                "INSERT INTO customer_search "
                "(rowid, name, company, emails, phones, tags, notes, flags) "
                "SELECT id, name, company, emails, phones, tags, notes, flags "
                "FROM bulk_search_stage ORDER BY id"
            )
            rows = built.result()
    finally:
        cursor.execute("DROP TABLE temp.bulk_search_stage")
    return rows


def _insert_tables(cursor: sqlite3.Cursor, rows: BulkRows) -> None:
    cursor.executemany(_INSERT_CUSTOMER, rows.customers)
    cursor.executemany(
        "INSERT INTO customer_emails (customer_id, position, label, address, address_key) "
        "VALUES (?, ?, ?, ?, ?)",
        rows.emails,
    )
    cursor.executemany(
        "INSERT INTO customer_phones (customer_id, position, label, number, digits) "
        "VALUES (?, ?, ?, ?, ?)",
        rows.phones,
    )
    cursor.executemany("INSERT INTO customer_tags (customer_id, tag_id) VALUES (?, ?)", rows.tags)
    cursor.executemany(
        "INSERT INTO special_dates (customer_id, kind, label, month, day, year, md_key) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows.dates,
    )
    if rows.interactions:
        cursor.executemany(
            f"INSERT INTO interactions ({', '.join(_INTERACTION_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _INTERACTION_COLUMNS)})",
            rows.interactions,
        )


# --- loading staged rows (store.staging) -------------------------------------------------------


# The page cache of a connection loading staged rows (see `attached`), in KiB.
IMPORT_CACHE_KIB = 64 * 1024


@contextmanager
def attached(db: Database, path: str, schema: str, write: bool,
             check_foreign_keys: bool = True) -> Iterator[Session]:
    """A unit of work, as `Database.write` (or `read`), whose connection also sees the SQLite
    file `path` as `schema` (for INSERT ... SELECT from it); detached again after the commit
    or rollback (SQLite refuses to detach a file a transaction has read).

    `check_foreign_keys=False` is for a bulk load into an EMPTY database only: every row it
    writes refers to rows the same transaction has just written, so the per-row lookups of
    the parent rows (~0.19 s of a 100,000-customer import) cannot find anything missing, and
    with nothing stored nothing can be deleted that an ON DELETE action would follow. SQLite
    turns the checks off per connection and only outside a transaction: off before BEGIN, on
    again after the commit or rollback, before the connection goes back to the pool.

    The connection's page cache is IMPORT_CACHE_KIB for the block (`PRAGMA cache_size`,
    restored after: the pool's connections keep SQLite's 2 MB). Appending 90,000 customers to
    a 100,000-customer database puts a key into each of the customers table's nine indexes in
    random order; with 2 MB of cache most of those index pages are read again from the file
    for each key (and dirty ones spilled): the customers INSERT ... SELECT took 2.7-3.2 s of
    CPU with the default cache and 1.6 s with 64 MB (128 and 256 MB gained nothing more).
    Only the pages the import touches are held, and given back when the size is restored."""
    if not db.is_sqlite:  # a server cannot attach a file: see staging_cursor
        with db.write() if write else db.read() as session:
            yield session
        return
    engine = db.write_engine if write else db.read_engine
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        raw.execute(f"ATTACH DATABASE ? AS {schema}", (path,))
        (pool_cache,) = raw.execute("PRAGMA main.cache_size").fetchone()
        try:
            raw.execute(f"PRAGMA main.cache_size = {-IMPORT_CACHE_KIB}")
            if not check_foreign_keys:
                raw.execute("PRAGMA foreign_keys = OFF")
            try:
                # begin(): commit when the block ends (a read has nothing to commit), roll
                # back if it raises.
                with Session(bind=connection, expire_on_commit=False) as session, \
                        session.begin():
                    yield session
            finally:
                if not check_foreign_keys:
                    raw.execute("PRAGMA foreign_keys = ON")
                raw.execute(f"DETACH DATABASE {schema}")
        finally:
            # Set back even when the block or DETACH failed: the connection returns to the pool.
            raw.execute(f"PRAGMA main.cache_size = {int(pool_cache)}")


# (live table, its columns, staging table): the staging table has the same columns, the first
# (the customer id) replaced by the staged row number.
_STAGED_COPIES = (
    ("customer_emails", ("customer_id", "position", "label", "address", "address_key"),
     "emails"),
    ("customer_phones", ("customer_id", "position", "label", "number", "digits"), "phones"),
    ("special_dates", ("customer_id", "kind", "label", "month", "day", "year", "md_key"),
     "dates"),
    ("customer_search",
     ("rowid", "name", "company", "emails", "phones", "tags", "notes", "flags"), "search"),
)


# The random UIDs of the staged rows the file gave none, by customer id (`_new_uids`).
_NEW_UIDS = "import_new_uids"


def _new_uids(cursor: sqlite3.Cursor, stage: str) -> None:
    """Make the random UIDs (`core.customer.new_uids`) of the rows about to be inserted that
    the file gave none, ascending with the customer id: the UID index is unique and filled,
    and keys put into a B-tree in order reach each leaf once, in turn, where random ones jump
    from leaf to leaf (the 90,000-row customers insert into a 100,000-customer table: ~2.1
    -> ~1.1 s of CPU, for ~0.2 s here). Random all the same, one per such row as before."""
    ids = [customer_id for (customer_id,) in cursor.execute(
        f"SELECT m.id FROM temp.import_ids m JOIN {stage}.customers s ON s.row = m.row "
        "WHERE s.source_uid = '' ORDER BY m.id")]
    cursor.execute(f"CREATE TEMP TABLE {_NEW_UIDS} (id INTEGER PRIMARY KEY, uid TEXT NOT NULL)")
    cursor.executemany(f"INSERT INTO temp.{_NEW_UIDS} VALUES (?, ?)",
                       zip(ids, sorted(new_uids(len(ids))), strict=True))


def _staged_statements(stage: str) -> list[str]:
    """INSERT ... SELECT of the staged rows listed in temp.import_ids with ids in
    [:first, :last]: customers (stamps and staff from the parameters), their rows, their
    import batch link, and last their search rows."""
    fixed = {"id": "m.id", "do_not_contact": "0", "cadence_days": "NULL",
             "archived_at": "NULL", "created_at": ":stamp", "updated_at": ":stamp",
             "created_by_id": ":staff", "updated_by_id": ":staff", "version": "1"}
    # A row the file gave no UID gets a random one, made beforehand (`_new_uids`).
    fixed["source_uid"] = (f"CASE WHEN s.source_uid <> '' THEN s.source_uid ELSE (SELECT uid "
                           f"FROM temp.{_NEW_UIDS} u WHERE u.id = m.id) END")
    customers = ", ".join(fixed.get(c, f"s.{c}") for c in CUSTOMER_COLUMNS)
    ids = "FROM temp.import_ids m JOIN {stage}.{table} s ON s.row = m.row{join} " \
          "WHERE m.id BETWEEN :first AND :last"
    statements = [
        f"INSERT INTO customers ({', '.join(CUSTOMER_COLUMNS)}) SELECT {customers} "
        + ids.format(stage=stage, table="customers", join=""),
        "INSERT INTO customer_tags (customer_id, tag_id) SELECT m.id, t.tag_id "
        + ids.format(stage=stage, table="tags",
                     join=" JOIN temp.import_tag_ids t ON t.key = s.key"),
    ]
    statements.append("INSERT INTO import_batch_customers (batch_id, customer_id) "
                      "SELECT :batch, m.id FROM temp.import_ids m "
                      "WHERE m.id BETWEEN :first AND :last")
    for live, columns, staged in _STAGED_COPIES:  # the search rows last
        values = ", ".join(("m.id", *(f"s.{c}" for c in columns[1:])))
        statements.append(f"INSERT INTO {live} ({', '.join(columns)}) SELECT {values} "
                          + ids.format(stage=stage, table=staged, join=""))
    return statements


def staging_cursor(session: Session, path: str) -> sqlite3.Cursor:
    """The cursor the staging queries run on (store.staging): the session's own, with the
    staging file `path` attached (`attached`); on PostgreSQL a private SQLite connection's
    (store.postgres_import)."""
    if session.get_bind().dialect.name == "postgresql":
        from crmcompanion.store import postgres_import

        return postgres_import.stage_cursor(session, path)
    return session.connection().connection.cursor()


@dataclass(frozen=True)
class LastContacts:
    """The "Last contact" of imported rows (the app's own export): each row's file line and
    UTC minute since the epoch, in two compact arrays (a million rows of them are 16 MB, not
    ~150 as tuples). The import logs each as a conversation (`summary`, by `staff_id`,
    created at `now`) so that keep-in-touch starts where it was."""

    lines: Sequence[int]
    minutes: Sequence[int]
    summary: str
    staff_id: int | None
    now: datetime

    @property
    def created(self) -> datetime:
        """`now` as stored: naive UTC."""
        now = self.now
        return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


_STORED_STAMP = "%Y-%m-%d %H:%M:%S.%f"
# The triggers on interactions (migration 0010): they mark the customer's stored health stale.
_NEW_INTERACTION_TRIGGERS = ("customer_health_interaction_insert",)
# The loaded customers' last-contact conversations: (customer id, stamp, local day).
_CONTACT_IDS = "import_contact_ids"


def _log_last_contacts(cursor: sqlite3.Cursor, stage: str, contacts: LastContacts) -> str:
    """The new customers' "Last contact" as a conversation each, inserted set-based in the
    import's transaction: one executemany of plain tuples and two statements (as ORM rows
    they took seconds). Returns the temporary table of (customer_id INTEGER PRIMARY KEY,
    occurred_on) it leaves for the rhythm rows (`touchpoints.insert_new_rhythm`); the caller
    drops it (`_drop_contacts`)."""
    cursor.execute("CREATE TEMP TABLE import_contacts (line INTEGER PRIMARY KEY, minute)")
    cursor.execute(f"CREATE TEMP TABLE {_CONTACT_IDS} "
                   "(customer_id INTEGER PRIMARY KEY, at, occurred_on)")
    try:
        cursor.executemany("INSERT INTO temp.import_contacts VALUES (?, ?)",
                           zip(contacts.lines, contacts.minutes, strict=True))
        # The stamp as SQLAlchemy stores a DateTime on SQLite, and its local calendar day
        # (what `add_interaction` stores: the C library's local time, as Python's).
        cursor.execute(
            f"INSERT INTO temp.{_CONTACT_IDS} SELECT i.id, "
            "strftime('%Y-%m-%d %H:%M:%S', c.minute * 60, 'unixepoch') || '.000000', "
            "date(c.minute * 60, 'unixepoch', 'localtime') FROM temp.import_ids i "
            f"JOIN {stage}.customers s ON s.row = i.row "
            "JOIN temp.import_contacts c ON c.line = s.line")
        cursor.execute(
            "INSERT INTO interactions (customer_id, occurred_at, occurred_on, channel, staff_id, "
            "summary, occasion, occurrence_key, created_at) SELECT customer_id, at, "
            f"occurred_on, NULL, ?, ?, NULL, NULL, ? FROM temp.{_CONTACT_IDS} "
            "ORDER BY customer_id",
            (contacts.staff_id, contacts.summary, contacts.created.strftime(_STORED_STAMP)))
    finally:
        cursor.execute("DROP TABLE temp.import_contacts")
    return f"temp.{_CONTACT_IDS}"


# FTS5 writes out what it has gathered at the end of every statement: the search rows go in
# by this many (one statement per 5,000 cost ~0.15 s more of 100,000 than one in all).
_SEARCH_CHUNK = 50_000


def insert_staged(
    session: Session,
    stage: str,
    first_id: int,
    last_id: int,
    now: datetime,
    staff_id: int | None,
    batch_id: int,
    chunk: int,
    after_chunk: Callable[[int], None] | None = None,
    aside: SearchAside | None = None,
    stage_path: str = "",
    contacts: LastContacts | None = None,
    rhythm: TouchpointSettings | None = None,
) -> None:
    """Insert the staged rows (attached as `stage`, see `store.staging`) listed in
    temp.import_ids (all staged rows not in temp.import_dups, numbered by
    `staging.number_rows`) as customers first_id..last_id of import batch `batch_id`,
    `chunk` customers per statement; `after_chunk(done)` may raise to stop (the caller's
    transaction then rolls everything back).

    With `aside` (the search index empty, the staging file at `stage_path`), the search rows
    are indexed by a forked child meanwhile and copied in last (see `store.search_aside`);
    the caller must close this connection after the commit.

    `contacts`: the rows' "Last contact", logged as a conversation each. With the touchpoint
    settings `rhythm` (SQLite), the customers' touchpoint rows are written with their final
    values (`touchpoints.insert_new_rhythm`), else marked dirty for the caller's
    `touchpoints.sync_dirty`."""
    if last_id < first_id:
        return
    if session.get_bind().dialect.name == "postgresql":
        from crmcompanion.store import postgres_import

        postgres_import.insert_staged(session, first_id, last_id, now, staff_id, batch_id,
                                      chunk, after_chunk, contacts, rhythm)
        return
    cursor = session.connection().connection.cursor()
    *statements, search = _staged_statements(stage)
    fts = _import_fts_settings(cursor, last_id - first_id + 1)
    if aside is not None:
        aside.start(cursor, stage_path, first_id, search, _SEARCH_CHUNK, fts)
    try:
        # Each tag's name: the least of its spellings in the rows imported. DISTINCT keeps
        # the few pairs in a small index as it reads, where GROUP BY sorted every tag row
        # (0.02 s of 100,000 rows, not 0.06).
        names: dict[str, str] = {}
        for key, name in cursor.execute(
            f"SELECT DISTINCT key, name FROM {stage}.tags "
            "WHERE row NOT IN (SELECT row FROM temp.import_dups)"
        ):
            if key not in names or name < names[key]:
                names[key] = name
        tag_ids = repo.ensure_tags(session, list(names.values()))
        cursor.execute("CREATE TEMP TABLE import_tag_ids (key TEXT PRIMARY KEY, tag_id INTEGER)")
        cursor.executemany(
            "INSERT INTO temp.import_tag_ids VALUES (?, ?)",
            [(key, tag_ids[key]) for key in names],
        )
        _new_uids(cursor, stage)
        params = {"stamp": iso_timestamp(now), "staff": staff_id, "batch": batch_id}
        search_from = first_id
        # Not the interactions: an import brings none, so their indexes can stay.
        tables = [t for t in _LOADED_TABLES if t != "interactions"]
        with _loading(session, first_id, last_id, tables, rhythm, fts) as load:
            for start in range(first_id, last_id + 1, chunk):
                end = min(last_id, start + chunk - 1)
                params["first"], params["last"] = start, end
                for statement in statements:
                    load.cursor.execute(statement, params)
                if aside is None and (end - search_from + 1 >= _SEARCH_CHUNK
                                      or end == last_id):
                    params["first"] = search_from
                    load.cursor.execute(search, params)
                    search_from = end + 1
                if after_chunk is not None:
                    after_chunk(end - first_id + 1)
            if contacts is not None and contacts.lines:
                # Its per-row program would look for the health rows of customers made just
                # now, who have none yet: nothing to mark.
                with tp_repo.triggers_set_aside(session, _NEW_INTERACTION_TRIGGERS):
                    load.last_interactions = _log_last_contacts(load.cursor, stage, contacts)
                load.with_interactions = True
        if load.last_interactions is not None:
            cursor.execute(f"DROP TABLE temp.{_CONTACT_IDS}")
        if aside is not None:  # the last thing done to the search index (see search_aside)
            aside.copy_into(cursor, last_id - first_id + 1)
        cursor.execute("DROP TABLE temp.import_tag_ids")
        cursor.execute(f"DROP TABLE temp.{_NEW_UIDS}")
    finally:
        cursor.close()


# --- the staged load (demo) ----------------------------------------------------------------

# The BulkRows field holding each loaded table's rows.
_ROWS_OF_TABLE = {
    "customers": "customers", "customer_emails": "emails", "customer_phones": "phones",
    "customer_tags": "tags", "special_dates": "dates", "interactions": "interactions",
}
# Tables whose row ids the database assigns (every loaded table but customers, whose ids are
# given): their `id` is left out of the copy, so an appending load numbers them as usual.
_GIVEN_IDS = frozenset({"customers"})
# SQLite attaches at most 10 databases to a connection by default; one per part.
MAX_STAGED_PARTS = 8
# The stage table of the staged customers' last interaction days.
_LAST_INTERACTIONS = "last_interactions"


class StagedParts:
    """Scratch SQLite files, one per part of a load's rows, written by a forked child process
    while the loading connection indexes the search rows; `insert_rows_staged` copies them
    in as each is done. Only where `infra.forking.can_fork()`.

    Enter it around the write transaction (leaving it deletes the files and closes the write
    engine's idle connections: SQLite lets go of a file read in a transaction, DETACH, only
    after the commit), and start the child with `running()` inside it.

    Why a process: the rows are bound value by value with the GIL held (~1.1 s of 100,000
    demo customers on the loading connection). A worker thread could do that while the
    loading thread indexes the search rows, but two busy SQLite connections in one process
    slow each other down (measured: both ~1.5x CPU, SQLite's process-wide mutexes), so the
    child does it on the other core with its own copy of memory. It gets its rows by the fork
    (nothing pickled), writes only its own files and leaves with os._exit, never touching the
    parent's connections.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self.tables: set[str] = set()
        self._folder = Path()
        self._child: int | None = None
        self._results: TextIO | None = None

    def __enter__(self) -> StagedParts:
        # In the database's scratch folder, swept at the next start if this process is
        # killed (store.scratch), not in the system's temporary folder.
        self._folder = Path(tempfile.mkdtemp(prefix="crmcompanion-stage-",
                                             dir=self._db.scratch.folder()))
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop_child()
        self._db.write_engine.dispose()
        shutil.rmtree(self._folder, ignore_errors=True)

    @contextmanager
    def running(
        self, session: Session, parts: Callable[[], Iterable[BulkRows]]
    ) -> Iterator[StagedParts]:
        """Fork the child that writes each part `parts()` yields (plain rows; their `search`
        is ignored) into its own file; it is stopped if still running when the block ends."""
        marks = ", ".join(f"'{t}'" for t in _LOADED_TABLES)
        definitions = [
            sql
            for (sql,) in session.execute(
                text(f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN ({marks})")
            )
        ]
        readable, writable = os.pipe()
        self._child = forking.fork()  # killed with this process, whatever kills it
        if self._child == 0:  # pragma: no cover - the child process (its work is compared)
            os.close(readable)
            self._stage_and_exit(writable, definitions, parts)
        os.close(writable)
        self._results = os.fdopen(readable, encoding="utf-8")
        try:
            yield self
        finally:
            self._stop_child()

    def written_parts(self) -> Iterator[tuple[Path, list[str]]]:
        """(file, tables with rows) of each part, as the child finishes writing it."""
        assert self._results is not None and self._child is not None
        for line in self._results:
            done = json.loads(line)
            if "error" in done:
                raise RuntimeError(f"Staging the rows failed: {done['error']}")
            self.tables.update(done["tables"])
            yield Path(done["path"]), done["tables"]
        _, status = os.waitpid(self._child, 0)
        self._child = None
        if status != 0:
            raise RuntimeError(f"Staging the rows failed (child process status {status}).")

    def _stop_child(self) -> None:
        if self._child is not None:  # still running after a failure: not needed any more
            os.kill(self._child, signal.SIGKILL)
            os.waitpid(self._child, 0)
            self._child = None
        if self._results is not None:
            self._results.close()
            self._results = None

    def _stage_and_exit(
        self, writable: int, definitions: list[str], parts: Callable[[], Iterable[BulkRows]]
    ) -> NoReturn:  # pragma: no cover - runs in the child
        code = 1
        try:
            with os.fdopen(writable, "w", encoding="utf-8") as results:
                try:
                    for number, part in enumerate(parts()):
                        if number >= MAX_STAGED_PARTS:
                            raise ValueError(f"At most {MAX_STAGED_PARTS} staged parts.")
                        path = self._folder / f"part-{number}.sqlite3"
                        _write_stage_file(path, definitions, part)
                        tables = [t for t, f in _ROWS_OF_TABLE.items() if getattr(part, f)]
                        results.write(json.dumps({"path": str(path), "tables": tables}) + "\n")
                        results.flush()
                    code = 0
                except BaseException as error:  # reported to the parent, which raises it
                    results.write(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        finally:
            os._exit(code)  # never back into the parent's code (nor its atexit handlers)


def _write_stage_file(path: Path, definitions: list[str], part: BulkRows) -> None:
    """The loaded tables' definitions (no indexes, no triggers) and the part's rows;
    scratch, so no journal and no syncing. With interactions, also each customer's last
    interaction day (`_LAST_INTERACTIONS`): found here by key, the loading connection's
    rhythm rows cost ~0.08 s of 100,000 customers less than reading them from the
    interactions."""
    conn = open_scratch(path)
    try:
        for sql in definitions:
            conn.execute(sql)
        conn.execute("BEGIN")
        cursor = conn.cursor()
        _insert_tables(cursor, part)
        if part.interactions:
            cursor.execute(
                f"CREATE TABLE {_LAST_INTERACTIONS} "
                "(customer_id INTEGER PRIMARY KEY, occurred_on DATE NOT NULL)"
            )
            cursor.execute(
                f"INSERT INTO {_LAST_INTERACTIONS} SELECT customer_id, max(occurred_on) "
                "FROM interactions GROUP BY customer_id"
            )
        cursor.close()
        conn.execute("COMMIT")
    finally:
        conn.close()


def insert_rows_staged(session: Session, search: list[Row], staged: StagedParts) -> None:
    """Like `insert_rows_while_building`, with the other rows written to scratch files by
    `staged` (entered before the search rows are made, so it runs meanwhile): this
    connection indexes the search rows, then copies each staged part's tables with one
    INSERT ... SELECT per table and rebuilds their indexes as soon as that part is written.
    Fed to executemany here those rows cost ~1.1 s of 100,000 demo customers; copied, ~0.2 s.
    Same rows, same order, same ids as `insert_rows` (a test compares).
    """
    if not search:
        return
    with _loading(session, search[0][0], search[-1][0]) as load:
        # Row by row: no thread of this process waits for the GIL meanwhile (the staging
        # table `insert_rows_while_building` uses would cost ~0.03 s more).
        load.cursor.executemany(_INSERT_SEARCH, search)
        for number, (path, tables) in enumerate(staged.written_parts()):
            schema = f"bulk_stage_{number}"
            load.cursor.execute(f"ATTACH DATABASE ? AS {schema}", (str(path),))
            for table in tables:
                _copy_staged(load.cursor, schema, table)
                load.indexes_now(table)
            if "interactions" in tables:
                load.with_interactions = True
                load.last_interactions = f"{schema}.{_LAST_INTERACTIONS}"


def _copy_staged(cursor: sqlite3.Cursor, schema: str, table: str) -> None:
    """Copy a staged table's rows into the same table of the main database, in their order."""
    names = [
        row[1]
        for row in cursor.execute(f"PRAGMA {schema}.table_info({table})").fetchall()
        if table in _GIVEN_IDS or row[1] != "id"
    ]
    columns = ", ".join(names)
    cursor.execute(f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM {schema}.{table}")
