"""PostgreSQL (team mode): each customer's sort name beside its id, in one index.

A search keystroke whose matches sort far down the list ('z', 'so', 'jose': 1-4% of the
book) reads its first page by sorting every match on its sort name
(store.postgres_search._hashed_walk's fallback). Found by id in the primary key, each match
read its wide customer row for that one column: ~3,400 rows for 'z' at 100,000 customers.
`ix_customers_id_sort_name` holds (id) with sort_name included, so the sort is read from
the index alone (an index-only scan once VACUUM has marked the pages all-visible).

SQLite sorts its matches through its own indexes and FTS5 (store.customers); nothing there
changes.

Revision ID: 0013_postgres_customer_sort_name_by_id
Revises: 0012_postgres_partial_indexes
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0013_postgres_customer_sort_name_by_id"
down_revision = "0012_postgres_partial_indexes"
branch_labels = None
depends_on = None

INDEX = "ix_customers_id_sort_name"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(INDEX, "customers", ["id"], postgresql_include=["sort_name"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(INDEX, table_name="customers")
