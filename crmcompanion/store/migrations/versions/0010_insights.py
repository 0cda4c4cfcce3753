"""Insights: why lost customers left, what a customer is worth, and stored health segments.

Customers gain `lost_reason`, `lost_note`, `lost_on` and `yearly_value`. Customers already
lost keep a NULL reason (counted as "unknown") and their last update's day as the day they
were lost, the best date there is. `customer_health` holds each customer's segment and its
reasons in words; `insight_state` names the day and thresholds they were computed under.

Triggers mark a customer's health row dirty when what the segment rules read changes
(conversations, feedback items and their history, the customer row, the keep-in-touch
rhythm), so the service recomputes only those rows: SQLite only, behind a dialect check; on
other databases the service recomputes every row before it answers.

Revision ID: 0010_insights
Revises: 0009_voice_of_the_customer
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_insights"
down_revision = "0009_voice_of_the_customer"
branch_labels = None
depends_on = None

_MARK = "UPDATE customer_health SET dirty = 1 WHERE customer_id = {who} AND dirty = 0"
# Frozen copies (convention 9): the columns the segment rules read in this revision.
_CUSTOMER_COLUMNS = ("status, kind, key_account, archived_at, cadence_days, lost_reason, "
                     "lost_note, yearly_value, customer_since")
TRIGGERS: dict[str, str] = {
    "customer_health_interaction_insert":
        f"AFTER INSERT ON interactions BEGIN {_MARK.format(who='NEW.customer_id')}; END",
    "customer_health_interaction_delete":
        f"AFTER DELETE ON interactions BEGIN {_MARK.format(who='OLD.customer_id')}; END",
    "customer_health_feedback_insert":
        f"AFTER INSERT ON feedback_items BEGIN {_MARK.format(who='NEW.customer_id')}; END",
    "customer_health_feedback_delete":
        f"AFTER DELETE ON feedback_items BEGIN {_MARK.format(who='OLD.customer_id')}; END",
    "customer_health_feedback_update":
        "AFTER UPDATE OF customer_id, kind, status, satisfaction, created_at ON feedback_items "
        f"BEGIN {_MARK.format(who='OLD.customer_id')}; {_MARK.format(who='NEW.customer_id')}; "
        "END",
    "customer_health_feedback_event":
        "AFTER INSERT ON feedback_events BEGIN "
        + _MARK.format(who="(SELECT customer_id FROM feedback_items WHERE id = NEW.item_id)")
        + "; END",
    "customer_health_customer_update":
        f"AFTER UPDATE OF {_CUSTOMER_COLUMNS} ON customers "
        f"BEGIN {_MARK.format(who='NEW.id')}; END",
    "customer_health_rhythm_update":
        "AFTER UPDATE OF cadence_days, last_interaction_on ON contact_rhythm "
        "WHEN NEW.cadence_days IS NOT OLD.cadence_days "
        "OR NEW.last_interaction_on IS NOT OLD.last_interaction_on "
        f"BEGIN {_MARK.format(who='NEW.customer_id')}; END",
}


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("lost_reason", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("lost_note", sa.Text(), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("lost_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("yearly_value", sa.Float(), nullable=True))
    customers = sa.table("customers", sa.column("status", sa.String),
                         sa.column("updated_at", sa.DateTime), sa.column("lost_on", sa.Date))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE customers SET lost_on = date(updated_at) WHERE status = 'lost'")
    else:
        op.execute(customers.update().where(customers.c.status == "lost")
                   .values(lost_on=sa.cast(customers.c.updated_at, sa.Date)))

    op.create_table(
        "customer_health",
        sa.Column("customer_id", sa.Integer(),
                  sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("segment", sa.String(length=12), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        sa.Column("previous_segment", sa.String(length=12), nullable=True),
        sa.Column("changed_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_customer_health_segment", "customer_health",
                    ["segment", "customer_id"])
    op.create_index("ix_customer_health_changed", "customer_health", ["changed_on", "segment"])
    # Partial on SQLite (dirty rows only); a plain index elsewhere.
    op.create_index("ix_customer_health_dirty", "customer_health", ["customer_id"],
                    sqlite_where=sa.text("dirty = 1"))
    op.create_table(
        "insight_state",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        for name, body in TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("insight_state")
    op.drop_table("customer_health")
    with op.batch_alter_table("customers") as batch:
        for column in ("yearly_value", "lost_on", "lost_note", "lost_reason"):
            batch.drop_column(column)
