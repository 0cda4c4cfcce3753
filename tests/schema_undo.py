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


def undo_0010(conn: sqlite3.Connection) -> None:
    """Remove what 0010_insights added (health rows, their triggers, lost reasons)."""
    triggers = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'customer_health%'")]
    for name in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DROP TABLE customer_health")
    conn.execute("DROP TABLE insight_state")
    for column in ("lost_reason", "lost_note", "lost_on", "yearly_value"):
        conn.execute(f"ALTER TABLE customers DROP COLUMN {column}")


def undo_0011(conn: sqlite3.Connection) -> None:
    """Remove what 0011_feedback_rhythm added (asks remembered, the per-tag rhythm)."""
    conn.execute("DROP TABLE feedback_asks")
    conn.execute("DROP INDEX ix_follow_ups_customer_open_due")
    conn.execute("ALTER TABLE tags DROP COLUMN feedback_months")


def undo_0012(conn: sqlite3.Connection) -> None:
    """0012_postgres_partial_indexes changes PostgreSQL only: nothing to undo on SQLite."""
    del conn


def undo_0013(conn: sqlite3.Connection) -> None:
    """0013_postgres_customer_sort_name_by_id changes PostgreSQL only: nothing to undo on
    SQLite."""
    del conn


def undo_0014(conn: sqlite3.Connection) -> None:
    """Remove what 0014_sqlite_customer_sort_name_by_id added (the sort names by id)."""
    conn.execute("DROP INDEX ix_customers_id_sort_name")


# Newest first: what a test undoes to bring a head-schema file back to 0007.
UNDO_AFTER_0007 = (undo_0014, undo_0013, undo_0012, undo_0011, undo_0010, undo_0009, undo_0008)


def undo_back_to_0007(conn: sqlite3.Connection) -> None:
    """Every migration after 0007 undone by hand, newest first."""
    for undo in UNDO_AFTER_0007:
        undo(conn)
