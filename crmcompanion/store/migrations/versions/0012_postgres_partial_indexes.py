"""PostgreSQL (team mode): the "dirty rows" indexes become partial there too.

0002's `ix_contact_rhythm_dirty` and 0010's `ix_customer_health_dirty` are partial on SQLite
(`WHERE dirty`), which is what makes "is anything stale?" one index probe; on PostgreSQL they
were created as plain indexes on customer_id, so that check (run before every Today read)
read the whole rhythm table: ~13 ms at 100,000 customers. Here they are re-created partial
on PostgreSQL; SQLite's are already so and are left alone.

Revision ID: 0012_postgres_partial_indexes
Revises: 0011_feedback_rhythm
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_postgres_partial_indexes"
down_revision = "0011_feedback_rhythm"
branch_labels = None
depends_on = None

# (index, table): each on customer_id, for the rows whose `dirty` is true.
INDEXES = (("ix_contact_rhythm_dirty", "contact_rhythm"),
           ("ix_customer_health_dirty", "customer_health"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, ["customer_id"], postgresql_where=sa.text("dirty"))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, ["customer_id"])
