"""Reminders: the fired-reminder log (exactly-once delivery per occurrence and staff user)
and the last day each staff user's delivery pass covered.

Revision ID: 0003_reminders
Revises: 0002_touchpoints
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_reminders"
down_revision = "0002_touchpoints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fired_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurrence_key", sa.String(length=120), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("occasion", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("remind_on", sa.Date(), nullable=False),
        sa.Column("fired_at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("occurrence_key", "staff_id", name="uq_fired_reminders_key_staff"),
    )
    op.create_index(
        "ix_fired_reminders_unacknowledged",
        "fired_reminders",
        ["staff_id", "acknowledged_at", "id"],
    )
    op.create_index("ix_fired_reminders_customer", "fired_reminders", ["customer_id"])
    op.create_table(
        "reminder_checks",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("checked_until", sa.Date(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_id"),
    )


def downgrade() -> None:
    op.drop_table("reminder_checks")
    op.drop_index("ix_fired_reminders_customer", table_name="fired_reminders")
    op.drop_index("ix_fired_reminders_unacknowledged", table_name="fired_reminders")
    op.drop_table("fired_reminders")
