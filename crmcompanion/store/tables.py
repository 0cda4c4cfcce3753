"""The schema's tables as SQLAlchemy Core `Table`s, for reads that need no ORM.

A statement written against a mapped class's attributes (`models.Customer.display_name`) is
an ORM statement even when it selects plain columns: running it configures every mapper of
the schema first (~20-30 ms of CPU once per process) and each execution builds an ORM
compile state and loads its rows through the ORM (issue 13: Today's first read, which the
first useful paint waits for, and the Today view's repeated reads). The same statement
written against the table (`tables.customers.c.display_name`) is plain Core: same SQL, same
column types and result processing, none of that work.

The tables are the mapped classes' own (`__table__`): one definition of each, in
`store.models`, which alembic's metadata and the ORM keep using.
"""

from __future__ import annotations

import logging
from typing import cast

from sqlalchemy import Table

from crmcompanion.store import models

logger = logging.getLogger(__name__)


def _table(mapped: type[models.Base]) -> Table:
    return cast(Table, mapped.__table__)


customers = _table(models.Customer)
settings = _table(models.Setting)
contact_rhythm = _table(models.ContactRhythm)
touchpoint_sources = _table(models.TouchpointSource)
touchpoint_opt_outs = _table(models.TouchpointOptOut)
keep_in_touch_due_counts = _table(models.KeepInTouchDueCount)
follow_ups = _table(models.FollowUp)
interactions = _table(models.Interaction)
