"""Taking a head-schema test database back to an older revision by hand, for tests that mark
a file as an older revision and let the app run the real migrations from there."""

from __future__ import annotations

import sqlite3


def undo_0008(conn: sqlite3.Connection) -> None:
    """Remove what 0008_staff_and_versions added (staff logins, touchpoint state versions)."""
    conn.execute("DROP INDEX ix_staff_login")
    conn.execute("ALTER TABLE staff DROP COLUMN login")
    conn.execute("ALTER TABLE touchpoint_states DROP COLUMN version")
