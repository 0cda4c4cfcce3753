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

This module's providers build each shape of their statements once (Core, with bound
parameters for the customer, the page size and the paging moment) and reuse it: building a
select of ORM attributes per call, then its ORM execution, cost ~0.3-0.4 ms of Python per
statement, most of reading a page of a few dozen rows (issue 13, `timeline_ms`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, func, select
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


_INTERACTIONS = m.Interaction.__table__.c
_FOLLOW_UPS = m.FollowUp.__table__.c
_STATES = m.TouchpointRecord.__table__.c
_STAFF = m.Staff.__table__.c


def by_customer(customer_id: int) -> dict[str, object]:
    """The bound values of a provider's prebuilt count."""
    return {"customer_id": customer_id}


def page_values(customer_id: int, before: TimelineEntry | None, limit: int,
                ) -> dict[str, object]:
    """The bound values of a provider's prebuilt page (`newest_first`)."""
    values: dict[str, object] = {"customer_id": customer_id, "limit": limit}
    if before is not None:
        values["before_at"] = _stored(before.at)
    return values


def newest_first(source: Any, columns: Sequence[Any], author: Any, moment: Any, key: Any,
                 conditions: Sequence[Any], paged: bool) -> Select:
    """A provider's page, built once per shape: `columns` and the author's name from
    `source`, newest first by (`moment`, `key`), `limit` rows, those at or before
    `before_at` when `paged` (the caller drops the ones not strictly older)."""
    statement = (
        select(*columns, _STAFF.name)
        .select_from(source.outerjoin(m.Staff.__table__, _STAFF.id == author))
        .where(*conditions)
        .order_by(moment.desc(), key.desc())
        .limit(bindparam("limit"))
    )
    return statement.where(moment <= bindparam("before_at")) if paged else statement


def _interaction_filter(statement: Select, conversations: bool, occasions: bool) -> Select:
    if not conversations:
        statement = statement.where(_INTERACTIONS.occasion.is_not(None))
    if not occasions:
        statement = statement.where(_INTERACTIONS.occasion.is_(None))
    return statement


@functools.cache
def _interaction_page(conversations: bool, occasions: bool, paged: bool) -> Select:
    i = _INTERACTIONS
    statement = newest_first(
        m.Interaction.__table__, (i.id, i.occurred_at, i.channel, i.summary, i.occasion),
        i.staff_id, i.occurred_at, i.id, (i.customer_id == bindparam("customer_id"),), paged)
    return _interaction_filter(statement, conversations, occasions)


@functools.cache
def _interaction_count(conversations: bool, occasions: bool) -> Select:
    i = _INTERACTIONS
    statement = (select(func.count()).select_from(m.Interaction.__table__)
                 .where(i.customer_id == bindparam("customer_id")))
    return _interaction_filter(statement, conversations, occasions)


def _wanted(kinds: frozenset[str] | None, kind: str) -> bool:
    return kinds is None or kind in kinds


class InteractionEntries:
    """Logged conversations, and occasions marked done (their history entry)."""

    kinds = ((CONVERSATION, "Conversations"), (OCCASION, "Greetings and occasions"))

    def entries(
        self, session: Session, customer_id: int, before: TimelineEntry | None, limit: int,
        kinds: frozenset[str] | None,
    ) -> list[TimelineEntry]:
        statement = _interaction_page(_wanted(kinds, CONVERSATION), _wanted(kinds, OCCASION),
                                      before is not None)
        values = page_values(customer_id, before, limit + 1)
        found = [
            TimelineEntry(
                customer_id, _local(at), OCCASION if occasion else CONVERSATION,
                f"i:{row_id:012d}", summary or "", author or "",
                channel_or_none(channel), _occasion(occasion),
            )
            for row_id, at, channel, summary, occasion, author
            in session.execute(statement, values)
        ]
        return _older(found, before)[:limit]

    def count(self, session: Session, customer_id: int, kinds: frozenset[str] | None,
              ) -> int:
        statement = _interaction_count(_wanted(kinds, CONVERSATION), _wanted(kinds, OCCASION))
        return int(session.scalar(statement, by_customer(customer_id)) or 0)


@functools.cache
def _follow_up_page(paged: bool) -> Select:
    f = _FOLLOW_UPS
    return newest_first(
        m.FollowUp.__table__, (f.id, f.created_at, f.due_on, f.note, f.occasion),
        f.created_by_id, f.created_at, f.id,
        (f.customer_id == bindparam("customer_id"), f.occasion == Occasion.FOLLOW_UP.value),
        paged)


@functools.cache
def _follow_up_count() -> Select:
    f = _FOLLOW_UPS
    return select(func.count()).select_from(m.FollowUp.__table__).where(
        f.customer_id == bindparam("customer_id"), f.occasion == Occasion.FOLLOW_UP.value)


class FollowUpEntries:
    """Next steps planned (follow-ups), at the moment they were planned."""

    kinds = ((NEXT_STEP, "Next steps"),)

    def entries(
        self, session: Session, customer_id: int, before: TimelineEntry | None, limit: int,
        kinds: frozenset[str] | None,
    ) -> list[TimelineEntry]:
        values = page_values(customer_id, before, limit + 1)
        found = [
            TimelineEntry(customer_id, _local(at), NEXT_STEP, f"f:{row_id:012d}", note or "",
                          author or "", None, _occasion(occasion), due)
            for row_id, at, due, note, occasion, author
            in session.execute(_follow_up_page(before is not None), values)
        ]
        return _older(found, before)[:limit]

    def count(self, session: Session, customer_id: int, kinds: frozenset[str] | None,
              ) -> int:
        return int(session.scalar(_follow_up_count(), by_customer(customer_id)) or 0)


@functools.cache
def _skipped_page(paged: bool) -> Select:
    t = _STATES
    return newest_first(
        m.TouchpointRecord.__table__,
        (t.occurrence_key, t.recorded_at, t.occasion, t.occurrence_on, t.reason),
        t.recorded_by_id, t.recorded_at, t.occurrence_key,
        (t.customer_id == bindparam("customer_id"), t.state == "skipped"), paged)


@functools.cache
def _skipped_count() -> Select:
    t = _STATES
    return select(func.count()).select_from(m.TouchpointRecord.__table__).where(
        t.customer_id == bindparam("customer_id"), t.state == "skipped")


class SkippedEntries:
    """Touchpoints the owner skipped, with the reason given."""

    kinds = ((SKIPPED, "Skipped"),)

    def entries(
        self, session: Session, customer_id: int, before: TimelineEntry | None, limit: int,
        kinds: frozenset[str] | None,
    ) -> list[TimelineEntry]:
        values = page_values(customer_id, before, limit + 1)
        found = [
            TimelineEntry(customer_id, _local(at), SKIPPED, f"s:{key}", reason or "",
                          author or "", None, _occasion(occasion), on)
            for key, at, occasion, on, reason, author
            in session.execute(_skipped_page(before is not None), values)
        ]
        return _older(found, before)[:limit]

    def count(self, session: Session, customer_id: int, kinds: frozenset[str] | None,
              ) -> int:
        return int(session.scalar(_skipped_count(), by_customer(customer_id)) or 0)


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
