"""Reminder use cases: claim what is due exactly once, and list what was delivered.

Reminders are data: the touchpoints say what is due, and the fired-reminder log says what
was already delivered to whom. `ReminderService.claim_due` is the heart of exactly-once
delivery: in one write transaction it INSERTs a log row per deliverable occurrence with
ON CONFLICT DO NOTHING, and returns only the rows its own inserts created. Whoever wins the
insert notifies; a conflict means another process (the GUI, a `remind --once` cron job)
already did. The notifying itself lives in `crmcompanion.reminders` (timing and backends);
this module holds no Qt and no notification code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crmcompanion.core import reminders as rules
from crmcompanion.core.clock import Clock
from crmcompanion.core.dates import LeapDayPolicy, occurrence_in_window
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.settings import SettingSpec, register
from crmcompanion.core.touchpoints import (
    DEFAULT_LEAD_DAYS,
    TouchpointSettings,
    TouchpointState,
    describe,
    occurrence_key,
)
from crmcompanion.services.changes import Changed
from crmcompanion.store import models as m
from crmcompanion.store.database import Database, utcnow
from crmcompanion.store.touchpoints import YEARLY_OCCASIONS

logger = logging.getLogger(__name__)

T = TypeVar("T")

# --- settings -------------------------------------------------------------------------------

REMINDER_TIME = register(
    SettingSpec(
        "reminders.time", str, "09:00",
        "Local time of day at which the day's reminders are delivered (HH:MM).",
    )
)
DAILY_DIGEST = register(
    SettingSpec(
        "reminders.daily_digest", bool, False,
        "Deliver one daily digest instead of one notification per reminder.",
    )
)
KEEP_RUNNING_IN_TRAY = register(
    SettingSpec(
        "reminders.keep_running_in_tray", bool, True,
        "Closing the window keeps reminders running in the system tray.",
    )
)
TRAY_HINT_SHOWN = register(
    SettingSpec(
        "reminders.tray_hint_shown", bool, False,
        "The user was told once that closing the window keeps the app in the tray.",
    )
)
AUTOSTART = register(
    SettingSpec(
        "reminders.autostart", bool, False,
        "Start CRM Companion minimised when you log in, so reminders arrive on time.",
    )
)


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueReminder:
    """One occurrence that is due to be reminded of (what a `DueSource` returns)."""

    occurrence_key: str
    customer_id: int
    customer_name: str
    occasion: Occasion
    description: str
    remind_on: date


class DueSource(Protocol):
    """Where due items come from: the touchpoint service (or a stand-in in tests).

    A source may also offer `undelivered(since, until, staff_id)`: `deliverable` less what
    is already in that staff member's log (claim_due then asks for that instead; its
    inserts skip logged rows either way, so a source without it loses nothing)."""

    def deliverable(self, since: date, until: date) -> list[DueReminder]:
        """Occurrences whose remind_on is in [since, until] and that are not done, skipped or
        still snoozed."""
        ...


@dataclass(frozen=True)
class DeliveredReminder:
    """A row of the fired-reminder log, as the in-app list and the notifiers see it."""

    id: int
    occurrence_key: str
    customer_id: int
    customer_name: str
    occasion: Occasion
    description: str
    remind_on: date
    fired_at: datetime  # naive UTC
    channel: str
    error: str
    acknowledged: bool

    @property
    def title(self) -> str:
        """"Birthday: Ada Lovelace" - names the occasion and the customer."""
        return f"{self.occasion.title}: {self.customer_name}"


@dataclass(frozen=True)
class ClaimResult:
    """What one pass claimed: the new log rows (ours to notify) and the window it covered."""

    delivered: list[DeliveredReminder]
    window: rules.PassWindow
    changed: Changed


def _to_delivered(row: m.FiredReminder) -> DeliveredReminder:
    return DeliveredReminder(
        id=row.id,
        occurrence_key=row.occurrence_key,
        customer_id=row.customer_id,
        customer_name=row.customer_name,
        occasion=Occasion(row.occasion),
        description=row.description,
        remind_on=row.remind_on,
        fired_at=row.fired_at,
        channel=row.channel,
        error=row.error,
        acknowledged=row.acknowledged_at is not None,
    )


def _insert_ignoring_conflicts(session: Session, rows: list[dict[str, object]]
                               ) -> dict[str, int]:
    """INSERT the log rows, skipping each (occurrence, staff) pair already there; returns the
    id of each row these inserts created, by occurrence key (a conflict returns nothing).

    One multi-row statement per batch with RETURNING (SQLAlchemy's "insertmanyvalues"), not
    one ORM statement per row: a pass covers its last 7 days again, so at 100,000 customers
    it offered ~5,900 rows per pass, nearly all already there, at ~1 ms each (~5 s)."""
    if not rows:
        return {}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = m.FiredReminder.__table__
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["occurrence_key", "staff_id"])
        .returning(table.c.occurrence_key, table.c.id)
    )
    return {key: row_id for key, row_id in session.execute(statement, rows)}


# Log rows offered per INSERT statement by a pass (see claim_due).
CLAIM_BATCH = 500


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of at most `size`, taken from the iterable as they are needed."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _log_row(key: str, item: DueReminder, staff_id: int, fired_at: datetime
             ) -> dict[str, object]:
    """The fired-reminder log row that claims `item` for `staff_id`."""
    return {
        "occurrence_key": key,
        "staff_id": staff_id,
        "customer_id": item.customer_id,
        "customer_name": item.customer_name[:200],
        "occasion": Occasion(item.occasion).value,
        "description": item.description,
        "remind_on": item.remind_on,
        "fired_at": fired_at,
        "channel": "app",
        "error": "",
    }


# --- the service ----------------------------------------------------------------------------


class ReminderService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        staff_id: int,
        source: DueSource,
        setting: Callable[[SettingSpec], object],
    ) -> None:
        self._db = db
        self._clock = clock
        self._staff_id = staff_id
        self._source = source
        self._setting = setting

    # --- settings read by the engine ---------------------------------------------------------
    def reminder_time(self) -> time:
        text = str(self._setting(REMINDER_TIME))
        try:
            return rules.parse_reminder_time(text)
        except ValueError as exc:
            logger.warning("%s Using %s.", exc, rules.DEFAULT_REMINDER_TIME.strftime("%H:%M"))
            return rules.DEFAULT_REMINDER_TIME

    def daily_digest(self) -> bool:
        return bool(self._setting(DAILY_DIGEST))

    def next_instant(self, now: datetime | None = None) -> datetime:
        """When the next day's reminders become deliverable (local wall clock)."""
        return rules.next_reminder_instant(now or self._clock.now(), self.reminder_time())

    # --- delivery ----------------------------------------------------------------------------
    def claim_due(self, now: datetime | None = None) -> ClaimResult:
        """Claim every deliverable occurrence not yet in this user's log (one transaction).

        The returned reminders are the caller's to notify; each is already recorded, so a
        notification backend that fails afterwards loses nothing (the in-app list has it).
        """
        now = now or self._clock.now()
        until = rules.deliverable_until(now, self.reminder_time())
        with self._db.read() as session:
            last = session.scalar(
                select(m.ReminderCheck.checked_until).where(
                    m.ReminderCheck.staff_id == self._staff_id
                )
            )
        window = rules.pass_window(until, last)
        # What this user's log lacks, when the source can leave the rest out (in SQL): a
        # pass covers its last 7 days again, and nearly all of it was delivered before.
        undelivered = getattr(self._source, "undelivered", None)
        if window.since > until:
            due = []
        elif undelivered is not None:
            due = undelivered(window.since, window.until, self._staff_id)
        else:
            due = self._source.deliverable(window.since, window.until)
        # One remind_on order, so a digest and the list read oldest first.
        due = sorted(due, key=lambda d: (d.remind_on, d.customer_name.casefold(), d.occurrence_key))
        fired_at = utcnow()
        unique: dict[str, DueReminder] = {}
        for item in due:  # a key offered twice is claimed once (the first, as inserted)
            unique.setdefault(item.occurrence_key, item)
        del due  # `unique` holds what is left to offer
        won: dict[str, int] = {}
        with self._db.write() as session:
            # A few hundred rows per statement, their dicts built per batch: one list of a
            # dict per row (~5,900 a pass at 100,000 customers, nearly all already in the log)
            # held ~5 MB at once, which the process kept (startup_rss_mb).
            for batch in _batches(unique.items(), CLAIM_BATCH):
                won.update(_insert_ignoring_conflicts(session, [
                    _log_row(key, item, self._staff_id, fired_at) for key, item in batch
                ]))
            check = session.get(m.ReminderCheck, self._staff_id)
            if check is None:
                session.add(
                    m.ReminderCheck(
                        staff_id=self._staff_id, checked_until=until, checked_at=fired_at
                    )
                )
            else:
                # Never move backwards: a clock set back must not re-open covered days.
                check.checked_until = max(check.checked_until, until)
                check.checked_at = fired_at
        # The rows this pass created are exactly those its inserts returned: built from what
        # was written instead of read back.
        delivered = [
            DeliveredReminder(
                id=won[key], occurrence_key=key, customer_id=item.customer_id,
                customer_name=item.customer_name[:200], occasion=Occasion(item.occasion),
                description=item.description, remind_on=item.remind_on, fired_at=fired_at,
                channel="app", error="", acknowledged=False,
            )
            for key, item in unique.items()
            if key in won
        ]
        if delivered:
            logger.info(
                "Claimed %d reminder(s) for remind_on %s..%s", len(delivered), window.since, until
            )
        return ClaimResult(delivered, window, Changed(reminders=bool(delivered)))

    def record_channel(self, ids: Sequence[int], channel: str, error: str = "") -> None:
        """Note which backend showed these reminders ("app" alone when every backend failed)."""
        if not ids:
            return
        with self._db.write() as session:
            session.execute(
                update(m.FiredReminder)
                .where(m.FiredReminder.id.in_(list(ids)))
                .values(channel=channel[:40], error=error)
            )

    # --- the in-app list and badge -----------------------------------------------------------
    def unacknowledged(self, limit: int = 500) -> list[DeliveredReminder]:
        """Delivered reminders the owner has not marked as seen, newest first."""
        with self._db.read() as session:
            rows = session.scalars(
                select(m.FiredReminder)
                .where(
                    m.FiredReminder.staff_id == self._staff_id,
                    m.FiredReminder.acknowledged_at.is_(None),
                )
                .order_by(m.FiredReminder.remind_on.desc(), m.FiredReminder.id.desc())
                .limit(limit)
            ).all()
            return [_to_delivered(r) for r in rows]

    def unacknowledged_count(self) -> int:
        """The badge number on Today."""
        with self._db.read() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(m.FiredReminder)
                    .where(
                        m.FiredReminder.staff_id == self._staff_id,
                        m.FiredReminder.acknowledged_at.is_(None),
                    )
                )
                or 0
            )

    def acknowledge(self, ids: Sequence[int] | None = None) -> Changed:
        """Mark reminders as seen (all of this user's when `ids` is None)."""
        with self._db.write() as session:
            statement = update(m.FiredReminder).where(
                m.FiredReminder.staff_id == self._staff_id,
                m.FiredReminder.acknowledged_at.is_(None),
            )
            if ids is not None:
                statement = statement.where(m.FiredReminder.id.in_(list(ids)))
            count = session.execute(statement.values(acknowledged_at=utcnow())).rowcount
        return Changed(reminders=bool(count))


# --- due sources ------------------------------------------------------------------------------


class _TouchpointLike(Protocol):
    """The part of `services.touchpoints.TouchpointService` the reminders use
    (`undelivered(since, until, staff_id)` too, when it has it)."""

    def due(self, days: int = 7, since: date | None = None) -> list[Any]: ...

    def for_customer(self, customer_id: int, days: int = 365) -> list[Any]: ...

    def settings(self) -> TouchpointSettings: ...


def snoozed_delivery_key(key: str, until: date) -> str:
    """The log key of an occurrence coming back from a snooze on `until`.

    The occurrence key alone is already in the log when the item was notified before it was
    snoozed, so its return would never be notified: the return is a delivery of its own,
    exactly once per snooze date (snoozing again to a later day gives a new one).
    """
    return f"{key}/snoozed-{until.isoformat()}"


class TouchpointDueSource:
    """Due reminders from the touchpoint service: every occasion (yearly dates, keep in touch,
    follow-ups, check-backs) with the owner's lead times, done/skipped/snoozed ones hidden.

    Asks `due()` for overdue items plus the longest lead time ahead, then keeps those whose
    remind_on falls in the window. Its overdue lookback (30 days by default) bounds how far
    back a catch-up can reach.

    A snoozed item that has come back (its snooze date reached, shown as due again) is
    deliverable on its snooze date, under `snoozed_delivery_key`, so it is reminded of again,
    once. That needs the recorded snoozes: pass `db` (without it, returns are not notified).
    """

    def __init__(self, touchpoints: _TouchpointLike, db: Database | None = None) -> None:
        self._touchpoints = touchpoints
        self._db = db

    def deliverable(self, since: date, until: date) -> list[DueReminder]:
        return self._deliverable(since, until, None)

    def undelivered(self, since: date, until: date, staff_id: int) -> list[DueReminder]:
        """`deliverable` less the occurrences already in `staff_id`'s log (left out in SQL
        when the touchpoint service can: `TouchpointService.undelivered`). Snoozes ending
        in the window are offered as `deliverable` offers them (few; the claim's insert
        skips those already logged)."""
        return self._deliverable(since, until, staff_id)

    def _deliverable(self, since: date, until: date, staff_id: int | None
                     ) -> list[DueReminder]:
        settings = self._touchpoints.settings()
        longest_lead = max(settings.lead_for(o) for o in Occasion)
        returned, returning_customers = self._snoozes_ended(since, until)
        # An occurrence is reminded of `lead` days before its date, so one dated before
        # `since` is never deliverable in this pass, except a snooze ending in the window:
        # read only the pass's days, plus the customers whose snoozes end (issue 13: all
        # overdue touchpoints, every keep-in-touch of 100,000 customers, were built and
        # thrown away each pass: ~47 MB and ~5 s at the first launch).
        undelivered = getattr(self._touchpoints, "undelivered", None)
        if staff_id is not None and undelivered is not None:
            touchpoints = undelivered(since, until, staff_id)
        else:
            touchpoints = self._touchpoints.due(days=longest_lead, since=since)
        for customer_id in sorted(returning_customers):
            touchpoints += self._touchpoints.for_customer(customer_id, days=longest_lead)
        found = []
        seen: set[str] = set()
        for tp in touchpoints:
            if tp.key in seen:
                continue
            seen.add(tp.key)
            if tp.state is not TouchpointState.DUE:
                continue
            snoozed_until = returned.get(_identity(tp.customer_id, tp.occasion, tp.date, tp.key))
            if snoozed_until is not None:
                key = snoozed_delivery_key(tp.key, snoozed_until)
                remind_on = snoozed_until
                description = f"{tp.label} (snoozed until {snoozed_until:%d %b})"
            elif since <= tp.remind_on <= until:
                key, remind_on, description = tp.key, tp.remind_on, tp.label
            else:
                continue
            found.append(
                DueReminder(
                    occurrence_key=key,
                    customer_id=tp.customer_id,
                    customer_name=tp.customer,
                    occasion=Occasion(tp.occasion),
                    description=description,
                    remind_on=remind_on,
                )
            )
        return found

    def _snoozes_ended(self, since: date, until: date) -> tuple[dict[tuple, date], set[int]]:
        """Snoozes whose date falls in [since, until]: occurrence identity -> snooze date, and
        the customers they belong to."""
        if self._db is None:
            return {}, set()
        t = m.TouchpointRecord
        with self._db.read() as session:
            rows = session.execute(
                select(t.occurrence_key, t.customer_id, t.occasion, t.occurrence_on,
                       t.snoozed_until)
                .where(t.state == TouchpointState.SNOOZED.value,
                       t.snoozed_until >= since, t.snoozed_until <= until)
            ).all()
        return {
            _identity(row.customer_id, Occasion(row.occasion), row.occurrence_on,
                      row.occurrence_key): row.snoozed_until
            for row in rows
        }, {row.customer_id for row in rows}


def _identity(customer_id: int, occasion: Occasion, when: date, key: str) -> tuple:
    """How a recorded state finds its occurrence, as the touchpoint service matches them:
    yearly dates by (customer, occasion, date), because editing a customer rewrites its
    special-date rows (and so the key); everything else by key."""
    if Occasion(occasion) in YEARLY_OCCASIONS:
        return (customer_id, Occasion(occasion).value, when)
    return (key,)


class SpecialDateDueSource:
    """Birthdays, wedding anniversaries and custom dates straight from `special_dates`.

    A minimal source for tools and tests without the touchpoint service: it knows no
    done/skipped states and uses the default lead times.
    """

    def __init__(self, db: Database, policy: LeapDayPolicy = LeapDayPolicy.FEB28) -> None:
        self._db = db
        self._policy = policy

    def deliverable(self, since: date, until: date) -> list[DueReminder]:
        found: list[DueReminder] = []
        with self._db.read() as session:
            rows = session.execute(
                select(m.SpecialDate, m.Customer.display_name)
                .join(m.Customer, m.Customer.id == m.SpecialDate.customer_id)
                .where(
                    m.Customer.archived_at.is_(None),
                    m.Customer.do_not_contact.is_(False),
                    m.Customer.status != "lost",
                )
            ).all()
            for special, name in rows:
                occasion = Occasion(special.kind)
                lead = DEFAULT_LEAD_DAYS.get(occasion, 0)
                occurrence = occurrence_in_window(
                    special.month,
                    special.day,
                    since + timedelta(days=lead),
                    until + timedelta(days=lead),
                    self._policy,
                )
                if occurrence is None:
                    continue
                found.append(
                    DueReminder(
                        occurrence_key=occurrence_key(
                            special.customer_id, occasion, special.id, occurrence
                        ),
                        customer_id=special.customer_id,
                        customer_name=name,
                        occasion=occasion,
                        description=describe(occasion, occurrence, special.year, special.label),
                        remind_on=occurrence - timedelta(days=lead),
                    )
                )
        return found
