"""Touchpoint use cases: the Today view, due lists, losing touch, and the touchpoint lifecycle.

Occurrences are computed in SQL from indexed derived columns (see `store.touchpoints`), never
by loading every customer. States: upcoming -> due -> done / snoozed (until a date) /
skipped (with a reason). Done and skipped occurrences never come back; the next one does.

Overdue semantics (decided here):
* Yearly occasions (birthday, wedding and customer anniversaries, custom dates) stay in
  Overdue for `touchpoints.overdue_lookback_days` (30) after their date, then drop off, so the
  list never fills with years of missed birthdays. A snooze of a yearly occasion may therefore
  last at most until the end of that look-back (skip it instead).
* Keep-in-touch is overdue from its due date until an interaction is logged (any logged
  conversation resets it) or it is skipped (which restarts the cadence from that day).
* One-off follow-ups (and complaint check-backs, shipped ideas) are explicit tasks: they stay
  overdue until done or skipped.

Recorded states of birthdays and anniversaries are matched by (customer, occasion, date), not
by the special-date row id, because editing a customer rewrites its special-date rows.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from crmcompanion.core.clock import Clock, SystemClock
from crmcompanion.core.customer import Channel
from crmcompanion.core.dates import LeapDayPolicy, occurrence_in_window
from crmcompanion.core.errors import ConflictError, DomainError, NotFoundError, ValidationError
from crmcompanion.core.feedback import check_ask_rhythm
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.settings import TOUCHPOINT_SETTINGS
from crmcompanion.core.touchpoints import (
    MAX_CADENCE_DAYS,
    CadenceDefaults,
    Section,
    TouchpointSettings,
    TouchpointState,
    describe,
    displayed_state,
    occurrence_key,
    parse_occurrence_key,
    remind_on,
    section_for,
)
from crmcompanion.services.changes import Changed
from crmcompanion.services.interactions import (
    InteractionRecord,
    add_interaction,
    staff_name,
    to_record,
)
from crmcompanion.store import feedback_rhythm
from crmcompanion.store import models as m
from crmcompanion.store import touchpoints as repo
from crmcompanion.store.database import Database, utcnow

logger = logging.getLogger(__name__)

TODAY_SECTIONS = (Section.OVERDUE, Section.TODAY, Section.NEXT_7_DAYS, Section.DAYS_8_30)
DEFAULT_SECTION_LIMIT = 200
# Same-day touchpoints are listed in this order of their occasions.
_OCCASION_RANK = repo.OCCASION_RANK
# The first rank among the occasions the follow-up table holds (all but the yearly ones and
# keep-in-touch): a page already full of earlier-ranked rows on a day needs none of them.
_FOLLOW_UP_RANK = min(rank for occasion, rank in _OCCASION_RANK.items()
                      if occasion not in repo.YEARLY_OCCASIONS
                      and occasion is not Occasion.KEEP_IN_TOUCH)
# The yearly occasions listed on a day before any other kind (see `_collect`'s head read):
# birthdays, wedding and customer anniversaries.
_HEAD_OCCASIONS: tuple[Occasion, ...] = tuple(
    o for o in sorted(_OCCASION_RANK, key=_OCCASION_RANK.__getitem__)
    if o in repo.YEARLY_OCCASIONS
    and _OCCASION_RANK[o] < min(r for x, r in _OCCASION_RANK.items()
                                if x not in repo.YEARLY_OCCASIONS))
# Identity of an occurrence hidden by a recorded state -> (customer id, occurrence date).
Hidden = dict[tuple, tuple[int, date]]
# Where a page of touchpoints starts: rows already read from the yearly dates, the
# keep-in-touch rhythm and the follow-ups.
PageCursor = tuple[int, int, int]


@dataclass(frozen=True)
class Touchpoint:
    """One occurrence as the Today view, the customer detail and the CLI show it."""

    customer_id: int
    customer: str
    occasion: Occasion
    label: str
    date: date
    remind_on: date
    state: TouchpointState
    section: Section
    key: str
    # The version of the state recorded for it when read (0: none). Passed back to done,
    # skip and snooze, it turns a state someone else recorded meanwhile into a
    # TouchpointConflict instead of writing over it.
    version: int = 0

    @property
    def overdue(self) -> bool:
        return self.section is Section.OVERDUE


@dataclass(frozen=True)
class TodaySection:
    section: Section
    items: tuple[Touchpoint, ...]
    total: int  # may exceed len(items) when the list was limited

    @property
    def groups(self) -> tuple[tuple[Occasion, tuple[Touchpoint, ...]], ...]:
        """The items grouped by occasion, in occasion order, each group in date order."""
        order = list(Occasion)
        found: dict[Occasion, list[Touchpoint]] = {}
        for item in self.items:
            found.setdefault(item.occasion, []).append(item)
        return tuple((o, tuple(found[o])) for o in sorted(found, key=order.index))


@dataclass(frozen=True)
class TodayView:
    today: date
    sections: tuple[TodaySection, ...]

    def section(self, section: Section) -> TodaySection:
        return next(s for s in self.sections if s.section is section)


@dataclass(frozen=True)
class LosingTouch:
    customer_id: int
    customer: str
    last_contact: date
    days_without_contact: int
    cadence_days: int
    due: date


@dataclass(frozen=True)
class FollowUpRecord:
    id: int
    customer_id: int
    occasion: Occasion
    due_on: date
    note: str
    key: str
    changed: Changed


class TouchpointConflict(ConflictError):
    """Someone else recorded a state for this touchpoint since it was read (or at the same
    moment); nothing was changed."""


@dataclass(frozen=True)
class Recorded:
    key: str
    state: TouchpointState
    interaction: InteractionRecord | None
    changed: Changed = field(default_factory=Changed)


def _day(value: date | None) -> str:
    """A date in a sentence for the user: "4 December 2026"."""
    return f"{value.day} {value:%B %Y}" if value is not None else "later"


def _with_versions(session: Session, items: list[Touchpoint]) -> list[Touchpoint]:
    """The items with the versions of their recorded states (few: expired snoozes), read
    by primary key (store.touchpoints.state_versions); items without one keep version 0."""
    found = repo.state_versions(session, [item.key for item in items])
    if not found:
        return items
    return [replace(item, version=found[item.key]) if item.key in found else item
            for item in items]


def _hidden_within(hidden: Hidden, start: date, end: date, open_start: date | None,
                   yearly: bool | None = None) -> int:
    """How many hidden occurrences may fall in a window (yearly dates in [start, end], the
    rest in [open_start, end]): what a page must read beyond its limit to still fill it
    once they are left out. Counting every recorded state instead read ~170 extra rows per
    source and page. `yearly` True / False: only the states of yearly occasions (whose
    identity is (customer, occasion, date)) / only the others (identity: the key)."""
    since = start if open_start is None else min(start, open_start)
    return sum(1 for identity, (_cid, when) in hidden.items()
               if when <= end and (open_start is None or when >= since)
               and (yearly is None or (len(identity) == 3) is yearly))


# What an occurrence key is made of: (customer id, occasion, source id, date).
KeyParts = tuple[int, Occasion, int | None, date]


def _section_windows(today: date, lookback: int) -> dict[Section, tuple[date, date]]:
    return {
        Section.OVERDUE: (today - timedelta(days=lookback), today - timedelta(days=1)),
        Section.TODAY: (today, today),
        Section.NEXT_7_DAYS: (today + timedelta(days=1), today + timedelta(days=7)),
        Section.DAYS_8_30: (today + timedelta(days=8), today + timedelta(days=30)),
    }


def _section_spans(today: date, lookback: int) -> dict[Section, tuple[date, date, date | None]]:
    """Each section's (start, end, open_start): keep-in-touch and follow-ups in Overdue have
    no start (open_start None), everything else is dated in [start, end]."""
    return {
        section: (start, end, None if section is Section.OVERDUE else start)
        for section, (start, end) in _section_windows(today, lookback).items()
    }


class TouchpointService:
    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        staff_id: int | None = None,
        values: Callable[[], dict[str, object]] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock or SystemClock()
        self._staff_id = staff_id
        self._values = values or (lambda: {})

    # --- settings --------------------------------------------------------------------
    def settings(self) -> TouchpointSettings:
        """The touchpoint settings; an invalid stored part falls back to its default."""
        return self._settings_from(self._values())

    def _rules(self) -> tuple[TouchpointSettings, int]:
        """The settings and the overdue look-back from ONE read of the stored settings."""
        values = self._values()
        return self._settings_from(values), self._lookback_from(values)

    @staticmethod
    def _settings_from(stored: dict[str, object]) -> TouchpointSettings:
        values = {k: spec.default for k, spec in TOUCHPOINT_SETTINGS.items()}
        values.update({k: v for k, v in stored.items() if k in TOUCHPOINT_SETTINGS})
        lead = {o: values[f"touchpoints.lead_days.{o.value}"] for o in Occasion}
        try:
            cadence = CadenceDefaults(
                **{n: values[f"touchpoints.cadence.{n}"]
                   for n in ("key_account", "active", "lead", "internal")}
            )
        except ValueError:
            logger.warning("Ignoring invalid keep-in-touch cadence settings")
            cadence = CadenceDefaults()
        try:
            return TouchpointSettings(
                lead_days=lead,
                leap_day_policy=LeapDayPolicy(values["touchpoints.leap_day_policy"]),
                cadence=cadence,
            )
        except ValueError:
            logger.warning("Ignoring invalid touchpoint lead-time settings")
            return TouchpointSettings(cadence=cadence)

    def _lookback(self) -> int:
        return self._lookback_from(self._values())

    @staticmethod
    def _lookback_from(stored: dict[str, object]) -> int:
        value = stored.get("touchpoints.overdue_lookback_days", 30)
        return value if isinstance(value, int) and 0 <= value <= 366 else 30

    def sync(self) -> int:
        """Recompute stale derived rows (cheap when nothing changed); returns how many."""
        with self._db.read() as session:
            if not repo.has_dirty(session):
                return 0
        settings = self.settings()
        with self._db.write() as session:
            return repo.sync_dirty(session, settings)

    @contextmanager
    def _synced_read(self) -> Iterator[Session]:
        """A read session over up-to-date derived rows. When nothing is stale (the usual
        case) the staleness check and the reads share one session: one BEGIN, one snapshot."""
        with self._db.read() as session:
            if not repo.has_dirty(session):
                yield session
                return
        self.sync()
        with self._db.read() as session:
            yield session

    # --- reading ---------------------------------------------------------------------
    def today_view(self, limit_per_section: int | None = DEFAULT_SECTION_LIMIT) -> TodayView:
        """Overdue, Today, Next 7 days and Days 8-30, each in date order with its total."""
        today = self._clock.today()
        settings, lookback = self._rules()
        spans = _section_spans(today, lookback)
        with self._synced_read() as session:
            totals = self._totals(session, settings, spans, today, lookback)
            # Each section reads exactly its rows: what recorded states hide is left out
            # in SQL.
            shown = repo.Shown(today, today - timedelta(days=lookback))
            heads = self._head_days(session, settings, spans, totals, limit_per_section)
            found = [self._collect(session, today, settings, {}, *spans[section],
                                   limit_per_section, versions=False, shown=shown,
                                   head_read=head)
                     for section, head in zip(TODAY_SECTIONS, heads, strict=True)]
            # The versions of every section's rows in one pass (one statement, not one
            # per section).
            versioned = iter(_with_versions(session, [i for items in found for i in items]))
        sections = tuple(
            TodaySection(section, tuple(next(versioned) for _ in items), total)
            for section, items, total in zip(TODAY_SECTIONS, found, totals, strict=True))
        return TodayView(today, sections)

    @staticmethod
    def _head_days(
        session: Session, settings: TouchpointSettings,
        spans: dict[Section, tuple[date, date, date | None]], totals: list[int],
        limit: int | None,
    ) -> list[tuple[Occasion, ...]]:
        """For each section, the fewest of the occasions listed first on a day
        (`_HEAD_OCCASIONS`, in order) of which its first day alone holds at least `limit`
        occurrences, so that its rows may come from those alone (`_collect`'s head read);
        () when none do. One covering-index count for the sections whose total reaches
        the limit; none when no section does."""
        heads: list[tuple[Occasion, ...]] = [() for _ in totals]
        wanted = [limit is not None and limit > 0 and total >= limit for total in totals]
        if limit is None or not any(wanted):
            return heads
        days = [spans[section][0] for section in TODAY_SECTIONS]
        counts = repo.yearly_counts_on(session, days, settings.leap_day_policy,
                                       _HEAD_OCCASIONS)
        for index, (want, per_occasion) in enumerate(zip(wanted, counts, strict=True)):
            reached = 0
            for n, count in enumerate(per_occasion if want else ()):
                reached += count
                if reached >= limit:
                    heads[index] = _HEAD_OCCASIONS[:n + 1]
                    break
        return heads

    def counts(self) -> dict[Section, int]:
        """How many touchpoints each Today section holds (index range counts).

        Three statements when nothing is stale: the staleness check, one counting every
        section (see `store.touchpoints.window_totals`) and one finding the occurrences
        recorded states hide (`store.touchpoints.real_hidden_days`); the settings are
        read once."""
        today = self._clock.today()
        settings, lookback = self._rules()
        spans = _section_spans(today, lookback)
        with self._synced_read() as session:
            totals = self._totals(session, settings, spans, today, lookback)
        return dict(zip(TODAY_SECTIONS, totals, strict=True))

    def window_counts(
        self, windows: list[tuple[date, date, date | None]],
        values: dict[str, object] | None = None,
    ) -> list[int]:
        """How many touchpoints each (start, end, open_start) window holds (see `_totals`),
        recorded states taken off: one counting statement for every window. `values`: the
        stored settings when the caller has just read them (one read fewer)."""
        today = self._clock.today()
        if values is None:
            settings, lookback = self._rules()
        else:
            settings, lookback = self._settings_from(values), self._lookback_from(values)
        spans = dict(enumerate(windows))
        with self._synced_read() as session:
            return self._window_totals(session, settings, spans, today, lookback)

    def page(
        self,
        start: date,
        end: date,
        open_start: date | None,
        cursor: PageCursor = (0, 0, 0),
        limit: int = 30,
        values: dict[str, object] | None = None,
    ) -> tuple[list[Touchpoint], PageCursor | None]:
        """One page of the touchpoints of a window, in date order, and where the next page
        starts (None: this was the last).

        The three sources (yearly dates, keep-in-touch, follow-ups) are each read from their
        own position with LIMIT/OFFSET on their indexes and merged by date, keeping each
        source's own order, so a page costs the same few statements wherever it starts and
        only the rows a screen shows are built. `values`: the stored settings when the
        caller has just read them (one read fewer)."""
        today = self._clock.today()
        if values is None:
            settings, lookback = self._rules()
        else:
            settings, lookback = self._settings_from(values), self._lookback_from(values)
        policy = settings.leap_day_policy
        with self._synced_read() as session:
            hidden = self._hidden(session, today, lookback)
            fetch = limit + _hidden_within(hidden, start, end, open_start)
            yearly = repo.yearly_hits(session, start, end, policy, fetch, offset=cursor[0])
            rhythm = repo.keep_in_touch_hits(session, open_start, end, fetch,
                                             offset=cursor[1])
            follow = repo.follow_up_hits(session, open_start, end, fetch, offset=cursor[2])
            candidates: list[tuple[date, int, int, Touchpoint]] = []
            for position, hit in enumerate(yearly):
                when = occurrence_in_window(hit.month, hit.day, *hit.segment, policy)
                if when is None:  # cannot happen for keys from the ranges; be safe
                    when = hit.segment[0]
                text = describe(hit.occasion, when, hit.year, hit.label)
                key = occurrence_key(hit.customer_id, hit.occasion, hit.source_id, when)
                candidates.append((when, 0, position, self._touchpoint(
                    today, settings, hit.customer_id, hit.display_name, hit.occasion, text,
                    when, key)))
            for position, rh in enumerate(rhythm):
                since = max(0, (today - rh.contact_base_on).days)
                text = describe(Occasion.KEEP_IN_TOUCH, rh.next_due_on, None,
                                days_without_contact=since)
                key = occurrence_key(rh.customer_id, Occasion.KEEP_IN_TOUCH, None,
                                     rh.next_due_on)
                candidates.append((rh.next_due_on, 1, position, self._touchpoint(
                    today, settings, rh.customer_id, rh.display_name, Occasion.KEEP_IN_TOUCH,
                    text, rh.next_due_on, key)))
            for position, (row, name) in enumerate(follow):
                occasion = Occasion(row.occasion)
                source = row.source_id if row.source_id is not None else row.id
                key = occurrence_key(row.customer_id, occasion, source, row.due_on)
                candidates.append((row.due_on, 2, position, self._touchpoint(
                    today, settings, row.customer_id, name, occasion,
                    describe(occasion, row.due_on, None, row.note), row.due_on, key)))
        # The list order (store.touchpoints.OCCASION_RANK): each source is read in it, so
        # the merge needs only the day and the occasion's rank.
        candidates.sort(key=lambda c: (c[0], _OCCASION_RANK[c[3].occasion], c[1], c[2]))
        items: list[Touchpoint] = []
        consumed = list(cursor)
        walked = [0, 0, 0]
        for _when, source, _position, item in candidates:
            if len(items) == limit:
                break
            consumed[source] += 1
            walked[source] += 1
            if self._identity(item.customer_id, item.occasion, item.date, item.key) in hidden:
                continue
            items.append(item)
        fetched = (len(yearly), len(rhythm), len(follow))
        finished = all(walked[i] == fetched[i] and fetched[i] < fetch for i in range(3))
        return items, None if finished else (consumed[0], consumed[1], consumed[2])

    @staticmethod
    def _touchpoint(
        today: date, settings: TouchpointSettings, cid: int, name: str, occasion: Occasion,
        label: str, when: date, key: str,
    ) -> Touchpoint:
        reminder = remind_on(when, settings.lead_for(occasion))
        state = displayed_state(today, reminder) or TouchpointState.DUE
        return Touchpoint(cid, name, occasion, label, when, reminder, state,
                          section_for(when, today), key)

    def due(self, days: int = 7, since: date | None = None) -> list[Touchpoint]:
        """Every overdue touchpoint and those dated today..today+days, snoozed ones hidden.

        `since`: only those dated from that day on (the reminder pass asks for its few days:
        every overdue keep-in-touch of 100,000 customers was ~47 MB and ~5 s per pass)."""
        if days < 0:
            raise ValidationError({"days": "--days must be 0 or more."})
        self.sync()
        today = self._clock.today()
        settings = self.settings()
        lookback = self._lookback()
        start = today - timedelta(days=lookback)
        with self._db.read() as session:
            hidden = self._hidden(session, today, lookback)
            return self._collect(
                session, today, settings, hidden, start if since is None else max(start, since),
                today + timedelta(days=days), since, None,
            )

    def undelivered(self, since: date, until: date, staff_id: int) -> list[Touchpoint]:
        """What a reminder pass delivers: the touchpoints reminded of in [since, until]
        (`remind_on`, after each occasion's lead time), not hidden by a recorded state and
        not yet in `staff_id`'s reminder log under their occurrence key, in remind_on order.

        The log check runs in SQL (each source's `not_fired_for`), so a pass builds only
        what it delivers: covering its last 7 days again, a pass read and built ~8,300
        touchpoints at 100,000 customers, nearly all delivered before (issue 13,
        startup_rss_mb). Yearly dates are read back to the overdue look-back at most, as
        `due()` does."""
        self.sync()
        today = self._clock.today()
        settings, lookback = self._rules()
        earliest = today - timedelta(days=lookback)
        policy = settings.leap_day_policy
        by_lead: dict[int, list[Occasion]] = {}
        for occasion in Occasion:
            by_lead.setdefault(settings.lead_for(occasion), []).append(occasion)
        rows: list[tuple[date, int, str, Occasion, int | None, int | None, str,
                         int | None]] = []
        with self._db.read() as session:
            hidden = self._hidden(session, today, lookback)
            for lead, occasions in sorted(by_lead.items()):
                first, last = since + timedelta(days=lead), until + timedelta(days=lead)
                yearly = [o for o in occasions if o in repo.YEARLY_OCCASIONS]
                if yearly and max(first, earliest) <= last:
                    for hit in repo.yearly_hits(session, max(first, earliest), last, policy,
                                                occasions=yearly, not_fired_for=staff_id):
                        when = occurrence_in_window(hit.month, hit.day, *hit.segment, policy)
                        if when is not None:
                            rows.append((when, hit.customer_id, hit.display_name,
                                         hit.occasion, hit.source_id, hit.year, hit.label,
                                         None))
                if Occasion.KEEP_IN_TOUCH in occasions:
                    for rh in repo.keep_in_touch_hits(session, first, last,
                                                      not_fired_for=staff_id):
                        rows.append((rh.next_due_on, rh.customer_id, rh.display_name,
                                     Occasion.KEEP_IN_TOUCH, None, None, "",
                                     max(0, (today - rh.contact_base_on).days)))
                one_off = [o for o in occasions if o in repo.ONE_OFF_OCCASIONS]
                if one_off:
                    for row, name in repo.follow_up_hits(session, first, last,
                                                         occasions=one_off,
                                                         not_fired_for=staff_id):
                        source = row.source_id if row.source_id is not None else row.id
                        rows.append((row.due_on, row.customer_id, name,
                                     Occasion(row.occasion), source, None, row.note, None))
        items = []
        for when, cid, name, occasion, source, year, label, days in rows:
            key = occurrence_key(cid, occasion, source, when)
            if self._identity(cid, occasion, when, key) in hidden:
                continue
            items.append(self._touchpoint(today, settings, cid, name, occasion,
                                          describe(occasion, when, year, label, days),
                                          when, key))
        items.sort(key=lambda item: (item.remind_on, item.date, item.key))
        return items

    def for_customer(self, customer_id: int, days: int = 365) -> list[Touchpoint]:
        """The customer's overdue and upcoming touchpoints for the next `days` days."""
        self.sync()
        today = self._clock.today()
        settings = self.settings()
        lookback = self._lookback()
        with self._db.read() as session:
            if session.get(m.Customer, customer_id) is None:
                raise NotFoundError(f"Customer #{customer_id} does not exist.")
            hidden = self._hidden(session, today, lookback, customer_id)
            return self._collect(
                session, today, settings, hidden, today - timedelta(days=lookback),
                today + timedelta(days=days), None, None, customer_id=customer_id,
            )

    def losing_touch(self, limit: int = 100) -> list[LosingTouch]:
        """Customers past their keep-in-touch cadence, the longest overdue first."""
        self.sync()
        today = self._clock.today()
        with self._db.read() as session:
            hits = repo.keep_in_touch_hits(session, None, today - timedelta(days=1), limit)
        return [
            LosingTouch(h.customer_id, h.display_name, h.contact_base_on,
                        max(0, (today - h.contact_base_on).days), h.cadence_days, h.next_due_on)
            for h in hits
        ]

    # --- the rows behind the lists -----------------------------------------------------
    def _hidden(self, session: Session, today: date, lookback: int,
                customer_id: int | None = None) -> Hidden:
        """Occurrences hidden today by a recorded state: identity -> (customer, date); of
        one customer's only with `customer_id` (their profile reads no one else's)."""
        return {
            self._identity(cid, Occasion(occasion), on, key): (cid, on)
            for cid, occasion, on, key in repo.hiding_state_rows(
                session, today, today - timedelta(days=lookback), customer_id
            )
        }

    @staticmethod
    def _identity(customer_id: int, occasion: Occasion, when: date, key: str) -> tuple:
        if occasion in repo.YEARLY_OCCASIONS:
            return (customer_id, occasion.value, when)
        return (key,)

    def _collect(
        self,
        session: Session,
        today: date,
        settings: TouchpointSettings,
        hidden: Hidden,
        start: date,
        end: date,
        open_start: date | None,
        limit: int | None,
        customer_id: int | None = None,
        versions: bool = True,
        customer_ids: Collection[int] | None = None,
        shown: repo.Shown | None = None,
        head_read: tuple[Occasion, ...] = (),
    ) -> list[Touchpoint]:
        """Touchpoints dated in [start, end] (keep-in-touch and follow-ups from `open_start`,
        None meaning any earlier date), sorted by date, at most `limit`; with `versions`,
        each carries the version of the state recorded for it (an expired snooze).
        `customer_ids`: only those customers' touchpoints. `shown`: the sources leave out
        in SQL what recorded states hide (`hidden` is then not consulted), so each reads
        exactly `limit` rows. `head_read`: occasions listed first on a day (`_HEAD_
        OCCASIONS`' first ones) of which the first day holds at least `limit`, so the
        yearly rows are first read from that day's of those alone: at 100,000 customers
        ~200-270 rows instead of the ~520-580 of all that day's yearly dates, every one of
        which the name order had to read and sort."""
        # Else each source reads its limit plus the hidden occurrences that may be among
        # its rows: yearly states hide only yearly rows, the others only keep-in-touch and
        # follow-ups, so neither pays for the other's (issue: Today read ~3x its rows).
        yearly_fetch = rest_fetch = limit
        if shown is not None:
            hidden = {}
        elif limit is not None:
            yearly_fetch = limit + _hidden_within(hidden, start, end, start, yearly=True)
            rest_fetch = limit + _hidden_within(hidden, start, end, open_start, yearly=False)
        policy = settings.leap_day_policy
        # The touchpoints (their text, reminder day, state and occurrence key) are built
        # only for the `limit` kept; a key is made beforehand only for the hidden check of a
        # keep-in-touch or follow-up row of a customer a state names (a yearly row is
        # matched by customer, occasion and day).
        # Light tuples (day, occasion rank, source, position in it, then the parts of the
        # row): each source reads in list order (store.touchpoints.OCCASION_RANK), so sorting
        # by the first four merges them into that order without comparing names.
        found: list[tuple[date, int, int, int, int, str, Occasion, KeyParts, int | None, str,
                          int | None]] = []
        named = {cid for identity, (cid, _when) in hidden.items() if len(identity) == 1}

        def add(source: int, cid: int, name: str, occasion: Occasion, when: date,
                key: KeyParts, year: int | None, label: str,
                days_without_contact: int | None = None) -> None:
            if occasion in repo.YEARLY_OCCASIONS:
                if (cid, occasion.value, when) in hidden:
                    return
            elif cid in named and (occurrence_key(*key),) in hidden:
                return
            found.append((when, _OCCASION_RANK[occasion], source, len(found), cid, name,
                          occasion, key, year, label, days_without_contact))

        def last_day(first_rank: int) -> date:
            """The latest date a kept row of a source whose occasions rank from
            `first_rank` can have: once `limit` rows are found, the day of the limit-th of
            them in list order (rows of a later day sort after all of those), or the day
            before when the source's occasions all sort after that row's on its day. The
            sources read next stop there instead of reading their own `limit` rows (Today:
            a page of birthdays leaves no room for a check-in of the same day)."""
            if limit is None or len(found) < limit or limit == 0:
                return end
            day, rank = heapq.nsmallest(limit, ((f[0], f[1]) for f in found))[-1]
            return min(end, day if first_rank <= rank else day - timedelta(days=1))

        def read_yearly() -> None:
            hits = None
            if head_read and not found and limit:
                # The first `limit` rows are that day's first of those occasions, unless
                # recorded states hide too many of them (then the whole read below).
                hits = repo.yearly_hits(session, start, start, policy, limit, customer_id,
                                        customer_ids=customer_ids, occasions=head_read,
                                        shown=shown)
                if len(hits) < limit:
                    hits = None
            if hits is None:
                hits = repo.yearly_hits(session, start, last_day(0), policy, yearly_fetch,
                                        customer_id, customer_ids=customer_ids, shown=shown)
            for hit in hits:
                when = occurrence_in_window(hit.month, hit.day, *hit.segment, policy)
                if when is None:  # cannot happen for keys from the ranges; be safe
                    continue
                add(0, hit.customer_id, hit.display_name, hit.occasion, when,
                    (hit.customer_id, hit.occasion, hit.source_id, when),
                    hit.year, hit.label)

        def read_rhythm() -> None:
            until = last_day(_OCCASION_RANK[Occasion.KEEP_IN_TOUCH])
            if open_start is not None and until < open_start:
                return
            for rh in repo.keep_in_touch_hits(session, open_start, until, rest_fetch,
                                              customer_id, customer_ids=customer_ids,
                                              shown=shown):
                add(1, rh.customer_id, rh.display_name, Occasion.KEEP_IN_TOUCH, rh.next_due_on,
                    (rh.customer_id, Occasion.KEEP_IN_TOUCH, None, rh.next_due_on),
                    None, "", max(0, (today - rh.contact_base_on).days))

        def read_follow_ups() -> None:
            until = last_day(_FOLLOW_UP_RANK)
            if open_start is not None and until < open_start:
                return
            for row, name in repo.follow_up_hits(session, open_start, until, rest_fetch,
                                                 customer_id, customer_ids=customer_ids,
                                                 shown=shown):
                occasion = Occasion(row.occasion)
                source = row.source_id if row.source_id is not None else row.id
                add(2, row.customer_id, name, occasion, row.due_on,
                    (row.customer_id, occasion, source, row.due_on), None,
                    row.note)

        # The source that can reach furthest back first (Overdue: the keep-in-touch backlog),
        # so its rows bound the days the others read.
        if open_start is None or open_start < start:
            readers = (read_rhythm, read_follow_ups, read_yearly)
        else:
            readers = (read_yearly, read_rhythm, read_follow_ups)
        for read in readers:
            read()
        found.sort(key=lambda f: f[:4])
        items = []
        # Reminder day, state and section depend only on the occasion and the day, which a
        # section's rows share a handful of: worked out once per pair.
        timing: dict[tuple[Occasion, date], tuple[date, TouchpointState, Section]] = {}
        for (when, _rank, _source, _position, cid, name, occasion, parts, year, label,
             days) in (found if limit is None else found[:limit]):
            known = timing.get((occasion, when))
            if known is None:
                reminder = remind_on(when, settings.lead_for(occasion))
                known = timing[occasion, when] = (
                    reminder, displayed_state(today, reminder) or TouchpointState.DUE,
                    section_for(when, today))
            items.append(Touchpoint(
                cid, name, occasion, describe(occasion, when, year, label, days), when,
                *known, occurrence_key(*parts)))
        return _with_versions(session, items) if versions else items

    def _totals(
        self,
        session: Session,
        settings: TouchpointSettings,
        spans: dict[Section, tuple[date, date, date | None]],
        today: date,
        lookback: int,
    ) -> list[int]:
        """Each section's total, in TODAY_SECTIONS order (see `_window_totals`)."""
        return self._window_totals(session, settings,
                                   dict(enumerate(spans[s] for s in TODAY_SECTIONS)), today,
                                   lookback)

    @staticmethod
    def _window_totals(
        session: Session,
        settings: TouchpointSettings,
        spans: dict[int, tuple[date, date, date | None]],
        today: date,
        lookback: int,
    ) -> list[int]:
        """One counting statement for all windows, then the occurrences recorded states
        hide taken off: found by one statement from the states' side, over all windows
        at once (169 recorded states once made Today's counts ~0.9 s, issue 13, then
        three statements reading those customers' rows to match them in Python)."""
        windows = [spans[index] for index in sorted(spans)]
        totals = repo.window_totals(session, windows, settings.leap_day_policy)
        first = min(start for start, _end, _open in windows)
        last = max(end for _start, end, _open in windows)
        opens = [open_start for _start, _end, open_start in windows]
        open_first = None if None in opens else min(min(o for o in opens if o), first)
        for yearly, when in repo.real_hidden_days(
                session, today, today - timedelta(days=lookback), first, last, open_first,
                settings.leap_day_policy):
            for index, (start, end, open_start) in enumerate(windows):
                since = start if yearly else open_start
                if when <= end and (since is None or when >= since):
                    totals[index] -= 1
        return totals

    # --- the lifecycle -----------------------------------------------------------------
    def _check_key(self, key: str) -> tuple[Occasion, int, date]:
        try:
            parsed = parse_occurrence_key(key)
        except ValueError as exc:
            raise DomainError(str(exc)) from exc
        return parsed.occasion, parsed.customer_id, parsed.occurrence

    def _record(
        self,
        session: Session,
        key: str,
        state: TouchpointState,
        snoozed_until: date | None = None,
        reason: str = "",
        interaction_id: int | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Record a state in the caller's unit of work. The stored state is read locked (FOR
        UPDATE; SQLite writes one transaction at a time anyway): a done or skipped one, or
        with `expected_version` any state recorded since the caller read it, is a
        TouchpointConflict naming who recorded what; so is another process inserting the
        first state at the same moment (a unique-key violation) or updating it (a stale
        version)."""
        occasion, customer_id, when = self._check_key(key)
        if session.get(m.Customer, customer_id) is None:
            raise NotFoundError(f"Customer #{customer_id} does not exist.")
        existing = session.get(m.TouchpointRecord, key, with_for_update=True)
        if existing is not None and existing.state in ("done", "skipped"):
            raise TouchpointConflict(
                f"This touchpoint is already {existing.state} (recorded by "
                f"{self._who(session, existing)}); nothing was changed.")
        # A state removed meanwhile (a logged conversation ends a keep-in-touch snooze) is no
        # conflict: there is nothing left to write over.
        if (expected_version is not None and existing is not None
                and existing.version != expected_version):
            raise TouchpointConflict(
                f"{self._who(session, existing)} snoozed this touchpoint until "
                f"{_day(existing.snoozed_until)} meanwhile; nothing was changed. Look again "
                "and decide.")
        row = existing or m.TouchpointRecord(occurrence_key=key)
        row.customer_id = customer_id
        row.occasion = occasion.value
        row.occurrence_on = when
        row.state = state.value
        row.snoozed_until = snoozed_until
        row.reason = reason.strip()
        row.interaction_id = interaction_id
        row.recorded_at = utcnow()
        row.recorded_by_id = self._staff_id
        session.add(row)
        if state in (TouchpointState.DONE, TouchpointState.SKIPPED):
            parsed = parse_occurrence_key(key)
            if occasion in repo.ONE_OFF_OCCASIONS:
                f = m.FollowUp
                match = f.id == parsed.source_id if occasion is Occasion.FOLLOW_UP else (
                    f.source_id == parsed.source_id
                )
                session.execute(
                    update(f)
                    .where(match, f.customer_id == customer_id, f.occasion == occasion.value,
                           f.due_on == when)
                    .values(open=False)
                    .execution_options(synchronize_session=False)
                )
        try:
            session.flush()
        except (IntegrityError, StaleDataError) as exc:
            raise TouchpointConflict(
                "Someone else recorded this touchpoint at the same moment; nothing was "
                "changed. Look again and decide.") from exc

    @staticmethod
    def _who(session: Session, record: m.TouchpointRecord) -> str:
        name = staff_name(session, record.recorded_by_id)
        return name or "Someone"

    def mark_done(
        self, key: str, summary: str = "", channel: Channel | str | None = None,
        at: datetime | None = None, expected_version: int | None = None,
    ) -> Recorded:
        """Done: records an interaction on the customer's history (at `at`, default now;
        timezone-aware); never shown again. `expected_version` (the `Touchpoint.version`
        read) detects a concurrent change."""
        occasion, customer_id, when = self._check_key(key)
        text = summary.strip() or f"{occasion.title} ({_day(when)})"
        settings = self.settings()
        with self._db.write() as session:
            interaction = add_interaction(
                session, customer_id=customer_id, summary=text,
                when=at or self._clock.now(),
                channel=channel, staff_id=self._staff_id, occasion=occasion,
                occurrence_key=key,
            )
            self._record(session, key, TouchpointState.DONE, interaction_id=interaction.id,
                         expected_version=expected_version)
            if occasion is Occasion.ASK_FEEDBACK:
                self._asked(session, customer_id)
            repo.sync_dirty(session, settings)
            record = to_record(interaction, staff_name(session, self._staff_id))
        changed = Changed(customers=frozenset({customer_id}), touchpoints=True,
                          interactions=True)
        return Recorded(key, TouchpointState.DONE, record, changed)

    def skip(self, key: str, reason: str = "",
             expected_version: int | None = None) -> Recorded:
        """Skipped (with a reason): never shown again. Skipping keep-in-touch restarts the
        cadence from today without counting as contact."""
        occasion, customer_id, _ = self._check_key(key)
        settings = self.settings()
        with self._db.write() as session:
            self._record(session, key, TouchpointState.SKIPPED, reason=reason,
                         expected_version=expected_version)
            if occasion is Occasion.ASK_FEEDBACK:  # the rhythm restarts from today
                self._asked(session, customer_id, skipped=True)
            if occasion is Occasion.KEEP_IN_TOUCH:
                session.execute(
                    update(m.ContactRhythm)
                    .where(m.ContactRhythm.customer_id == customer_id)
                    .values(reset_on=self._clock.today(), dirty=True)
                    .execution_options(synchronize_session=False)
                )
                repo.sync_dirty(session, settings)
        changed = Changed(customers=frozenset({customer_id}), touchpoints=True)
        return Recorded(key, TouchpointState.SKIPPED, None, changed)

    def snooze(self, key: str, until: date, expected_version: int | None = None) -> Recorded:
        """Hidden until `until`, due from that day on."""
        occasion, customer_id, when = self._check_key(key)
        today = self._clock.today()
        if until <= today:
            raise ValidationError({"until": "Snooze until a day after today."})
        if occasion in repo.YEARLY_OCCASIONS:
            last = when + timedelta(days=self._lookback())
            if until > last:
                raise ValidationError({
                    "until": f"This {occasion.title.lower()} leaves the overdue list after "
                    f"{_day(last)}; snooze until then at the latest, or skip it."
                })
        with self._db.write() as session:
            self._record(session, key, TouchpointState.SNOOZED, snoozed_until=until,
                         expected_version=expected_version)
        changed = Changed(customers=frozenset({customer_id}), touchpoints=True)
        return Recorded(key, TouchpointState.SNOOZED, None, changed)

    # --- follow-ups, preferences, cadences ---------------------------------------------
    def add_follow_up(
        self,
        customer_id: int,
        due_on: date,
        note: str = "",
        occasion: Occasion = Occasion.FOLLOW_UP,
        source_id: int | None = None,
    ) -> FollowUpRecord:
        """A one-off touchpoint ("call back on Tuesday"); other features pass their own
        occasion (complaint check-back, idea shipped) and source id."""
        occasion = Occasion(occasion)
        if occasion not in repo.ONE_OFF_OCCASIONS:
            raise ValidationError({"occasion": f"{occasion.title} is not a one-off touchpoint."})
        if occasion is not Occasion.FOLLOW_UP and source_id is None:
            raise ValidationError({"source_id": f"A {occasion.title.lower()} needs its source."})
        with self._db.write() as session:
            if session.get(m.Customer, customer_id) is None:
                raise NotFoundError(f"Customer #{customer_id} does not exist.")
            row = m.FollowUp(customer_id=customer_id, occasion=occasion.value, due_on=due_on,
                             note=note.strip(), source_id=source_id, open=True,
                             created_at=utcnow(), created_by_id=self._staff_id)
            session.add(row)
            session.flush()
            key = occurrence_key(customer_id, occasion,
                                 source_id if source_id is not None else row.id, due_on)
            follow_up_id = row.id
        changed = Changed(customers=frozenset({customer_id}), touchpoints=True)
        return FollowUpRecord(follow_up_id, customer_id, occasion, due_on, note.strip(), key,
                              changed)

    def set_opt_out(self, customer_id: int, occasion: Occasion, opted_out: bool = True) -> Changed:
        """Opt a customer out of (or back into) one occasion."""
        occasion = Occasion(occasion)
        with self._db.write() as session:
            if session.get(m.Customer, customer_id) is None:
                raise NotFoundError(f"Customer #{customer_id} does not exist.")
            existing = session.get(m.TouchpointOptOut, (customer_id, occasion.value))
            if opted_out and existing is None:
                session.add(m.TouchpointOptOut(customer_id=customer_id,
                                               occasion=occasion.value, created_at=utcnow()))
            elif not opted_out and existing is not None:
                session.delete(existing)
            session.flush()
            repo.mark_dirty(session, [customer_id])
            repo.sync_dirty(session, self.settings())
        return Changed(customers=frozenset({customer_id}), touchpoints=True)

    def opt_outs(self, customer_id: int) -> frozenset[Occasion]:
        with self._db.read() as session:
            rows = session.scalars(
                select(m.TouchpointOptOut.occasion).where(
                    m.TouchpointOptOut.customer_id == customer_id
                )
            )
            return frozenset(Occasion(o) for o in rows)

    def set_do_not_contact(self, customer_id: int, do_not_contact: bool) -> Changed:
        """Do not contact: no touchpoints at all for this customer."""
        return self._set_customer_column(customer_id, do_not_contact=bool(do_not_contact))

    def set_cadence(self, customer_id: int, days: int | None) -> Changed:
        """The customer's own keep-in-touch cadence (None: by tag or default)."""
        if days is not None and not 1 <= days <= MAX_CADENCE_DAYS:
            raise ValidationError({"cadence_days": f"From 1 to {MAX_CADENCE_DAYS} days."})
        return self._set_customer_column(customer_id, cadence_days=days)

    def _set_customer_column(self, customer_id: int, **values: object) -> Changed:
        with self._db.write() as session:
            row = session.get(m.Customer, customer_id)
            if row is None:
                raise NotFoundError(f"Customer #{customer_id} does not exist.")
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            row.updated_by_id = self._staff_id
            session.flush()  # the update trigger marks the rhythm row dirty
            repo.sync_dirty(session, self.settings())
        return Changed(customers=frozenset({customer_id}), touchpoints=True)

    def tag_cadences(self) -> dict[str, int]:
        """Tag name -> its keep-in-touch cadence in days, for the tags that set one."""
        with self._db.read() as session:
            return repo.tag_cadences(session)

    def set_tag_cadence(self, tag: str, days: int | None) -> Changed:
        """A keep-in-touch cadence for everyone with `tag` (the shortest tag cadence wins)."""
        if days is not None and not 1 <= days <= MAX_CADENCE_DAYS:
            raise ValidationError({"cadence_days": f"From 1 to {MAX_CADENCE_DAYS} days."})
        with self._db.write() as session:
            row = session.scalar(select(m.Tag).where(m.Tag.name_key == tag.strip().casefold()))
            if row is None:
                raise NotFoundError(f"There is no tag “{tag.strip()}”.")
            row.cadence_days = days
            session.flush()  # the tag trigger marks its customers dirty
            repo.sync_dirty(session, self.settings())
        return Changed(touchpoints=True)

    # --- the ask-for-feedback rhythm per tag (issue 15) --------------------------------
    def tag_feedback_rhythms(self) -> dict[str, int]:
        """Tag name -> ask for feedback every so many months, for the tags that set one."""
        with self._db.read() as session:
            return feedback_rhythm.tag_rhythms(session)

    def set_tag_feedback_rhythm(self, tag: str, months: int | None) -> Changed:
        """Ask everyone with `tag` for feedback every `months` months (None: stop). Their
        next asks are recomputed at once (set-based, whatever their number)."""
        months = check_ask_rhythm(months)
        with self._db.write() as session:
            row = session.scalar(select(m.Tag).where(m.Tag.name_key == tag.strip().casefold()))
            if row is None:
                raise NotFoundError(f"There is no tag “{tag.strip()}”.")
            row.feedback_months = months
            session.flush()
            feedback_rhythm.refresh_tag(session, row.id)
        logger.info("Ask-for-feedback rhythm of tag %r set to %s months", tag, months)
        return Changed(touchpoints=True, tags=True)

    def record_feedback_ask(self, customer_id: int) -> Changed:
        """The customer was asked for feedback today: their rhythm (if a tag sets one)
        counts from today, so a due rhythm ask leaves Today."""
        with self._db.write() as session:
            if session.get(m.Customer, customer_id) is None:
                raise NotFoundError(f"Customer #{customer_id} does not exist.")
            self._asked(session, customer_id)
        return Changed(customers=frozenset({customer_id}), touchpoints=True)

    def _asked(self, session: Session, customer_id: int, skipped: bool = False) -> None:
        feedback_rhythm.record_ask(session, customer_id, self._clock.today(), utcnow(),
                                   self._staff_id, skipped=skipped)
        feedback_rhythm.refresh_customers(session, [customer_id])
