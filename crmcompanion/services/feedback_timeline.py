"""Feedback on the customer's timeline: each item captured and each step of its workflow.

The profile's timeline (`services.timeline`, the "screens an owner lives in" issue) merges
providers; this is the feedback one. It lists the customer's feedback items ("Complaint: the
parcel came late") and the steps that followed (status changes with their notes, progress
notes), newest first with keyset paging, so "log a complaint, plan it, resolve it, hear
back" reads as one story on the profile. `register()` adds it where the timeline service
exists (it returns False in a build without one).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, not_, select
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


def _stored(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _step_title(kind: str, to_status: str | None) -> str:
    title = FeedbackType(kind).title
    if to_status is None:
        return f"{title}: progress note"
    return f"{title} {to_status.replace('_', ' ')}"


def _not_creation() -> Any:
    # The event that records an item's first status repeats the item's own entry: left out.
    e = m.FeedbackEvent
    return not_(and_(e.from_status.is_(None), e.to_status.is_not(None), e.note == ""))


class FeedbackEntries:
    """Feedback items and their workflow steps (a `services.timeline.TimelineProvider`)."""

    kinds = ((FEEDBACK, "Feedback"), (FEEDBACK_STEP, "Complaint and idea steps"))

    def entries(
        self, session: Session, customer_id: int, before: TimelineEntry | None, limit: int,
        kinds: frozenset[str] | None,
    ) -> list[TimelineEntry]:
        from crmcompanion.services.timeline import TimelineEntry

        f, e, s = m.FeedbackItem, m.FeedbackEvent, m.Staff
        found: list[TimelineEntry] = []
        if kinds is None or FEEDBACK in kinds:
            statement = (select(f.id, f.created_at, f.kind, f.text, s.name)
                         .outerjoin(s, s.id == f.author_id)
                         .where(f.customer_id == customer_id)
                         .order_by(f.created_at.desc(), f.id.desc()).limit(limit + 1))
            if before is not None:
                statement = statement.where(f.created_at <= _stored(before.at))
            found += [TimelineEntry(customer_id, _local(at), FEEDBACK, f"fb:{row_id:012d}",
                                    f"{FeedbackType(kind).title}: {text}", author or "")
                      for row_id, at, kind, text, author in session.execute(statement)]
        if kinds is None or FEEDBACK_STEP in kinds:
            statement = (select(e.id, e.at, f.kind, e.to_status, e.note, s.name)
                         .join(f, f.id == e.item_id).outerjoin(s, s.id == e.staff_id)
                         .where(f.customer_id == customer_id, _not_creation())
                         .order_by(e.at.desc(), e.id.desc()).limit(limit + 1))
            if before is not None:
                statement = statement.where(e.at <= _stored(before.at))
            for row_id, at, kind, to_status, note, author in session.execute(statement):
                text = _step_title(kind, to_status) + (f": {note}" if note else "")
                found.append(TimelineEntry(customer_id, _local(at), FEEDBACK_STEP,
                                           f"fe:{row_id:012d}", text, author or ""))
        if before is not None:
            found = [x for x in found if (x.at, x.key) < (before.at, before.key)]
        found.sort(key=lambda x: (x.at, x.key), reverse=True)
        return found[:limit]

    def count(self, session: Session, customer_id: int, kinds: frozenset[str] | None) -> int:
        f, e = m.FeedbackItem, m.FeedbackEvent
        total = 0
        if kinds is None or FEEDBACK in kinds:
            total += int(session.scalar(select(func.count()).select_from(f).where(
                f.customer_id == customer_id)) or 0)
        if kinds is None or FEEDBACK_STEP in kinds:
            total += int(session.scalar(select(func.count()).select_from(e).join(
                f, f.id == e.item_id).where(f.customer_id == customer_id,
                                            _not_creation())) or 0)
        return total


def register() -> bool:
    """Add the feedback entries to the profile timeline; False where there is none."""
    try:
        from crmcompanion.services.timeline import register_provider
    except ImportError:
        return False
    register_provider(FeedbackEntries())
    return True
