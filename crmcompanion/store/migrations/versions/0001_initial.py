"""Initial schema: staff, customers with emails/phones/tags/special dates, settings, search.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# unicode61 with remove_diacritics folds case and accents; prefix indexes keep one- to
# three-letter prefix queries (typing "j", "jo", "joh") fast on 100k customers. `flags` holds
# one token per list filter (status, kind, archived; each starts with U+E000, a private-use
# character no typed word can contain) so filtered search counts stay inside FTS5; the
# trigger keeps it in step with the customers row (store/customers.py writes the same tokens,
# SEARCH_FLAGS_SQL, and a test checks both agree).
FTS_CREATE = (
    "CREATE VIRTUAL TABLE customer_search USING fts5("
    "name, company, emails, phones, tags, notes, flags, "
    "tokenize = \"unicode61 remove_diacritics 2\", prefix = '1 2 3')"
)
FLAGS_TRIGGER_CREATE = (
    "CREATE TRIGGER customers_search_flags AFTER UPDATE OF status, kind, archived_at "
    "ON customers BEGIN "
    "UPDATE customer_search SET flags = "
    "char(57344) || 'status' || NEW.status || ' ' || char(57344) || 'kind' || NEW.kind "
    "|| CASE WHEN NEW.archived_at IS NULL THEN '' ELSE ' ' || char(57344) || 'archived' END "
    "WHERE rowid = NEW.id; END"
)


def upgrade() -> None:

    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("is_local", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("name_key", sa.String(length=60), nullable=False),
        sa.Column("cadence_days", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_key"),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("sort_name", sa.String(length=200), nullable=False),
        sa.Column("sort_company", sa.String(length=200), nullable=False),
        sa.Column("primary_email", sa.String(length=320), nullable=False),
        sa.Column("primary_phone", sa.String(length=40), nullable=False),
        sa.Column("tags_text", sa.Text(), nullable=False),
        sa.Column("street", sa.Text(), nullable=False),
        sa.Column("city", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key_account", sa.Boolean(), nullable=False),
        sa.Column("preferred_channel", sa.String(length=16), nullable=True),
        sa.Column("customer_since", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("source_uid", sa.String(length=300), nullable=False),
        sa.Column("do_not_contact", sa.Boolean(), nullable=False),
        sa.Column("cadence_days", sa.Integer(), nullable=True),
        sa.Column("archived_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customers_created_at", "customers", ["created_at", "id"], unique=False)
    op.create_index("ix_customers_kind", "customers", ["kind", "id"], unique=False)
    op.create_index(
        "ix_customers_primary_email", "customers", ["primary_email", "id"], unique=False
    )
    op.create_index("ix_customers_sort_company", "customers", ["sort_company", "id"], unique=False)
    op.create_index("ix_customers_sort_name", "customers", ["sort_name", "id"], unique=False)
    op.create_index("ix_customers_source_uid", "customers", ["source_uid"], unique=False)
    op.create_index("ix_customers_status", "customers", ["status", "id"], unique=False)
    op.create_index("ix_customers_updated_at", "customers", ["updated_at", "id"], unique=False)
    op.create_table(
        "customer_emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("address_key", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_emails_customer", "customer_emails", ["customer_id"], unique=False)
    op.create_index("ix_customer_emails_key", "customer_emails", ["address_key"], unique=False)
    op.create_table(
        "customer_phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("digits", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_phones_customer", "customer_phones", ["customer_id"], unique=False)
    op.create_index("ix_customer_phones_digits", "customer_phones", ["digits"], unique=False)
    op.create_table(
        "customer_tags",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", "tag_id"),
    )
    op.create_index(
        "ix_customer_tags_tag", "customer_tags", ["tag_id", "customer_id"], unique=False
    )
    op.create_table(
        "special_dates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("md_key", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_special_dates_customer", "special_dates", ["customer_id"], unique=False)
    op.create_index(
        "ix_special_dates_md_key", "special_dates", ["md_key", "customer_id"], unique=False
    )
    # Partial: only archived rows, so it stays tiny and the planner never prefers it to a
    # sort index for the usual "not archived" list; counts "all minus archived" instantly.
    op.create_index(
        "ix_customers_archived_at",
        "customers",
        ["archived_at"],
        unique=False,
        sqlite_where=sa.text("archived_at IS NOT NULL"),
        postgresql_where=sa.text("archived_at IS NOT NULL"),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(FTS_CREATE)
        op.execute(FLAGS_TRIGGER_CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER customers_search_flags")
        op.execute("DROP TABLE customer_search")
    for table in (
        "customer_tags",
        "special_dates",
        "customer_phones",
        "customer_emails",
        "customers",
        "tags",
        "staff",
        "settings",
    ):
        op.drop_table(table)
