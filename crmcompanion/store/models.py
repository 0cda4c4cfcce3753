"""SQLAlchemy 2 typed models: the schema, mirrored by the Alembic migrations.

Denormalised columns (`sort_name`, `primary_email`, `tags_text`, ...) exist so the customer list
can be paged from one indexed table without joins; the customer service keeps them in step.
Timestamps are stored as naive UTC; date-only facts (birthdays, customer-since) stay dates.
"""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from crmcompanion.core.customer import new_uid


class Base(DeclarativeBase):
    pass


class Staff(Base):
    """A person who works in the app: one row per login, created on first use.

    `login` is the folded login name (core.staff.login_key), unique so two processes starting
    at once end up with one row (migration 0008). The "You" row of databases older than 0008
    has none until its owner's first start claims it (store.database.ensure_local_staff).
    """

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), default="")
    is_local: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    login: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (Index("ix_staff_login", "login", unique=True),)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(200), default="")
    display_name: Mapped[str] = mapped_column(String(200), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    # Folded copies for accent- and case-insensitive sorting through an index.
    sort_name: Mapped[str] = mapped_column(String(200), default="")
    sort_company: Mapped[str] = mapped_column(String(200), default="")
    primary_email: Mapped[str] = mapped_column(String(320), default="")
    primary_phone: Mapped[str] = mapped_column(String(40), default="")
    tags_text: Mapped[str] = mapped_column(Text, default="")
    street: Mapped[str] = mapped_column(Text, default="")
    city: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(40), default="")
    country: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    kind: Mapped[str] = mapped_column(String(16), default="external")
    key_account: Mapped[bool] = mapped_column(Boolean, default=False)
    preferred_channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    customer_since: Mapped[date | None] = mapped_column(Date, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The customer's UID: random (core.customer.new_uids) from creation on, or the one the
    # import file gave; exports write it and imports match stored customers by it. The
    # default gives any row made without one (the ORM, tests) a UID of its own too.
    source_uid: Mapped[str] = mapped_column(String(300), default=new_uid)
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    cadence_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Insights (issue 16, migration 0010): why and when a lost customer left (NULL reason on
    # a lost customer: marked lost before the reason was asked for, counted as unknown), and
    # what the customer is worth a year, which orders at-risk customers by what is at stake.
    lost_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    lost_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    lost_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    yearly_value: Mapped[float | None] = mapped_column(Float, nullable=True)

    emails: Mapped[list["CustomerEmail"]] = relationship(
        order_by="CustomerEmail.position", cascade="all, delete-orphan", passive_deletes=True
    )
    phones: Mapped[list["CustomerPhone"]] = relationship(
        order_by="CustomerPhone.position", cascade="all, delete-orphan", passive_deletes=True
    )
    special_dates: Mapped[list["SpecialDate"]] = relationship(
        order_by="SpecialDate.id", cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declared form
    __table_args__ = (
        Index("ix_customers_sort_name", "sort_name", "id"),
        # Sort names by id: a search's matches sorted without reading their rows (migration
        # 0014 on SQLite; on PostgreSQL 0013 made it (id) INCLUDE (sort_name), left unnamed
        # here for the same reason as `postgresql_where` below).
        Index("ix_customers_id_sort_name", "id", "sort_name"),
        Index("ix_customers_sort_company", "sort_company", "id"),
        Index("ix_customers_primary_email", "primary_email", "id"),
        Index("ix_customers_status", "status", "id"),
        Index("ix_customers_kind", "kind", "id"),
        Index("ix_customers_updated_at", "updated_at", "id"),
        Index("ix_customers_created_at", "created_at", "id"),
        # Unique: every customer has its own random UID (migration 0007).
        Index("ix_customers_source_uid", "source_uid", unique=True),
        # Partial (archived rows only): see migration 0001, which also creates it partial on
        # PostgreSQL. No `postgresql_where` here: naming it makes SQLAlchemy import its whole
        # PostgreSQL dialect at every start (~20 ms), for a schema only Alembic creates.
        Index(
            "ix_customers_archived_at",
            "archived_at",
            sqlite_where=text("archived_at IS NOT NULL"),
        ),
    )


class CustomerEmail(Base):
    __tablename__ = "customer_emails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(40), default="home")
    address: Mapped[str] = mapped_column(String(320))
    # Lowercased: what duplicate detection and `--customer EMAIL` compare.
    address_key: Mapped[str] = mapped_column(String(320))

    __table_args__ = (
        Index("ix_customer_emails_customer", "customer_id"),
        Index("ix_customer_emails_key", "address_key"),
    )


class CustomerPhone(Base):
    __tablename__ = "customer_phones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(40), default="mobile")
    number: Mapped[str] = mapped_column(String(40))
    digits: Mapped[str] = mapped_column(String(40))

    __table_args__ = (
        Index("ix_customer_phones_customer", "customer_id"),
        Index("ix_customer_phones_digits", "digits"),
    )


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    name_key: Mapped[str] = mapped_column(String(60), unique=True)
    cadence_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Ask everyone with this tag for feedback every N months (migration 0011; None: never).
    feedback_months: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CustomerTag(Base):
    __tablename__ = "customer_tags"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_customer_tags_tag", "tag_id", "customer_id"),)


class SpecialDate(Base):
    """A yearly date; `md_key` = month*100+day so occurrences are found through an index."""

    __tablename__ = "special_dates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(200), default="")
    month: Mapped[int] = mapped_column(Integer)
    day: Mapped[int] = mapped_column(Integer)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    md_key: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_special_dates_md_key", "md_key", "customer_id"),
        Index("ix_special_dates_customer", "customer_id"),
    )


class Setting(Base):
    """Application settings as JSON values, in the database so they travel with the data."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


# --- Touchpoints and interactions (special dates, keep in touch, follow-ups) ----------------


class Interaction(Base):
    """One logged contact with a customer: the history list and the keep-in-touch clock.

    Later features (complaints, ideas, greetings sent) add columns to this table; there is
    never a second history table. `occurred_on` is the local calendar day of `occurred_at`,
    kept so cadence rules work on dates, never on UTC timestamps.
    """

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    occurred_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), nullable=True
    )
    summary: Mapped[str] = mapped_column(Text, default="")
    occasion: Mapped[str | None] = mapped_column(String(32), nullable=True)
    occurrence_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_interactions_customer", "customer_id", "occurred_at", "id"),
        Index("ix_interactions_occurrence_key", "occurrence_key"),
    )


class FollowUp(Base):
    """A one-off dated touchpoint: "call back on Tuesday", or a complaint check-back.

    `source_id` is the id shown in the occurrence key when another feature owns the source
    (a feedback item); None means the follow-up's own id. `open` turns False once the
    occurrence is done or skipped, so open follow-ups are an index range.
    """

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    occasion: Mapped[str] = mapped_column(String(32), default="follow_up")
    due_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    source_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (
        Index("ix_follow_ups_open_due", "open", "due_on", "id"),
        Index("ix_follow_ups_customer", "customer_id"),
        # Migration 0011: one customer's open follow-ups (an ask-for-feedback per customer).
        Index("ix_follow_ups_customer_open_due", "customer_id", "open", "due_on", "id"),
    )


class TouchpointRecord(Base):
    """What the owner recorded about one occurrence: done, skipped (with a reason) or snoozed.

    Upcoming and due are computed, never stored. A done or skipped occurrence never comes back.
    """

    __tablename__ = "touchpoint_states"

    occurrence_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    occasion: Mapped[str] = mapped_column(String(32))
    occurrence_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    snoozed_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interactions.id", ondelete="SET NULL"), nullable=True
    )
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), nullable=True
    )
    # Optimistic locking (migration 0008): a done/skip/snooze over a state someone else
    # recorded since it was read is detected (services.touchpoints), never written over.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declared form
    __table_args__ = (
        Index("ix_touchpoint_states_occurrence", "occurrence_on", "customer_id"),
        Index("ix_touchpoint_states_state", "state", "occasion"),
        Index("ix_touchpoint_states_customer", "customer_id"),
    )


class TouchpointOptOut(Base):
    """A customer who wants no touchpoint of one occasion (no anniversary after a divorce)."""

    __tablename__ = "touchpoint_opt_outs"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    occasion: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ContactRhythm(Base):
    """Per-customer derived touchpoint data, kept in step by the touchpoint service.

    `next_due_on` (NULL when the customer gets no keep-in-touch) makes "who is past their
    cadence" an index range scan. SQLite triggers (migration 0002) set `dirty` whenever a
    customer, its tags, special dates, tag cadences or cadence settings change; the service
    recomputes dirty rows before it reads. The primary key replaces on conflict so restoring a
    deleted customer's snapshot overwrites the row the insert trigger made.
    """

    __tablename__ = "contact_rhythm"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"),
        primary_key=True,
        sqlite_on_conflict_primary_key="REPLACE",
    )
    dirty: Mapped[bool] = mapped_column(Boolean, default=True)
    last_interaction_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reset_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    contact_base_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    cadence_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    next_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (Index("ix_contact_rhythm_next_due", "next_due_on", "customer_id"),)


Index(
    "ix_contact_rhythm_dirty",
    ContactRhythm.customer_id,
    sqlite_where=ContactRhythm.dirty.is_(True),
)


class TouchpointSource(Base):
    """One yearly date that may produce touchpoints, only for customers who allow it.

    Derived from special_dates and customers.customer_since (customer anniversaries) so that
    counting a section is a plain range count on `md_key`, with no join.
    """

    __tablename__ = "touchpoint_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    occasion: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    md_key: Mapped[int] = mapped_column(Integer)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    label: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (
        # Covering for section counts: the range on md_key and the year test need no row.
        Index("ix_touchpoint_sources_md_key", "md_key", "year", "occasion"),
        Index("ix_touchpoint_sources_customer", "customer_id"),
    )


class KeepInTouchDueCount(Base):
    """How many customers are due for a keep-in-touch check-in on each day.

    Kept by triggers on `contact_rhythm` (migration 0002) and rebuilt after a bulk recompute,
    so counting everyone overdue is a sum over days, not a walk over every overdue customer.
    """

    __tablename__ = "keep_in_touch_due_counts"

    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    customers: Mapped[int] = mapped_column(Integer)


# --- Reminders: the fired-reminder log (exactly-once delivery) ------------------------------


class FiredReminder(Base):
    """One reminder delivered to one staff user: the exactly-once log and the in-app list.

    The unique (occurrence_key, staff_id) pair is the delivery guarantee: a pass INSERTs the
    row first and notifies only when its insert won, so two processes (the GUI and a
    `remind --once` cron job) never notify the same occurrence twice. The key names the
    occurrence, never a timestamp, so clock changes cannot create a second row. Name, occasion
    and text are copied in so the list still reads well after the customer is edited.
    """

    __tablename__ = "fired_reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrence_key: Mapped[str] = mapped_column(String(120))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    occasion: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    remind_on: Mapped[date] = mapped_column(Date)
    fired_at: Mapped[datetime] = mapped_column(DateTime)
    # Which backend showed it ("desktop", "tray"), or "app" when only the in-app list has it.
    channel: Mapped[str] = mapped_column(String(40), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("occurrence_key", "staff_id", name="uq_fired_reminders_key_staff"),
        Index("ix_fired_reminders_unacknowledged", "staff_id", "acknowledged_at", "id"),
        Index("ix_fired_reminders_customer", "customer_id"),
    )


class ReminderCheck(Base):
    """The last remind_on day a delivery pass covered, per staff user (None: never ran)."""

    __tablename__ = "reminder_checks"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    checked_until: Mapped[date] = mapped_column(Date)
    checked_at: Mapped[datetime] = mapped_column(DateTime)


# --- Imports (undo of the last import) -----------------------------------------------------


class ImportBatch(Base):
    """One import run: where customers came from, and what "Undo last import" removes."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(500), default="")
    format: Mapped[str] = mapped_column(String(32), default="")
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), nullable=True
    )
    undone_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ImportBatchCustomer(Base):
    """A customer created by an import batch (a link table, so customers stay untouched)."""

    __tablename__ = "import_batch_customers"

    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_import_batch_customers_customer", "customer_id"),)


# --- Greetings (the owner's template library) ----------------------------------------------


class GreetingTemplateRow(Base):
    """One editable greeting template; the shipped library is copied in on first use.

    `is_default` marks the template a new draft for its occasion starts with (one per
    occasion); `key` is the shipped library's key for seeded rows, `custom-<n>` for new ones.
    """

    __tablename__ = "greeting_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    occasion: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    tone: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("key", name="uq_greeting_templates_key"),
        Index("ix_greeting_templates_occasion", "occasion", "id"),
    )


# --- The voice of the customer: feedback, complaints, ideas, public reviews (issue 15) -------


class FeedbackItem(Base):
    """One piece of feedback: praise, feedback, a complaint, an idea or a question.

    `customer_id` is NULL only for a public review whose author matches no customer. `status`
    is the complaint or idea workflow state (NULL for the other types). A merged idea keeps
    its row with `merged_into_id` set, so its history still reads; its requesters move on.
    `version` guards against two people editing one item at once (optimistic locking).
    """

    __tablename__ = "feedback_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="conversation")
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), nullable=True
    )
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interactions.id", ondelete="SET NULL"), nullable=True
    )
    # A public review's author and where it was posted, as the export said.
    reviewer: Mapped[str] = mapped_column(String(200), default="")
    review_site: Mapped[str] = mapped_column(String(100), default="")
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_items.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declared form
    __table_args__ = (
        Index("ix_feedback_items_customer", "customer_id", "created_at", "id"),
        Index("ix_feedback_items_kind_status", "kind", "status", "id"),
        Index("ix_feedback_items_created", "created_at", "id"),
    )


class Theme(Base):
    """A recurring subject of feedback ("delivery"), stored as first typed; `name_key` is the
    case-folded form two themes are compared by."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    name_key: Mapped[str] = mapped_column(String(60), unique=True)


class FeedbackItemTheme(Base):
    __tablename__ = "feedback_item_themes"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_items.id", ondelete="CASCADE"), primary_key=True
    )
    theme_id: Mapped[int] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_feedback_item_themes_theme", "theme_id", "item_id"),)


class ComplaintDetail(Base):
    """What only a complaint has: severity, who is responsible, the plan agreed with the
    customer (goal, target date), and the follow-ups that carry its reminders: the plan's
    target-date reminder and the check-back after it was resolved."""

    __tablename__ = "complaint_details"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_items.id", ondelete="CASCADE"), primary_key=True
    )
    severity: Mapped[str] = mapped_column(String(8), default="normal")
    responsible_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), nullable=True
    )
    goal: Mapped[str] = mapped_column(Text, default="")
    target_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    plan_follow_up_id: Mapped[int | None] = mapped_column(
        ForeignKey("follow_ups.id", ondelete="SET NULL"), nullable=True
    )
    checkback_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (Index("ix_complaint_details_target", "target_date", "item_id"),)


class FeedbackEvent(Base):
    """The item's history: each status change (from, to) and each progress note, with who
    and when. A note alone has no statuses; a move may carry a note."""

    __tablename__ = "feedback_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("feedback_items.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), nullable=True
    )
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_feedback_events_item", "item_id", "at", "id"),)


class IdeaRequester(Base):
    """A customer who asked for an idea (the idea's own customer is one of them)."""

    __tablename__ = "idea_requesters"

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_items.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_idea_requesters_customer", "customer_id"),)


class FeedbackVector(Base):
    """The meaning of one item's text as float32 bytes (written when the item is saved, never
    at query time), and the model that made it so a model change can re-encode."""

    __tablename__ = "feedback_vectors"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_items.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(80))
    vector: Mapped[bytes] = mapped_column(LargeBinary)

    # Covering for "has any vector changed?" (count, max and sum of ids of one model), which
    # every similar-complaints refresh asks: without it SQLite reads every 1 KB vector.
    __table_args__ = (Index("ix_feedback_vectors_model", "model", "item_id"),)

# --- Insights: stored health segments (issue 16) -----------------------------------------------


class FeedbackAsk(Base):
    """One time a customer was asked for feedback, or the rhythm's ask was skipped
    (migration 0011): the ask-for-feedback rhythm counts from the latest of these and the
    latest feedback item."""

    __tablename__ = "feedback_asks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    asked_on: Mapped[date] = mapped_column(Date)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (Index("ix_feedback_asks_customer", "customer_id", "asked_on"),)


class CustomerHealth(Base):
    """Each non-archived customer's health segment and its reasons in words, kept current.

    SQLite triggers (migration 0010) set `dirty` when what the rules read changes (the
    customer row, conversations, feedback, its history, the rhythm); `services.insights`
    recomputes dirty and missing rows before any answer, and every row when the day or the
    thresholds changed (`InsightState`). `previous_segment` and `changed_on` remember the last
    move, for "moved to at risk this week".
    """

    __tablename__ = "customer_health"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    segment: Mapped[str] = mapped_column(String(12))
    reasons: Mapped[str] = mapped_column(Text, default="")
    dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    previous_segment: Mapped[str | None] = mapped_column(String(12), nullable=True)
    changed_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (
        Index("ix_customer_health_segment", "segment", "customer_id"),
        Index("ix_customer_health_changed", "changed_on", "segment"),
        # Partial (dirty rows only): "is anything to recompute?" is one probe, not a scan.
        Index("ix_customer_health_dirty", "customer_id", sqlite_where=text("dirty = 1")),
    )


class InsightState(Base):
    """Named values of the insights machinery: under which day and thresholds the stored
    segments were computed (`segments_key`)."""

    __tablename__ = "insight_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
