"""Why customers stay: the happiest against everyone else, with fixed numbers."""

from __future__ import annotations

from datetime import date

from crmcompanion.core.why_stay import StayFacts, compare, rhythm_kept, top_themes

TODAY = date(2026, 3, 1)


def test_rhythm_kept_boundary_and_never_contacted() -> None:
    assert rhythm_kept(date(2025, 12, 1), None, 90, TODAY)  # exactly 90 days
    assert not rhythm_kept(date(2025, 11, 30), None, 90, TODAY)  # 91
    assert rhythm_kept(None, date(2026, 2, 1), 90, TODAY)  # joined recently
    assert not rhythm_kept(None, None, 90, TODAY)


def test_happiest_against_everyone_else_leads_left_out() -> None:
    rows = [
        StayFacts(1, "happiest", True, 3, (2.0, 4.0)),
        StayFacts(2, "happiest", True, 1, (6.0,)),
        StayFacts(3, "healthy", True, 1, ()),
        StayFacts(4, "at_risk", False, 0, (20.0, 30.0)),
        StayFacts(5, "lost", False, 0, (40.0,)),
        StayFacts(6, "potential", False, 9, (1.0,)),  # a lead: not counted anywhere
    ]
    why = compare(rows, [("Friendly", 2)])
    assert (why.happiest.customers, why.happiest.rhythm_kept_share) == (2, 1.0)
    assert why.happiest.greetings_per_year == 2.0
    assert why.happiest.median_resolution_days == 4.0
    assert why.others.customers == 3
    assert why.others.rhythm_kept_share == 1 / 3
    assert why.others.greetings_per_year == 0.33
    assert why.others.median_resolution_days == 30.0
    data = why.as_json()
    assert data["everyone_else"]["rhythm_kept_share"] == 0.3333
    assert data["praise_themes"] == [{"theme": "Friendly", "count": 2}]


def test_empty_groups_have_no_figures() -> None:
    why = compare([StayFacts(1, "healthy", False, 0)])
    assert why.happiest.customers == 0
    assert why.happiest.rhythm_kept_share is None
    assert why.happiest.median_resolution_days is None
    assert why.others.median_resolution_days is None


def test_top_five_praise_themes_ties_by_name() -> None:
    counts = [("Speed", 3), ("advice", 5), ("Price", 3), ("Quality", 5), ("Staff", 1),
              ("Parking", 2), ("Never", 0)]
    assert top_themes(counts) == [("advice", 5), ("Quality", 5), ("Price", 3), ("Speed", 3),
                                  ("Parking", 2)]


def test_reasons_without_the_segment_title() -> None:
    from crmcompanion.core.segments import reasons_without_title

    assert reasons_without_title("At risk: no contact for 120 days (rhythm 60)") == \
        "No contact for 120 days (rhythm 60)"
    assert reasons_without_title("Lost: competitor (Went: elsewhere)") == \
        "Competitor (Went: elsewhere)"
    assert reasons_without_title("plain words") == "Plain words"
