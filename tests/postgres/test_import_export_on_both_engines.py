"""The import/export service's tests (tests/services/test_import_export_service.py) on both
engines: CSV and vCard round trips, duplicates, undo of the last import, all-or-nothing on a
bad row or a cancel, exports following the list's query."""

from __future__ import annotations

from tests.services.test_import_export_service import *  # noqa: F403 - the tests and fixtures
