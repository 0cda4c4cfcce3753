"""The reminder engine's tests (tests/reminders/test_engine.py) on both engines: each
reminder delivered exactly once (the fired-reminder log's INSERT ... ON CONFLICT DO NOTHING
is written for each dialect), retries, snoozes and the catch-up after downtime."""

from __future__ import annotations

from tests.reminders.test_engine import *  # noqa: F403 - the tests and their fixtures
