"""Store queries for moving customers in and out: streaming export reads, duplicate keys,
import batches, and the foreign-key graph that merges and personal-data exports follow.

Why a separate module: the customer repository is tuned for the interactive list (one page at
a time, ORM records); imports and exports touch 100,000 customers in one go, so they read and
write plain tuples through the DBAPI cursor, in chunks, and never build ORM objects.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Column, Table, or_, select, text
from sqlalchemy.orm import Session

from crmcompanion.core import customer as c
from crmcompanion.core.csv_export import (
    ChildCells,
    CustomerBatch,
)
from crmcompanion.store import customers as repo
from crmcompanion.store import export_cells as cells
from crmcompanion.store import models as m
from crmcompanion.store.models import Base

EXPORT_CHUNK = 2000
# SQLite's default limit on bound parameters is 32766; stay well below it.
_IN_CHUNK = 900


def customer_references() -> list[tuple[Table, Column[Any]]]:
    """(table, column) for every column of every table with a foreign key to customers.id.

    Read from the metadata, so a table added by a later feature is found without anyone
    remembering to list it (merges re-point these rows, personal-data exports include them).
    """
    found: list[tuple[Table, Column[Any]]] = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "customers" and table.name != "customers":
                found.append((table, fk.parent))
    return found


def _chunks(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


# --- streaming export --------------------------------------------------------------------

# Above this many customers in the database, an export does not read whole tables (it holds
# every customer's child cells and line in memory: ~1.5 KB per customer at peak, 150 MB at
# 100,000): it looks its customers up chunk by chunk (`iter_export_batches`), memory flat.
SCAN_LIMIT = 200_000
# A whole-table scan costs about what looking up one customer in eight by id costs.
_SCAN_WHEN_SHARE_AT_LEAST = 8


def last_contact_query() -> str | None:
    """Newest interaction per customer, when the interactions table exists in this build."""
    table = Base.metadata.tables.get("interactions")
    if table is None or "customer_id" not in table.c:
        return None
    for name in ("occurred_at", "happened_at", "created_at"):
        if name in table.c:
            return (f"SELECT customer_id, MAX({name}) FROM interactions {{where}} "
                    "GROUP BY customer_id")
    return None


def export_ids(session: Session, query: repo.ListQuery) -> Iterator[int]:
    """Customer ids of the list as filtered and sorted, streamed from one cursor."""
    column = repo.SORT_COLUMNS[query.sort]
    order = (column.desc(), m.Customer.id.desc()) if query.descending else (column, m.Customer.id)
    # list_filters is the list's own filter builder: the export must match the list exactly.
    conditions = repo.list_filters(query)
    if query.archived is False:
        # The same rows, but "not archived" asked of the small partial archived index instead
        # of each customer's row: the walk then reads the (sort column, id) index alone, 0.03
        # instead of 0.13 s for 100,000 customers.
        conditions = [
            *repo.list_filters(replace(query, archived=None)),
            m.Customer.id.not_in(select(m.Customer.id).where(m.Customer.archived_at.is_not(None))),
        ]
    statement = select(m.Customer.id).where(*conditions).order_by(*order)
    # Core rather than ORM execution: plain ints, at half the cost per row.
    yield from session.connection().execute(statement).scalars()


class _ExportChunk(NamedTuple):
    """One chunk of customers with their child rows as plain tuples, keyed by customer id."""

    rows: dict[int, tuple[Any, ...]]
    emails: dict[int, list[tuple[str, str]]]  # (address, label), by position
    phones: dict[int, list[tuple[str, str]]]  # (number, label), by position
    tags: dict[int, list[str]]  # by name
    specials: dict[int, list[tuple[str, str, int, int, int | None]]]  # (kind, label, m, d, y)
    contacts: dict[int, Any]  # last interaction timestamp as stored


def _id_batches(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(ids)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _read_export_chunk(cursor: Any, ids: Sequence[int], last_contact_sql: str | None
                       ) -> _ExportChunk:
    """Everything the exports need about `ids`, in one indexed IN query per table."""
    chunk = _ExportChunk({}, {}, {}, {}, {}, {})
    for part in _chunks(sorted(ids)):  # ascending ids: SQLite reads pages in order
        where = cells.in_ids("customer_id", len(part))
        for row in cursor.execute(
            f"SELECT {cells.EXPORT_COLUMNS} FROM customers {cells.in_ids('id', len(part))}", part
        ):
            chunk.rows[row[0]] = row
        for cid, address, label in cursor.execute(cells.EMAILS_SQL.format(where=where), part):
            chunk.emails.setdefault(cid, []).append((address, label))
        for cid, number, label in cursor.execute(cells.PHONES_SQL.format(where=where), part):
            chunk.phones.setdefault(cid, []).append((number, label))
        for cid, name in cursor.execute(
            cells.TAGS_SQL.format(where=cells.in_ids("ct.customer_id", len(part))), part
        ):
            chunk.tags.setdefault(cid, []).append(name)
        for cid, kind, label, month, day, year in cursor.execute(
            cells.SPECIALS_SQL.format(where=where), part
        ):
            chunk.specials.setdefault(cid, []).append((kind, label, month, day, year))
        if last_contact_sql is not None:
            for cid, stamp in cursor.execute(last_contact_sql.format(where=where), part):
                chunk.contacts[cid] = stamp
    return chunk


def iter_export_records(
    session: Session, ids: Iterable[int], chunk: int = EXPORT_CHUNK
) -> Iterator[tuple[int, c.CustomerDraft, datetime | date | None]]:
    """(id, draft, last contact) for each id, in the given order, chunk by chunk.

    Memory stays flat: only one chunk of customers and their child rows is held at a time.
    """
    cursor = session.connection().connection.cursor()
    last_contact_sql = last_contact_query()
    Draft, Email, Phone, Special = c.CustomerDraft, c.EmailAddress, c.PhoneNumber, c.SpecialDate
    Address = c.PostalAddress
    statuses = {s.value: s for s in c.Status}
    kinds = {k.value: k for k in c.Kind}
    channels = {ch.value: ch for ch in c.Channel}
    skinds = {k.value: k for k in c.SpecialDateKind}
    try:
        for pending in _id_batches(ids, chunk):
            data = _read_export_chunk(cursor, pending, last_contact_sql)
            for cid in pending:
                r = data.rows.get(cid)
                if r is None:
                    continue
                since = r[14]
                draft = Draft(
                    first_name=r[1], last_name=r[2], display_name=r[3], company=r[4],
                    emails=tuple(Email(a, lb) for a, lb in data.emails.get(cid, ())),
                    phones=tuple(Phone(n, lb) for n, lb in data.phones.get(cid, ())),
                    address=Address(r[5], r[6], r[7], r[8], r[9]),
                    tags=tuple(data.tags.get(cid, ())), status=statuses[r[10]],
                    kind=kinds[r[11]], key_account=bool(r[12]),
                    preferred_channel=channels[r[13]] if r[13] else None,
                    customer_since=date.fromisoformat(since) if since else None,
                    notes=r[15],
                    special_dates=tuple(
                        Special(skinds[kind], month, day, year, label)
                        for kind, label, month, day, year in data.specials.get(cid, ())
                    ),
                    source_uid=r[16],
                )
                stamp = data.contacts.get(cid)
                yield cid, draft, cells.parse_stamp(stamp) if stamp is not None else None
    finally:
        cursor.close()


# The special dates as cells: the date formatted by SQLite as format_date_parts does (printf's
# %02d is Python's :02d), which costs a tenth of a Python call per row.
def stored_customers(session: Session) -> int:
    (count,) = session.connection().exec_driver_sql("SELECT count(*) FROM customers").one()
    return int(count)


def scan_is_cheaper(stored: int, selected: int) -> bool:
    """Whether exporting `selected` of the `stored` customers should read whole tables once
    (`iter_whole_export`) rather than look each customer up (`iter_export_batches`)."""
    return stored <= SCAN_LIMIT and selected * _SCAN_WHEN_SHARE_AT_LEAST >= stored


def iter_whole_export(session: Session, wanted: set[int] | None = None
                      ) -> Iterator[CustomerBatch]:
    """Every customer (or those in `wanted`) in id order with the child cells of all, for
    `csv_export.encode_customers`, from one sequential scan per table: ten times fewer page
    reads than looking customers up in list order. The child cells of every customer are held
    in memory meanwhile (see SCAN_LIMIT)."""
    cursor = session.connection().connection.cursor()
    try:
        yield from cells.iter_export_part(cursor, wanted, None, last_contact_query())
    finally:
        cursor.close()


def halves(session: Session, count: int) -> tuple[cells.IdRange, cells.IdRange] | None:
    """The ids of the `count` stored customers cut in two ranges of equal counts (None when
    fewer than two)."""
    if count < 2:
        return None
    connection = session.connection()
    (last,) = connection.exec_driver_sql("SELECT max(id) FROM customers").one()
    (middle,) = connection.exec_driver_sql(
        "SELECT id FROM customers ORDER BY id LIMIT 1 OFFSET ?", (count // 2 - 1,)).one()
    return (0, middle), (middle + 1, last)


def iter_export_batches(session: Session, ids: Iterable[int], chunk: int = EXPORT_CHUNK
                        ) -> Iterator[CustomerBatch]:
    """The customers `ids` in the given order (ids not found skipped) with their child cells,
    for `csv_export.encode_customers`, chunk by chunk: memory stays flat. The same cells
    `iter_whole_export` gives."""
    cursor = session.connection().connection.cursor()
    last_contact_sql = last_contact_query()
    try:
        for pending in _id_batches(ids, chunk):
            children = ChildCells.empty()
            rows: dict[int, tuple[Any, ...]] = {}
            for part in _chunks(sorted(pending)):  # ascending ids: SQLite reads pages in order
                rows.update((r[0], r) for r in cursor.execute(
                    f"SELECT {cells.EXPORT_COLUMNS} FROM customers {cells.in_ids('id', len(part))}",
                    part))
                cells.read_child_cells(cursor, children, part, last_contact_sql)
            yield [rows[cid] for cid in pending if cid in rows], children
    finally:
        cursor.close()


# --- duplicate keys -------------------------------------------------------------------------


def _first_ids(session: Session, table: str, key: str, id_column: str,
               keys: Sequence[str]) -> dict[str, int]:
    """{key: lowest id} for the keys found, by indexed IN queries on the raw cursor: the
    importer asks this for every batch of 5,000 rows, and the ORM's statement building cost
    more than SQLite's index lookups."""
    found: dict[str, int] = {}
    wanted = list(dict.fromkeys(k for k in keys if k))
    if not wanted:
        return found
    session.flush()  # as the ORM's autoflush would: merged rows pending must be seen
    cursor = session.connection().connection.cursor()
    try:
        for part in _chunks(wanted):
            for value, cid in cursor.execute(
                f"SELECT {key}, {id_column} FROM {table} WHERE {key} IN ({cells.marks(len(part))}) "
                f"ORDER BY {id_column}", part,
            ):
                found.setdefault(value, cid)
    finally:
        cursor.close()
    return found


def ids_by_source_uid(session: Session, uids: Sequence[str]) -> dict[str, int]:
    return _first_ids(session, "customers", "source_uid", "id", uids)


def ids_by_email_key(session: Session, keys: Sequence[str]) -> dict[str, int]:
    return _first_ids(session, "customer_emails", "address_key", "customer_id", keys)


def ids_by_phone_digits(session: Session, keys: Sequence[str]) -> dict[str, int]:
    return _first_ids(session, "customer_phones", "digits", "customer_id", keys)


def display_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    found: dict[int, str] = {}
    if not wanted:
        return found
    cursor = session.connection().connection.cursor()
    try:
        for part in _chunks(wanted):
            found.update(cursor.execute(
                f"SELECT id, display_name FROM customers WHERE id IN ({cells.marks(len(part))})",
                part))
    finally:
        cursor.close()
    return found


# --- import batches ---------------------------------------------------------------------------


def create_batch(session: Session, *, now: datetime, source: str, fmt: str,
                 staff_id: int | None) -> int:
    batch = m.ImportBatch(created_at=now, source=source[:500], format=fmt, row_count=0,
                          created_count=0, staff_id=staff_id)
    session.add(batch)
    session.flush()
    return batch.id


def finish_batch(session: Session, batch_id: int, rows: int, created: int) -> None:
    session.execute(
        text("UPDATE import_batches SET row_count = :rows, created_count = :created "
             "WHERE id = :id"), {"rows": rows, "created": created, "id": batch_id})


def last_open_batch(session: Session) -> m.ImportBatch | None:
    return session.scalar(
        select(m.ImportBatch).where(m.ImportBatch.undone_at.is_(None))
        .order_by(m.ImportBatch.id.desc()).limit(1))


def batch_customer_ids(session: Session, batch_id: int) -> list[int]:
    return list(session.scalars(
        select(m.ImportBatchCustomer.customer_id)
        .where(m.ImportBatchCustomer.batch_id == batch_id)
        .order_by(m.ImportBatchCustomer.customer_id)))


def delete_customers(session: Session, ids: Sequence[int]) -> None:
    """Delete customers (cascading to their rows) and their search rows."""
    cursor = session.connection().connection.cursor()
    try:
        for part in _chunks(list(ids)):
            marks = cells.marks(len(part))
            cursor.execute(f"DELETE FROM customer_search WHERE rowid IN ({marks})", part)
            cursor.execute(f"DELETE FROM customers WHERE id IN ({marks})", part)
    finally:
        cursor.close()


# --- duplicates and merges ----------------------------------------------------------------

# The source_uid of the shared "Erased customer" placeholder (see services.personal_data): it
# is never offered as a duplicate.
PLACEHOLDER_UID = "crmcompanion:erased-customer"
# A key shared by more customers than this is linked as a chain, not all pairs (a shared
# office phone must not make 10,000 pairs).
_ALL_PAIRS_UP_TO = 12
# "Same first three letters at the same company" blocks larger than this are skipped: a block
# that big is a big company, not a typo.
_COMPANY_BLOCK_MAX = 40

PairReasons = dict[tuple[int, int], list[tuple[str, str]]]


def _add_pair(pairs: PairReasons, a: int, b: int, kind: str, value: str) -> None:
    if a == b:
        return
    key = (a, b) if a < b else (b, a)
    reasons = pairs.setdefault(key, [])
    if (kind, value) not in reasons:
        reasons.append((kind, value))


def _link(pairs: PairReasons, ids: Sequence[int], kind: str, value: str) -> None:
    ids = sorted(set(ids))
    if len(ids) <= _ALL_PAIRS_UP_TO:
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                _add_pair(pairs, a, b, kind, value)
    else:
        for a, b in itertools.pairwise(ids):
            _add_pair(pairs, a, b, kind, value)


def _within_one_edit(a: str, b: str) -> bool:
    """Levenshtein distance <= 1, or one swap of neighbours ("jonh"/"john")."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] \
            and a[diff[1]] == b[diff[0]]
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


def _edit_distance(a: str, b: str, cap: int) -> int:
    """Levenshtein distance, giving up (returning cap + 1) once it must exceed `cap`."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        if min(current) > cap:
            return cap + 1
        previous = current
    return previous[-1]


def duplicate_pairs(session: Session, excluded_uid: str = PLACEHOLDER_UID) -> PairReasons:
    """Pairs of customer ids that look like the same person, each with its reasons.

    Exact keys are grouped in SQL; names are compared only inside blocks (same folded last
    name with first names one edit apart, found through deletion-neighbourhood keys; same first
    three letters of the folded name at the same company), so the cost grows with the number
    of customers, never with its square.
    """
    from crmcompanion.core.text import fold

    pairs: PairReasons = {}
    # The ids sharing a key as one "1,7,42" text. PostgreSQL (team mode) has no
    # group_concat; its ids are aggregated in number order, as SQLite reads them by rowid.
    ids_of = ("array_to_string(array_agg(DISTINCT customer_id ORDER BY customer_id), ',')"
              if session.get_bind().dialect.name == "postgresql"
              else "group_concat(DISTINCT customer_id)")
    cursor = session.connection().connection.cursor()
    try:
        excluded = {cid for (cid,) in cursor.execute(
            "SELECT id FROM customers WHERE source_uid = ?", (excluded_uid,))}
        for key, ids in cursor.execute(
            f"SELECT address_key, {ids_of} FROM customer_emails "
            "WHERE address_key <> '' GROUP BY address_key "
            "HAVING count(DISTINCT customer_id) > 1"
        ).fetchall():
            _link(pairs, [int(x) for x in ids.split(",") if int(x) not in excluded],
                  "email", key)
        for key, ids in cursor.execute(
            f"SELECT digits, {ids_of} FROM customer_phones "
            "WHERE number LIKE '+%' AND digits <> '' GROUP BY digits "
            "HAVING count(DISTINCT customer_id) > 1"
        ).fetchall():
            _link(pairs, [int(x) for x in ids.split(",") if int(x) not in excluded],
                  "phone", "+" + key)
        by_name: dict[str, list[int]] = {}
        by_neighbour: dict[tuple[str, str], dict[str, int]] = {}
        by_company: dict[tuple[str, str], dict[str, int]] = {}
        for cid, sort_name, first, last, sort_company in cursor.execute(
            "SELECT id, sort_name, first_name, last_name, sort_company FROM customers "
            "WHERE source_uid <> ? ORDER BY id", (excluded_uid,)
        ):
            if not (first or last) or not sort_name:
                continue  # a company-only record: its name is the company, not a person
            by_name.setdefault(sort_name, []).append(cid)
            folded_first = " ".join(fold(first).split())
            folded_last = " ".join(fold(last).split())
            if folded_last and len(folded_first) >= 2:
                variants = {folded_first} | {
                    folded_first[:i] + folded_first[i + 1:] for i in range(len(folded_first))}
                for variant in variants:
                    # First id per distinct first name: equal names are linked by same_name.
                    by_neighbour.setdefault((folded_last, variant), {}).setdefault(
                        folded_first, cid)
            if sort_company and len(sort_name) >= 3:
                by_company.setdefault((sort_name[:3], sort_company), {}).setdefault(
                    sort_name, cid)
        for name, ids in by_name.items():
            if len(ids) > 1:
                _link(pairs, ids, "same_name", name)
        for (last, _), firsts in by_neighbour.items():
            if len(firsts) < 2:
                continue
            items = sorted(firsts.items())
            for i, (name_a, id_a) in enumerate(items):
                for name_b, id_b in items[i + 1:]:
                    if _within_one_edit(name_a, name_b):
                        _add_pair(pairs, id_a, id_b, "similar_name",
                                  f"{name_a} {last} ~ {name_b} {last}")
        for (_, company), names in by_company.items():
            if len(names) < 2 or len(names) > _COMPANY_BLOCK_MAX:
                continue
            items = sorted(names.items())
            for i, (name_a, id_a) in enumerate(items):
                for name_b, id_b in items[i + 1:]:
                    if _edit_distance(name_a, name_b, 2) <= 2:
                        _add_pair(pairs, id_a, id_b, "similar_name",
                                  f"{name_a} ~ {name_b} ({company})")
    finally:
        cursor.close()
    return pairs


def duplicate_candidates(session: Session, ids: Sequence[int]
                         ) -> dict[int, tuple[int, str, str, str, str, bool]]:
    """(id, display name, company, primary email, primary phone, archived) by id."""
    found: dict[int, tuple[int, str, str, str, str, bool]] = {}
    cursor = session.connection().connection.cursor()
    try:
        for part in _chunks(list(ids)):
            for cid, name, company, email, phone, archived in cursor.execute(
                "SELECT id, display_name, company, primary_email, primary_phone, "
                f"archived_at IS NOT NULL FROM customers WHERE id IN ({cells.marks(len(part))})",
                part,
            ):
                found[cid] = (cid, name, company, email, phone, bool(archived))
    finally:
        cursor.close()
    return found


def _customer_key_pattern(customer_id: int) -> str:
    return f"/c{customer_id}/"


def _update_or_ignore(session: Session, table: Table, sets: dict[str, str], where: str
                      ) -> str:
    """`UPDATE OR IGNORE` (a row whose new key another row has stays put); PostgreSQL has no
    such clause (team mode): store.postgres.update_or_ignore writes it there."""
    if session.get_bind().dialect.name == "postgresql":
        from crmcompanion.store.postgres import update_or_ignore

        return update_or_ignore(table, sets, where)
    assignments = ", ".join(f"{col} = {value}" for col, value in sets.items())
    return f"UPDATE OR IGNORE {table.name} SET {assignments} WHERE {where}"


def move_customer_rows(session: Session, from_id: int, to_id: int,
                       policy: dict[str, str] | Any) -> dict[str, int]:
    """Re-point the rows of `from_id` to `to_id` as `policy` says per table (see
    services.duplicates.MERGE_POLICY); returns the rows moved per table. Rows the policy
    leaves behind go when `from_id` is deleted (ON DELETE CASCADE)."""
    moved: dict[str, int] = {}
    conn = session.connection()
    old_part, new_part = _customer_key_pattern(from_id), _customer_key_pattern(to_id)
    for table, column in customer_references():
        action = policy[table.name]
        name, col = table.name, column.name
        if action == "repoint":
            result = conn.execute(text(f"UPDATE {name} SET {col} = :to WHERE {col} = :from"),
                                  {"to": to_id, "from": from_id})
            moved[name] = result.rowcount
        elif action == "union":
            # Rows whose key the kept customer already has stay behind (and are deleted).
            result = conn.execute(
                text(_update_or_ignore(session, table, {col: ":to"}, f"{name}.{col} = :from")),
                {"to": to_id, "from": from_id})
            moved[name] = result.rowcount
        elif action == "rekey":
            # The occurrence key names the customer ("birthday/c12/d34/..."): rewrite it so
            # a done or skipped occurrence stays done for the kept customer. A key the kept
            # customer already has wins; the other's row stays behind.
            result = conn.execute(
                text(_update_or_ignore(session, table, {
                    col: ":to",
                    "occurrence_key": f"replace({name}.occurrence_key, :old, :new)"},
                    f"{name}.{col} = :from")),
                {"to": to_id, "from": from_id, "old": old_part, "new": new_part})
            moved[name] = result.rowcount
        elif action not in ("profile", "derived", "drop"):
            raise ValueError(f"unknown merge action {action!r} for {name}")
    # Interactions keep their own occurrence keys in step with the re-keyed states.
    if "interactions" in Base.metadata.tables and policy.get("touchpoint_states") == "rekey":
        conn.execute(
            text("UPDATE interactions SET occurrence_key = replace(occurrence_key, :old, :new) "
                 "WHERE customer_id = :to AND occurrence_key LIKE :like"),
            {"old": old_part, "new": new_part, "to": to_id, "like": f"%{old_part}%"})
    return moved


# --- personal data --------------------------------------------------------------------------

# Tables a personal-data export never follows into: staff rows are the business's people.
_NOT_PERSONAL = frozenset({"staff"})


def customer_rows(session: Session, customer_id: int
                  ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """Every row that reaches the customer through foreign keys (any ON DELETE rule), by
    table, plus the rows those rows point at in other tables (tag names, import batches).

    Walked in the metadata's dependency order, so a table referring to a table that refers to
    the customer (a state pointing at an interaction) is reached too.
    """
    customers = Base.metadata.tables["customers"]
    found: dict[str, list[dict[str, Any]]] = {
        "customers": [dict(r) for r in session.execute(
            select(customers).where(customers.c.id == customer_id)).mappings()]}
    keys: dict[str, set[Any]] = {"customers": {customer_id}}
    for table in Base.metadata.sorted_tables:
        if table.name == "customers":
            continue
        # Foreign keys into a reached table's ids (customers, interactions, ...).
        conditions = [fk.parent.in_(sorted(keys[fk.column.table.name]))
                      for fk in table.foreign_keys
                      if keys.get(fk.column.table.name) and fk.column.name == "id"]
        if not conditions:
            continue
        rows = [dict(r) for r in session.execute(
            select(table).where(or_(*conditions))).mappings()]
        found[table.name] = rows
        if "id" in table.c:
            keys[table.name] = {r["id"] for r in rows}
    referenced: dict[str, list[dict[str, Any]]] = {}
    for name, rows in found.items():
        table = Base.metadata.tables[name]
        for fk in table.foreign_keys:
            target = fk.column.table
            if target.name in found or target.name in _NOT_PERSONAL or not rows:
                continue
            wanted = {r[fk.parent.name] for r in rows if r[fk.parent.name] is not None}
            if not wanted:
                continue
            got = [dict(r) for r in session.execute(
                select(target).where(fk.column.in_(sorted(wanted)))).mappings()]
            referenced.setdefault(target.name, []).extend(got)
    return found, referenced
