"""The touchpoint service's tests (tests/services/test_touchpoints.py) on both engines: the
derived tables (SQLite triggers there, plpgsql triggers on PostgreSQL) and the Today
sections, counts, snoozes and skips."""

from __future__ import annotations

from tests.services.test_touchpoints import *  # noqa: F403 - the tests and fixtures
