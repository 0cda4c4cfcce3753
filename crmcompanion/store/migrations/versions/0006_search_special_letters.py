"""Search index: letters the tokenizer cannot fold (ł, ø, ß, æ, œ, đ, ı, þ, ð) spelled out.

SQLite's unicode61 tokenizer strips accents but keeps these letters, while a typed query is
folded by core.text.fold ("łukasz" -> "lukasz"), so "Łukasz", "Søren", "Straße" or "Yılmaz"
could not be found at all. New rows are indexed through core.text.indexable; this rewrites
the rows already stored that hold one of those letters.

Revision ID: 0006_search_special_letters
Revises: 0005_greeting_templates
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0006_search_special_letters"
down_revision = "0005_greeting_templates"
branch_labels = None
depends_on = None

# A frozen copy of core.text.INDEX_FOLDS as of this revision (a migration must not change
# meaning when the app's table changes later).
_FOLDS = {"ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe",
          "Œ": "OE", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "þ": "th",
          "Þ": "TH", "ð": "d", "Ð": "D"}
_COLUMNS = ("name", "company", "emails", "tags", "notes")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        # PostgreSQL's search table starts at revision 0001 holding folded text: nothing to do.
        return
    table = str.maketrans(_FOLDS)
    letters = "".join(_FOLDS)
    # GLOB's character class is UTF-8 aware: only the rows that need it are read.
    holds = " OR ".join(f"{c} GLOB '*[{letters}]*'" for c in _COLUMNS)
    connection = op.get_bind()
    rows = connection.execute(text(
        f"SELECT rowid, {', '.join(_COLUMNS)} FROM customer_search WHERE {holds}")).all()
    if rows:
        assignments = ", ".join(f"{c} = :{c}" for c in _COLUMNS)
        connection.execute(
            text(f"UPDATE customer_search SET {assignments} WHERE rowid = :rowid"),
            [{"rowid": row[0], **{c: (v or "").translate(table)
                                  for c, v in zip(_COLUMNS, row[1:], strict=True)}}
             for row in rows])


def downgrade() -> None:
    # The spelled-out letters still match what the old query folding produced for ASCII
    # typing; nothing to undo.
    pass
