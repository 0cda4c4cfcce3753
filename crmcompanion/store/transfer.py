"""Store queries for moving customers in and out: streaming export reads, duplicate keys,
import batches, and the foreign-key graph that merges and personal-data exports follow.

Why a separate module: the customer repository is tuned for the interactive list (one page at
a time, ORM records); imports and exports touch 100,000 customers in one go, so they read and
write plain tuples through the DBAPI cursor, in chunks, and never build ORM objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Table, select, text
from sqlalchemy.orm import Session

from crmcompanion.core import customer as c
from crmcompanion.store import customers as repo
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


def _marks(n: int) -> str:
    return ",".join("?" * n)


# --- streaming export --------------------------------------------------------------------

_EXPORT_COLUMNS = (
    "id, first_name, last_name, display_name, company, street, city, region, postcode, "
    "country, status, kind, key_account, preferred_channel, customer_since, notes, source_uid"
)


def _last_contact_sql() -> str | None:
    """Newest interaction per customer, when the interactions table exists in this build."""
    table = Base.metadata.tables.get("interactions")
    if table is None or "customer_id" not in table.c:
        return None
    for name in ("occurred_at", "happened_at", "created_at"):
        if name in table.c:
            return f"SELECT customer_id, MAX({name}) FROM interactions WHERE customer_id IN "
    return None


def _parse_stamp(value: object) -> datetime | date | None:
    if value is None or isinstance(value, datetime | date):
        return value  # type: ignore[return-value]
    text_value = str(value)
    try:
        return datetime.fromisoformat(text_value)
    except ValueError:
        return None


def export_ids(session: Session, query: repo.ListQuery) -> Iterator[int]:
    """Customer ids of the list as filtered and sorted, streamed from one cursor."""
    column = repo.SORT_COLUMNS[query.sort]
    order = (column.desc(), m.Customer.id.desc()) if query.descending else (column, m.Customer.id)
    # _filters is the list's own filter builder: the export must match the list exactly.
    statement = select(m.Customer.id).where(*repo._filters(query)).order_by(*order)
    for (customer_id,) in session.execute(statement).yield_per(EXPORT_CHUNK):
        yield customer_id


def iter_export_records(
    session: Session, ids: Iterable[int], chunk: int = EXPORT_CHUNK
) -> Iterator[tuple[int, c.CustomerDraft, datetime | date | None]]:
    """(id, draft, last contact) for each id, in the given order, chunk by chunk.

    Memory stays flat: only one chunk of customers and their child rows is held at a time.
    """
    cursor = session.connection().connection.cursor()
    last_contact_sql = _last_contact_sql()
    Draft, Email, Phone, Special = c.CustomerDraft, c.EmailAddress, c.PhoneNumber, c.SpecialDate
    Address, Status, Kind, Channel, SKind = (
        c.PostalAddress, c.Status, c.Kind, c.Channel, c.SpecialDateKind)
    statuses = {s.value: s for s in Status}
    kinds = {k.value: k for k in Kind}
    channels = {ch.value: ch for ch in Channel}
    skinds = {k.value: k for k in SKind}
    try:
        pending: list[int] = []
        iterator = iter(ids)
        while True:
            pending = [cid for _, cid in zip(range(chunk), iterator, strict=False)]
            if not pending:
                return
            emails: dict[int, list[c.EmailAddress]] = {}
            phones: dict[int, list[c.PhoneNumber]] = {}
            tags: dict[int, list[str]] = {}
            specials: dict[int, list[c.SpecialDate]] = {}
            rows: dict[int, tuple[Any, ...]] = {}
            contacts: dict[int, Any] = {}
            for part in _chunks(pending):
                marks = _marks(len(part))
                for row in cursor.execute(
                    f"SELECT {_EXPORT_COLUMNS} FROM customers WHERE id IN ({marks})", part
                ):
                    rows[row[0]] = row
                for cid, address, label in cursor.execute(
                    "SELECT customer_id, address, label FROM customer_emails "
                    f"WHERE customer_id IN ({marks}) ORDER BY customer_id, position", part
                ):
                    emails.setdefault(cid, []).append(Email(address, label))
                for cid, number, label in cursor.execute(
                    "SELECT customer_id, number, label FROM customer_phones "
                    f"WHERE customer_id IN ({marks}) ORDER BY customer_id, position", part
                ):
                    phones.setdefault(cid, []).append(Phone(number, label))
                for cid, name in cursor.execute(
                    "SELECT ct.customer_id, t.name FROM customer_tags ct "
                    f"JOIN tags t ON t.id = ct.tag_id WHERE ct.customer_id IN ({marks}) "
                    "ORDER BY ct.customer_id, t.name_key", part
                ):
                    tags.setdefault(cid, []).append(name)
                for cid, kind, label, month, day, year in cursor.execute(
                    "SELECT customer_id, kind, label, month, day, year FROM special_dates "
                    f"WHERE customer_id IN ({marks}) ORDER BY customer_id, id", part
                ):
                    specials.setdefault(cid, []).append(
                        Special(skinds[kind], month, day, year, label))
                if last_contact_sql is not None:
                    for cid, stamp in cursor.execute(
                        f"{last_contact_sql} ({marks}) GROUP BY customer_id", part
                    ):
                        contacts[cid] = stamp
            for cid in pending:
                r = rows.get(cid)
                if r is None:
                    continue
                since = r[14]
                draft = Draft(
                    first_name=r[1], last_name=r[2], display_name=r[3], company=r[4],
                    emails=tuple(emails.get(cid, ())), phones=tuple(phones.get(cid, ())),
                    address=Address(r[5], r[6], r[7], r[8], r[9]),
                    tags=tuple(tags.get(cid, ())), status=statuses[r[10]], kind=kinds[r[11]],
                    key_account=bool(r[12]),
                    preferred_channel=channels[r[13]] if r[13] else None,
                    customer_since=date.fromisoformat(since) if since else None,
                    notes=r[15], special_dates=tuple(specials.get(cid, ())),
                    source_uid=r[16],
                )
                stamp = contacts.get(cid)
                yield cid, draft, _parse_stamp(stamp) if stamp is not None else None
    finally:
        cursor.close()


# --- duplicate keys -------------------------------------------------------------------------


def ids_by_source_uid(session: Session, uids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in _chunks([u for u in uids if u]):
        rows = session.execute(
            select(m.Customer.source_uid, m.Customer.id)
            .where(m.Customer.source_uid.in_(part)).order_by(m.Customer.id))
        for uid, cid in rows:
            found.setdefault(uid, cid)
    return found


def ids_by_email_key(session: Session, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in _chunks([k for k in keys if k]):
        rows = session.execute(
            select(m.CustomerEmail.address_key, m.CustomerEmail.customer_id)
            .where(m.CustomerEmail.address_key.in_(part)).order_by(m.CustomerEmail.customer_id))
        for key, cid in rows:
            found.setdefault(key, cid)
    return found


def ids_by_phone_digits(session: Session, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in _chunks([k for k in keys if k]):
        rows = session.execute(
            select(m.CustomerPhone.digits, m.CustomerPhone.customer_id)
            .where(m.CustomerPhone.digits.in_(part)).order_by(m.CustomerPhone.customer_id))
        for key, cid in rows:
            found.setdefault(key, cid)
    return found


def display_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    found: dict[int, str] = {}
    for part in _chunks(wanted):
        found.update(session.execute(
            select(m.Customer.id, m.Customer.display_name).where(m.Customer.id.in_(part))).all())
    return found


# --- import batches ---------------------------------------------------------------------------


def create_batch(session: Session, *, now: datetime, source: str, fmt: str,
                 staff_id: int | None) -> int:
    batch = m.ImportBatch(created_at=now, source=source[:500], format=fmt, row_count=0,
                          created_count=0, staff_id=staff_id)
    session.add(batch)
    session.flush()
    return batch.id


def link_batch(session: Session, batch_id: int, customer_ids: Sequence[int]) -> None:
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(
            "INSERT INTO import_batch_customers (batch_id, customer_id) VALUES (?, ?)",
            [(batch_id, cid) for cid in customer_ids])
    finally:
        cursor.close()


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
            marks = _marks(len(part))
            cursor.execute(f"DELETE FROM customer_search WHERE rowid IN ({marks})", part)
            cursor.execute(f"DELETE FROM customers WHERE id IN ({marks})", part)
    finally:
        cursor.close()
