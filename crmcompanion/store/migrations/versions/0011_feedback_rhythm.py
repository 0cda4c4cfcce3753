"""The ask-for-feedback rhythm per tag (issue 15): "ask for feedback every 6 months for key
accounts".

`tags.feedback_months` is a tag's rhythm in months (NULL: none). `feedback_asks` remembers
each time a customer was asked for feedback (or the rhythm's ask was skipped), so the rhythm
counts from the last ask or the last feedback received, whichever is later. The rhythm's
open ask is an `ask_feedback` row of `follow_ups` (indexed by customer now, as there can be
one per customer), kept in step by
`store.feedback_rhythm.refresh`, so Today, `due` and done/snooze/skip read it through the
follow-up path that exists (no new Today query).

Plain SQLAlchemy/Alembic operations: the same on SQLite and PostgreSQL.

Revision ID: 0011_feedback_rhythm
Revises: 0010_insights
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_feedback_rhythm"
down_revision = "0010_insights"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column: SQLite adds it in place (no table rebuild, the tag triggers stay).
    op.add_column("tags", sa.Column("feedback_months", sa.Integer(), nullable=True))
    op.create_table(
        "feedback_asks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(),
                  sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sa.Column("skipped", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(),
                  sa.ForeignKey("staff.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_feedback_asks_customer", "feedback_asks", ["customer_id", "asked_on"])
    # One customer's open follow-ups by due day: with a rhythm, tens of thousands of open
    # asks made every per-customer look-up (Today takes recorded states off customer by
    # customer) scan all open follow-ups through (open, due_on): Today went from 0.6 s to
    # 11.8 s of CPU at 100,000 customers with 46,000 asks.
    op.create_index("ix_follow_ups_customer_open_due", "follow_ups",
                    ["customer_id", "open", "due_on", "id"])


def downgrade() -> None:
    op.drop_index("ix_follow_ups_customer_open_due", table_name="follow_ups")
    op.drop_index("ix_feedback_asks_customer", table_name="feedback_asks")
    op.drop_table("feedback_asks")
    if op.get_bind().dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite 3.35+): a batch rebuild would drop the tag triggers.
        op.execute("ALTER TABLE tags DROP COLUMN feedback_months")
    else:
        op.drop_column("tags", "feedback_months")
