"""Bulk loads (sample data, imports, `db copy`) on PostgreSQL (team mode).

Why: store.bulk loads SQLite with its own tricks (FTS5 tuning, triggers and indexes dropped,
staged scratch files ATTACHed and copied with INSERT ... SELECT). None of those exist on a
server; the plain fast path there is COPY, one per table, in the caller's transaction. Rows
carry explicit customer ids (the bulk loaders number them from max(id) + 1), so the id
sequences are advanced afterwards (`advance_sequences`): without it the next customer saved
through the ORM would get id 1 and fail on the primary key. The customers table is locked
against other writers for the load (SHARE ROW EXCLUSIVE: readers go on), so two laptops
loading at once cannot pick the same ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from crmcompanion.store import models as m
from crmcompanion.store.rows import CUSTOMER_COLUMNS, BulkRows, Row

logger = logging.getLogger(__name__)

SEARCH_COLUMNS = ("rowid", "name", "company", "emails", "phones", "tags", "notes", "flags")
# With the words and token count made in Python (postgres_search.with_terms).
SEARCH_COLUMNS_WITH_TERMS = (*SEARCH_COLUMNS, "terms", "doc_len")
INTERACTION_COLUMNS = (
    "customer_id", "occurred_at", "occurred_on", "channel", "staff_id", "summary", "created_at",
)
# BulkRows field -> (table, columns), in the order a load writes them (parents first).
TABLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("customers", "customers", CUSTOMER_COLUMNS),
    ("emails", "customer_emails", ("customer_id", "position", "label", "address", "address_key")),
    ("phones", "customer_phones", ("customer_id", "position", "label", "number", "digits")),
    ("tags", "customer_tags", ("customer_id", "tag_id")),
    ("dates", "special_dates", ("customer_id", "kind", "label", "month", "day", "year", "md_key")),
    ("interactions", "interactions", INTERACTION_COLUMNS),
)


def lock_customers(session: Session) -> None:
    session.execute(text("LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE"))


# The tables a bulk load fills (with the rhythm rows mark_customers_dirty adds).
LOADED_TABLES = ("customers", "customer_emails", "customer_phones", "customer_tags",
                 "special_dates", "interactions", "import_batch_customers", "contact_rhythm",
                 "touchpoint_sources")
_FOREIGN_KEYS = (
    "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
    "FROM pg_constraint c WHERE c.contype = 'f' "
    "AND c.conrelid = ANY(CAST(:tables AS regclass[])) ORDER BY 1, 2")
# Plain secondary indexes only: primary keys and unique indexes keep checking the load.
_INDEXES = (
    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
    "WHERE i.indrelid = ANY(CAST(:tables AS regclass[])) AND NOT i.indisprimary "
    "AND NOT i.indisunique ORDER BY 1")


def is_empty(session: Session) -> bool:
    """No customer yet (so none of the rows a load brings can match a stored one)."""
    return session.execute(text("SELECT NOT EXISTS (SELECT 1 FROM customers)")).scalar_one()


_PENDING = "crmcompanion.checks_set_aside"  # session.info: what to make again at commit


def set_checks_aside(session: Session, tables: Sequence[str] = LOADED_TABLES) -> None:
    """Into an EMPTY database (the caller checked `is_empty` under lock_customers): drop the
    loaded tables' foreign keys and plain secondary indexes now and make them again just
    before this transaction commits, as pg_restore loads.

    Why: each row a load writes checks its foreign keys one by one (a query, and a row lock
    on the customer it names) and updates every index one entry at a time; made after the
    load, a constraint is validated by one join and an index built by one sort. Measured at
    100,000 customers (112,412 e-mail rows): 7.6 s with both kept, 4.2 s with the foreign
    key made after, 1.0 s with the indexes too. Kept aside until the commit, not the end
    of the copies: an import goes on writing the same tables (its "Last contact"
    conversations, the rhythm rows, the touchpoint rows) in the same transaction.
    DDL is transactional on PostgreSQL: a failed load rolls the drop back with its rows,
    other connections never see the schema without them (they wait on the lock, which an
    empty database costs nobody), and a constraint the rows broke fails the commit, which
    then rolls everything back. Unique indexes and primary keys stay: they are the load's
    own checks."""
    if session.info.get(_PENDING) is not None:
        return  # aside already, until this transaction ends
    params = {"tables": list(tables)}
    keys = session.execute(text(_FOREIGN_KEYS), params).all()
    indexes = session.execute(text(_INDEXES), params).all()
    for table, name, _definition in keys:
        session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _definition in indexes:
        session.execute(text(f"DROP INDEX {name}"))
    session.info[_PENDING] = ([d for _n, d in indexes],
                              [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in keys])
    if not event.contains(session, "before_commit", _make_checks_again):
        event.listen(session, "before_commit", _make_checks_again)
        event.listen(session, "after_rollback", _forget_checks)


def _make_checks_again(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    indexes, keys = pending
    for statement in [*indexes, *keys]:
        session.execute(text(statement))
    logger.debug("Made %d indexes and %d foreign keys again after the load", len(indexes),
                 len(keys))


def _forget_checks(session: Session) -> None:
    session.info.pop(_PENDING, None)  # the rollback brought them back


class LoadBrokeForeignKey(RuntimeError):
    """A bulk load wrote a row whose foreign key names no row (a bug in the loader: the
    transaction is rolled back with everything it wrote)."""


# The loaded tables' foreign keys (single-column ones: every key of this schema is), with
# the referenced table and column.
_KEY_COLUMNS = (
    "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, fa.attname "
    "FROM pg_constraint c "
    "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
    "JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1] "
    "WHERE c.contype = 'f' AND cardinality(c.conkey) = 1 "
    "AND c.conrelid = ANY(CAST(:tables AS regclass[])) ORDER BY 1, 2")
# The tables this transaction holds locked against other writers (a lock mode that conflicts
# with ROW EXCLUSIVE: nobody else can delete or re-key their rows until the commit).
_WRITE_LOCKED = (
    "SELECT relation::regclass::text FROM pg_locks WHERE locktype = 'relation' "
    "AND pid = pg_backend_pid() AND granted AND mode IN ('ShareLock', "
    "'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')")
_SKIP_ROW_CHECKS = "crmcompanion.may_skip_row_checks"  # session.info: the role may (bool)


def _may_skip_row_checks(session: Session) -> bool:
    """Whether this connection's role may set session_replication_role: a superuser, or on
    PostgreSQL 15 and newer a role granted `SET ON PARAMETER session_replication_role`."""
    known = session.info.get(_SKIP_ROW_CHECKS)
    if known is None:
        known = bool(session.execute(text(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar())
        if not known and session.execute(text(
                "SELECT current_setting('server_version_num')::int >= 150000")).scalar():
            known = bool(session.execute(text(
                "SELECT has_parameter_privilege('session_replication_role', 'SET')")).scalar())
        session.info[_SKIP_ROW_CHECKS] = known
    return known


@contextmanager
def foreign_keys_checked_after(session: Session, tables: Sequence[str]) -> Iterator[None]:
    """Rows written to `tables` in this block have their foreign keys checked once, set-based,
    at the end of the block, instead of one look-up per row as they are written.

    Why: into a database that already holds customers (where `set_checks_aside` cannot drop
    the keys: that needs ACCESS EXCLUSIVE locks on customers, which would stop every other
    user's reads for the whole import) each row a load writes runs its foreign keys'
    checks one by one: ~1.26 million look-ups for a 87,588-customer import, ~10 s of the
    server's 23 s of CPU. Here the per-row checks are switched off for this transaction
    (`SET LOCAL session_replication_role = replica`, which skips the foreign keys'
    internal triggers) and afterwards each key of the tables is checked as
    `ALTER TABLE ... VALIDATE CONSTRAINT` does, by one anti-join of the whole table; the
    rows they name in tables that other writers could change meanwhile are locked
    FOR KEY SHARE first, as each per-row check would have (the tables this transaction
    holds locked against writers, customers during a load, need no row locks). Every row
    the table names is locked, not only those the new rows name (a superset, and small:
    the staff, the tags, the import batches): a concurrent delete of one of them waits for
    this commit. A failed check raises LoadBrokeForeignKey, and the caller's transaction
    rolls back.
    Every constraint stays in place and valid throughout: other connections see no change.

    Replica mode skips every ordinary trigger too: the block may only write tables whose
    triggers the caller has set aside or does the work of (not customer_search: its
    statistics trigger must run), and no DELETE or key UPDATE of a referenced row (their
    ON DELETE actions are triggers too). Only for a role that may set the parameter (a
    superuser, or one granted `SET ON PARAMETER session_replication_role`, PostgreSQL 15
    and newer); for any other role, and when the tables have no foreign keys (set aside
    into an empty database), the block runs with the usual per-row checks."""
    keys = session.execute(text(_KEY_COLUMNS), {"tables": list(tables)}).all()
    if not keys or not _may_skip_row_checks(session):
        yield
        return
    session.execute(text("SET LOCAL session_replication_role = replica"))
    yield
    session.execute(text("SET LOCAL session_replication_role = origin"))
    locked = set(session.execute(text(_WRITE_LOCKED)).scalars())
    for table, column, parent, key in keys:
        if parent not in locked:
            session.execute(text(
                f"SELECT 1 FROM {parent} p WHERE p.{key} IN (SELECT c.{column} FROM {table} c) "
                "FOR KEY SHARE OF p"))
        orphan = session.execute(text(
            f"SELECT c.{column} FROM {table} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {parent} p WHERE p.{key} = c.{column}) LIMIT 1")).first()
        if orphan is not None:
            raise LoadBrokeForeignKey(
                f"{table}.{column} = {orphan[0]} names no row of {parent}")
    logger.debug("Checked %d foreign keys of %s set-based", len(keys), ", ".join(tables))


def copy_rows(session: Session, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
    """COPY `rows` (tuples in `columns` order) into `table`; returns how many."""
    raw = session.connection().connection.driver_connection
    count = 0
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def copy_search(session: Session, rows: Iterable[Row]) -> int:
    """COPY search rows (rowid, name, ..., flags) with their terms and token count."""
    from crmcompanion.store.postgres_search import with_terms

    return copy_rows(session, "customer_search", SEARCH_COLUMNS_WITH_TERMS, with_terms(rows))


# The tables whose plans go wrong without statistics right after a bulk load: the search
# table's GIN prefix match is estimated at a few dozen rows without them (the list then sorts
# 50,000 matches instead of walking its name index), the phones' trigram match likewise.
# Autovacuum would analyze them, but only a minute or so later.
ANALYZED_AFTER_LOAD = ("customer_search", "customer_phones")


def analyze_loaded(session: Session, tables: Sequence[str] = ANALYZED_AFTER_LOAD) -> None:
    """Fresh statistics for `tables` (inside the load's transaction: ANALYZE samples the
    rows this transaction wrote, and its statistics land with the commit)."""
    session.execute(text(f"ANALYZE {', '.join(tables)}"))


def advance_sequences(session: Session) -> None:
    """Every id sequence past the largest id stored (after rows were written with ids)."""
    for table in m.Base.metadata.sorted_tables:
        column = table.c.get("id")
        if column is None or not column.primary_key or not column.autoincrement:
            continue
        sequence = session.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
        if sequence is None:
            continue
        session.execute(text(
            f"SELECT setval(CAST(:s AS regclass), coalesce((SELECT max(id) FROM {table.name}), "
            "0) + 1, false)"), {"s": sequence})


def load(session: Session, search: list[Row], build: Callable[[], BulkRows]) -> None:
    """store.bulk's `insert_rows(_while_building)`: the search rows, then every other table of
    `build()`, by COPY; then the sequences and the customers' rhythm rows."""
    from crmcompanion.store import touchpoints as tp_repo

    lock_customers(session)
    empty = is_empty(session)
    rows = build()
    # As on SQLite, the per-row touchpoint triggers are set aside and their work done
    # set-based after (mark_customers_dirty); customers first, then their rows, then the
    # search rows.
    if empty:
        set_checks_aside(session)
    with tp_repo.triggers_set_aside(
            session, tp_repo.BULK_INSERT_TRIGGERS + tp_repo.DUE_COUNT_TRIGGERS):
        for field, table, columns in TABLES:
            values = getattr(rows, field)
            if values:
                copy_rows(session, table, columns, values)
        copy_search(session, search)
    advance_sequences(session)
    tp_repo.mark_customers_dirty(session, search[0][0], search[-1][0],
                                 with_interactions=bool(rows.interactions))
    analyze_loaded(session)
    logger.debug("Copied %d customers into PostgreSQL", len(search))
