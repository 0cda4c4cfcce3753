"""The insights service's tests (tests/services/test_insights.py) on both engines: every
customer's facts from the facts statements (day arithmetic is dialect-specific),
segments kept current, the dashboard's and why-stay's SQL aggregates."""

from __future__ import annotations

from tests.services.test_insights import *  # noqa: F403 - the tests and fixtures
from tests.services.test_insights_chunks import *  # noqa: F403 - chunked reads and writes
from tests.services.test_insights_sql_agrees import *  # noqa: F403 - SQL = the rules
