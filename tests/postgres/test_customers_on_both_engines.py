"""The customer service's own tests (tests/services/test_customer_service.py), run on both
engines: create, read, update with version check, delete and undo, archive, filters, sorting,
paging and search, on SQLite and on a real PostgreSQL (conftest.py)."""

from __future__ import annotations

from tests.services.test_customer_service import *  # noqa: F403 - the tests and fixtures
