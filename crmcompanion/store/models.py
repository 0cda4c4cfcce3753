"""SQLAlchemy 2 typed models: the schema, mirrored by the Alembic migrations.

Denormalised columns (`sort_name`, `primary_email`, `tags_text`, ...) exist so the customer list
can be paged from one indexed table without joins; the customer service keeps them in step.
Timestamps are stored as naive UTC; date-only facts (birthdays, customer-since) stay dates.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Staff(Base):
    """A person who works in the app; one local row ("you") until team mode adds more."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), default="")
    is_local: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)


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
    source_uid: Mapped[str] = mapped_column(String(300), default="")
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    cadence_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    emails: Mapped[list[CustomerEmail]] = relationship(
        order_by="CustomerEmail.position", cascade="all, delete-orphan", passive_deletes=True
    )
    phones: Mapped[list[CustomerPhone]] = relationship(
        order_by="CustomerPhone.position", cascade="all, delete-orphan", passive_deletes=True
    )
    special_dates: Mapped[list[SpecialDate]] = relationship(
        order_by="SpecialDate.id", cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declared form
    __table_args__ = (
        Index("ix_customers_sort_name", "sort_name", "id"),
        Index("ix_customers_sort_company", "sort_company", "id"),
        Index("ix_customers_primary_email", "primary_email", "id"),
        Index("ix_customers_status", "status", "id"),
        Index("ix_customers_kind", "kind", "id"),
        Index("ix_customers_updated_at", "updated_at", "id"),
        Index("ix_customers_created_at", "created_at", "id"),
        Index("ix_customers_source_uid", "source_uid"),
        # Partial (archived rows only): see migration 0001.
        Index(
            "ix_customers_archived_at",
            "archived_at",
            sqlite_where=text("archived_at IS NOT NULL"),
            postgresql_where=text("archived_at IS NOT NULL"),
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
