"""The ask-for-feedback rhythm's date rules (core.feedback), on fixed dates: whole months,
month ends, 29 February, and which day counts as the last time the customer was heard."""

from __future__ import annotations

from datetime import date

import pytest

from crmcompanion.core.errors import ValidationError
from crmcompanion.core.feedback import (
    add_months,
    ask_rhythm_base,
    check_ask_rhythm,
    feedback_ask_due,
)

CREATED = date(2024, 1, 10)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 6, 6), 6, date(2026, 12, 6)),       # exactly six months
    (date(2026, 8, 31), 6, date(2027, 2, 28)),      # no 31 February: its last day
    (date(2027, 8, 31), 6, date(2028, 2, 29)),      # ... which is the 29th in a leap year
    (date(2024, 2, 29), 12, date(2025, 2, 28)),     # 29 February a year on
    (date(2024, 2, 29), 48, date(2028, 2, 29)),     # ... and four years on
    (date(2024, 2, 29), 1, date(2024, 3, 29)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),     # across New Year
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2026, 3, 31), 60, date(2031, 3, 31)),
])
def test_add_months_stays_in_the_target_month(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_the_later_of_last_ask_and_last_feedback_counts() -> None:
    ask, heard = date(2026, 3, 1), date(2026, 5, 2)
    assert ask_rhythm_base(ask, heard, date(2020, 1, 1), CREATED) == heard
    assert ask_rhythm_base(heard, ask, None, CREATED) == heard
    assert ask_rhythm_base(ask, None, date(2020, 1, 1), CREATED) == ask
    assert ask_rhythm_base(None, heard, None, CREATED) == heard


def test_never_asked_nor_heard_counts_from_customer_since_else_creation() -> None:
    assert ask_rhythm_base(None, None, date(2025, 5, 31), CREATED) == date(2025, 5, 31)
    assert ask_rhythm_base(None, None, None, CREATED) == CREATED


def test_due_exactly_n_months_after_the_last_ask() -> None:
    due = feedback_ask_due(6, date(2026, 6, 6), None, None, CREATED)
    assert due == date(2026, 12, 6)
    # Due on that day and after, not the day before (what Today's window compares).
    assert not date(2026, 12, 5) >= due
    assert date(2026, 12, 6) >= due


def test_a_leap_day_ask_is_due_again_on_the_last_of_february() -> None:
    assert feedback_ask_due(12, date(2028, 2, 29), None, None, CREATED) == date(2029, 2, 28)
    assert feedback_ask_due(6, None, date(2027, 8, 29), None, CREATED) == date(2028, 2, 29)


@pytest.mark.parametrize("months", [0, 61, -6, True, 6.0, "6"])
def test_a_rhythm_outside_1_to_60_months_is_refused(months: object) -> None:
    with pytest.raises(ValidationError, match="1 to 60 months"):
        check_ask_rhythm(months)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        feedback_ask_due(months, None, None, None, CREATED)  # type: ignore[arg-type]


def test_no_rhythm_is_none() -> None:
    assert check_ask_rhythm(None) is None
    assert check_ask_rhythm(60) == 60
