"""Shared fixtures: a real SQLite database in a temporary folder and a fixed clock."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

# Qt must never need a screen in tests; set before any test module imports PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from crmcompanion.core.clock import FixedClock
from crmcompanion.services.container import Services, open_services

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
