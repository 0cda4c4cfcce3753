"""Greeting templates: the owner's editable library, seeded from the shipped defaults.

Revision ID: 0005_greeting_templates
Revises: 0004_import_batches
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_greeting_templates"
down_revision = "0004_import_batches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "greeting_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("occasion", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("tone", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_greeting_templates_key"),
    )
    op.create_index(
        "ix_greeting_templates_occasion", "greeting_templates", ["occasion", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_greeting_templates_occasion", table_name="greeting_templates")
    op.drop_table("greeting_templates")
