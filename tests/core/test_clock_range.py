"""CRMCOMPANION_NOW outside the supported days is refused with the range, not a crash later."""

from __future__ import annotations

from datetime import datetime

import pytest

from crmcompanion.core.clock import clock_from_environment, parse_now


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "1899-12-31T23:59",
                                  "2201-01-01", "9999-12-31T23:59:59+14:00"])
def test_outside_the_range_is_refused_with_the_range(text: str) -> None:
    with pytest.raises(ValueError, match="outside the supported range 1900-01-01 to 2200-12-31"):
        clock_from_environment({"CRMCOMPANION_NOW": text})


@pytest.mark.parametrize("text", ["1900-01-01", "2200-12-31T23:59", "2026-03-01T09:30"])
def test_the_edges_and_today_are_accepted(text: str) -> None:
    clock = clock_from_environment({"CRMCOMPANION_NOW": text})
    assert clock.today() == parse_now(text).date()
    assert isinstance(clock.now(), datetime)
