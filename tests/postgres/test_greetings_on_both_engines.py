"""The greeting service's tests (tests/services/test_greetings.py) on both engines."""

from __future__ import annotations

from tests.services.test_greetings import *  # noqa: F403 - the tests and fixtures
