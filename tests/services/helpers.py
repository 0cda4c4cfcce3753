"""Shared test helpers for the services tests."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from crmcompanion.core.clock import FixedClock
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.demo import fill_demo


def export_demo_csv(folder: Path, clock: FixedClock, count: int) -> Path:
    """The app's own CSV export of `count` demo customers (some share an email: in-file
    duplicates), written in `folder` from a database of its own."""
    source = open_services(f"sqlite:///{folder / 'source.sqlite3'}", folder / "b0", clock)
    try:
        fill_demo(source.db, source.clock, count, staff_id=source.staff_id)
        path = folder / "customers.csv"
        source.import_export.export_csv(path)
    finally:
        source.close()
    return path


def dump(services: Services) -> list[str]:
    """The whole database as SQL text: equal dumps are byte-for-byte equal contents (on
    PostgreSQL, tests/postgres: every row of every table)."""
    path = services.db.info.path
    if path is None:
        return dump_server(services)
    return dump_file(path)


def dump_server(services: Services) -> list[str]:
    from sqlalchemy import text

    lines: list[str] = []
    with services.db.read() as session:
        # Tables only: a sequence moves on in a transaction that rolls back (PostgreSQL's
        # rule: ids are never handed out twice), which changes no stored row.
        tables = session.execute(text(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind = 'r' ORDER BY relname")).scalars().all()
        for name in tables:
            rows = session.execute(text(f"SELECT * FROM {name}")).all()
            lines += sorted(f"{name} {tuple(row)!r}" for row in rows)
    return lines


def dump_file(path: Path) -> list[str]:
    """`dump` of a database file no service has open."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def fixed_services(tmp_path: Path, now: datetime):
    """Services over a new database in `tmp_path` on a fixed clock; closed after the test
    (a generator for a pytest fixture)."""
    opened = open_services(f"sqlite:///{tmp_path / 'crm.sqlite3'}", tmp_path / "b",
                           FixedClock(now))
    yield opened
    opened.close()


def count_touchpoints_built(monkeypatch) -> list[int]:
    """A one-item list counting the touchpoints the touchpoint service builds from here on
    (each `Touchpoint` made), for tests that bound the rows a read builds."""
    from crmcompanion.services import touchpoints as touchpoints_module

    built = [0]
    real = touchpoints_module.Touchpoint

    def counted(*args, **kwargs):
        built[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(touchpoints_module, "Touchpoint", counted)
    return built
