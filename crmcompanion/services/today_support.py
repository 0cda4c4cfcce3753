"""Read helpers the Today view and the customer page need beside `TouchpointService`.

* The Today agenda (`AgendaService`): one list of things to do, led by today and the next 7
  days, the backlog folded into "Catch up" (at most a week late; older ones are a count
  until the owner asks for them), read page by page so only the rows on screen are built.
  Each row comes with a `CustomerGlance`: the preferred channel, the email and phone one click
  away, and the last conversation, for the page's customers in one statement.
* The latest day a touchpoint may be snoozed to (so the GUI offers only snoozes the service
  will accept), and a customer's current touchpoint preferences (do not contact, own cadence,
  opt-outs) so the preferences dialog can show what is stored before it changes anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import select

from crmcompanion.core.clock import Clock
from crmcompanion.core.customer import Channel
from crmcompanion.core.errors import NotFoundError
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import plural, silence
from crmcompanion.core.validation import format_phone
from crmcompanion.services.timeline import channel_or_none
from crmcompanion.services.touchpoints import PageCursor, Touchpoint, TouchpointService
from crmcompanion.store import models as m
from crmcompanion.store import tables
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


# --- the Today agenda ------------------------------------------------------------------------

CATCH_UP_DAYS = 7  # occasions at most this many days late are listed under "Catch up"


class AgendaSection(StrEnum):
    """The parts of the one Today list, in the order shown."""

    TODAY = "today"
    NEXT_7_DAYS = "next_7_days"
    CATCH_UP = "catch_up"
    OLDER = "older"  # more than a week late: a count, listed only on "Show all"

    @property
    def title(self) -> str:
        return _SECTION_TITLES[self]


_SECTION_TITLES = {
    AgendaSection.TODAY: "Today",
    AgendaSection.NEXT_7_DAYS: "Next 7 days",
    AgendaSection.CATCH_UP: "Catch up",
    AgendaSection.OLDER: "More than a week late",
}
# Yearly occasions get a greeting; everything else is a conversation to have.
GREETING_OCCASIONS = YEARLY_OCCASIONS


@dataclass(frozen=True)
class CustomerGlance:
    """What a Today row shows about its customer besides the occasion."""

    customer_id: int
    preferred_channel: Channel | None
    email: str
    phone: str  # formatted for display
    phone_uri: str  # the stored international form, for tel:
    last_contact_on: date | None
    last_summary: str
    last_channel: Channel | None


@dataclass(frozen=True)
class AgendaItem:
    """One thing to do: the touchpoint, the section it is listed in, and why, in words."""

    touchpoint: Touchpoint
    section: AgendaSection
    reason: str  # "Birthday: turns 40", "Keep in touch: never contacted"
    glance: CustomerGlance | None

    @property
    def greeting(self) -> bool:
        """Whether the natural action is a greeting draft (else a conversation to log)."""
        return self.touchpoint.occasion in GREETING_OCCASIONS


@dataclass(frozen=True)
class AgendaCounts:
    today: date
    totals: dict[AgendaSection, int]
    has_customers: bool


@dataclass(frozen=True)
class AgendaPage:
    items: tuple[AgendaItem, ...]
    cursor: PageCursor | None  # where the section's next page starts; None: no more


# The note of a complaint plan's target-date follow-up (services.feedback writes it): on
# Today it reads as its own reason, "Complaint plan due: <goal>", not "Follow-up: Complaint…".
PLAN_DUE = "Complaint plan due"


def reason_text(item: Touchpoint, glance: CustomerGlance | None, today: date) -> str:
    """Why the owner should reach out, in words: the occasion and what it means."""
    occasion = item.occasion
    if occasion is Occasion.FOLLOW_UP and item.label.startswith(f"{PLAN_DUE}:"):
        return item.label.strip()
    if occasion is Occasion.KEEP_IN_TOUCH:
        last = glance.last_contact_on if glance is not None else None
        if last is None:
            return "Keep in touch: never contacted"
        days = max(0, (today - last).days)
        return f"Keep in touch: last contact {silence(days)} ago" if days else (
            "Keep in touch: talked today")
    if occasion is Occasion.BIRTHDAY:
        return "Birthday" if item.label == "birthday" else f"Birthday: {item.label}"
    if occasion in (Occasion.WEDDING_ANNIVERSARY, Occasion.CUSTOMER_ANNIVERSARY):
        return item.label[:1].upper() + item.label[1:]
    title = occasion.title
    label = item.label.strip()
    if not label or label.casefold() == title.casefold():
        return title
    return f"{title}: {label}"


def late_text(days_late: int) -> str:
    return f"{plural(days_late, 'day')} late"


class AgendaService:
    """The Today list as counts and pages (see the module docstring)."""

    def __init__(
        self, db: Database, touchpoints: TouchpointService, clock: Clock,
        values: Callable[[], Mapping[str, object]],
    ) -> None:
        self._db = db
        self._touchpoints = touchpoints
        self._clock = clock
        self._values = values  # the stored settings (the overdue look-back)

    def windows(
        self, today: date | None = None, values: Mapping[str, object] | None = None,
    ) -> dict[AgendaSection, tuple[date, date, date | None]]:
        """Each section's (start, end, open_start), as `TouchpointService.page` takes them:
        yearly dates in [start, end], keep-in-touch and follow-ups in [open_start, end]."""
        today = today or self._clock.today()
        lookback = lookback_days(self._values() if values is None else values)
        week = min(CATCH_UP_DAYS, lookback)
        return {
            AgendaSection.TODAY: (today, today, today),
            AgendaSection.NEXT_7_DAYS: (today + timedelta(days=1), today + timedelta(days=7),
                                        today + timedelta(days=1)),
            AgendaSection.CATCH_UP: (today - timedelta(days=week), today - timedelta(days=1),
                                     today - timedelta(days=CATCH_UP_DAYS)),
            AgendaSection.OLDER: (today - timedelta(days=lookback),
                                  today - timedelta(days=CATCH_UP_DAYS + 1), None),
        }

    def counts(self, values: Mapping[str, object] | None = None) -> AgendaCounts:
        """How many things each section holds (one counting statement), and whether the
        database has any customer at all (an empty Today then offers ways to start).
        `values`: the stored settings when the caller has just read them."""
        today = self._clock.today()
        values = dict(self._values() if values is None else values)
        spans = self.windows(today, values)
        totals = self._touchpoints.window_counts(list(spans.values()), values)
        with self._db.read() as session:
            has_customers = session.scalar(
                select(tables.customers.c.id).limit(1)) is not None
        return AgendaCounts(today, dict(zip(spans, totals, strict=True)), has_customers)

    def page(
        self, section: AgendaSection, cursor: PageCursor = (0, 0, 0), limit: int = 30,
        formatted: bool = True, values: Mapping[str, object] | None = None,
    ) -> AgendaPage:
        """One page of `section`, each item with its reason and its customer's glance:
        four statements for the touchpoints and one for the glances, whatever the page.
        `formatted` False leaves the phones as stored (see `glances`); `values`: the stored
        settings when the caller has just read them."""
        today = self._clock.today()
        values = dict(self._values() if values is None else values)
        start, end, open_start = self.windows(today, values)[section]
        items, next_cursor = self._touchpoints.page(start, end, open_start, cursor, limit,
                                                    values)
        glances = self.glances([item.customer_id for item in items], formatted)
        return AgendaPage(
            tuple(
                AgendaItem(item, section, reason_text(item, glances.get(item.customer_id),
                                                      today),
                           glances.get(item.customer_id))
                for item in items
            ),
            next_cursor,
        )

    def glances(self, customer_ids: Sequence[int], formatted: bool = True,
                ) -> dict[int, CustomerGlance]:
        return glances(self._db, customer_ids, formatted)


def format_phones(numbers: Sequence[str]) -> dict[str, str]:
    """Stored phone numbers -> their display form. The first call loads the phone library
    and each country's rules (~0.25 s for a page of numbers from ten countries), so the
    Today page shows its first rows with the stored numbers and formats them just after."""
    return {number: format_phone(number) for number in set(numbers) if number}


def glances(
    db: Database, customer_ids: Sequence[int], formatted: bool = True,
) -> dict[int, CustomerGlance]:
    """The preferred channel, email, phone and last conversation of each customer, in one
    statement (the last conversation through the customer's history index). `formatted`
    False: the phone as stored (see `format_phones`)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    # Core, against the tables: read before Today's first rows (see store.tables).
    c, r, i = tables.customers.c, tables.contact_rhythm.c, tables.interactions.c
    latest = (
        select(i.id).where(i.customer_id == c.id)
        .order_by(i.occurred_at.desc(), i.id.desc()).limit(1)
        .correlate(tables.customers).scalar_subquery()
    )
    statement = (
        select(c.id, c.preferred_channel, c.primary_email, c.primary_phone,
               r.last_interaction_on, i.summary, i.channel)
        .select_from(tables.customers)
        .outerjoin(tables.contact_rhythm, r.customer_id == c.id)
        .outerjoin(tables.interactions, i.id == latest)
        .where(c.id.in_(ids))
    )
    found: dict[int, CustomerGlance] = {}
    with db.read() as session:
        rows = session.execute(statement).all()
    for cid, preferred, email, phone, last_on, summary, channel in rows:
        found[cid] = CustomerGlance(
            customer_id=cid,
            preferred_channel=channel_or_none(preferred),
            email=email or "",
            phone=(format_phone(phone) if formatted else phone) if phone else "",
            phone_uri=phone or "",
            last_contact_on=last_on,
            last_summary=" ".join((summary or "").split()),
            last_channel=channel_or_none(channel),
        )
    return found
