"""Everything stored about one customer, found by following every foreign key to customers.

Used to undo a delete (restore the exact rows, same ids) and, later, for merges and the
personal-data export. Walking the schema's foreign keys, rather than listing tables by hand,
means a table added by a later feature is included without anyone remembering to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from crmcompanion.core.customer import new_uid
from crmcompanion.store.models import Base

Snapshot = dict[str, list[dict[str, Any]]]
IN_CHUNK = 5000  # ids per IN (...) list, far below SQLite's 32,766 variables


def dependent_tables(root: str = "customers") -> list[tuple[Table, str, str]]:
    """(table, fk column, referenced table) for every table reaching `root` through FKs.

    Listed parents first, in the metadata's dependency order.
    """
    reached = {root}
    found: list[tuple[Table, str, str]] = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            target = fk.column.table.name
            if target in reached and table.name != target and fk.ondelete == "CASCADE":
                found.append((table, fk.parent.name, target))
                reached.add(table.name)
                break
    return found


def snapshot_customer(session: Session, customer_id: int) -> Snapshot:
    return snapshot_customers(session, [customer_id])


def snapshot_customers(session: Session, customer_ids: Sequence[int]) -> Snapshot:
    """Every row of these customers and of what depends on them, a few IN queries per table."""
    snapshot: Snapshot = {}
    ids: dict[str, set[Any]] = {}
    for table, column, target in [(Base.metadata.tables["customers"], "id", ""),
                                  *dependent_tables()]:
        parent_ids = sorted(ids.get(target, ())) if target else list(customer_ids)
        found: list[dict[str, Any]] = []
        for start in range(0, len(parent_ids), IN_CHUNK):
            part = parent_ids[start:start + IN_CHUNK]
            found += (dict(r) for r in session.execute(
                select(table).where(table.c[column].in_(part))).mappings())
        if parent_ids:
            snapshot.setdefault(table.name, []).extend(found)
        if "id" in table.c:
            ids.setdefault(table.name, set()).update(r["id"] for r in found)
    return snapshot


def restore_snapshot(session: Session, snapshot: Snapshot) -> None:
    """Insert the rows back, parents first, with their original primary keys."""
    order = [t.name for t in Base.metadata.sorted_tables]
    for name in sorted(snapshot, key=order.index):
        rows = snapshot[name]
        if rows and name == "customers":
            rows = _with_free_uids(session, rows)
        if rows:
            session.execute(insert(Base.metadata.tables[name]), rows)


def _with_free_uids(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The customers rows, a new random UID for any whose UID another customer took since
    (an import of a file holding it after the delete): UIDs are unique."""
    customers = Base.metadata.tables["customers"]
    wanted = [r["source_uid"] for r in rows if r.get("source_uid")]
    taken: set[str] = set()
    for start in range(0, len(wanted), 500):
        taken.update(session.scalars(select(customers.c.source_uid).where(
            customers.c.source_uid.in_(wanted[start:start + 500]))))
    if not taken:
        return rows
    return [{**r, "source_uid": new_uid()} if r.get("source_uid") in taken else r for r in rows]
