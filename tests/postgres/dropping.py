"""Dropping an app's server connection for real in the team-mode tests: the first backend
that queues behind a lock the test holds is ended with pg_terminate_backend."""

from __future__ import annotations

import time


def dsn(url: str) -> str:
    """libpq's form of a SQLAlchemy PostgreSQL URL."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def end_first_queued(url: str, holder: int, killed: list[int]) -> None:
    """Wait (up to a minute) for a backend blocked by the backend `holder`, end it, and put
    its pid in `killed`."""
    import psycopg

    with psycopg.connect(dsn(url), autocommit=True) as watch:
        for _ in range(6000):  # stops as soon as one queues
            row = watch.execute(
                "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                (holder,)).fetchone()
            if row:
                watch.execute("SELECT pg_terminate_backend(%s)", (row[0],))
                killed.append(row[0])
                return
            time.sleep(0.01)
