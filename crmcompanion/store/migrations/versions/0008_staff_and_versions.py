"""Team mode foundations: one staff row per login, and versions on touchpoint states.

Staff: each person is a staff row found by their folded login name (`staff.login`, unique, so
two processes starting at once for one person insert one row: the loser of the race reads the
winner's). Existing rows keep a NULL login: the "You" row of a one-person database is claimed
by its owner's first start (store.database.ensure_local_staff), so the history it names
becomes theirs. NULLs are distinct in a unique index on SQLite and PostgreSQL alike.

Versions: `customers.version` exists since 0001 (optimistic locking of customer edits);
`touchpoint_states` gains one (NOT NULL, 1 for every existing row), so marking a touchpoint
done or snoozed over a state someone else recorded meanwhile is detected instead of written
over. Plain Alembic operations only: this runs on SQLite and PostgreSQL.

Revision ID: 0008_staff_and_versions
Revises: 0007_customer_uids_and_search_folding
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_staff_and_versions"
down_revision = "0007_customer_uids_and_search_folding"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN needs no table rebuild on either engine (no batch mode: SQLite would copy
    # the table and lose nothing, but there is no need).
    op.add_column("staff", sa.Column("login", sa.String(length=200), nullable=True))
    op.create_index("ix_staff_login", "staff", ["login"], unique=True)
    op.add_column(
        "touchpoint_states",
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )


def downgrade() -> None:
    with op.batch_alter_table("touchpoint_states") as batch:
        batch.drop_column("version")
    op.drop_index("ix_staff_login", table_name="staff")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("login")
