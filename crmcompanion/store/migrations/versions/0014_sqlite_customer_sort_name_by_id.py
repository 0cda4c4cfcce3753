"""SQLite: each customer's sort name beside its id, in one index.

A search keystroke matching too few customers to walk the name index ("so", "z", "o'br",
"müller", "anna": 2,600-3,800 of 100,000) sorts every match on its sort name
(store.customers._window). Found by id in the table, each match read its wide customer row
for that one column: one 4 KB page per match, ~3,500 page reads per keystroke.
`ix_customers_id_sort_name` holds (id, sort_name), ~2.4 MB at 100,000 customers, so the
matches are sorted from the index alone and only the page's customers are read.

PostgreSQL has had an index of this name since 0013 ((id) INCLUDE (sort_name)): one name
means "sort names by id" on both engines, and here PostgreSQL has nothing to do.

Revision ID: 0014_sqlite_customer_sort_name_by_id
Revises: 0013_postgres_customer_sort_name_by_id
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0014_sqlite_customer_sort_name_by_id"
down_revision = "0013_postgres_customer_sort_name_by_id"
branch_labels = None
depends_on = None

INDEX = "ix_customers_id_sort_name"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.create_index(INDEX, "customers", ["id", "sort_name"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.drop_index(INDEX, table_name="customers")
