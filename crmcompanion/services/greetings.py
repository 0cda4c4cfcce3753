"""Greeting drafts: the template library, a personal draft per occasion, and "Mark as sent".

Why this module exists: the draft dialog, the batch window and `crmcompanion draft` all need
the same steps (pick a template for the occasion, fill it from the customer, the business
profile and the last conversation, then record what was sent), so they live here, Qt-free.

The library lives in the `greeting_templates` table. On first use the shipped defaults from
`crmcompanion.resources` are copied in (the first template of each occasion becomes its default);
from then on the owner's edits win. Every save is validated with `check_greeting`, so a
stored template always renders. The last template of an occasion cannot be deleted, so a
draft always has something to start from and the table never looks "unseeded" again.

"Mark as sent" logs the text on the customer's history with its channel. From a touchpoint
(an occurrence key) it also completes the touchpoint, in the same unit of work, through
`TouchpointService.mark_done`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update

from crmcompanion.core.clock import Clock, SystemClock
from crmcompanion.core.customer import Channel, Customer, SpecialDateKind
from crmcompanion.core.errors import DomainError, NotFoundError, ValidationError
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.settings import (
    BUSINESS_NAME,
    DEFAULT_GREETING_CHANNEL,
    OWNER_NAME,
    SIGNATURE,
    SettingSpec,
)
from crmcompanion.core.templates import (
    GreetingTemplate,
    RenderedMessage,
    TemplateContext,
    Tone,
    check_greeting,
    read_default_templates,
    render_greeting,
)
from crmcompanion.core.touchpoints import parse_occurrence_key
from crmcompanion.services.changes import Changed
from crmcompanion.services.customers import CustomerService
from crmcompanion.services.interactions import InteractionService, add_interaction
from crmcompanion.services.touchpoints import Touchpoint, TouchpointService
from crmcompanion.store import models as m
from crmcompanion.store.database import Database, utcnow
from crmcompanion.store.snapshots import IN_CHUNK

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 120
# A touchpoint of the drafted occasion this many days away (or overdue) is the one the
# draft answers; further away, the draft is for the next occurrence without a touchpoint.
NEAR_TOUCHPOINT_DAYS = 31


@dataclass(frozen=True)
class StoredTemplate:
    """A template of the owner's library, as stored."""

    id: int
    key: str
    occasion: Occasion
    name: str
    tone: Tone
    subject: str
    body: str
    is_default: bool
    updated_at: datetime

    def as_greeting(self) -> GreetingTemplate:
        return GreetingTemplate(self.key, self.occasion, self.name, self.tone, self.subject,
                                self.body)


@dataclass(frozen=True)
class _DraftSettings:
    """The settings every draft reads, read once per draft or per batch."""

    business_name: str
    owner_name: str
    signature: str
    channel: Channel


@dataclass(frozen=True)
class SavedTemplate:
    template: StoredTemplate
    changed: Changed


@dataclass(frozen=True)
class Draft:
    """A rendered greeting plus what the draft dialog needs to send and record it."""

    customer_id: int
    customer_name: str
    occasion: Occasion
    occasion_title: str
    occasion_date: date
    template_key: str
    template_name: str
    template_subject: str
    template_body: str
    message: RenderedMessage
    values: dict[str, str]
    """The placeholder values used, so edited template text can be re-rendered live."""
    occurrence_key: str | None
    """The touchpoint this draft answers, completed by "Mark as sent"; None if there is none."""
    email: str | None
    mobile: str | None
    """A number to text: the first phone labelled mobile (or cell)."""
    phone: str | None
    channel: Channel
    """The suggested channel: the customer's preference, else the default from Settings."""

    @property
    def subject(self) -> str:
        return self.message.subject

    @property
    def body(self) -> str:
        return self.message.body

    @property
    def missing_placeholders(self) -> tuple[str, ...]:
        return self.message.missing_placeholders

    def render(self, subject_template: str, body_template: str) -> RenderedMessage:
        """Edited template text filled with this draft's values (raises `TemplateError`)."""
        return render_greeting((subject_template, body_template), self.values)


def sent_summary(subject: str, body: str) -> str:
    """What the customer's history shows for a sent greeting: subject line, then the text."""
    subject, body = subject.strip(), body.strip()
    return f"{subject}\n\n{body}" if subject and body else subject or body


def _no_such_template(occasion: Occasion, name_or_key: str,
                     found: Sequence[GreetingTemplate | StoredTemplate]) -> NotFoundError:
    names = "; ".join(f"{t.name} ({t.key})" for t in found)
    return NotFoundError(
        f"No {occasion.title.lower()} template is called “{name_or_key}”. "
        f"Templates for {occasion.value}: {names}."
    )


def _to_stored(row: m.GreetingTemplateRow) -> StoredTemplate:
    return StoredTemplate(row.id, row.key, Occasion(row.occasion), row.name, Tone(row.tone),
                          row.subject, row.body, bool(row.is_default), row.updated_at)


_MOBILE_LABELS = ("mobile", "cell", "handy", "portable")


def mobile_number(customer: Customer) -> str | None:
    """The number an SMS can go to: a phone labelled mobile/cell, else None."""
    for phone in customer.phones:
        if any(word in phone.label.casefold() for word in _MOBILE_LABELS):
            return phone.number
    return None


def _occasion_title(customer: Customer, occasion: Occasion, source_id: int | None) -> str:
    if occasion is Occasion.CUSTOM:
        customs = [d for d in customer.special_dates if d.kind is SpecialDateKind.CUSTOM]
        if len(customs) == 1 or (customs and source_id is None):
            return customs[0].title
    return occasion.title


class GreetingService:
    def __init__(
        self,
        db: Database,
        customers: CustomerService,
        touchpoints: TouchpointService,
        interactions: InteractionService,
        setting: Callable[[SettingSpec], object],
        clock: Clock | None = None,
        staff_id: int | None = None,
    ) -> None:
        self._db = db
        self._customers = customers
        self._touchpoints = touchpoints
        self._interactions = interactions
        self._setting = setting
        self._clock = clock or SystemClock()
        self._staff_id = staff_id

    # --- the library -------------------------------------------------------------------
    def ensure_seeded(self) -> bool:
        """Copy the shipped defaults in when the table is empty; True if it did."""
        with self._db.read() as session:
            if session.scalar(select(func.count()).select_from(m.GreetingTemplateRow)):
                return False
        defaults = read_default_templates()
        now = utcnow()
        with self._db.write() as session:
            # Checked again inside the write lock: two windows may start at once.
            if session.scalar(select(func.count()).select_from(m.GreetingTemplateRow)):
                return False
            seen: set[Occasion] = set()
            for template in defaults:
                session.add(m.GreetingTemplateRow(
                    key=template.key, occasion=template.occasion.value, name=template.name,
                    tone=template.tone.value, subject=template.subject, body=template.body,
                    is_default=template.occasion not in seen, updated_at=now,
                ))
                seen.add(template.occasion)
        logger.info("Seeded %d greeting templates", len(defaults))
        return True

    def templates(self, occasion: Occasion | str | None = None) -> list[StoredTemplate]:
        """The library (or one occasion's templates): default first, then in stored order."""
        self.ensure_seeded()
        rows = self._read_templates(occasion)
        if occasion is None:
            order = list(Occasion)
            rows.sort(key=lambda s: order.index(s.occasion))  # stable: keeps default first
        return rows

    def _read_templates(self, occasion: Occasion | str | None) -> list[StoredTemplate]:
        """The stored templates (of one occasion), default first: nothing seeded here."""
        t = m.GreetingTemplateRow
        statement = select(t).order_by(t.occasion, t.is_default.desc(), t.id)
        if occasion is not None:
            statement = statement.where(t.occasion == Occasion(occasion).value)
        with self._db.read() as session:
            return [_to_stored(row) for row in session.scalars(statement)]

    def template(self, key: str) -> StoredTemplate:
        self.ensure_seeded()
        with self._db.read() as session:
            row = session.scalar(select(m.GreetingTemplateRow).where(
                m.GreetingTemplateRow.key == key))
            if row is None:
                raise NotFoundError(f"There is no greeting template “{key}”.")
            return _to_stored(row)

    def find_template(self, occasion: Occasion | str, name_or_key: str) -> StoredTemplate:
        """A template of `occasion` by key or (case-insensitive) name; NotFoundError lists
        the occasion's templates. A name that matches nothing writes nothing: before the
        library is seeded, the shipped defaults are searched without storing them."""
        occasion = Occasion(occasion)
        wanted = name_or_key.strip().casefold()

        def matches(template: GreetingTemplate | StoredTemplate) -> bool:
            return wanted in (template.key.casefold(), template.name.casefold())

        found = self._read_templates(occasion)
        if not found:
            shipped = [t for t in read_default_templates() if t.occasion is occasion]
            if not any(matches(t) for t in shipped):
                raise _no_such_template(occasion, name_or_key, shipped)
            found = self.templates(occasion)
        for template in found:
            if matches(template):
                return template
        raise _no_such_template(occasion, name_or_key, found)

    def save_template(
        self,
        *,
        occasion: Occasion | str,
        name: str,
        tone: Tone | str,
        subject: str,
        body: str,
        key: str | None = None,
        is_default: bool | None = None,
    ) -> SavedTemplate:
        """Create (no `key`) or update a template. Raises `TemplateError` naming the exact
        bad part of the subject or body, `ValidationError` for a bad name or tone."""
        occasion = Occasion(occasion)
        name = name.strip()
        subject = subject.strip()
        body = body.strip("\n")
        errors: dict[str, str] = {}
        if not name:
            errors["name"] = "Give the template a name."
        elif len(name) > NAME_MAX_LENGTH:
            errors["name"] = f"A name has at most {NAME_MAX_LENGTH} characters."
        try:
            tone = Tone(tone)
        except ValueError:
            errors["tone"] = "Tone must be one of: " + ", ".join(t.value for t in Tone) + "."
        if not body.strip():
            errors["body"] = "Write the message."
        if errors:
            raise ValidationError(errors)
        check_greeting(subject, body)
        self.ensure_seeded()
        t = m.GreetingTemplateRow
        with self._db.write() as session:
            clash = select(t.id).where(t.occasion == occasion.value,
                                       func.lower(t.name) == name.lower())
            if key is not None:
                row = session.scalar(select(t).where(t.key == key))
                if row is None:
                    raise NotFoundError(f"There is no greeting template “{key}”.")
                clash = clash.where(t.id != row.id)
            else:
                row = None
            if session.scalar(clash) is not None:
                raise ValidationError({"name": f"Another {occasion.title.lower()} template "
                                               f"is already called “{name}”."})
            if row is None:
                first = session.scalar(select(t.id).where(t.occasion == occasion.value)) is None
                row = t(key="", occasion=occasion.value, is_default=first)
                session.add(row)
            elif row.occasion != occasion.value:
                raise ValidationError({"occasion": "A template keeps its occasion; create a "
                                                   "new one for another occasion."})
            row.name, row.tone, row.subject, row.body = name, tone.value, subject, body
            row.updated_at = utcnow()
            session.flush()
            if not row.key:
                row.key = f"custom-{row.id}"
            if is_default:
                session.execute(update(t).where(t.occasion == occasion.value, t.id != row.id)
                                .values(is_default=False)
                                .execution_options(synchronize_session=False))
                row.is_default = True
            session.flush()
            stored = _to_stored(row)
        return SavedTemplate(stored, Changed(greetings=True))

    def delete_template(self, key: str) -> Changed:
        """Delete a template; the last one of an occasion stays (drafts need one)."""
        t = m.GreetingTemplateRow
        with self._db.write() as session:
            row = session.scalar(select(t).where(t.key == key))
            if row is None:
                raise NotFoundError(f"There is no greeting template “{key}”.")
            others = session.scalars(
                select(t).where(t.occasion == row.occasion, t.id != row.id).order_by(t.id)
            ).all()
            if not others:
                raise DomainError("This is the only template for its occasion; edit it "
                                  "instead of deleting it.")
            if row.is_default:
                others[0].is_default = True
            session.delete(row)
        return Changed(greetings=True)

    # --- drafting ----------------------------------------------------------------------
    def last_conversation(self, customer_id: int) -> str | None:
        """The newest logged conversation's summary; completed touchpoints and sent greetings
        (which carry an occasion) are not conversations."""
        return self.last_conversations([customer_id]).get(customer_id)

    def last_conversations(self, customer_ids: list[int]) -> dict[int, str]:
        """`last_conversation` of each of these customers (those that have one), in one query
        per chunk of ids: the newest row per customer by a window over the history index."""
        i = m.Interaction
        ids = list(dict.fromkeys(customer_ids))
        found: dict[int, str] = {}
        with self._db.read() as session:
            for start in range(0, len(ids), IN_CHUNK):
                newest = (
                    select(
                        i.customer_id, i.summary,
                        func.row_number().over(
                            partition_by=i.customer_id,
                            order_by=(i.occurred_at.desc(), i.id.desc()),
                        ).label("rank"),
                    )
                    .where(i.customer_id.in_(ids[start:start + IN_CHUNK]),
                           i.occasion.is_(None), i.summary != "")
                    .subquery()
                )
                rows = session.execute(
                    select(newest.c.customer_id, newest.c.summary).where(newest.c.rank == 1))
                found.update((customer_id, summary) for customer_id, summary in rows)
        return found

    def _touchpoint_for(
        self, customer_id: int, occasion: Occasion, occurrence_date: date | None
    ) -> Touchpoint | None:
        today = self._clock.today()
        candidates = [
            t for t in self._touchpoints.for_customer(customer_id, days=NEAR_TOUCHPOINT_DAYS)
            if t.occasion is occasion
            and (occurrence_date is None or t.date == occurrence_date)
        ]
        candidates.sort(key=lambda t: abs((t.date - today).days))
        return candidates[0] if candidates else None

    def draft(
        self,
        customer_id: int,
        occasion: Occasion | str,
        template_key: str | None = None,
        occurrence_date: date | None = None,
    ) -> Draft:
        """A greeting for `customer_id` on `occasion`, from `template_key` or the occasion's
        default template; it answers the customer's open touchpoint of that occasion when one
        is near (or on `occurrence_date`)."""
        occasion = Occasion(occasion)
        customer = self._customers.get(customer_id)
        if template_key is None:
            found = self.templates(occasion)
            if not found:
                raise NotFoundError(f"There is no template for {occasion.title.lower()}.")
            template = found[0]
        else:
            template = self.template(template_key)
        touchpoint = self._touchpoint_for(customer_id, occasion, occurrence_date)
        when = occurrence_date or (touchpoint.date if touchpoint else self._clock.today())
        return self._build_draft(customer, occasion, template, touchpoint, when,
                                 self._draft_settings(), self.last_conversation(customer_id))

    def _draft_settings(self) -> _DraftSettings:
        return _DraftSettings(
            business_name=str(self._setting(BUSINESS_NAME) or ""),
            owner_name=str(self._setting(OWNER_NAME) or ""),
            signature=str(self._setting(SIGNATURE) or ""),
            channel=Channel(str(self._setting(DEFAULT_GREETING_CHANNEL) or "email")),
        )

    @staticmethod
    def _build_draft(
        customer: Customer,
        occasion: Occasion,
        template: StoredTemplate,
        touchpoint: Touchpoint | None,
        when: date,
        settings: _DraftSettings,
        last_conversation: str | None,
    ) -> Draft:
        """A draft from what was looked up (no database access: the batch looks everything
        up for all its drafts at once)."""
        source_id = None
        if touchpoint is not None:
            source_id = parse_occurrence_key(touchpoint.key).source_id
        title = _occasion_title(customer, occasion, source_id)
        context = TemplateContext.for_customer(
            customer,
            occasion=occasion,
            occasion_date=when,
            occasion_title=title,
            business_name=settings.business_name,
            owner_name=settings.owner_name,
            signature=settings.signature,
            last_conversation=last_conversation,
        )
        values = context.values()
        message = render_greeting(template.as_greeting(), values)
        return Draft(
            customer_id=customer.id,
            customer_name=customer.display_name,
            occasion=occasion,
            occasion_title=title,
            occasion_date=when,
            template_key=template.key,
            template_name=template.name,
            template_subject=template.subject,
            template_body=template.body,
            message=message,
            values=values,
            occurrence_key=touchpoint.key if touchpoint else None,
            email=customer.emails[0].address if customer.emails else None,
            mobile=mobile_number(customer),
            phone=customer.phones[0].number if customer.phones else None,
            channel=customer.preferred_channel or settings.channel,
        )

    def today_drafts(self) -> list[Draft]:
        """A draft for each overdue or today's touchpoint (the batch window's list).

        Set-based: the touchpoints, their customers, the templates, the settings and the last
        conversations are each read once for the whole batch (a few queries, whatever the
        number of drafts), instead of one `draft` (about 20 queries) per touchpoint."""
        due = self._touchpoints.due(days=0)
        if not due:
            return []
        customers = self._customers.get_many([t.customer_id for t in due])
        defaults: dict[Occasion, StoredTemplate] = {}
        for template in self.templates():  # default first within each occasion
            defaults.setdefault(template.occasion, template)
        settings = self._draft_settings()
        last = self.last_conversations(list(customers))
        drafts: list[Draft] = []
        for touchpoint in due:
            customer = customers.get(touchpoint.customer_id)
            template = defaults.get(touchpoint.occasion)
            if customer is None or template is None:
                logger.warning("No draft for %s: %s", touchpoint.key,
                               "no such customer" if customer is None else "no template")
                continue
            try:
                drafts.append(self._build_draft(customer, touchpoint.occasion, template,
                                                touchpoint, touchpoint.date, settings,
                                                last.get(customer.id)))
            except DomainError:
                logger.warning("No draft for %s", touchpoint.key, exc_info=True)
        return drafts

    # --- sending -----------------------------------------------------------------------
    def mark_sent(
        self,
        customer_id: int,
        channel: Channel | str,
        subject: str,
        body: str,
        occurrence_key: str | None = None,
        *,
        occasion: Occasion | str | None = None,
    ) -> Changed:
        """Record a sent greeting on the customer's history (with its channel); with an
        occurrence key, also complete that touchpoint."""
        summary = sent_summary(subject, body)
        if not summary:
            raise ValidationError({"body": "There is nothing to send."})
        channel = Channel(channel)
        if occurrence_key is not None:
            parsed = parse_occurrence_key(occurrence_key)
            if parsed.customer_id != customer_id:
                raise ValidationError({"occurrence_key": "That touchpoint belongs to "
                                                         "another customer."})
            recorded = self._touchpoints.mark_done(occurrence_key, summary, channel)
            return recorded.changed | Changed(greetings=True)
        settings = self._touchpoints.settings()
        # Logged with its occasion, so `$last_conversation` never quotes a greeting back
        # (pass `occasion`; without one the text counts as an ordinary conversation).
        with self._db.write() as session:
            add_interaction(
                session, customer_id=customer_id, summary=summary, when=self._clock.now(),
                channel=channel, staff_id=self._staff_id,
                occasion=Occasion(occasion) if occasion else None, settings=settings,
            )
        return Changed(customers=frozenset({customer_id}), interactions=True,
                       touchpoints=True, greetings=True)

