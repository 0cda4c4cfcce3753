"""Tests for crmcompanion.core.touchpoints: fixed dates only, never date.today()."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from crmcompanion.core.customer import Customer, Kind, PostalAddress, Status
from crmcompanion.core.dates import LeapDayPolicy, next_occurrence
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import (
    DEFAULT_LEAD_DAYS,
    CadenceDefaults,
    ContactPreferences,
    OccurrenceKey,
    Section,
    TouchpointSettings,
    TouchpointState,
    cadence_days,
    cadence_for_customer,
    days_without_contact,
    describe,
    displayed_state,
    keep_in_touch_due,
    occurrence_key,
    ordinal,
    parse_occurrence_key,
    remind_on,
    section_for,
)

TODAY = date(2027, 2, 24)


def make_customer(**changes) -> Customer:
    moment = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    values = dict(
        id=12, first_name="Ada", last_name="Lovelace", display_name="", company="",
        emails=(), phones=(), address=PostalAddress(), tags=(), status=Status.ACTIVE,
        kind=Kind.EXTERNAL, key_account=False, preferred_channel=None, customer_since=None,
        notes="", special_dates=(), archived_at=None, created_at=moment, updated_at=moment,
        version=1,
    )
    values.update(changes)
    return Customer(**values)


# --- settings -----------------------------------------------------------------------------


def test_default_settings():
    settings = TouchpointSettings()
    assert settings.lead_for(Occasion.BIRTHDAY) == 3
    assert settings.lead_for(Occasion.WEDDING_ANNIVERSARY) == 3
    assert settings.lead_for(Occasion.KEEP_IN_TOUCH) == 0
    assert settings.lead_for(Occasion.FOLLOW_UP) == 0
    assert settings.leap_day_policy is LeapDayPolicy.FEB28
    assert settings.cadence == CadenceDefaults(key_account=30, active=90, lead=30, internal=60)
    assert settings.tag_cadences == {}
    assert set(DEFAULT_LEAD_DAYS) == set(Occasion)  # every occasion has a default


def test_partial_lead_days_fall_back_to_defaults():
    settings = TouchpointSettings(lead_days={Occasion.BIRTHDAY: 7})
    assert settings.lead_for(Occasion.BIRTHDAY) == 7
    assert settings.lead_for(Occasion.WEDDING_ANNIVERSARY) == 3
    assert settings.lead_for(Occasion.CUSTOM) == 1


def test_default_settings_do_not_share_mutable_dicts():
    a, b = TouchpointSettings(), TouchpointSettings()
    a.lead_days[Occasion.BIRTHDAY] = 10
    assert b.lead_for(Occasion.BIRTHDAY) == 3
    assert DEFAULT_LEAD_DAYS[Occasion.BIRTHDAY] == 3


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (dict(lead_days={Occasion.BIRTHDAY: -1}), "lead time for birthday"),
        (dict(lead_days={Occasion.BIRTHDAY: 1000}), "from 0 to 365"),
        (dict(lead_days={"no_such_occasion": 1}), "no_such_occasion"),
        (dict(tag_cadences={"vip": 0}), "cadence for tag 'vip'"),
        (dict(tag_cadences={"  ": 10}), "needs a tag name"),
        (dict(leap_day_policy="feb29"), "feb29"),
    ],
)
def test_invalid_settings_are_refused(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        TouchpointSettings(**kwargs)


def test_invalid_cadence_default_is_refused():
    with pytest.raises(ValueError, match="key account cadence"):
        CadenceDefaults(key_account=0)


# --- sections and lead times --------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "section"),
    [
        (-400, Section.OVERDUE),
        (-1, Section.OVERDUE),
        (0, Section.TODAY),
        (1, Section.NEXT_7_DAYS),
        (7, Section.NEXT_7_DAYS),
        (8, Section.DAYS_8_30),
        (30, Section.DAYS_8_30),
        (31, Section.LATER),
        (365, Section.LATER),
    ],
)
def test_section_boundaries(offset, section):
    assert section_for(TODAY + timedelta(days=offset), TODAY) is section


def test_section_across_new_year():
    today = date(2026, 12, 28)
    assert section_for(date(2027, 1, 4), today) is Section.NEXT_7_DAYS
    assert section_for(date(2027, 1, 5), today) is Section.DAYS_8_30
    assert section_for(date(2027, 1, 28), today) is Section.LATER


def test_section_titles_in_display_order():
    assert [s.title for s in Section] == ["Overdue", "Today", "Next 7 days", "Days 8-30", "Later"]


def test_remind_on_lead_times():
    assert remind_on(date(2027, 3, 2), 3) == date(2027, 2, 27)
    assert remind_on(date(2027, 1, 2), 3) == date(2026, 12, 30)  # across New Year
    assert remind_on(date(2028, 3, 1), 1) == date(2028, 2, 29)  # into a leap day
    assert remind_on(date(2027, 5, 1), 0) == date(2027, 5, 1)
    with pytest.raises(ValueError):
        remind_on(date(2027, 5, 1), -2)


def test_leap_day_birthday_with_lead_time_under_each_policy():
    settings = TouchpointSettings(leap_day_policy=LeapDayPolicy.MAR1)
    occurrence = next_occurrence(2, 29, TODAY, settings.leap_day_policy)
    assert occurrence == date(2027, 3, 1)
    assert remind_on(occurrence, settings.lead_for(Occasion.BIRTHDAY)) == date(2027, 2, 26)
    occurrence = next_occurrence(2, 29, TODAY, LeapDayPolicy.FEB28)
    assert remind_on(occurrence, 3) == date(2027, 2, 25)


# --- cadence ------------------------------------------------------------------------------


def test_cadence_defaults_by_status_and_kind():
    s = TouchpointSettings()
    assert cadence_days(settings=s, status=Status.ACTIVE, kind=Kind.EXTERNAL) == 90
    assert cadence_days(settings=s, status=Status.LEAD, kind=Kind.EXTERNAL) == 30
    assert cadence_days(settings=s, status=Status.ACTIVE, kind=Kind.INTERNAL) == 60
    assert cadence_days(settings=s, status=Status.ACTIVE, kind=Kind.EXTERNAL,
                        key_account=True) == 30


def test_lead_and_internal_takes_shorter_default():
    s = TouchpointSettings(cadence=CadenceDefaults(lead=45, internal=40))
    assert cadence_days(settings=s, status=Status.LEAD, kind=Kind.INTERNAL) == 40


def test_key_account_beats_status_and_kind():
    s = TouchpointSettings(cadence=CadenceDefaults(key_account=50, internal=20))
    assert cadence_days(settings=s, status=Status.ACTIVE, kind=Kind.INTERNAL,
                        key_account=True) == 50


def test_tag_cadence_beats_key_account_and_shortest_tag_wins():
    s = TouchpointSettings(tag_cadences={"VIP": 14, "newsletter": 180, "wholesale": 45})
    assert cadence_days(settings=s, status=Status.ACTIVE, kind=Kind.EXTERNAL, key_account=True,
                        tags=("newsletter",)) == 180
    assert cadence_days(settings=s, status=Status.ACTIVE, kind=Kind.EXTERNAL,
                        tags=("newsletter", "vip ", "wholesale")) == 14
    # Tags without a cadence are ignored.
    assert cadence_days(settings=s, status=Status.LEAD, kind=Kind.EXTERNAL,
                        tags=("friends",)) == 30


def test_customer_override_beats_everything():
    s = TouchpointSettings(tag_cadences={"vip": 14})
    assert cadence_days(settings=s, status=Status.LEAD, kind=Kind.INTERNAL, key_account=True,
                        tags=("vip",), override=120) == 120
    with pytest.raises(ValueError, match="customer's cadence"):
        cadence_days(settings=s, status=Status.ACTIVE, kind=Kind.EXTERNAL, override=0)


def test_cadence_for_customer_reads_the_profile():
    s = TouchpointSettings(tag_cadences={"florist": 21})
    assert cadence_for_customer(make_customer(), s) == 90
    assert cadence_for_customer(make_customer(key_account=True), s) == 30
    assert cadence_for_customer(make_customer(tags=("Florist",), key_account=True), s) == 21
    assert cadence_for_customer(make_customer(status=Status.LEAD), s, override=7) == 7


def test_keep_in_touch_due_base_precedence():
    created = date(2026, 1, 10)
    since = date(2025, 6, 1)
    last = date(2027, 1, 5)
    assert keep_in_touch_due(last, since, created, 30) == date(2027, 2, 4)
    assert keep_in_touch_due(None, since, created, 30) == date(2025, 7, 1)
    assert keep_in_touch_due(None, None, created, 90) == date(2026, 4, 10)
    assert keep_in_touch_due(date(2026, 12, 15), None, created, 30) == date(2027, 1, 14)
    with pytest.raises(ValueError):
        keep_in_touch_due(None, None, created, 0)


def test_days_without_contact():
    assert days_without_contact(date(2026, 11, 19), None, date(2026, 1, 1), TODAY) == 97
    assert days_without_contact(None, date(2027, 2, 20), date(2026, 1, 1), TODAY) == 4
    assert days_without_contact(None, None, date(2027, 2, 24), TODAY) == 0


# --- preferences --------------------------------------------------------------------------


def test_preferences_allow_everything_by_default():
    prefs = ContactPreferences()
    assert all(prefs.allows(o) for o in Occasion)


def test_opting_out_of_single_occasions():
    prefs = ContactPreferences(opted_out=frozenset({Occasion.BIRTHDAY}))
    assert not prefs.allows(Occasion.BIRTHDAY)
    assert prefs.allows(Occasion.WEDDING_ANNIVERSARY)
    assert prefs.allows(Occasion.KEEP_IN_TOUCH)


@pytest.mark.parametrize("flag", ["do_not_contact", "archived", "lost"])
def test_blocking_flags_allow_nothing(flag):
    prefs = ContactPreferences(**{flag: True})
    assert not any(prefs.allows(o) for o in Occasion)


def test_preferences_for_customer():
    archived = make_customer(archived_at=datetime(2027, 1, 1, tzinfo=UTC))
    assert not ContactPreferences.for_customer(archived).allows(Occasion.BIRTHDAY)
    lost = make_customer(status=Status.LOST)
    assert ContactPreferences.for_customer(lost).lost
    assert not ContactPreferences.for_customer(lost).allows(Occasion.FOLLOW_UP)
    active = ContactPreferences.for_customer(make_customer(), opted_out=["birthday"])
    assert active.opted_out == frozenset({Occasion.BIRTHDAY})
    assert not active.allows(Occasion.BIRTHDAY) and active.allows(Occasion.CUSTOM)
    assert not ContactPreferences.for_customer(make_customer(), do_not_contact=True).allows(
        Occasion.KEEP_IN_TOUCH
    )


# --- descriptions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"),
     (13, "13th"), (21, "21st"), (22, "22nd"), (25, "25th"), (101, "101st"), (111, "111th"),
     (112, "112th")],
)
def test_ordinal(n, text):
    assert ordinal(n) == text


def test_describe_birthday():
    assert describe(Occasion.BIRTHDAY, date(2027, 3, 1), 1987) == "turns 40"
    assert describe(Occasion.BIRTHDAY, date(2027, 3, 1), None) == "birthday"
    # The age reached on a leap-day baby's substitute day.
    assert describe(Occasion.BIRTHDAY, date(2027, 2, 28), 2000) == "turns 27"


def test_describe_customer_anniversary():
    assert describe(Occasion.CUSTOMER_ANNIVERSARY, date(2027, 5, 1), 2017) == (
        "10 years as a customer"
    )
    assert describe(Occasion.CUSTOMER_ANNIVERSARY, date(2027, 5, 1), 2026) == (
        "1 year as a customer"
    )
    assert describe(Occasion.CUSTOMER_ANNIVERSARY, date(2027, 5, 1), None) == (
        "customer anniversary"
    )


def test_describe_wedding_anniversary():
    assert describe(Occasion.WEDDING_ANNIVERSARY, date(2027, 6, 12), 2002) == (
        "25th wedding anniversary"
    )
    assert describe(Occasion.WEDDING_ANNIVERSARY, date(2027, 6, 12), 2026) == (
        "1st wedding anniversary"
    )
    assert describe(Occasion.WEDDING_ANNIVERSARY, date(2027, 6, 12), None) == (
        "wedding anniversary"
    )


def test_describe_year_zero_falls_back_to_plain_text():
    # A wedding this year is not a "0th anniversary".
    assert describe(Occasion.WEDDING_ANNIVERSARY, date(2027, 6, 12), 2027) == (
        "wedding anniversary"
    )
    assert describe(Occasion.BIRTHDAY, date(2027, 6, 12), 2027) == "birthday"


def test_describe_keep_in_touch():
    assert describe(Occasion.KEEP_IN_TOUCH, TODAY, None, days_without_contact=97) == (
        "no contact for 97 days"
    )
    assert describe(Occasion.KEEP_IN_TOUCH, TODAY, None, days_without_contact=1) == (
        "no contact for 1 day"
    )
    assert describe(Occasion.KEEP_IN_TOUCH, TODAY, None) == "keep in touch"
    # Two years and more read as whole years.
    assert describe(Occasion.KEEP_IN_TOUCH, TODAY, None, days_without_contact=729) == (
        "no contact for 729 days"
    )
    assert describe(Occasion.KEEP_IN_TOUCH, TODAY, None, days_without_contact=2525) == (
        "no contact for 6 years"
    )


def test_describe_custom_and_follow_up():
    assert describe(Occasion.CUSTOM, TODAY, None, label="Shop opening") == "Shop opening"
    assert describe(Occasion.CUSTOM, TODAY, 2017, label="Shop opening") == (
        "Shop opening (10 years)"
    )
    assert describe(Occasion.CUSTOM, TODAY, None) == "special date"
    assert describe(Occasion.FOLLOW_UP, TODAY, None, label=" Send the quote ") == "Send the quote"
    assert describe(Occasion.FOLLOW_UP, TODAY, None) == "follow-up"
    assert describe(Occasion.COMPLAINT_CHECKBACK, TODAY, None) == "complaint check-back"


# --- occurrence keys ----------------------------------------------------------------------


def test_occurrence_key_format():
    assert occurrence_key(12, Occasion.BIRTHDAY, 34, date(2027, 2, 28)) == (
        "birthday/c12/d34/2027-02-28"
    )
    assert occurrence_key(12, Occasion.KEEP_IN_TOUCH, None, date(2027, 5, 3)) == (
        "keep_in_touch/c12/-/2027-05-03"
    )
    assert occurrence_key(5, Occasion.FOLLOW_UP, 9, date(2027, 1, 2)) == (
        "follow_up/c5/f9/2027-01-02"
    )
    assert occurrence_key(5, Occasion.COMPLAINT_CHECKBACK, 3, date(2027, 1, 2)) == (
        "complaint_checkback/c5/fb3/2027-01-02"
    )


def test_occurrence_keys_are_distinct_across_parts():
    base = (12, Occasion.BIRTHDAY, 34, date(2027, 2, 28))
    variants = [
        base,
        (13, Occasion.BIRTHDAY, 34, date(2027, 2, 28)),
        (12, Occasion.WEDDING_ANNIVERSARY, 34, date(2027, 2, 28)),
        (12, Occasion.BIRTHDAY, 35, date(2027, 2, 28)),
        (12, Occasion.BIRTHDAY, 34, date(2028, 2, 29)),
        (1, Occasion.BIRTHDAY, 234, date(2027, 2, 28)),
        (123, Occasion.BIRTHDAY, 4, date(2027, 2, 28)),
    ]
    keys = {occurrence_key(*v) for v in variants}
    assert len(keys) == len(variants)


def test_occurrence_key_round_trip():
    for parts in [
        (12, Occasion.BIRTHDAY, 34, date(2027, 2, 28)),
        (7, Occasion.CUSTOMER_ANNIVERSARY, None, date(2030, 12, 31)),
        (1, Occasion.IDEA_SHIPPED, 0, date(2027, 1, 1)),
    ]:
        key = occurrence_key(*parts)
        parsed = parse_occurrence_key(key)
        assert parsed == OccurrenceKey(parts[1], parts[0], parts[2], parts[3])
        assert str(parsed) == key


@pytest.mark.parametrize(
    "key",
    [
        "birthday/c12/d34/2027-02-30",
        "birthday/c12/f34/2027-02-28",  # wrong source kind for a birthday
        "keep_in_touch/c12/d1/2027-02-28",
        "party/c12/d34/2027-02-28",
        "birthday/c0/d34/2027-02-28",
        "birthday/c12/d034/2027-02-28",
        "birthday/c12/d34/2027-02-28/x",
        "",
    ],
)
def test_parse_rejects_foreign_keys(key):
    with pytest.raises(ValueError, match="not a touchpoint occurrence key"):
        parse_occurrence_key(key)


def test_occurrence_key_rejects_bad_ids():
    with pytest.raises(ValueError):
        occurrence_key(0, Occasion.BIRTHDAY, 1, TODAY)
    with pytest.raises(ValueError):
        occurrence_key(True, Occasion.BIRTHDAY, 1, TODAY)
    with pytest.raises(ValueError, match="no source record"):
        occurrence_key(1, Occasion.KEEP_IN_TOUCH, 5, TODAY)


# --- displayed state ----------------------------------------------------------------------


def test_state_without_record():
    remind = date(2027, 2, 25)
    assert displayed_state(date(2027, 2, 24), remind) is TouchpointState.UPCOMING
    assert displayed_state(date(2027, 2, 25), remind) is TouchpointState.DUE
    assert displayed_state(date(2027, 3, 10), remind) is TouchpointState.DUE


@pytest.mark.parametrize("recorded", [TouchpointState.DONE, TouchpointState.SKIPPED])
def test_done_and_skipped_are_never_shown_again(recorded):
    remind = date(2027, 2, 25)
    for today in (date(2027, 2, 20), remind, date(2028, 1, 1)):
        assert displayed_state(today, remind, recorded) is None


def test_snoozed_hidden_until_its_date_then_due():
    remind = date(2027, 2, 25)
    until = date(2027, 3, 1)
    assert displayed_state(date(2027, 2, 26), remind, "snoozed", until) is None
    assert displayed_state(date(2027, 2, 28), remind, TouchpointState.SNOOZED, until) is None
    assert displayed_state(until, remind, TouchpointState.SNOOZED, until) is TouchpointState.DUE
    assert displayed_state(date(2027, 3, 9), remind, TouchpointState.SNOOZED,
                           until) is TouchpointState.DUE


def test_state_refuses_nonsense_records():
    with pytest.raises(ValueError, match="snoozed until"):
        displayed_state(TODAY, TODAY, TouchpointState.SNOOZED)
    with pytest.raises(ValueError, match="computed"):
        displayed_state(TODAY, TODAY, TouchpointState.DUE)
