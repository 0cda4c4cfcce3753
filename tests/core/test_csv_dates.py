"""Strict date cells: ISO, yearless, slash dates with a file-wide order, dotted dates."""

from __future__ import annotations

import pytest

from crmcompanion.core.date_parsing import (
    DateOrder,
    DateProblem,
    PartialDate,
    SlashDate,
    parse_date_cell,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1971-03-14", PartialDate(1971, 3, 14)),
        ("--03-14", PartialDate(None, 3, 14)),
        ("--02-29", PartialDate(None, 2, 29)),
        ("1972-02-29", PartialDate(1972, 2, 29)),
        ("14.3.1971", PartialDate(1971, 3, 14)),
        ("05.06.2001", PartialDate(2001, 6, 5)),
        ("5/5/1970", PartialDate(1970, 5, 5)),  # day == month: no ambiguity
        ("", None),
        ("0/0/00", None),  # Outlook's empty date
        ("0.0.00", None),
    ],
)
def test_parse_date_cell_accepts_strict_shapes(text, expected):
    assert parse_date_cell(text) == expected


def test_slash_dates_carry_evidence_and_resolve_by_order():
    settles_mdy = parse_date_cell("3/14/1971")
    assert isinstance(settles_mdy, SlashDate)
    assert settles_mdy.evidence() is DateOrder.MDY
    assert settles_mdy.resolve(DateOrder.MDY) == PartialDate(1971, 3, 14)
    ambiguous = parse_date_cell("3/4/1971")
    assert isinstance(ambiguous, SlashDate) and ambiguous.is_ambiguous()
    assert ambiguous.resolve(DateOrder.DMY) == PartialDate(1971, 4, 3)
    assert ambiguous.resolve(DateOrder.MDY) == PartialDate(1971, 3, 4)
    with pytest.raises(DateProblem) as info:
        settles_mdy.resolve(DateOrder.DMY)
    assert info.value.code == "date_order_conflict"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1971-02-29", "not_leap_year"),
        ("29.02.1900", "not_leap_year"),
        ("1971-13-01", "bad_date"),
        ("1971-04-31", "bad_date"),
        ("--02-30", "bad_date"),
        ("14/14/1971", "bad_date"),
        ("3/4/71", "bad_date"),
        ("March 14, 1971", "bad_date"),
        ("31/2/1971", "bad_date"),
    ],
)
def test_parse_date_cell_rejects(text, code):
    with pytest.raises(DateProblem) as info:
        parse_date_cell(text)
    assert info.value.code == code


def test_partial_date_iso_formats():
    assert PartialDate(None, 2, 29).iso() == "--02-29"
    assert PartialDate(812, 1, 2).iso() == "0812-01-02"
