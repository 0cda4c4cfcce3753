"""A profile's reads on both engines: the timeline's service tests
(tests/services/test_timeline.py: its providers' statements are built once, with the page
size and the paging moment bound) and Coming up reading its customer's states only
and the lead and segment lines' one statement (tests/services/test_coming_up_reads.py),
which each engine must bind and compare as the statements before did."""

from __future__ import annotations

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.services.container import Services
from tests.services.test_coming_up_reads import *  # noqa: F403 - the tests
from tests.services.test_timeline import *  # noqa: F403 - the tests
from tests.services.test_timeline import NOW


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def svc(services: Services) -> Services:  # the tests' own fixture name, on both engines
    return services
