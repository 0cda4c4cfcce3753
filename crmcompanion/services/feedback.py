"""The voice of the customer: capture feedback, work complaints and ideas, close the loop.

Every piece of feedback (praise, feedback, complaint, idea, question) is one item on its
customer. Complaints follow the enforced workflow of `core.feedback`; resolving one schedules
a check-back touchpoint (`complaint_checkback`, "are you satisfied now?") and the answer
closes or reopens it. A plan's target date is a follow-up touchpoint, so it reminds on the
day and stays in Today's Overdue while the plan is late, through the same touchpoint path as
every other touchpoint (no second Today query). Marking an idea done leaves an
`idea_shipped` touchpoint per requester, drafted from the greeting templates.

Meaning vectors are written when an item is saved (never at query time); when the model
cannot load, similar items are ranked by words (FTS5 bm25) instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from crmcompanion.core.clock import Clock, SystemClock
from crmcompanion.core.errors import ConflictError, DomainError, NotFoundError, ValidationError
from crmcompanion.core.feedback import (
    ComplaintStatus,
    FeedbackType,
    IdeaStatus,
    Severity,
    Source,
    check_complaint_transition,
    check_move,
    check_satisfaction,
    check_text,
    initial_status,
    normalise_themes,
    parse_status,
)
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.settings import (
    BUSINESS_NAME,
    CHECKBACK_DAYS,
    CHECKBACK_DAYS_RANGE,
    OWNER_NAME,
    SIGNATURE,
    SettingSpec,
)
from crmcompanion.core.templates import RenderedMessage, TemplateContext, render_greeting
from crmcompanion.core.touchpoints import occurrence_key, parse_occurrence_key
from crmcompanion.services.changes import Changed
from crmcompanion.services.feedback_similar import Vectors, distinctive_words
from crmcompanion.services.today_support import PLAN_DUE
from crmcompanion.store import feedback as repo
from crmcompanion.store import feedback_rhythm
from crmcompanion.store import models as m
from crmcompanion.store.database import Database

if TYPE_CHECKING:
    from crmcompanion.services.feedback_reviews import ReviewImport
    from crmcompanion.services.greetings import Draft, GreetingService, StoredTemplate
    from crmcompanion.services.touchpoints import FollowUpRecord, TouchpointService

logger = logging.getLogger(__name__)
# What a save over someone else's change since the item was read is told (nothing saved).
CHANGED_MEANWHILE = "Someone else changed this item; reopen it and try again."

# Imports up to this size get a suggested theme per review (one similarity query each).
AUTO_THEME_LIMIT = 2000
FEEDBACK_REQUEST_TEMPLATE = "Feedback request"
REVIEW_REPLY_TEMPLATE = "Review reply"
_REVIEW_REPLY_BODY = (
    "Hi $first_name,\n\nThank you for taking the time to write about us. We read every "
    "review, and yours helps us do better. If anything was not as it should have been, I "
    "would like to put it right: just reply to this message.\n\nBest wishes,\n$signature"
)
_FEEDBACK_REQUEST_BODY = (
    "Hi $first_name,\n\nI'd love to hear how things are going for you with us. What do you "
    "like, and what could we do better? A line or two is plenty, and every answer is read.\n\n"
    "Thank you,\n$signature"
)


@dataclass(frozen=True)
class FeedbackEvent:
    """One step of an item's history: a status change (from -> to) and/or a note."""

    at: datetime  # local, timezone-aware
    staff: str
    from_status: str | None
    to_status: str | None
    note: str


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    customer_id: int | None
    customer: str  # the customer's name, or a public review's author when unlinked
    kind: FeedbackType
    status: str | None
    text: str
    themes: tuple[str, ...]
    satisfaction: int | None
    source: Source
    author: str
    created_at: datetime  # local, timezone-aware
    version: int
    reviewer: str = ""
    review_site: str = ""
    severity: Severity | None = None
    goal: str = ""
    target_date: date | None = None
    responsible_id: int | None = None
    checkback_on: date | None = None
    merged_into_id: int | None = None

    @property
    def status_title(self) -> str:
        if self.status is None:
            return ""
        if self.kind is FeedbackType.COMPLAINT:
            return ComplaintStatus(self.status).title
        return IdeaStatus(self.status).title

    @property
    def is_open_complaint(self) -> bool:
        return (self.kind is FeedbackType.COMPLAINT and self.status is not None
                and ComplaintStatus(self.status).is_open)


@dataclass(frozen=True)
class FeedbackDetail:
    """An item with its history and (for ideas) the customers who asked for it."""

    item: FeedbackRecord
    events: tuple[FeedbackEvent, ...]
    requesters: tuple[tuple[int, str], ...]  # (customer id, name)


@dataclass(frozen=True)
class Saved:
    item: FeedbackRecord
    changed: Changed
    touchpoint_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class SimilarItem:
    id: int
    customer_id: int | None
    customer: str
    text: str
    themes: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class ThemeSummary:
    """One theme of the Themes view."""

    name: str
    customers: int
    items: int
    open_complaints: int
    resolved_complaints: int
    months: tuple[tuple[date, int], ...]  # first day of each of the last 12 months, count
    words: tuple[str, ...]


@dataclass(frozen=True)
class IdeaCard:
    """One idea on the board, with its requesters."""

    item: FeedbackRecord
    requesters: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class TimelineEntry:
    """A feedback moment on a customer's timeline: an item captured, or a step of it."""

    at: datetime  # local, timezone-aware
    item_id: int
    kind: FeedbackType
    title: str
    text: str


@dataclass(frozen=True)
class AskedForFeedback:
    draft: Draft
    follow_up: FollowUpRecord
    changed: Changed = field(default_factory=Changed)


def _local(naive_utc: datetime) -> datetime:
    return naive_utc.replace(tzinfo=UTC).astimezone()


def _excerpt(text: str, limit: int = 80) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


class FeedbackService:
    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        staff_id: int | None = None,
        *,
        touchpoints: TouchpointService,
        greetings: GreetingService | None = None,
        setting: Callable[[SettingSpec], Any] | None = None,
        vectors: Vectors | None = None,
    ) -> None:
        self._db = db
        self._clock = clock or SystemClock()
        self._staff_id = staff_id
        self._touchpoints = touchpoints
        self._greetings = greetings
        self._setting = setting or (lambda spec: spec.default)
        self.vectors = vectors or Vectors()
        # The stored vectors as one matrix, and the theme centroids over them: rebuilt only
        # when a vector or a theme link changed (one aggregate query checks).
        self._matrix_cache: tuple[tuple, list[int], Any] | None = None
        self._centroid_cache: tuple[tuple, list[tuple[str, ...]], Any] | None = None

    # --- helpers -----------------------------------------------------------------------
    def _now_utc(self) -> datetime:
        return self._clock.now().astimezone(UTC).replace(tzinfo=None)

    def checkback_days(self) -> int:
        value = self._setting(CHECKBACK_DAYS)
        low, high = CHECKBACK_DAYS_RANGE
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        return int(CHECKBACK_DAYS.default)

    def _record(self, session: Session, row: m.FeedbackItem, customer: str = "",
                author: str = "") -> FeedbackRecord:
        detail = session.get(m.ComplaintDetail, row.id) if row.kind == "complaint" else None
        if not customer:
            if row.customer_id is not None:
                customer = session.scalar(select(m.Customer.display_name).where(
                    m.Customer.id == row.customer_id)) or ""
            else:
                customer = row.reviewer
        if not author and row.author_id is not None:
            author = session.scalar(select(m.Staff.name).where(
                m.Staff.id == row.author_id)) or ""
        themes = repo.themes_of(session, [row.id])[row.id]
        return self._to_record(row, customer, author, themes, detail)

    @staticmethod
    def _to_record(row: m.FeedbackItem, customer: str, author: str, themes: list[str],
                   detail: m.ComplaintDetail | None) -> FeedbackRecord:
        return FeedbackRecord(
            id=row.id, customer_id=row.customer_id, customer=customer,
            kind=FeedbackType(row.kind), status=row.status, text=row.text,
            themes=tuple(themes), satisfaction=row.satisfaction, source=Source(row.source),
            author=author, created_at=_local(row.created_at), version=row.version,
            reviewer=row.reviewer, review_site=row.review_site,
            severity=Severity(detail.severity) if detail else None,
            goal=detail.goal if detail else "",
            target_date=detail.target_date if detail else None,
            responsible_id=detail.responsible_id if detail else None,
            checkback_on=detail.checkback_on if detail else None,
            merged_into_id=row.merged_into_id,
        )

    def _load(self, session: Session, item_id: int, lock: bool = False) -> m.FeedbackItem:
        row = session.get(m.FeedbackItem, item_id, with_for_update=lock or None)
        if row is None:
            raise NotFoundError(f"Feedback #{item_id} does not exist.")
        return row

    def _event(self, session: Session, item_id: int, from_status: str | None,
               to_status: str | None, note: str = "") -> None:
        session.add(m.FeedbackEvent(item_id=item_id, at=self._now_utc(), staff_id=self._staff_id,
                                    from_status=from_status, to_status=to_status,
                                    note=note.strip()))

    def _changed(self, customer_id: int | None, touchpoints: bool = False) -> Changed:
        return Changed(customers=frozenset({customer_id}) if customer_id else frozenset(),
                       feedback=True, touchpoints=touchpoints, reminders=touchpoints)

    # --- capture -----------------------------------------------------------------------
    def add(
        self,
        customer_id: int | None,
        kind: FeedbackType | str,
        text: str,
        *,
        themes: Sequence[str] = (),
        satisfaction: int | None = None,
        source: Source | str = Source.CONVERSATION,
        severity: Severity | str | None = None,
        interaction_id: int | None = None,
        reviewer: str = "",
        review_site: str = "",
        when: datetime | None = None,
    ) -> Saved:
        """Capture one item (an idea's customer becomes its first requester); its meaning
        vector is stored in the same unit of work when the model is available."""
        try:
            kind = FeedbackType(kind)
        except ValueError as exc:
            raise ValidationError({"type": "Type must be one of: " + ", ".join(
                t.value for t in FeedbackType) + "."}) from exc
        try:
            source = Source(source)
        except ValueError as exc:
            raise ValidationError({"source": "Source must be one of: " + ", ".join(
                s.value for s in Source) + "."}) from exc
        body = check_text(text)
        satisfaction = check_satisfaction(satisfaction)
        theme_names = normalise_themes(list(themes))
        if severity is not None and kind is not FeedbackType.COMPLAINT:
            raise ValidationError({"severity": "Only a complaint has a severity."})
        try:
            level = Severity(severity or Severity.NORMAL)
        except ValueError as exc:
            raise ValidationError({"severity": "Severity must be one of: low, normal, "
                                               "high."}) from exc
        if customer_id is None and source is not Source.PUBLIC_REVIEW:
            raise ValidationError({"customer": "Feedback belongs to a customer (only a public "
                                               "review may have none)."})
        encoded = self._vector_for(kind, source, body)
        created = (when.astimezone(UTC).replace(tzinfo=None) if when is not None
                   else self._now_utc())
        with self._db.write() as session:
            if customer_id is not None and session.get(m.Customer, customer_id) is None:
                raise NotFoundError(f"Customer #{customer_id} does not exist.")
            row = m.FeedbackItem(
                customer_id=customer_id, kind=kind.value, text=body, satisfaction=satisfaction,
                source=source.value, status=initial_status(kind), author_id=self._staff_id,
                interaction_id=interaction_id, reviewer=reviewer.strip(),
                review_site=review_site.strip(), created_at=created, updated_at=created,
            )
            session.add(row)
            session.flush()
            if kind is FeedbackType.COMPLAINT:
                session.add(m.ComplaintDetail(item_id=row.id, severity=level.value, goal="",
                                              responsible_id=self._staff_id))
            if kind is FeedbackType.IDEA and customer_id is not None:
                session.add(m.IdeaRequester(idea_id=row.id, customer_id=customer_id,
                                            created_at=created))
            if row.status is not None:
                self._event(session, row.id, None, row.status)
            repo.set_item_themes(session, row.id, theme_names)
            if encoded is not None:
                repo.save_vector(session, row.id, encoded[0], encoded[1])
            session.flush()
            if customer_id is not None:  # feedback received: the ask rhythm counts from it
                feedback_rhythm.refresh_customers(session, [customer_id])
            record = self._record(session, row)
        logger.info("Feedback #%s (%s) captured for customer #%s", record.id, kind.value,
                    customer_id)
        return Saved(record, self._changed(customer_id) | Changed(touchpoints=True))

    def _vector_for(self, kind: FeedbackType, source: Source, text: str
                    ) -> tuple[str, bytes] | None:
        if kind is not FeedbackType.COMPLAINT and source is not Source.PUBLIC_REVIEW:
            return None
        encoded = self.vectors.encode_bytes([text])
        return None if encoded is None else (encoded[0], encoded[1][0])

    def encode_missing(self, batch: int = 500) -> int:
        """Store vectors for comparable items saved while the model was unavailable (or by
        another model); returns how many. Slow: run it off the GUI thread."""
        model = self.vectors.model_id
        if model is None:
            return 0
        done = 0
        while True:
            with self._db.read() as session:
                missing = repo.items_without_vector(session, model, batch)
            if not missing:
                return done
            encoded = self.vectors.encode_bytes([t for _, t in missing])
            if encoded is None:
                return done
            with self._db.write() as session:
                for (item_id, _), blob in zip(missing, encoded[1], strict=True):
                    repo.save_vector(session, item_id, encoded[0], blob)
            done += len(missing)

    def add_theme(self, item_id: int, theme: str) -> Saved:
        """Attach one theme (e.g. a suggested one) to the item."""
        with self._db.write() as session:
            row = self._load(session, item_id)
            repo.add_item_themes(session, item_id, [theme])
            record = self._record(session, row)
        return Saved(record, self._changed(record.customer_id))

    # --- reading -----------------------------------------------------------------------
    def get(self, item_id: int) -> FeedbackDetail:
        with self._db.read() as session:
            row = self._load(session, item_id)
            record = self._record(session, row)
            events = [
                FeedbackEvent(_local(e.at), name or "", e.from_status, e.to_status, e.note)
                for e, name in session.execute(
                    select(m.FeedbackEvent, m.Staff.name)
                    .outerjoin(m.Staff, m.Staff.id == m.FeedbackEvent.staff_id)
                    .where(m.FeedbackEvent.item_id == item_id)
                    .order_by(m.FeedbackEvent.at, m.FeedbackEvent.id))
            ]
            requesters = self._requesters(session, [item_id]).get(item_id, ())
        return FeedbackDetail(record, tuple(events), requesters)

    @staticmethod
    def _requesters(session: Session, idea_ids: Sequence[int]
                    ) -> dict[int, tuple[tuple[int, str], ...]]:
        found: dict[int, list[tuple[int, str]]] = {}
        if not idea_ids:
            return {}
        r = m.IdeaRequester
        for idea_id, cid, name in session.execute(
                select(r.idea_id, r.customer_id, m.Customer.display_name)
                .join(m.Customer, m.Customer.id == r.customer_id)
                .where(r.idea_id.in_(list(idea_ids)))
                .order_by(r.created_at, m.Customer.sort_name)):
            found.setdefault(idea_id, []).append((cid, name))
        return {k: tuple(v) for k, v in found.items()}

    def list(
        self,
        *,
        kind: FeedbackType | str | None = None,
        status: str | None = None,
        theme: str | None = None,
        customer_id: int | None = None,
        limit: int | None = 500,
    ) -> list[FeedbackRecord]:
        """Items newest first, filtered by type, status, theme and customer."""
        kinds = [FeedbackType(kind).value] if kind else []
        with self._db.read() as session:
            rows = repo.list_items(session, kinds=kinds, status=status, theme=theme,
                                   customer_id=customer_id, limit=limit)
            return self._records(session, rows)

    def _records(self, session: Session, rows: Sequence[repo.ItemRow]) -> list[FeedbackRecord]:
        ids = [r.item.id for r in rows]
        themes = repo.themes_of(session, ids)
        details: dict[int, m.ComplaintDetail] = {}
        complaint_ids = [r.item.id for r in rows if r.item.kind == "complaint"]
        for start in range(0, len(complaint_ids), 900):
            chunk = complaint_ids[start:start + 900]
            details.update({d.item_id: d for d in session.scalars(
                select(m.ComplaintDetail).where(m.ComplaintDetail.item_id.in_(chunk)))})
        return [self._to_record(r.item, r.customer, r.author, themes[r.item.id],
                                details.get(r.item.id)) for r in rows]

    def complaints(self, open_only: bool = False) -> list[FeedbackRecord]:
        found = self.list(kind=FeedbackType.COMPLAINT, limit=None)
        return [c for c in found if c.is_open_complaint] if open_only else found

    def themes(self) -> list[str]:
        with self._db.read() as session:
            return [name for _, name in repo.all_themes(session)]

    def timeline(self, customer_id: int) -> list[TimelineEntry]:
        """The customer's feedback moments, newest first: each item captured and each step
        of a complaint or idea (for the profile timeline)."""
        entries: list[TimelineEntry] = []
        f, e = m.FeedbackItem, m.FeedbackEvent
        with self._db.read() as session:
            items = {row.id: row for row in session.scalars(
                select(f).where(f.customer_id == customer_id))}
            for row in items.values():
                kind = FeedbackType(row.kind)
                entries.append(TimelineEntry(_local(row.created_at), row.id, kind,
                                             kind.title, row.text))
            if items:
                for event in session.scalars(select(e).where(e.item_id.in_(list(items)))):
                    if event.from_status is None and event.note == "":
                        continue  # the creation itself, already listed
                    kind = FeedbackType(items[event.item_id].kind)
                    title = _event_title(kind, event.to_status)
                    entries.append(TimelineEntry(_local(event.at), event.item_id, kind, title,
                                                 event.note))
        entries.sort(key=lambda t: (t.at, t.item_id), reverse=True)
        return entries

    # --- the workflow ------------------------------------------------------------------
    def move(
        self,
        item_id: int,
        status: str,
        *,
        note: str = "",
        goal: str | None = None,
        target_date: date | None = None,
        expected_version: int | None = None,
    ) -> Saved:
        """Move a complaint or idea to `status` (a known status name, see
        `core.feedback.parse_status`); raises `InvalidTransition` naming the allowed next
        states. Resolving schedules the check-back; an idea done tells its requesters."""
        name = parse_status(status)
        keys: list[str] = []
        try:
            with self._db.write() as session:
                row = self._load(session, item_id)
                if expected_version is not None and row.version != expected_version:
                    raise ConflictError(CHANGED_MEANWHILE)
                before = row.status
                kind = FeedbackType(row.kind)
                if kind is FeedbackType.COMPLAINT:
                    keys = self._move_complaint(session, row, name, goal, target_date)
                    if row.status == ComplaintStatus.PLANNED.value and goal and goal.strip() \
                            and not note.strip():
                        # The step tells what was agreed ("Complaint planned: <goal>").
                        note = goal.strip()
                elif kind is FeedbackType.IDEA:
                    if row.merged_into_id is not None:
                        raise DomainError(f"Idea #{item_id} was merged into idea "
                                          f"#{row.merged_into_id}; change that one.")
                    keys = self._move_idea(session, row, name)
                else:
                    check_move(kind, row.status, name)  # raises: no workflow
                self._event(session, row.id, before, row.status, note)
                row.updated_at = self._now_utc()
                session.flush()
                record = self._record(session, row)
        except StaleDataError as exc:
            raise ConflictError(CHANGED_MEANWHILE) from exc
        logger.info("Feedback #%s moved from %s to %s", item_id, before, record.status)
        return Saved(record, self._changed(record.customer_id, touchpoints=True), tuple(keys))

    def _move_complaint(self, session: Session, row: m.FeedbackItem, name: str,
                        goal: str | None, target_date: date | None) -> list[str]:
        target = check_move(FeedbackType.COMPLAINT, row.status, name)
        detail = session.get(m.ComplaintDetail, row.id)
        if detail is None:
            detail = m.ComplaintDetail(item_id=row.id, severity="normal", goal="")
            session.add(detail)
        if goal is not None:
            detail.goal = goal.strip()
        if target_date is not None:
            detail.target_date = target_date
        row.status = target.value
        keys: list[str] = []
        if target is ComplaintStatus.RESOLVED:
            detail.resolved_at = self._now_utc()
            self._close_plan_follow_up(session, detail)
            keys += self._schedule_checkback(session, row, detail)
        elif target in (ComplaintStatus.SATISFIED, ComplaintStatus.NOT_SATISFIED):
            self._close_checkback(session, row)
        else:
            keys += self._sync_plan_follow_up(session, row, detail)
        return keys

    def _move_idea(self, session: Session, row: m.FeedbackItem, name: str) -> list[str]:
        target = check_move(FeedbackType.IDEA, row.status, name)
        row.status = target.value
        if target is not IdeaStatus.DONE:
            return []
        today = self._clock.today()
        keys = []
        note = f"You asked for it, it's here: {_excerpt(row.text)}"
        for (cid,) in session.execute(select(m.IdeaRequester.customer_id).where(
                m.IdeaRequester.idea_id == row.id)):
            keys.append(self._follow_up(session, cid, Occasion.IDEA_SHIPPED, today, note,
                                        row.id))
        return keys

    def _follow_up(self, session: Session, customer_id: int, occasion: Occasion, due: date,
                   note: str, source_id: int | None) -> str:
        """A one-off touchpoint in the caller's unit of work (as TouchpointService.add_follow_up
        writes it), returning its occurrence key."""
        row = m.FollowUp(customer_id=customer_id, occasion=occasion.value, due_on=due,
                         note=note, source_id=source_id, open=True, created_at=self._now_utc(),
                         created_by_id=self._staff_id)
        session.add(row)
        session.flush()
        return occurrence_key(customer_id, occasion,
                              source_id if source_id is not None else row.id, due)

    def _schedule_checkback(self, session: Session, row: m.FeedbackItem,
                            detail: m.ComplaintDetail) -> list[str]:
        if row.customer_id is None:
            return []
        archived = session.scalar(select(m.Customer.archived_at).where(
            m.Customer.id == row.customer_id))
        if archived is not None:
            return []
        self._close_checkback(session, row)  # a second resolution replaces the first ask
        due = self._clock.today() + timedelta(days=self.checkback_days())
        detail.checkback_on = due
        note = f"Are they satisfied now? {_excerpt(row.text)}"
        return [self._follow_up(session, row.customer_id, Occasion.COMPLAINT_CHECKBACK, due,
                                note, row.id)]

    @staticmethod
    def _close_checkback(session: Session, row: m.FeedbackItem) -> None:
        f = m.FollowUp
        session.execute(update(f).where(
            f.occasion == Occasion.COMPLAINT_CHECKBACK.value, f.source_id == row.id,
            f.open.is_(True)).values(open=False).execution_options(synchronize_session=False))

    @staticmethod
    def _close_plan_follow_up(session: Session, detail: m.ComplaintDetail) -> None:
        if detail.plan_follow_up_id is not None:
            follow_up = session.get(m.FollowUp, detail.plan_follow_up_id)
            if follow_up is not None:
                follow_up.open = False

    def _sync_plan_follow_up(self, session: Session, row: m.FeedbackItem,
                             detail: m.ComplaintDetail) -> list[str]:
        """The plan's target date as a follow-up: reminds on the day, overdue after it."""
        if row.customer_id is None or detail.target_date is None:
            return []
        note = f"{PLAN_DUE}: {_excerpt(detail.goal or row.text)}"
        existing = (session.get(m.FollowUp, detail.plan_follow_up_id)
                    if detail.plan_follow_up_id is not None else None)
        if existing is not None and existing.open:
            existing.due_on, existing.note = detail.target_date, note
            session.flush()
            return [occurrence_key(row.customer_id, Occasion.FOLLOW_UP, existing.id,
                                   existing.due_on)]
        key = self._follow_up(session, row.customer_id, Occasion.FOLLOW_UP, detail.target_date,
                              note, None)
        detail.plan_follow_up_id = parse_occurrence_key(key).source_id
        return [key]

    def set_plan(
        self,
        item_id: int,
        *,
        goal: str | None = None,
        target_date: date | None = None,
        clear_target: bool = False,
        severity: Severity | str | None = None,
        responsible_id: int | None = None,
        expected_version: int | None = None,
    ) -> Saved:
        """Fill or change the plan (goal agreed with the customer, target date), severity
        and who is responsible, at any step; the target-date reminder follows. With
        `expected_version` (the version the form was filled on) a save over someone else's
        change since raises ConflictError instead of overwriting it."""
        try:
            return self._set_plan(item_id, goal, target_date, clear_target, severity,
                                  responsible_id, expected_version)
        except StaleDataError as exc:  # another save slipped in between read and write
            raise ConflictError(CHANGED_MEANWHILE) from exc

    def _set_plan(self, item_id: int, goal: str | None, target_date: date | None,
                  clear_target: bool, severity: Severity | str | None,
                  responsible_id: int | None, expected_version: int | None) -> Saved:
        with self._db.write() as session:
            row = self._load(session, item_id)
            if expected_version is not None and row.version != expected_version:
                raise ConflictError(CHANGED_MEANWHILE)
            if row.kind != FeedbackType.COMPLAINT.value:
                raise DomainError("Only a complaint has a plan.")
            detail = session.get(m.ComplaintDetail, row.id)
            assert detail is not None
            if goal is not None:
                detail.goal = goal.strip()
            if target_date is not None:
                detail.target_date = target_date
            if clear_target:
                detail.target_date = None
                self._close_plan_follow_up(session, detail)
            if severity is not None:
                try:
                    detail.severity = Severity(severity).value
                except ValueError as exc:
                    raise ValidationError({"severity": "Severity must be one of: low, normal, "
                                                       "high."}) from exc
            if responsible_id is not None:
                detail.responsible_id = responsible_id
            if ComplaintStatus(row.status or "new").is_open:
                self._sync_plan_follow_up(session, row, detail)
            row.updated_at = self._now_utc()
            session.flush()
            record = self._record(session, row)
        return Saved(record, self._changed(record.customer_id, touchpoints=True))

    def add_note(self, item_id: int, note: str) -> Saved:
        """A progress note on the item's history."""
        if not note.strip():
            raise ValidationError({"note": "Write the note."})
        with self._db.write() as session:
            # A note appends and never conflicts: hold the row (FOR UPDATE on PostgreSQL;
            # SQLite writes one at a time) so the version bump below is made on the latest
            # version, never refused as stale after a concurrent change.
            row = self._load(session, item_id, lock=True)
            self._event(session, item_id, None, None, note)
            row.updated_at = self._now_utc()
            session.flush()
            record = self._record(session, row)
        return Saved(record, self._changed(record.customer_id))

    # --- the check-back ----------------------------------------------------------------
    def checkback_item(self, key: str) -> int | None:
        """The complaint a Today touchpoint asks about, or None if it is not a check-back."""
        try:
            parsed = parse_occurrence_key(key)
        except ValueError:
            return None
        return parsed.source_id if parsed.occasion is Occasion.COMPLAINT_CHECKBACK else None

    def answer_checkback(self, item_id: int, satisfied: bool, note: str = "") -> Saved:
        """The customer's answer to "are you satisfied now?": satisfied closes the complaint,
        not satisfied reopens it for another plan. The check-back touchpoint is done (on the
        customer's history)."""
        detail = self.get(item_id)
        record = detail.item
        if record.kind is not FeedbackType.COMPLAINT:
            raise DomainError(f"Feedback #{item_id} is not a complaint.")
        answer = ComplaintStatus.SATISFIED if satisfied else ComplaintStatus.NOT_SATISFIED
        check_complaint_transition(ComplaintStatus(record.status or "new"), answer)
        changed = Changed()
        if record.customer_id is not None and record.checkback_on is not None:
            key = occurrence_key(record.customer_id, Occasion.COMPLAINT_CHECKBACK, item_id,
                                 record.checkback_on)
            with self._db.read() as session:
                still_open = session.scalar(select(func.count()).select_from(m.FollowUp).where(
                    m.FollowUp.occasion == Occasion.COMPLAINT_CHECKBACK.value,
                    m.FollowUp.source_id == item_id, m.FollowUp.open.is_(True)))
            if still_open:
                answer_text = "satisfied" if satisfied else "not satisfied"
                summary = f"Complaint check-back: {answer_text}" + (
                    f". {note.strip()}" if note.strip() else "")
                changed = self._touchpoints.mark_done(key, summary).changed
        saved = self.move(item_id, answer.value, note=note)
        if not satisfied:
            saved = self.move(item_id, ComplaintStatus.REOPENED.value,
                              note="Reopened: the customer is not satisfied.")
        return Saved(saved.item, saved.changed | changed)

    def overdue_plans(self) -> list[FeedbackRecord]:
        """Open complaints whose plan is past its target date (they are also in Today's
        Overdue through their target-date follow-up)."""
        with self._db.read() as session:
            rows = repo.overdue_plans(session, self._clock.today())
            themes = repo.themes_of(session, [i.id for i, _, _ in rows])
            return [self._to_record(item, name, "", themes[item.id], detail)
                    for item, detail, name in rows]

    # --- similar complaints --------------------------------------------------------------
    def _stored_matrix(self, model: str) -> tuple[list[int], Any]:
        """The stored vectors as one matrix, cached until a vector is added or removed."""
        from crmcompanion.core.similarity import stack_vectors

        with self._db.read() as session:
            stamp = tuple(session.execute(select(
                func.count(), func.max(m.FeedbackVector.item_id),
                func.sum(m.FeedbackVector.item_id)).where(
                m.FeedbackVector.model == model)).one())
            if self._matrix_cache is not None and self._matrix_cache[0] == (model, *stamp):
                return self._matrix_cache[1], self._matrix_cache[2]
            rows = repo.stored_vectors(session, model)
        ids = [i for i, _ in rows]
        blobs = [b for _, b in rows]
        dim = len(blobs[0]) // 4 if blobs else 0
        matrix = stack_vectors(blobs, dim) if blobs else None
        self._matrix_cache = ((model, *stamp), ids, matrix)
        return ids, matrix

    def similar(self, text: str, limit: int = 5, exclude_customer_id: int | None = None,
                exclude_item_id: int | None = None) -> list[SimilarItem]:
        """Stored complaints (and public reviews) nearest `text` in meaning, best first;
        ranked by shared words when the model cannot load. Items of `exclude_customer_id`
        (the customer the complaint is being typed for) are left out."""
        if not text.strip():
            return []
        fetch = limit * 2 + 5  # room for the excluded customer's own items
        hits: list[tuple[int, float]] = []
        encoded = self.vectors.encode([text])
        if encoded is not None:
            from crmcompanion.core.similarity import rank

            model, query = encoded
            ids, matrix = self._stored_matrix(model)
            if matrix is not None:
                indices, scores = rank(query[0], matrix, fetch)
                hits = [(ids[i], float(s)) for i, s in zip(indices.tolist(), scores.tolist(),
                                                            strict=True) if s > 0]
        else:
            with self._db.read() as session:
                hits = repo.lexical_similar(session, text, fetch)
        if not hits:
            return []
        with self._db.read() as session:
            rows = repo.item_summaries(session, [i for i, _ in hits])
            themes = repo.themes_of(session, list(rows))
        found: list[SimilarItem] = []
        for item_id, score in hits:
            row = rows.get(item_id)
            if row is None or item_id == exclude_item_id:
                continue
            customer_id, customer, body = row
            if exclude_customer_id is not None and customer_id == exclude_customer_id:
                continue
            found.append(SimilarItem(item_id, customer_id, customer, body,
                                     tuple(themes[item_id]), round(score, 4)))
            if len(found) == limit:
                break
        return found

    def suggest_themes(self, text: str, k: int = 3, exclude_customer_id: int | None = None,
                       exclude_item_id: int | None = None) -> list[str]:
        """Themes to offer for a typed complaint: by meaning, the themes whose complaints
        taken together (their centroid) are nearest the text; by words (no model), those of
        its nearest neighbours, weighted by rank and similarity."""
        encoded = self.vectors.encode([text]) if text.strip() else None
        if encoded is not None:
            return self._themes_by_centroid(encoded[0], encoded[1][0], k)
        votes: dict[str, float] = {}
        spelled: dict[str, str] = {}
        for position, hit in enumerate(self.similar(text, 10, exclude_customer_id,
                                                    exclude_item_id)):
            weight = max(hit.score, 0.0) / (1.0 + position / 4.0)
            for theme in hit.themes:
                votes[theme.casefold()] = votes.get(theme.casefold(), 0.0) + weight
                spelled.setdefault(theme.casefold(), theme)
        ordered = sorted(votes, key=lambda t: (-votes[t], t))
        return [spelled[t] for t in ordered[:k]]

    def _themes_by_centroid(self, model: str, query: Any, k: int) -> list[str]:
        from crmcompanion.core.similarity import suggest_themes, theme_centroids

        ids, matrix = self._stored_matrix(model)
        if matrix is None:
            return []
        with self._db.read() as session:
            stamp = tuple(session.execute(select(
                func.count(), func.sum(m.FeedbackItemTheme.theme_id),
                func.sum(m.FeedbackItemTheme.item_id))).one())
            key = (self._matrix_cache[0] if self._matrix_cache else None, *stamp)
            if self._centroid_cache is None or self._centroid_cache[0] != key:
                per_row = repo.themes_of(session, ids)
                names = [tuple(per_row[i]) for i in ids]
                self._centroid_cache = (key, names, theme_centroids(matrix, names))
        _, names, centroids = self._centroid_cache
        found = suggest_themes(query, matrix, names, k, centroids=centroids)
        return [str(s.theme_id) for s in found if s.score > 0]

    # --- public reviews ---------------------------------------------------------------
    def import_reviews(self, path: str | os.PathLike[str], *, dry_run: bool = False,
                       link: bool = True, confirmed: Mapping[int, int] | None = None,
                       ) -> ReviewImport:
        """Import a review export (see `services.feedback_reviews`), all rows or none; each
        imported review joins the theme its nearest stored items suggest, if any.
        `confirmed`: line -> customer of the proposed links the owner kept (None: link every
        match, as the command line does)."""
        from crmcompanion.services.feedback_reviews import import_reviews

        result = import_reviews(self._db, self._clock, self._staff_id, path, dry_run=dry_run,
                                link=link, confirmed=confirmed, vectors=self.vectors)
        if result.written and len(result.item_ids) <= AUTO_THEME_LIMIT:
            with self._db.read() as session:
                texts = {item_id: body for item_id, body in session.execute(
                    select(m.FeedbackItem.id, m.FeedbackItem.text)
                    .where(m.FeedbackItem.id.in_(result.item_ids)))}
            for item_id, body in texts.items():
                suggested = self.suggest_themes(body, 1, exclude_item_id=item_id)
                if suggested:
                    self.add_theme(item_id, suggested[0])
        return result

    # --- ideas -------------------------------------------------------------------------
    def ideas(self, status: IdeaStatus | str | None = None) -> list[IdeaCard]:
        with self._db.read() as session:
            rows = repo.list_items(session, kinds=[FeedbackType.IDEA.value],
                                   status=IdeaStatus(status).value if status else None,
                                   limit=None)
            records = self._records(session, rows)
            requesters = self._requesters(session, [r.id for r in records])
        return [IdeaCard(r, requesters.get(r.id, ())) for r in records]

    def add_requester(self, idea_id: int, customer_id: int) -> Saved:
        with self._db.write() as session:
            row = self._load(session, idea_id)
            if row.kind != FeedbackType.IDEA.value:
                raise DomainError(f"Feedback #{idea_id} is not an idea.")
            if session.get(m.Customer, customer_id) is None:
                raise NotFoundError(f"Customer #{customer_id} does not exist.")
            if session.get(m.IdeaRequester, (idea_id, customer_id)) is None:
                session.add(m.IdeaRequester(idea_id=idea_id, customer_id=customer_id,
                                            created_at=self._now_utc()))
            session.flush()
            record = self._record(session, row)
        return Saved(record, self._changed(customer_id))

    def merge_ideas(self, keep_id: int, other_id: int) -> Saved:
        """Merge idea `other_id` into `keep_id`: its requesters and themes join the kept idea
        (a customer who asked for both counts once); the other stays, marked merged."""
        if keep_id == other_id:
            raise DomainError("An idea cannot be merged with itself.")
        with self._db.write() as session:
            keep, other = self._load(session, keep_id), self._load(session, other_id)
            for row in (keep, other):
                if row.kind != FeedbackType.IDEA.value:
                    raise DomainError(f"Feedback #{row.id} is not an idea.")
                if row.merged_into_id is not None:
                    raise DomainError(f"Idea #{row.id} was already merged into idea "
                                      f"#{row.merged_into_id}.")
            r = m.IdeaRequester
            have = set(session.scalars(select(r.customer_id).where(r.idea_id == keep_id)))
            for requester in session.scalars(select(r).where(r.idea_id == other_id)):
                if requester.customer_id not in have:
                    session.add(r(idea_id=keep_id, customer_id=requester.customer_id,
                                  created_at=requester.created_at))
                    have.add(requester.customer_id)
            repo.add_item_themes(session, keep_id, repo.themes_of(session, [other_id])[other_id])
            other.merged_into_id = keep_id
            self._event(session, other_id, None, None, f"Merged into idea #{keep_id}.")
            self._event(session, keep_id, None, None,
                        f"Idea #{other_id} merged in: {_excerpt(other.text)}")
            keep.updated_at = other.updated_at = self._now_utc()
            session.flush()
            record = self._record(session, keep)
            customers = frozenset(have)
        return Saved(record, Changed(customers=customers, feedback=True))

    # --- asking for feedback -------------------------------------------------------------
    def ask_for_feedback(self, customer_id: int, answer_in_days: int = 7) -> AskedForFeedback:
        """A short feedback request drafted through the greeting templates (the "Feedback
        request" follow-up template, added to the library on first use), and a follow-up
        `answer_in_days` later to record the answer."""
        if self._greetings is None:
            raise DomainError("Greetings are not available here.")
        if not 1 <= answer_in_days <= 60:
            raise ValidationError({"days": "Ask for the answer within 1 to 60 days."})
        template = self._template(FEEDBACK_REQUEST_TEMPLATE, "How are we doing?",
                                  _FEEDBACK_REQUEST_BODY)
        # Drafted before the follow-up exists, so "Mark as sent" cannot complete the very
        # follow-up that waits for the answer.
        draft = self._greetings.draft(customer_id, Occasion.FOLLOW_UP, template.key)
        due = self._clock.today() + timedelta(days=answer_in_days)
        follow_up = self._touchpoints.add_follow_up(
            customer_id, due, "Record their answer to the feedback request")
        # Asked today: a tag's ask-for-feedback rhythm counts from now (its due ask leaves
        # Today), whether this came from the rhythm's row or any other "Ask for feedback".
        asked = self._touchpoints.record_feedback_ask(customer_id)
        return AskedForFeedback(draft, follow_up,
                                follow_up.changed | asked | Changed(greetings=True))

    def _template(self, name: str, subject: str, body: str) -> StoredTemplate:
        """The follow-up template `name` of the greeting library, added (editable like any
        other) the first time it is needed."""
        assert self._greetings is not None
        try:
            return self._greetings.find_template(Occasion.FOLLOW_UP, name)
        except NotFoundError:
            return self._greetings.save_template(
                occasion=Occasion.FOLLOW_UP, name=name, tone="warm", subject=subject,
                body=body, is_default=False).template

    def draft_review_reply(self, item_id: int) -> RenderedMessage:
        """A reply to a public review through the "Review reply" template: for a linked
        review as any greeting to that customer, else addressed to the review's author."""
        if self._greetings is None:
            raise DomainError("Greetings are not available here.")
        detail = self.get(item_id).item
        if detail.source is not Source.PUBLIC_REVIEW:
            raise DomainError(f"Feedback #{item_id} is not a public review.")
        template = self._template(REVIEW_REPLY_TEMPLATE, "Thank you for your review",
                                  _REVIEW_REPLY_BODY)
        if detail.customer_id is not None:
            return self._greetings.draft(detail.customer_id, Occasion.FOLLOW_UP,
                                         template.key).message
        first, _, last = detail.reviewer.partition(" ")
        context = TemplateContext(
            first_name=first or None, last_name=last or None,
            display_name=detail.reviewer or None,
            business_name=str(self._setting(BUSINESS_NAME) or "") or None,
            owner_name=str(self._setting(OWNER_NAME) or "") or None,
            signature=str(self._setting(SIGNATURE) or "") or None)
        return render_greeting((template.subject, template.body), context)

    # --- the themes view -----------------------------------------------------------------
    def themes_view(self, months: int = 12) -> list[ThemeSummary]:
        """Themes by customers affected, with open vs resolved complaints, the count for each
        of the last `months` months (this one included) and the 10 most distinctive words."""
        today = self._clock.today()
        firsts: list[date] = []
        year, month = today.year, today.month
        for _ in range(months):
            firsts.append(date(year, month, 1))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        firsts.reverse()
        since = datetime(firsts[0].year, firsts[0].month, 1)
        with self._db.read() as session:
            counts = repo.theme_counts(session)
            per_month = repo.theme_months(session, since)
            texts = repo.theme_texts(session)
        words = distinctive_words(texts, 10)
        monthly: dict[int, dict[date, int]] = {}
        for theme_id, y, mo, n in per_month:
            monthly.setdefault(theme_id, {})[date(y, mo, 1)] = n
        return [
            ThemeSummary(
                t.name, t.customers, t.items, t.open_complaints, t.resolved_complaints,
                tuple((first, monthly.get(t.theme_id, {}).get(first, 0)) for first in firsts),
                tuple(words.get(t.theme_id, [])),
            )
            for t in counts
        ]


def _event_title(kind: FeedbackType, to_status: str | None) -> str:
    if to_status is None:
        return f"{kind.title}: note"
    if kind is FeedbackType.COMPLAINT:
        return f"Complaint {ComplaintStatus(to_status).title.lower()}"
    return f"Idea {IdeaStatus(to_status).title.lower()}"
