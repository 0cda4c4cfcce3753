"""GreetingService: seeded library, validated saves, drafts from real customers, mark as sent."""

from __future__ import annotations

from datetime import date

import pytest

from crmcompanion.core.customer import (
    Channel,
    CustomerDraft,
    EmailAddress,
    PhoneNumber,
    SpecialDate,
    SpecialDateKind,
)
from crmcompanion.core.errors import DomainError, NotFoundError, ValidationError
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.settings import BUSINESS_NAME, OWNER_NAME, SIGNATURE
from crmcompanion.core.templates import TemplateError, read_default_templates
from crmcompanion.core.touchpoints import TouchpointState

# Clock-sensitive: ages and years as a customer from the app's clock.
pytestmark = pytest.mark.clock_sensitive

# The shared clock is 2026-11-22.


def make_ada(services, birthday=(11, 22, 1986), **extra):
    draft = CustomerDraft(
        first_name="Ada", last_name="Lovelace",
        emails=(EmailAddress("ada@example.com"),),
        phones=(PhoneNumber("+4915112345678", "mobile"),),
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, *birthday[:2], birthday[2]),),
        customer_since=date(2020, 5, 1), **extra,
    )
    return services.customers.create(draft).customer


def test_library_is_seeded_once_with_one_default_per_occasion(services):
    greetings = services.greetings
    shipped = read_default_templates()
    stored = greetings.templates()
    assert {t.key for t in stored} == {t.key for t in shipped}
    assert greetings.ensure_seeded() is False  # already there
    birthday = greetings.templates(Occasion.BIRTHDAY)
    assert birthday[0].key == "birthday-warm"
    assert [t.is_default for t in birthday] == [True, False, False]
    for occasion in {t.occasion for t in shipped}:
        assert sum(t.is_default for t in greetings.templates(occasion)) == 1


def test_save_rejects_a_bad_placeholder_naming_the_exact_part(services):
    with pytest.raises(TemplateError, match=r"Unknown placeholder \$frist_name") as caught:
        services.greetings.save_template(
            occasion="birthday", name="Mine", tone="warm",
            subject="Hi $frist_name", body="Hello",
        )
    assert caught.value.field_name == "subject"
    problem = caught.value.problems[0]
    assert problem.fragment == "$frist_name"
    assert problem.suggestion == "$first_name"
    with pytest.raises(TemplateError, match="attribute or index access is not allowed") as caught:
        services.greetings.save_template(
            occasion="birthday", name="Mine", tone="warm", subject="Hi",
            body="Dear {first_name.__class__}",
        )
    assert caught.value.field_name == "body"
    assert caught.value.problems[0].fragment == "{first_name.__class__}"
    with pytest.raises(ValidationError, match="Give the template a name") as invalid:
        services.greetings.save_template(occasion="birthday", name=" ", tone="warm",
                                         subject="Hi", body="Hello")
    assert set(invalid.value.field_errors) == {"name"}


def test_create_edit_default_and_delete_templates(services):
    greetings = services.greetings
    saved = greetings.save_template(occasion=Occasion.BIRTHDAY, name="Cake", tone="brief",
                                    subject="Cake for $first_name", body="Enjoy!\n$signature",
                                    is_default=True)
    assert saved.changed.greetings
    key = saved.template.key
    assert key.startswith("custom-")
    birthday = greetings.templates(Occasion.BIRTHDAY)
    assert birthday[0].key == key and sum(t.is_default for t in birthday) == 1
    edited = greetings.save_template(key=key, occasion="birthday", name="Cake!", tone="warm",
                                     subject="Cake", body="More cake")
    assert (edited.template.name, edited.template.body, edited.template.id) == (
        "Cake!", "More cake", saved.template.id)
    # Same name as another birthday template:
    with pytest.raises(ValidationError, match="Another birthday template is already called"):
        greetings.save_template(occasion="birthday", name="short BIRTHDAY note",
                                tone="warm", subject="x", body="y")
    greetings.delete_template(key)
    birthday = greetings.templates(Occasion.BIRTHDAY)
    assert key not in [t.key for t in birthday]
    assert sum(t.is_default for t in birthday) == 1  # the default moved on
    for template in birthday[1:]:
        greetings.delete_template(template.key)
    with pytest.raises(DomainError, match="only template for its occasion"):
        greetings.delete_template(birthday[0].key)


def test_draft_fills_customer_profile_and_last_conversation(services):
    services.settings.update({BUSINESS_NAME.key: "Bloom & Co", OWNER_NAME.key: "Sam",
                              SIGNATURE.key: "Sam from Bloom"})
    ada = make_ada(services)
    services.interactions.log(ada.id, "Talked about her new greenhouse", Channel.PHONE)
    saved = services.greetings.save_template(
        occasion="birthday", name="Full", tone="warm",
        subject="Happy $age, $first_name!",
        body="$display_name, $years_as_customer with $business_name.\n"
             "Still: $last_conversation\n$signature",
    )
    draft = services.greetings.draft(ada.id, "birthday", saved.template.key)
    assert draft.subject == "Happy 40, Ada!"
    assert draft.body == ("Ada Lovelace, 6 years with Bloom & Co.\n"
                          "Still: Talked about her new greenhouse\nSam from Bloom")
    assert draft.missing_placeholders == ()
    assert draft.occurrence_key is not None and draft.occurrence_key.startswith("birthday/")
    assert draft.occasion_date == date(2026, 11, 22)
    assert (draft.email, draft.mobile, draft.channel) == (
        "ada@example.com", "+4915112345678", Channel.EMAIL)


def test_missing_values_are_reported_not_blank(services):
    bob = services.customers.create(CustomerDraft(first_name="Bob")).customer
    saved = services.greetings.save_template(occasion="birthday", name="Age", tone="warm",
                                             subject="Hi", body="$age at $business_name")
    draft = services.greetings.draft(bob.id, Occasion.BIRTHDAY, saved.template.key)
    assert draft.body == "[age?] at [business_name?]"
    assert draft.missing_placeholders == ("age", "business_name")
    assert draft.occurrence_key is None  # Bob has no birthday touchpoint
    edited = draft.render("Hi $first_name", "Dear $first_name, $$5 off")
    assert (edited.subject, edited.body, edited.missing_placeholders) == (
        "Hi Bob", "Dear Bob, $5 off", ())


def test_mark_sent_from_a_touchpoint_logs_and_completes_it(services):
    ada = make_ada(services)
    draft = services.greetings.draft(ada.id, Occasion.BIRTHDAY)
    changed = services.greetings.mark_sent(ada.id, Channel.EMAIL, "Happy birthday!",
                                           "Hi Ada,\nall the best.", draft.occurrence_key)
    assert changed.interactions and changed.touchpoints and ada.id in changed.customers
    history = services.interactions.history(ada.id)
    assert history[0].summary == "Happy birthday!\n\nHi Ada,\nall the best."
    assert history[0].channel is Channel.EMAIL
    assert history[0].occurrence_key == draft.occurrence_key
    remaining = [t for t in services.touchpoints.for_customer(ada.id)
                 if t.key == draft.occurrence_key]
    assert remaining == []
    with pytest.raises(DomainError, match="already done"):  # done once, never again
        services.touchpoints.mark_done(draft.occurrence_key)
    # A later draft does not quote the greeting back as the last conversation.
    assert services.greetings.last_conversation(ada.id) is None


def test_mark_sent_without_touchpoint_and_errors(services):
    ada = make_ada(services, birthday=(11, 25, 1990))
    services.greetings.mark_sent(ada.id, "sms", "", "Thinking of you", occasion="keep_in_touch")
    entry = services.interactions.history(ada.id)[0]
    assert (entry.summary, entry.channel, entry.occasion) == (
        "Thinking of you", Channel.SMS, Occasion.KEEP_IN_TOUCH)
    with pytest.raises(ValidationError, match="There is nothing to send"):
        services.greetings.mark_sent(ada.id, "email", " ", "\n")
    other = services.customers.create(CustomerDraft(first_name="Zed")).customer
    key = services.greetings.draft(ada.id, "birthday").occurrence_key
    assert key == f"birthday/c{ada.id}/d{key.split('/d')[1]}"  # the coming 25 November
    assert key.endswith("/2026-11-25")
    with pytest.raises(ValidationError, match="belongs to another customer"):
        services.greetings.mark_sent(other.id, "email", "Hi", "Hi", key)


def test_find_template_and_today_drafts(services):
    ada = make_ada(services)
    assert services.greetings.find_template("birthday", "short birthday NOTE").key == (
        "birthday-brief")
    with pytest.raises(NotFoundError, match="No birthday template is called “nope”") as caught:
        services.greetings.find_template("birthday", "nope")
    assert "Warm birthday wishes (birthday-warm)" in str(caught.value)
    drafts = services.greetings.today_drafts()
    # Never contacted since 2020: keep in touch is overdue, and today is her birthday.
    assert sorted((d.customer_id, d.occasion) for d in drafts) == [
        (ada.id, Occasion.BIRTHDAY), (ada.id, Occasion.KEEP_IN_TOUCH)]
    birthday = next(d for d in drafts if d.occasion is Occasion.BIRTHDAY)
    services.greetings.mark_sent(ada.id, "email", "Hi", "Hi", birthday.occurrence_key)
    assert services.greetings.today_drafts() == []  # the greeting was contact, too
    states = {t.state for t in services.touchpoints.for_customer(ada.id)}
    assert TouchpointState.DONE not in states
