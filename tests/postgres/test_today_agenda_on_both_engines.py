"""The Today reads' tests (tests/services/test_today_agenda.py) on both engines: the list
order written in each source's SQL, what recorded states hide left out in SQL (the day a
yearly date falls on and the occurrence keys are written per dialect), the counts' one
statement finding the hidden occurrences, and the pages adding up to the counts."""

from __future__ import annotations

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.services.container import open_services
from tests.services import test_today_agenda
from tests.services.test_today_agenda import *  # noqa: F403 - the tests and helpers

# These open a second SQLite file of their own (another day's clock, or a database at the
# end of December): they stay with the SQLite run.
del test_the_today_view_reads_the_versions_of_all_its_rows_at_once  # noqa: F821
del test_a_greeting_done_before_new_year_is_checked_in_its_own_year_only  # noqa: F821


@pytest.fixture()
def svc(db_url, tmp_path):
    opened = open_services(db_url, tmp_path / "b", FixedClock(test_today_agenda.NOW))
    yield opened
    opened.close()
