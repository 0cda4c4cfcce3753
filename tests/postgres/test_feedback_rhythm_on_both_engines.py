"""The ask-for-feedback rhythm's service tests (tests/services/test_feedback_rhythm.py) on
both engines: the due day is computed in SQL, with SQLite's and PostgreSQL's own month
arithmetic, and must agree with the core rule on each."""

from __future__ import annotations

from tests.services.test_feedback_rhythm import *  # noqa: F403 - the tests and fixtures
