"""The voice of the customer: feedback items, themes, complaints, ideas, their history.

Feedback (praise, feedback, complaints, ideas, questions and imported public reviews) gets
its own tables beside `interactions` (which an item may point to when it was captured from a
conversation): typed items with a workflow status and an optimistic-locking version, themes
(compared ignoring case through `name_key`), complaint details (severity, responsible staff,
the plan's goal and target date, the follow-ups that remind of it), the status history and
progress notes, the customers who asked for an idea, and one meaning vector per item.

The lexical search behind "similar complaints" when the embedding model cannot load is an
FTS5 index (bm25) kept in step by triggers: SQLite only, behind a dialect check; other
databases fall back to word matching in SQL.

Revision ID: 0009_voice_of_the_customer
Revises: 0008_staff_and_versions
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_voice_of_the_customer"
down_revision = "0008_staff_and_versions"
branch_labels = None
depends_on = None

_FTS = (
    "CREATE VIRTUAL TABLE feedback_search USING fts5(text, content='feedback_items', "
    "content_rowid='id', tokenize = \"unicode61 remove_diacritics 2\")"
)
_TRIGGERS = (
    "CREATE TRIGGER feedback_search_insert AFTER INSERT ON feedback_items BEGIN "
    "INSERT INTO feedback_search(rowid, text) VALUES (NEW.id, NEW.text); END",
    "CREATE TRIGGER feedback_search_delete AFTER DELETE ON feedback_items BEGIN "
    "INSERT INTO feedback_search(feedback_search, rowid, text) "
    "VALUES ('delete', OLD.id, OLD.text); END",
    "CREATE TRIGGER feedback_search_update AFTER UPDATE OF text ON feedback_items BEGIN "
    "INSERT INTO feedback_search(feedback_search, rowid, text) "
    "VALUES ('delete', OLD.id, OLD.text); "
    "INSERT INTO feedback_search(rowid, text) VALUES (NEW.id, NEW.text); END",
)


def _staff_fk(column: str) -> sa.Column:
    return sa.Column(column, sa.Integer(), sa.ForeignKey("staff.id", ondelete="SET NULL"),
                     nullable=True)


def _item_fk(column: str = "item_id", primary: bool = True) -> sa.Column:
    return sa.Column(column, sa.Integer(),
                     sa.ForeignKey("feedback_items.id", ondelete="CASCADE"),
                     nullable=False, primary_key=primary)


def upgrade() -> None:
    op.create_table(
        "feedback_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(),
                  sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        _staff_fk("author_id"),
        sa.Column("interaction_id", sa.Integer(),
                  sa.ForeignKey("interactions.id", ondelete="SET NULL"), nullable=True),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("review_site", sa.String(length=100), nullable=False),
        sa.Column("merged_into_id", sa.Integer(),
                  sa.ForeignKey("feedback_items.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_feedback_items_customer", "feedback_items",
                    ["customer_id", "created_at", "id"])
    op.create_index("ix_feedback_items_kind_status", "feedback_items", ["kind", "status", "id"])
    op.create_index("ix_feedback_items_created", "feedback_items", ["created_at", "id"])

    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("name_key", sa.String(length=60), nullable=False, unique=True),
    )
    op.create_table(
        "feedback_item_themes",
        _item_fk(),
        sa.Column("theme_id", sa.Integer(), sa.ForeignKey("themes.id", ondelete="CASCADE"),
                  nullable=False, primary_key=True),
    )
    op.create_index("ix_feedback_item_themes_theme", "feedback_item_themes",
                    ["theme_id", "item_id"])

    op.create_table(
        "complaint_details",
        _item_fk(),
        sa.Column("severity", sa.String(length=8), nullable=False),
        _staff_fk("responsible_id"),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("plan_follow_up_id", sa.Integer(),
                  sa.ForeignKey("follow_ups.id", ondelete="SET NULL"), nullable=True),
        sa.Column("checkback_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_complaint_details_target", "complaint_details",
                    ["target_date", "item_id"])

    op.create_table(
        "feedback_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        _item_fk(primary=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        _staff_fk("staff_id"),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_index("ix_feedback_events_item", "feedback_events", ["item_id", "at", "id"])

    op.create_table(
        "idea_requesters",
        _item_fk("idea_id"),
        sa.Column("customer_id", sa.Integer(),
                  sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False,
                  primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_idea_requesters_customer", "idea_requesters", ["customer_id"])

    op.create_table(
        "feedback_vectors",
        _item_fk(),
        sa.Column("model", sa.String(length=80), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_feedback_vectors_model", "feedback_vectors", ["model", "item_id"])

    if op.get_bind().dialect.name == "sqlite":
        op.execute(_FTS)
        for trigger in _TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS feedback_search_{name}")
        op.execute("DROP TABLE IF EXISTS feedback_search")
    for table in ("feedback_vectors", "idea_requesters", "feedback_events", "complaint_details",
                  "feedback_item_themes", "themes", "feedback_items"):
        op.drop_table(table)
