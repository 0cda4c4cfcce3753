"""A customer's timeline: everything that happened with them, newest first, from many sources.

The profile shows one list (conversations, occasions done, next steps planned, touchpoints
skipped...), and later features add their own kinds of entry (feedback, complaints, ideas)
without touching the profile: each source is a `TimelineProvider` in `PROVIDERS` (or added
with `register_provider`), returning `TimelineEntry` values, one frozen dataclass for every
kind. `TimelineService.page` merges the providers' newest entries by time and pages on with
keyset paging ("older than this entry"), so a long history costs one page at a time.

A provider runs its query in the read session it is given and returns at most `limit`
entries strictly older than `before` (time, then key, both descending), of the `kinds`
asked for (None: all of its kinds); `count` says how many it holds for the customer, so the
profile can say how many older entries are left.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmcompanion.core.customer import Channel
from crmcompanion.core.occasions import Occasion
from crmcompanion.store import models as m
from crmcompanion.store.database import Database

logger = logging.getLogger(__name__)

# The kinds of entry this module's providers make, with the words a filter shows.
CONVERSATION = "conversation"
OCCASION = "occasion"
NEXT_STEP = "next_step"
SKIPPED = "skipped"


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened with a customer.

    `key` is unique across providers ("i:42", "f:7"...) and breaks ties between entries of
    the same moment; `on` is a date the entry is about (a next step's day), if any."""

    customer_id: int
    at: datetime  # local, timezone-aware
    kind: str
    key: str
    text: str = ""
    author: str = ""
    channel: Channel | None = None
    occasion: Occasion | None = None
    on: date | None = None


@dataclass(frozen=True)
class TimelinePage:
    entries: tuple[TimelineEntry, ...]
    more: bool  # older entries exist beyond this page
    total: int  # entries of the kinds asked for, in all pages


class TimelineProvider(Protocol):
    """A source of timeline entries (see the module docstring)."""

    kinds: tuple[tuple[str, str], ...]  # (kind, title for the filter)

    def entries(
        self, session: Session, customer_id: int, before: TimelineEntry | None, limit: int,
        kinds: frozenset[str] | None,
    ) -> list[TimelineEntry]: ...

    def count(self, session: Session, customer_id: int, kinds: frozenset[str] | None,
              ) -> int: ...


def _local(stored: datetime) -> datetime:
    """A stored naive-UTC timestamp as local, timezone-aware time."""
    return stored.replace(tzinfo=UTC).astimezone()


def _stored(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _older(entries: list[TimelineEntry], before: TimelineEntry | None) -> list[TimelineEntry]:
    if before is None:
        return entries
    return [e for e in entries if (e.at, e.key) < (before.at, before.key)]


class InteractionEntries:
    """Logged conversations, and occasions marked done (their history entry)."""

    kinds = ((CONVERSATION, "Conversations"), (OCCASION, "Greetings and occasions"))

    def entries(
        self, session: Session, customer_id: int, before: TimelineEntry | None, limit: int,
        kinds: frozenset[str] | None,
    ) -> list[TimelineEntry]:
        i, s = m.Interaction, m.Staff
        statement = (
            select(i.id, i.occurred_at, i.channel, i.summary, i.occasion, s.name)
            .outerjoin(s, s.id == i.staff_id)
            .where(i.customer_id == customer_id)
            .order_by(i.occurred_at.desc(), i.id.desc())
            .limit(limit + 1)
        )
        if kinds is not None:
            if CONVERSATION not in kinds:
                statement = statement.where(i.occasion.is_not(None))
            if OCCASION not in kinds:
                statement = statement.where(i.occasion.is_(None))
        if before is not None:
            statement = statement.where(i.occurred_at <= _stored(before.at))
        found = [
            TimelineEntry(
                customer_id, _local(at), OCCASION if occasion else CONVERSATION,
                f"i:{row_id:012d}", summary or "", author or "",
                channel_or_none(channel), _occasion(occasion),
            )
            for row_id, at, channel, summary, occasion, author in session.execute(statement)
        ]
        return _older(found, before)[:limit]

    def count(self, session: Session, customer_id: int, kinds: frozenset[str] | None,
              ) -> int:
        i = m.Interaction
        statement = select(func.count()).select_from(i).where(i.customer_id == customer_id)
        if kinds is not None:
            if CONVERSATION not in kinds:
                statement = statement.where(i.occasion.is_not(None))
            if OCCASION not in kinds:
                statement = statement.where(i.occasion.is_(None))
        return int(session.scalar(statement) or 0)


class FollowUpEntries:
    """Next steps planned (follow-ups), at the moment they were planned."""

    kinds = ((NEXT_STEP, "Next steps"),)

    def entries(
        self, session: Session, customer_id: int, before: TimelineEntry | None, limit: int,
        kinds: frozenset[str] | None,
    ) -> list[TimelineEntry]:
        f, s = m.FollowUp, m.Staff
        statement = (
            select(f.id, f.created_at, f.due_on, f.note, f.occasion, s.name)
            .outerjoin(s, s.id == f.created_by_id)
            .where(f.customer_id == customer_id, f.occasion == Occasion.FOLLOW_UP.value)
            .order_by(f.created_at.desc(), f.id.desc())
            .limit(limit + 1)
        )
        if before is not None:
            statement = statement.where(f.created_at <= _stored(before.at))
        found = [
            TimelineEntry(customer_id, _local(at), NEXT_STEP, f"f:{row_id:012d}", note or "",
                          author or "", None, _occasion(occasion), due)
            for row_id, at, due, note, occasion, author in session.execute(statement)
        ]
        return _older(found, before)[:limit]

    def count(self, session: Session, customer_id: int, kinds: frozenset[str] | None,
              ) -> int:
        f = m.FollowUp
        return int(session.scalar(
            select(func.count()).select_from(f).where(
                f.customer_id == customer_id, f.occasion == Occasion.FOLLOW_UP.value)) or 0)


class SkippedEntries:
    """Touchpoints the owner skipped, with the reason given."""

    kinds = ((SKIPPED, "Skipped"),)

    def entries(
        self, session: Session, customer_id: int, before: TimelineEntry | None, limit: int,
        kinds: frozenset[str] | None,
    ) -> list[TimelineEntry]:
        t, s = m.TouchpointRecord, m.Staff
        statement = (
            select(t.occurrence_key, t.recorded_at, t.occasion, t.occurrence_on, t.reason,
                   s.name)
            .outerjoin(s, s.id == t.recorded_by_id)
            .where(t.customer_id == customer_id, t.state == "skipped")
            .order_by(t.recorded_at.desc(), t.occurrence_key.desc())
            .limit(limit + 1)
        )
        if before is not None:
            statement = statement.where(t.recorded_at <= _stored(before.at))
        found = [
            TimelineEntry(customer_id, _local(at), SKIPPED, f"s:{key}", reason or "",
                          author or "", None, _occasion(occasion), on)
            for key, at, occasion, on, reason, author in session.execute(statement)
        ]
        return _older(found, before)[:limit]

    def count(self, session: Session, customer_id: int, kinds: frozenset[str] | None,
              ) -> int:
        t = m.TouchpointRecord
        return int(session.scalar(
            select(func.count()).select_from(t).where(
                t.customer_id == customer_id, t.state == "skipped")) or 0)


# The timeline's sources, in the order their kinds are offered as filters. A feature adds
# its own with `register_provider` (voice of the customer: feedback and complaints).
PROVIDERS: list[TimelineProvider] = [InteractionEntries(), FollowUpEntries(), SkippedEntries()]


def register_provider(provider: TimelineProvider) -> None:
    """Add a source of timeline entries (once; a second registration is ignored)."""
    if not any(type(p) is type(provider) for p in PROVIDERS):
        PROVIDERS.append(provider)


class TimelineService:
    def __init__(self, db: Database, providers: Sequence[TimelineProvider] | None = None,
                 ) -> None:
        self._db = db
        self._providers = providers  # None: the module's PROVIDERS as they are when asked

    @property
    def providers(self) -> Sequence[TimelineProvider]:
        return PROVIDERS if self._providers is None else self._providers

    def kinds(self) -> list[tuple[str, str]]:
        """Every kind of entry the timeline can hold, with its title, for a filter."""
        return [kind for provider in self.providers for kind in provider.kinds]

    def page(
        self, customer_id: int, limit: int = 30, before: TimelineEntry | None = None,
        kinds: frozenset[str] | None = None,
    ) -> TimelinePage:
        """The customer's newest `limit` entries older than `before`, of `kinds` (None: all):
        each provider is asked for one more than the page, so `more` is exact.

        On the first page a provider that gave no more than `limit` entries gave all it
        holds, so that is its count: only the providers with more are counted (by the
        database), one statement instead of one per provider when a profile opens."""
        merged: list[TimelineEntry] = []
        total = 0
        with self._db.read() as session:
            for provider in self.providers:
                if kinds is not None and not kinds & {k for k, _ in provider.kinds}:
                    continue
                found = provider.entries(session, customer_id, before, limit + 1, kinds)
                merged.extend(found)
                if before is None and len(found) <= limit:
                    total += len(found)
                else:
                    total += provider.count(session, customer_id, kinds)
        merged.sort(key=lambda e: (e.at, e.key), reverse=True)
        return TimelinePage(tuple(merged[:limit]), len(merged) > limit, total)


def channel_or_none(value: str | None) -> Channel | None:
    """A stored channel value as a Channel; None for none or an unknown one."""
    try:
        return Channel(value) if value else None
    except ValueError:
        return None


def _occasion(value: str | None) -> Occasion | None:
    try:
        return Occasion(value) if value else None
    except ValueError:
        return None
