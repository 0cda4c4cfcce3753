"""Shared fixtures: a real SQLite database in a temporary folder and a fixed clock."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

# Qt must never need a screen in tests; set before any test module imports PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from crmcompanion.core import forking
from crmcompanion.core.clock import FixedClock
from crmcompanion.services.container import Services, open_services

# --moved-clock / --moved-tz / --long, and the clock_sensitive and long markers.
pytest_plugins = ["tests.moved_clock"]

FIXED_NOW = datetime(2026, 11, 22, 10, 30)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FIXED_NOW)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'crmcompanion.sqlite3'}"


@pytest.fixture
def services(db_url: str, tmp_path: Path, clock: FixedClock) -> Services:
    opened = open_services(db_url, tmp_path / "backups", clock)
    yield opened
    opened.close()


@pytest.fixture(params=["forked", "spawned"])
def second_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test using it runs twice: with the second process forked (the command line) and
    spawned (the GUI's worker thread, where this process may not fork)."""
    if request.param == "forked":
        if not forking.can_fork():  # checked when the test runs: threads come and go
            pytest.skip("this process has other threads (or is not Linux): it would not fork")
    else:
        if not forking.can_spawn():
            pytest.skip("no spawned interpreters here")
        monkeypatch.setattr(forking, "can_fork", lambda: False)
    return str(request.param)
