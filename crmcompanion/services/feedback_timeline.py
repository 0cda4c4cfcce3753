"""Feedback on the customer's timeline: each item captured and each step of its workflow.

The profile's timeline (`services.timeline`, the "screens an owner lives in" issue) merges
providers; this is the feedback one. It lists the customer's feedback items ("Complaint: the
parcel came late") and the steps that followed (status changes with their notes, progress
notes), newest first with keyset paging, so "log a complaint, plan it, resolve it, hear
back" reads as one story on the profile. `register()` adds it where the timeline service
exists (it returns False in a build without one). Like the timeline's own providers, each
shape of its statements is built once and run with bound values (see services.timeline).
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, bindparam, func, not_, select
from sqlalchemy.orm import Session

from crmcompanion.core.feedback import FeedbackType
from crmcompanion.store import models as m

if TYPE_CHECKING:
    from crmcompanion.services.timeline import TimelineEntry

logger = logging.getLogger(__name__)

FEEDBACK = "feedback"
FEEDBACK_STEP = "feedback_step"


def _local(stored: datetime) -> datetime:
    return stored.replace(tzinfo=UTC).astimezone()


def _step_title(kind: str, to_status: str | None) -> str:
    title = FeedbackType(kind).title
    if to_status is None:
        return f"{title}: progress note"
    return f"{title} {to_status.replace('_', ' ')}"


_ITEMS = m.FeedbackItem.__table__.c
_EVENTS = m.FeedbackEvent.__table__.c


def _not_creation() -> Any:
    # The event that records an item's first status repeats the item's own entry: left out.
    e = _EVENTS
    return not_(and_(e.from_status.is_(None), e.to_status.is_not(None), e.note == ""))


@functools.cache
def _item_page(paged: bool) -> Select:
    from crmcompanion.services.timeline import newest_first

    f = _ITEMS
    return newest_first(m.FeedbackItem.__table__, (f.id, f.created_at, f.kind, f.text),
                        f.author_id, f.created_at, f.id,
                        (f.customer_id == bindparam("customer_id"),), paged)


def _events_of_customer() -> Any:
    f, e = _ITEMS, _EVENTS
    return m.FeedbackEvent.__table__.join(m.FeedbackItem.__table__, f.id == e.item_id)


@functools.cache
def _step_page(paged: bool) -> Select:
    from crmcompanion.services.timeline import newest_first

    f, e = _ITEMS, _EVENTS
    return newest_first(_events_of_customer(), (e.id, e.at, f.kind, e.to_status, e.note),
                        e.staff_id, e.at, e.id,
                        (f.customer_id == bindparam("customer_id"), _not_creation()), paged)


@functools.cache
def _item_count() -> Select:
    return select(func.count()).select_from(m.FeedbackItem.__table__).where(
        _ITEMS.customer_id == bindparam("customer_id"))


@functools.cache
def _step_count() -> Select:
    return select(func.count()).select_from(_events_of_customer()).where(
        _ITEMS.customer_id == bindparam("customer_id"), _not_creation())


class FeedbackEntries:
    """Feedback items and their workflow steps (a `services.timeline.TimelineProvider`)."""

    kinds = ((FEEDBACK, "Feedback"), (FEEDBACK_STEP, "Complaint and idea steps"))

    def entries(
        self, session: Session, customer_id: int, before: TimelineEntry | None, limit: int,
        kinds: frozenset[str] | None,
    ) -> list[TimelineEntry]:
        from crmcompanion.services.timeline import TimelineEntry, page_values

        found: list[TimelineEntry] = []
        paged = before is not None
        values = page_values(customer_id, before, limit + 1)
        if kinds is None or FEEDBACK in kinds:
            found += [TimelineEntry(customer_id, _local(at), FEEDBACK, f"fb:{row_id:012d}",
                                    f"{FeedbackType(kind).title}: {text}", author or "")
                      for row_id, at, kind, text, author
                      in session.execute(_item_page(paged), values)]
        if kinds is None or FEEDBACK_STEP in kinds:
            for row_id, at, kind, to_status, note, author in session.execute(
                    _step_page(paged), values):
                text = _step_title(kind, to_status) + (f": {note}" if note else "")
                found.append(TimelineEntry(customer_id, _local(at), FEEDBACK_STEP,
                                           f"fe:{row_id:012d}", text, author or ""))
        if before is not None:
            found = [x for x in found if (x.at, x.key) < (before.at, before.key)]
        found.sort(key=lambda x: (x.at, x.key), reverse=True)
        return found[:limit]

    def count(self, session: Session, customer_id: int, kinds: frozenset[str] | None) -> int:
        values = {"customer_id": customer_id}
        total = 0
        if kinds is None or FEEDBACK in kinds:
            total += int(session.scalar(_item_count(), values) or 0)
        if kinds is None or FEEDBACK_STEP in kinds:
            total += int(session.scalar(_step_count(), values) or 0)
        return total


def register() -> bool:
    """Add the feedback entries to the profile timeline; False where there is none."""
    try:
        from crmcompanion.services.timeline import register_provider
    except ImportError:
        return False
    register_provider(FeedbackEntries())
    return True
