"""Small read helpers the Today view and the customer page need beside `TouchpointService`.

Kept in their own module so the touchpoint service stays as its engineer wrote it: the latest
day a touchpoint may be snoozed to (so the GUI offers only snoozes the service will accept),
and a customer's current touchpoint preferences (do not contact, own cadence, opt-outs) so
the preferences dialog can show what is stored before it changes anything.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from crmcompanion.core.errors import NotFoundError
from crmcompanion.core.occasions import Occasion
from crmcompanion.services.touchpoints import Touchpoint
from crmcompanion.store import models as m
from crmcompanion.store.database import Database
from crmcompanion.store.touchpoints import YEARLY_OCCASIONS

logger = logging.getLogger(__name__)

LOOKBACK_KEY = "touchpoints.overdue_lookback_days"
DEFAULT_LOOKBACK = 30


@dataclass(frozen=True)
class TouchpointPreferences:
    """What a customer asked for: no contact at all, their own cadence, occasions to skip."""

    customer_id: int
    do_not_contact: bool
    cadence_days: int | None
    opt_outs: frozenset[Occasion]


def lookback_days(values: Mapping[str, object]) -> int:
    """How long a yearly occasion stays overdue (the same rule as the touchpoint service)."""
    value = values.get(LOOKBACK_KEY, DEFAULT_LOOKBACK)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 366:
        return value
    return DEFAULT_LOOKBACK


def latest_snooze(item: Touchpoint, values: Mapping[str, object]) -> date | None:
    """The last day `item` may be snoozed to, or None when there is no limit.

    A yearly occasion leaves the overdue list `lookback` days after its date, so snoozing it
    past that day would hide it for good; the service refuses such a snooze.
    """
    if item.occasion in YEARLY_OCCASIONS:
        return item.date + timedelta(days=lookback_days(values))
    return None


def preferences(db: Database, customer_id: int) -> TouchpointPreferences:
    """The customer's stored touchpoint preferences."""
    with db.read() as session:
        row = session.get(m.Customer, customer_id)
        if row is None:
            raise NotFoundError(f"Customer #{customer_id} does not exist.")
        opt_outs = frozenset(
            Occasion(o.occasion)
            for o in session.query(m.TouchpointOptOut).filter(
                m.TouchpointOptOut.customer_id == customer_id
            )
        )
        return TouchpointPreferences(
            customer_id=customer_id,
            do_not_contact=bool(row.do_not_contact),
            cadence_days=row.cadence_days,
            opt_outs=opt_outs,
        )
