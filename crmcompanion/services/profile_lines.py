"""What a customer's profile shows under the name, read in one statement.

The lead line ("Last contacted 93 days ago · prefers email", or "Do not contact" under Coming
up) and the segment line (the stored health badge, its reasons, the yearly value) came from
four reads, each its own session: the touchpoint preferences (for do-not-contact alone),
the customer's glance (for the last contact and the preferred channel), the stored health
and the yearly value. Opening a profile now reads them together, with a statement built
once (issue 13, `timeline_ms`). The segment is the stored one: the profile brings it up to
date off the GUI thread (`InsightsService.health`), as before.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, bindparam, select

from crmcompanion.core.customer import Channel
from crmcompanion.core.errors import NotFoundError
from crmcompanion.core.segments import Segment
from crmcompanion.services.timeline import channel_or_none
from crmcompanion.store import models as m
from crmcompanion.store.database import Database

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProfileLines:
    """One customer's lead and segment lines, as stored."""

    customer_id: int
    do_not_contact: bool
    preferred_channel: Channel | None
    last_contact_on: date | None
    yearly_value: float | None
    health: tuple[Segment, str] | None  # None: archived, or not computed yet


@functools.cache
def _statement() -> Select:
    customers = m.Customer.__table__
    rhythm = m.ContactRhythm.__table__
    health = m.CustomerHealth.__table__
    c, r, h = customers.c, rhythm.c, health.c
    return (
        select(c.do_not_contact, c.preferred_channel, r.last_interaction_on, c.yearly_value,
               h.segment, h.reasons)
        .select_from(customers.outerjoin(rhythm, r.customer_id == c.id)
                     .outerjoin(health, h.customer_id == c.id))
        .where(c.id == bindparam("customer_id"))
    )


def profile_lines(db: Database, customer_id: int) -> ProfileLines:
    """The customer's lead and segment lines (NotFoundError when there is no such customer)."""
    with db.read() as session:
        row = session.execute(_statement(), {"customer_id": customer_id}).first()
    if row is None:
        raise NotFoundError(f"Customer #{customer_id} does not exist.")
    do_not_contact, preferred, last_on, yearly_value, segment, reasons = row
    return ProfileLines(
        customer_id=customer_id,
        do_not_contact=bool(do_not_contact),
        preferred_channel=channel_or_none(preferred),
        last_contact_on=last_on,
        yearly_value=yearly_value,
        health=(Segment(segment), reasons or "") if segment is not None else None,
    )
