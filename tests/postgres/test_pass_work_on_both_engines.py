"""The reminder pass's work tests (tests/reminders/test_pass_work.py) on both engines: the
occurrence keys the sources write in SQL to leave out what the log already holds are
written per dialect (PostgreSQL: lpad, to_char), so a second pass must offer nothing on
either."""

from __future__ import annotations

from tests.reminders.test_pass_work import *  # noqa: F403 - the tests and their helpers
