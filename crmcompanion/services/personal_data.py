"""Personal data on request: export everything stored about one customer, or erase them.

Both follow the foreign-key graph rather than a hand-made list of tables: the export includes
every row of every table that reaches the customer through foreign keys, and `ERASE_POLICY`
names, per table, what an erase does; `erase_customer` refuses to run when a table with a
foreign key to customers is missing from it (a test checks the same against the metadata).

Erasing keeps what the business needs for statistics but not the person: interactions keep
their date, channel, occasion and staff member, lose their summary and occurrence key, and are
re-pointed to one shared, archived "Erased customer" placeholder (the schema keeps
interactions.customer_id NOT NULL, and a placeholder needs no table rebuild of a table other
features own). Everything else about the person is deleted. The log line names only ids and
counts, never the person.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from crmcompanion.core.atomic_file import replaced_atomically
from crmcompanion.core.clock import Clock
from crmcompanion.core.csv_codec import neutralise
from crmcompanion.core.customer import CustomerDraft, Status
from crmcompanion.core.errors import DomainError, NotFoundError
from crmcompanion.services.changes import Changed
from crmcompanion.store import customers as repo
from crmcompanion.store import models as m
from crmcompanion.store import touchpoints as tp_store
from crmcompanion.store import transfer
from crmcompanion.store.database import Database, utcnow
from crmcompanion.store.models import Base

logger = logging.getLogger(__name__)

PLACEHOLDER_UID: Final = transfer.PLACEHOLDER_UID
PLACEHOLDER_NAME: Final = "Erased customer"

# What erase_customer does with a table's rows of the erased customer:
#   delete     - deleted (the customer's own data, or logs that name them)
#   anonymise  - kept for statistics, personal columns cleared, re-pointed to the placeholder
#   derived    - recomputable data, deleted with the customer
ERASE_POLICY: Final[Mapping[str, str]] = {
    "customer_emails": "delete",
    "customer_phones": "delete",
    "customer_tags": "delete",
    "special_dates": "delete",
    "interactions": "anonymise",
    "follow_ups": "delete",
    "touchpoint_states": "delete",
    "touchpoint_opt_outs": "delete",
    "fired_reminders": "delete",
    "import_batch_customers": "delete",
    "contact_rhythm": "derived",
    "touchpoint_sources": "derived",
    # Feedback (issue 15): what the person said is theirs; it goes (with its themes, history
    # and vectors, by cascade) and the word index forgets it below.
    "feedback_items": "delete",
    "idea_requesters": "delete",
    # When they were asked for feedback (migration 0011): about them, goes with them.
    "feedback_asks": "delete",
    # Insights (issue 16): the segment and its reasons describe the person; recomputable.
    "customer_health": "derived",
}


@dataclass(frozen=True)
class PersonalDataExport:
    path: Path
    tables: Mapping[str, int]  # table -> rows exported


@dataclass(frozen=True)
class ErasedCustomer:
    customer_id: int
    anonymised: Mapping[str, int]  # table -> rows kept anonymised
    deleted: Mapping[str, int]  # table -> rows deleted
    changed: Changed


class PersonalDataService:
    def __init__(self, db: Database, clock: Clock, staff_id: int | None) -> None:
        self._db = db
        self._clock = clock
        self._staff_id = staff_id

    def export_personal_data(self, customer_id: int,
                             path: str | os.PathLike[str]) -> PersonalDataExport:
        """A zip at `path`: customer.json (every table, every row) and one CSV per table,
        written to a temporary file in the same folder and renamed (never a half zip)."""
        with self._db.read() as session:
            if not repo.customer_exists(session, customer_id):
                raise NotFoundError(f"Customer #{customer_id} does not exist.")
            tables, referenced = transfer.customer_rows(session, customer_id)
        document = {
            "format": "crmcompanion-personal-data",
            "version": 1,
            "customer_id": customer_id,
            "exported_at": self._clock.now().isoformat(),
            "tables": tables,
            # Rows the customer's rows point at (tag names, import batches), for reading.
            "referenced": referenced,
        }
        target = Path(path)
        with (
            replaced_atomically(target) as handle,
            zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            archive.writestr("customer.json", json.dumps(
                document, ensure_ascii=False, indent=2, default=_json_value))
            for name, rows in {**tables, **referenced}.items():
                archive.writestr(f"{name}.csv", _csv_text(name, rows))
        counts = {name: len(rows) for name, rows in tables.items()}
        logger.info("Exported personal data of customer #%s (%d rows)", customer_id,
                    sum(counts.values()))
        return PersonalDataExport(target, counts)

    def erase_customer(self, customer_id: int) -> ErasedCustomer:
        """Erase on request: delete the person, anonymise what statistics need."""
        missing = sorted({t.name for t, _ in transfer.customer_references()
                          if t.name not in ERASE_POLICY})
        if missing:
            raise RuntimeError(f"erase has no policy for tables {missing}")
        with self._db.write() as session:
            if not repo.customer_exists(session, customer_id):
                raise NotFoundError(f"Customer #{customer_id} does not exist.")
            placeholder = self._placeholder(session)
            if customer_id == placeholder:
                raise DomainError("The erased-customer placeholder cannot be erased.")
            anonymised: dict[str, int] = {}
            deleted: dict[str, int] = {}
            conn = session.connection()
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # Overwrite freed pages with zeros, so the erased text does not linger in the
                # file. (PostgreSQL, team mode: its dead rows are vacuumed after the commit.)
                conn.exec_driver_sql("PRAGMA secure_delete = ON")
            for table, column in transfer.customer_references():
                policy = ERASE_POLICY[table.name]
                where = {"cid": customer_id}
                count = conn.execute(text(
                    f"SELECT count(*) FROM {table.name} WHERE {column.name} = :cid"),
                    where).scalar_one()
                if policy == "anonymise":
                    cleared = ANONYMISED_COLUMNS.get(table.name, {})
                    sets = ", ".join([f"{column.name} = :placeholder"]
                                     + [f"{col} = :clear_{col}" for col in cleared])
                    conn.execute(text(
                        f"UPDATE {table.name} SET {sets} WHERE {column.name} = :cid"),
                        {**where, "placeholder": placeholder,
                         **{f"clear_{col}": value for col, value in cleared.items()}})
                    anonymised[table.name] = count
                elif policy in ("delete", "derived"):
                    deleted[table.name] = count  # removed by ON DELETE CASCADE below
                else:
                    raise ValueError(f"unknown erase policy {policy!r} for {table.name}")
            transfer.delete_customers(session, [customer_id])
            tp_store.refresh_last_interaction(session, placeholder)
            if sqlite:
                # FTS5 keeps deleted terms in its index segments until they are merged; an
                # erase is rare enough to pay for rewriting the index (about a second at 100k).
                conn.exec_driver_sql(
                    "INSERT INTO customer_search(customer_search) VALUES ('optimize')")
                conn.exec_driver_sql(
                    "INSERT INTO feedback_search(feedback_search) VALUES ('optimize')")
        if not self._db.is_sqlite:
            from crmcompanion.store.postgres import vacuum

            vacuum(self._db, {"customers", "customer_search", *(
                name for name, count in {**deleted, **anonymised}.items() if count)})
        else:
            # The write-ahead log still holds the old pages until a checkpoint copies them
            # over (zeroed, thanks to secure_delete) and truncates it; best effort if others
            # read.
            with self._db.read() as session:
                session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        # Ids and counts only: the log must not keep what was just erased.
        logger.info("Erased customer #%s on request: anonymised %s; deleted %s", customer_id,
                    anonymised, {k: v for k, v in deleted.items() if v})
        changed = Changed(customers=frozenset({customer_id}), customer_list=True, tags=True,
                          touchpoints=True, interactions=True, reminders=True)
        return ErasedCustomer(customer_id, anonymised, deleted, changed)

    def _placeholder(self, session: Session) -> int:
        """The id of the shared placeholder customer, created (archived) on first erase."""
        found = session.scalar(select(m.Customer.id).where(
            m.Customer.source_uid == PLACEHOLDER_UID).order_by(m.Customer.id).limit(1))
        if found is not None:
            return found
        now = utcnow()
        row = m.Customer(created_at=now, updated_at=now, created_by_id=self._staff_id,
                         updated_by_id=self._staff_id)
        repo.apply_draft(row, CustomerDraft(display_name=PLACEHOLDER_NAME, status=Status.LOST,
                                            source_uid=PLACEHOLDER_UID,
                                            notes="Keeps the anonymised history of erased "
                                                  "customers for statistics."))
        # Archived and never contacted: it stays out of the list, Today and reminders.
        row.archived_at = now
        row.do_not_contact = True
        session.add(row)
        session.flush()
        return row.id


# Columns an "anonymise" policy clears, per table (the rest stays for statistics).
ANONYMISED_COLUMNS: Final[Mapping[str, Mapping[str, object]]] = {
    "interactions": {"summary": "", "occurrence_key": None},
}


def _json_value(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _csv_text(table: str, rows: list[dict[str, Any]]) -> str:
    """One table as CSV text, formula-safe (OWASP) like the app's own CSV export."""
    columns = [c.name for c in Base.metadata.tables[table].columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(col)) for col in columns])
    return out.getvalue()


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return neutralise(str(value))
