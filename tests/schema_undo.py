"""Taking a head-schema test database back to an older revision by hand, for tests that mark
a file as an older revision and let the app run the real migrations from there."""

from __future__ import annotations

import sqlite3


def undo_0008(conn: sqlite3.Connection) -> None:
    """Remove what 0008_staff_and_versions added (staff logins, touchpoint state versions)."""
    conn.execute("DROP INDEX ix_staff_login")
    conn.execute("ALTER TABLE staff DROP COLUMN login")
    conn.execute("ALTER TABLE touchpoint_states DROP COLUMN version")


def undo_0009(conn: sqlite3.Connection) -> None:
    """Remove what 0009_voice_of_the_customer added (the feedback tables and their index)."""
    for name in ("insert", "delete", "update"):
        conn.execute(f"DROP TRIGGER IF EXISTS feedback_search_{name}")
    conn.execute("DROP TABLE IF EXISTS feedback_search")
    for table in ("feedback_vectors", "idea_requesters", "feedback_events", "complaint_details",
                  "feedback_item_themes", "themes", "feedback_items"):
        conn.execute(f"DROP TABLE {table}")


# Newest first: what a test undoes to bring a head-schema file back to 0007.
UNDO_AFTER_0007 = (undo_0009, undo_0008)


def undo_back_to_0007(conn: sqlite3.Connection) -> None:
    """Every migration after 0007 undone by hand, newest first."""
    for undo in UNDO_AFTER_0007:
        undo(conn)
