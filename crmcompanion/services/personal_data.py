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

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from crmcompanion.core.clock import Clock
from crmcompanion.services.changes import Changed
from crmcompanion.store import transfer
from crmcompanion.store.database import Database

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
        """A zip at `path`: customer.json (every table, every row) and one CSV per table."""
        raise NotImplementedError

    def erase_customer(self, customer_id: int) -> ErasedCustomer:
        """Erase on request: delete the person, anonymise what statistics need."""
        raise NotImplementedError
