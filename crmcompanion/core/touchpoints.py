"""Touchpoint rules: who gets reminded of what, when, and how it reads in the Today view.

A touchpoint is one occurrence of an occasion for one customer (a birthday on 28 Feb 2027,
a keep-in-touch check-in due on 3 May). This module holds the pure rules the services and
the reminder runner share: lead times, keep-in-touch cadences, contact preferences, the
Today-view sections, the human descriptions, the stable key that names one occurrence, and
which state an occurrence is shown in. Nothing here touches a database or a clock: `today`
is always a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from crmcompanion.core.customer import Customer, Kind, Status
from crmcompanion.core.dates import LeapDayPolicy, years_reached
from crmcompanion.core.occasions import Occasion

__all__ = [
    "DEFAULT_LEAD_DAYS",
    "CadenceDefaults",
    "ContactPreferences",
    "OccurrenceKey",
    "Section",
    "TouchpointSettings",
    "TouchpointState",
    "cadence_days",
    "cadence_for_customer",
    "days_without_contact",
    "describe",
    "displayed_state",
    "keep_in_touch_due",
    "occurrence_key",
    "ordinal",
    "parse_occurrence_key",
    "remind_on",
    "section_for",
]

# Days of notice before each occasion. Birthdays and anniversaries get 3 days: enough to
# write and post a card (domestic letter post usually takes 1-2 working days) or to order
# flowers, yet close enough that the reminder is not forgotten again. Custom dates get 1 day
# (a heads-up). Keep-in-touch, follow-ups and check-backs are already due dates the owner
# chose or the cadence computed, so they remind on the day itself.
DEFAULT_LEAD_DAYS: Mapping[Occasion, int] = {
    Occasion.BIRTHDAY: 3,
    Occasion.WEDDING_ANNIVERSARY: 3,
    Occasion.CUSTOMER_ANNIVERSARY: 3,
    Occasion.CUSTOM: 1,
    Occasion.KEEP_IN_TOUCH: 0,
    Occasion.FOLLOW_UP: 0,
    Occasion.COMPLAINT_CHECKBACK: 0,
    Occasion.IDEA_SHIPPED: 0,
    Occasion.WIN_BACK: 0,
    Occasion.ASK_FEEDBACK: 0,
}

# An upper bound that catches typos (a lead time of 3000 days) without limiting real use.
MAX_LEAD_DAYS = 365
MAX_CADENCE_DAYS = 3660


@dataclass(frozen=True)
class CadenceDefaults:
    """Keep-in-touch cadence in days when neither the customer nor a tag sets one."""

    key_account: int = 30
    active: int = 90
    lead: int = 30
    internal: int = 60

    def __post_init__(self) -> None:
        for name in ("key_account", "active", "lead", "internal"):
            _check_cadence(getattr(self, name), f"The {name.replace('_', ' ')} cadence")


# Silences of two years or more are described in whole years.
DAYS_SHOWN_AS_YEARS = 730
# Overdue by more than two months, a date says more than a count of days ("5401 days ago").
OVERDUE_SHOWN_AS_DATE_DAYS = 60


def _check_cadence(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CADENCE_DAYS:
        raise ValueError(f"{what} must be a whole number of days from 1 to {MAX_CADENCE_DAYS}.")


def _check_lead(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LEAD_DAYS:
        raise ValueError(f"{what} must be a whole number of days from 0 to {MAX_LEAD_DAYS}.")


def _tag_key(tag: str) -> str:
    # Tags are typed by people: "VIP", "vip " and "Vip" are the same tag for cadence purposes.
    return tag.strip().casefold()


@dataclass(frozen=True)
class TouchpointSettings:
    """User-editable touchpoint settings, validated when built.

    `lead_days` may name only some occasions; the others use `DEFAULT_LEAD_DAYS`.
    `tag_cadences` maps a tag to its keep-in-touch cadence in days.
    """

    lead_days: dict[Occasion, int] = field(default_factory=lambda: dict(DEFAULT_LEAD_DAYS))
    leap_day_policy: LeapDayPolicy = LeapDayPolicy.FEB28
    cadence: CadenceDefaults = field(default_factory=CadenceDefaults)
    tag_cadences: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for occasion, days in self.lead_days.items():
            Occasion(occasion)  # raises ValueError for an unknown occasion name
            _check_lead(days, f"The lead time for {Occasion(occasion).title.lower()}")
        for tag, days in self.tag_cadences.items():
            if not tag.strip():
                raise ValueError("A tag cadence needs a tag name.")
            _check_cadence(days, f"The cadence for tag {tag.strip()!r}")
        LeapDayPolicy(self.leap_day_policy)

    def lead_for(self, occasion: Occasion) -> int:
        """Days before an occurrence to remind of it."""
        if occasion in self.lead_days:
            return self.lead_days[occasion]
        return DEFAULT_LEAD_DAYS.get(occasion, 0)

    def tag_cadence(self, tag: str) -> int | None:
        """The cadence set for `tag` (matched ignoring case and outer spaces), if any."""
        wanted = _tag_key(tag)
        found = [days for name, days in self.tag_cadences.items() if _tag_key(name) == wanted]
        return min(found) if found else None


# --- Today-view sections --------------------------------------------------------------------


class Section(StrEnum):
    """Where a touchpoint is listed in the Today view, in display order."""

    OVERDUE = "overdue"
    TODAY = "today"
    NEXT_7_DAYS = "next_7_days"
    DAYS_8_30 = "days_8_30"
    LATER = "later"

    @property
    def title(self) -> str:
        return _SECTION_TITLES[self]


_SECTION_TITLES: dict[Section, str] = {
    Section.OVERDUE: "Overdue",
    Section.TODAY: "Today",
    Section.NEXT_7_DAYS: "Next 7 days",
    Section.DAYS_8_30: "Days 8-30",
    Section.LATER: "Later",
}


def section_for(due: date, today: date) -> Section:
    """The Today-view section of something due on `due`: before today is overdue,
    today+1..today+7 the next 7 days, today+8..today+30 days 8-30, after that later."""
    days = (due - today).days
    if days < 0:
        return Section.OVERDUE
    if days == 0:
        return Section.TODAY
    if days <= 7:
        return Section.NEXT_7_DAYS
    if days <= 30:
        return Section.DAYS_8_30
    return Section.LATER


def remind_on(occurrence: date, lead_days: int) -> date:
    """The day to start reminding of an occurrence: `lead_days` before it."""
    _check_lead(lead_days, "The lead time")
    return occurrence - timedelta(days=lead_days)


# --- keep in touch --------------------------------------------------------------------------


def cadence_days(
    *,
    settings: TouchpointSettings,
    status: Status,
    kind: Kind,
    key_account: bool = False,
    tags: Iterable[str] = (),
    override: int | None = None,
) -> int:
    """A customer's keep-in-touch cadence in days.

    Precedence: the customer's own `override`; else the shortest cadence among its tags that
    have one (the most attentive tag wins: a "VIP" tag should not be diluted by "newsletter");
    else the key-account default; else by status and kind (leads and internal customers have
    their own defaults, the shorter one if both apply; everyone else the active default).
    """
    if override is not None:
        _check_cadence(override, "The customer's cadence")
        return override
    tagged = [c for c in (settings.tag_cadence(t) for t in tags) if c is not None]
    if tagged:
        return min(tagged)
    defaults = settings.cadence
    if key_account:
        return defaults.key_account
    candidates = []
    if status is Status.LEAD:
        candidates.append(defaults.lead)
    if kind is Kind.INTERNAL:
        candidates.append(defaults.internal)
    return min(candidates) if candidates else defaults.active


def cadence_for_customer(
    customer: Customer, settings: TouchpointSettings, override: int | None = None
) -> int:
    """`cadence_days` for a stored customer (the override is kept by the store, not here)."""
    return cadence_days(
        settings=settings,
        status=customer.status,
        kind=customer.kind,
        key_account=customer.key_account,
        tags=customer.tags,
        override=override,
    )


def _contact_base(
    last_interaction: date | None, customer_since: date | None, created: date
) -> date:
    # The last logged interaction is the real "last contact"; without one, the relationship
    # start; without that, the day the record was made (the owner met them then at the latest).
    if last_interaction is not None:
        return last_interaction
    if customer_since is not None:
        return customer_since
    return created


def keep_in_touch_due(
    last_interaction: date | None, customer_since: date | None, created: date, cadence: int
) -> date:
    """The day the next check-in is due: `cadence` days after the last logged interaction,
    else after the customer-since date, else after the record's creation date (a local date)."""
    _check_cadence(cadence, "The cadence")
    return _contact_base(last_interaction, customer_since, created) + timedelta(days=cadence)


def days_without_contact(
    last_interaction: date | None, customer_since: date | None, created: date, today: date
) -> int:
    """Days since the last contact, counted from the same base as `keep_in_touch_due`."""
    return max(0, (today - _contact_base(last_interaction, customer_since, created)).days)


# --- contact preferences --------------------------------------------------------------------


@dataclass(frozen=True)
class ContactPreferences:
    """What a customer allows. Do-not-contact, archived and lost customers get no touchpoints
    at all; otherwise every occasion except those opted out of."""

    do_not_contact: bool = False
    opted_out: frozenset[Occasion] = frozenset()
    archived: bool = False
    lost: bool = False

    @classmethod
    def for_customer(
        cls,
        customer: Customer,
        *,
        do_not_contact: bool = False,
        opted_out: Iterable[Occasion] = (),
    ) -> ContactPreferences:
        return cls(
            do_not_contact=do_not_contact,
            opted_out=frozenset(Occasion(o) for o in opted_out),
            archived=customer.is_archived,
            lost=customer.status is Status.LOST,
        )

    def allows(self, occasion: Occasion) -> bool:
        if self.do_not_contact or self.archived or self.lost:
            return False
        return Occasion(occasion) not in self.opted_out


# --- descriptions ---------------------------------------------------------------------------


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 112th."""
    # 11th, 12th, 13th (and 111th...) break the last-digit rule.
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def silence(days: int) -> str:
    """"97 days", and whole years from two years on ("6 years"): no arithmetic for the reader."""
    if days >= DAYS_SHOWN_AS_YEARS:
        return plural(days // 365, "year")
    return plural(days, "day")


def describe(
    occasion: Occasion,
    occurrence: date,
    since_year: int | None,
    label: str = "",
    days_without_contact: int | None = None,
) -> str:
    """The short human text of one touchpoint in the Today view, e.g. "turns 40".

    `since_year` is the birth, wedding or customer-since year when known; the number shown is
    the one reached ON `occurrence`. `label` is the custom date's label or the follow-up note.
    """
    occasion = Occasion(occasion)
    years = years_reached(since_year, occurrence)
    known = years is not None and years > 0
    label = label.strip()
    if occasion is Occasion.BIRTHDAY:
        return f"turns {years}" if known else "birthday"
    if occasion is Occasion.WEDDING_ANNIVERSARY:
        return f"{ordinal(years)} wedding anniversary" if known else "wedding anniversary"
    if occasion is Occasion.CUSTOMER_ANNIVERSARY:
        return f"{plural(years, 'year')} as a customer" if known else "customer anniversary"
    if occasion is Occasion.KEEP_IN_TOUCH:
        if days_without_contact is None:
            return "keep in touch"
        return f"no contact for {silence(days_without_contact)}"
    if occasion is Occasion.CUSTOM:
        text = label or Occasion.CUSTOM.title.lower()
        return f"{text} ({plural(years, 'year')})" if known else text
    # Follow-ups, complaint check-backs, shipped ideas: the note says what to do.
    return label or occasion.title.lower()


# --- occurrence keys ------------------------------------------------------------------------

# The source record's kind, shown in the key so a key in a log is readable by a person:
# "d" a stored special date, "f" a follow-up, "fb" a feedback item (complaint or idea).
# Customer anniversaries and keep-in-touch come from the customer itself and have no source.
_SOURCE_PREFIX: dict[Occasion, str] = {
    Occasion.BIRTHDAY: "d",
    Occasion.WEDDING_ANNIVERSARY: "d",
    Occasion.CUSTOM: "d",
    Occasion.FOLLOW_UP: "f",
    Occasion.COMPLAINT_CHECKBACK: "fb",
    Occasion.IDEA_SHIPPED: "fb",
    Occasion.WIN_BACK: "c",  # the lost customer's own id: one win-back per day and customer
    Occasion.ASK_FEEDBACK: "c",  # the customer's own id: one rhythm ask per day and customer
    Occasion.CUSTOMER_ANNIVERSARY: "",
    Occasion.KEEP_IN_TOUCH: "",
}
_NO_SOURCE = "-"
_KEY_RE = re.compile(
    r"^(?P<occasion>[a-z_]+)/c(?P<customer>[1-9][0-9]*)/"
    r"(?:(?P<prefix>[a-z]+)(?P<source>0|[1-9][0-9]*)|-)/(?P<date>\d{4}-\d{2}-\d{2})$"
)


@dataclass(frozen=True)
class OccurrenceKey:
    """The parts of an occurrence key."""

    occasion: Occasion
    customer_id: int
    source_id: int | None
    occurrence: date

    def __str__(self) -> str:
        return occurrence_key(self.customer_id, self.occasion, self.source_id, self.occurrence)


def _check_id(value: object, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be a whole number of at least {minimum}, not {value!r}.")
    return value


def occurrence_key(
    customer_id: int, occasion: Occasion, source_id: int | None, occurrence: date
) -> str:
    """A stable string naming one occurrence, e.g. "birthday/c12/d34/2027-02-28".

    Used to record done/skipped/snoozed states and as the exactly-once key of the reminder
    log, so it must never change for the same occurrence: only ids and the ISO date go in,
    never names or labels. `source_id` is the special date, follow-up or feedback row id;
    None for occasions that come from the customer itself (customer anniversary, keep in
    touch). The occurrence date is the celebrated day (after the leap-day policy), or the due
    date for keep-in-touch and follow-ups.
    """
    occasion = Occasion(occasion)
    _check_id(customer_id, "The customer id", 1)
    prefix = _SOURCE_PREFIX[occasion]
    if source_id is None:
        source = _NO_SOURCE
    else:
        _check_id(source_id, "The source id", 0)
        if not prefix:
            raise ValueError(f"A {occasion.title.lower()} touchpoint has no source record.")
        source = f"{prefix}{source_id}"
    return f"{occasion.value}/c{customer_id}/{source}/{occurrence.isoformat()}"


def parse_occurrence_key(key: str) -> OccurrenceKey:
    """The inverse of `occurrence_key`; ValueError if `key` was not made by it."""
    match = _KEY_RE.match(key)
    if match is None:
        raise ValueError(f"{key!r} is not a touchpoint occurrence key.")
    try:
        occasion = Occasion(match["occasion"])
        occurrence = date.fromisoformat(match["date"])
        source_id = None if match["source"] is None else int(match["source"])
        parsed = OccurrenceKey(occasion, int(match["customer"]), source_id, occurrence)
        # Rebuilding catches a source kind that does not belong to the occasion.
        rebuilt = str(parsed)
    except ValueError as exc:
        raise ValueError(f"{key!r} is not a touchpoint occurrence key.") from exc
    if rebuilt != key:
        raise ValueError(f"{key!r} is not a touchpoint occurrence key.")
    return parsed


# --- displayed state ------------------------------------------------------------------------


class TouchpointState(StrEnum):
    """An occurrence's state. UPCOMING and DUE are computed; DONE, SKIPPED and SNOOZED are
    what the owner records."""

    UPCOMING = "upcoming"
    DUE = "due"
    DONE = "done"
    SNOOZED = "snoozed"
    SKIPPED = "skipped"


RECORDABLE_STATES = frozenset({TouchpointState.DONE, TouchpointState.SKIPPED,
                               TouchpointState.SNOOZED})


def displayed_state(
    today: date,
    remind_on: date,
    recorded: TouchpointState | None = None,
    snoozed_until: date | None = None,
) -> TouchpointState | None:
    """How an occurrence is shown today, or None when it is not shown at all.

    Done and skipped occurrences are never shown again. A snoozed one is hidden until
    `snoozed_until` and due from that day on. Otherwise it is due from its `remind_on` day and
    upcoming before it.
    """
    if recorded is not None:
        recorded = TouchpointState(recorded)
        if recorded not in RECORDABLE_STATES:
            raise ValueError(f"{recorded.value!r} is computed, it cannot be recorded.")
    if recorded in (TouchpointState.DONE, TouchpointState.SKIPPED):
        return None
    if recorded is TouchpointState.SNOOZED:
        if snoozed_until is None:
            raise ValueError("A snoozed touchpoint needs the date it is snoozed until.")
        return None if today < snoozed_until else TouchpointState.DUE
    return TouchpointState.DUE if today >= remind_on else TouchpointState.UPCOMING
