"""Interactions: "Log conversation" and each customer's history (newest first).

Every logged interaction also resets the customer's keep-in-touch clock: the derived
`contact_rhythm` row gets the new last-interaction day and is recomputed in the same unit of
work, so the Today view never shows a check-in that was just made. Touchpoints marked done
record their interaction through `add_interaction` inside their own unit of work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from crmcompanion.core.clock import Clock, SystemClock
from crmcompanion.core.customer import Channel
from crmcompanion.core.errors import NotFoundError, ValidationError
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import TouchpointSettings
from crmcompanion.services.changes import Changed
from crmcompanion.store import models as m
from crmcompanion.store import touchpoints as tp_repo
from crmcompanion.store.database import Database, utcnow

logger = logging.getLogger(__name__)

MAX_SUMMARY = 10_000


@dataclass(frozen=True)
class InteractionRecord:
    """One entry of a customer's history. `occurred_at` is local and timezone-aware."""

    id: int
    customer_id: int
    occurred_at: datetime
    occurred_on: date
    channel: Channel | None
    staff_id: int | None
    summary: str
    occasion: Occasion | None
    occurrence_key: str | None
    # Who logged it (the staff member's name; "" for entries made before staff were known).
    staff_name: str = ""


@dataclass(frozen=True)
class HistoryPage:
    """One page of a customer's history, newest first, and how many entries there are."""

    records: list[InteractionRecord]
    total: int


@dataclass(frozen=True)
class Logged:
    interaction: InteractionRecord
    changed: Changed


def to_record(row: m.Interaction, staff_name: str = "") -> InteractionRecord:
    return InteractionRecord(
        id=row.id,
        customer_id=row.customer_id,
        occurred_at=row.occurred_at.replace(tzinfo=UTC).astimezone(),
        occurred_on=row.occurred_on,
        channel=Channel(row.channel) if row.channel else None,
        staff_id=row.staff_id,
        summary=row.summary,
        occasion=Occasion(row.occasion) if row.occasion else None,
        occurrence_key=row.occurrence_key,
        staff_name=staff_name,
    )


def staff_name(session: Session, staff_id: int | None) -> str:
    """The name of a staff member ("" for none), read in the caller's unit of work."""
    if staff_id is None:
        return ""
    return session.scalar(select(m.Staff.name).where(m.Staff.id == staff_id)) or ""


def _check_channel(channel: Channel | str | None) -> Channel | None:
    if channel is None or channel == "":
        return None
    try:
        return Channel(channel)
    except ValueError as exc:
        allowed = ", ".join(c.value for c in Channel)
        raise ValidationError({"channel": f"Channel must be one of: {allowed}."}) from exc


def add_interaction(
    session: Session,
    *,
    customer_id: int,
    summary: str,
    when: datetime,
    channel: Channel | str | None,
    staff_id: int | None,
    occasion: Occasion | None = None,
    occurrence_key: str | None = None,
    settings: TouchpointSettings | None = None,
) -> m.Interaction:
    """Insert an interaction in the caller's unit of work and reset the keep-in-touch clock.

    `when` must be timezone-aware; its local calendar day is what cadences count from.
    """
    if when.tzinfo is None:
        raise ValueError("An interaction time must be timezone-aware.")
    summary = summary.strip()
    if len(summary) > MAX_SUMMARY:
        raise ValidationError({"summary": f"A summary has at most {MAX_SUMMARY:,} characters."})
    checked = _check_channel(channel)
    if session.get(m.Customer, customer_id) is None:
        raise NotFoundError(f"Customer #{customer_id} does not exist.")
    row = m.Interaction(
        customer_id=customer_id,
        occurred_at=when.astimezone(UTC).replace(tzinfo=None),
        occurred_on=when.astimezone().date(),
        channel=checked.value if checked else None,
        staff_id=staff_id,
        summary=summary,
        occasion=Occasion(occasion).value if occasion else None,
        occurrence_key=occurrence_key,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    tp_repo.refresh_last_interaction(session, customer_id)
    # A snoozed keep-in-touch is answered by any conversation: its due date has moved on.
    session.query(m.TouchpointRecord).filter(
        m.TouchpointRecord.customer_id == customer_id,
        m.TouchpointRecord.occasion == Occasion.KEEP_IN_TOUCH.value,
        m.TouchpointRecord.state == "snoozed",
    ).delete(synchronize_session=False)
    if settings is not None:
        tp_repo.sync_dirty(session, settings)
    return row


class InteractionService:
    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        staff_id: int | None = None,
        settings: Callable[[], TouchpointSettings] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock or SystemClock()
        self._staff_id = staff_id
        self._settings = settings or TouchpointSettings

    def log(
        self,
        customer_id: int,
        summary: str,
        channel: Channel | str | None = None,
        when: datetime | None = None,
    ) -> Logged:
        """"Log conversation": record a contact now (or at `when`) and reset keep in touch."""
        moment = when or self._clock.now()
        if moment.tzinfo is None:
            moment = moment.astimezone()
        settings = self._settings()
        with self._db.write() as session:
            row = add_interaction(
                session,
                customer_id=customer_id,
                summary=summary,
                when=moment,
                channel=channel,
                staff_id=self._staff_id,
                settings=settings,
            )
            record = to_record(row, staff_name(session, self._staff_id))
        logger.info("Logged interaction #%s for customer #%s", record.id, customer_id)
        changed = Changed(
            customers=frozenset({customer_id}), interactions=True, touchpoints=True
        )
        return Logged(record, changed)

    def history(
        self, customer_id: int, limit: int = 50, before: InteractionRecord | None = None
    ) -> list[InteractionRecord]:
        """The customer's interactions, newest first; pass the last one seen to page on."""
        with self._db.read() as session:
            return _history(session, customer_id, limit, before)

    def history_page(
        self, customer_id: int, limit: int = 50, before: InteractionRecord | None = None
    ) -> HistoryPage:
        """`history` plus the count of all the customer's entries (two queries, one read),
        so a screen can say how many older ones it has not shown yet."""
        i = m.Interaction
        with self._db.read() as session:
            records = _history(session, customer_id, limit, before)
            total = session.scalar(
                select(func.count()).select_from(i).where(i.customer_id == customer_id))
        return HistoryPage(records, int(total or 0))


def _history(
    session: Session, customer_id: int, limit: int, before: InteractionRecord | None
) -> list[InteractionRecord]:
    """Keyset paging on (occurred_at, id), which the customer's history index serves."""
    i = m.Interaction
    statement = (
        select(i, m.Staff.name)
        .outerjoin(m.Staff, m.Staff.id == i.staff_id)
        .where(i.customer_id == customer_id)
        .order_by(i.occurred_at.desc(), i.id.desc())
        .limit(limit)
    )
    if before is not None:
        moment = before.occurred_at.astimezone(UTC).replace(tzinfo=None)
        statement = statement.where(tuple_(i.occurred_at, i.id) < (moment, before.id))
    return [to_record(row, name or "") for row, name in session.execute(statement)]
