"""The profile timeline's service tests (tests/services/test_timeline.py) on both engines:
its providers' statements are built once with bound values (the page size, the paging
moment), which each engine must bind and compare as the per-call statements did."""

from __future__ import annotations

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.services.container import Services
from tests.services.test_timeline import *  # noqa: F403 - the tests
from tests.services.test_timeline import NOW


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def svc(services: Services) -> Services:  # the tests' own fixture name, on both engines
    return services
