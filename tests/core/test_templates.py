"""Greeting templates: the default library, safe rendering, and precise validation messages."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from crmcompanion.core.customer import (
    Customer,
    CustomerDraft,
    Kind,
    PostalAddress,
    SpecialDate,
    SpecialDateKind,
    Status,
)
from crmcompanion.core.errors import DomainError
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.templates import (
    BODY_MAX_LENGTH,
    LAST_CONVERSATION_MAX_LENGTH,
    PLACEHOLDER_NAMES,
    SUBJECT_MAX_LENGTH,
    GreetingTemplate,
    TemplateContext,
    TemplateError,
    Tone,
    age_reached,
    check_greeting,
    check_template,
    default_templates_path,
    format_date,
    load_default_templates,
    placeholders_used,
    read_default_templates,
    render_greeting,
    render_text,
    suggest_placeholder,
    templates_for,
    validate_greeting,
    validate_template,
)

DEFAULTS = read_default_templates()

FULL = TemplateContext(
    first_name="Anna",
    last_name="Schmidt",
    display_name="Anna Schmidt",
    company="Schmidt Bakery",
    occasion=Occasion.BIRTHDAY,
    occasion_date=date(2026, 3, 14),
    age=41,
    years_as_customer=5,
    business_name="Tom's Tea Room",
    owner_name="Tom Baker",
    signature="Tom\nTom's Tea Room",
    last_conversation="your move to Leipzig",
)

# A customer with only a first name; the owner filled in Settings, nothing else is known.
SPARSE = TemplateContext(
    first_name="Anna",
    occasion=Occasion.CUSTOM,
    occasion_date=date(2026, 3, 14),
    owner_name="Tom Baker",
    business_name="Tom's Tea Room",
)

# Placeholders a subject must not rely on: they are usually unknown.
USUALLY_UNKNOWN = {"age", "company", "last_conversation", "last_name", "years_as_customer"}


# ------------------------------------------------------------------------- default library


def test_default_library_is_found_and_loads() -> None:
    path = default_templates_path()
    assert path.is_file()
    assert path.parts[-4:] == ("crmcompanion", "resources", "templates", "default_templates.toml")
    assert len(DEFAULTS) == len({t.key for t in DEFAULTS})


@pytest.mark.parametrize("occasion", list(Occasion))
def test_every_occasion_has_two_or_three_templates_in_different_tones(occasion: Occasion) -> None:
    templates = templates_for(occasion, DEFAULTS)
    assert 2 <= len(templates) <= 3
    tones = [t.tone for t in templates]
    assert len(set(tones)) == len(tones)
    for template in templates:
        assert template.name.strip()
        assert template.subject.strip()
        assert len(template.body) > 40
        assert template.problems() == {}
        assert not set(placeholders_used(template.subject)) & USUALLY_UNKNOWN, template.key
        # A greeting ends with a sign-off.
        assert template.body.rstrip().endswith("$signature"), template.key


@pytest.mark.parametrize("template", DEFAULTS, ids=lambda t: t.key)
def test_default_template_renders_fully_with_full_data(template: GreetingTemplate) -> None:
    result = render_greeting(template, FULL)
    assert result.missing_placeholders == ()
    assert result.complete
    for text in (result.subject, result.body):
        assert "$" not in text
        assert "?]" not in text
        assert "{" not in text
    assert "\n" not in result.subject
    assert "Tom\nTom's Tea Room" in result.body  # the signature, line break kept
    if "first_name" in placeholders_used(template.subject + template.body):
        assert "Anna" in result.subject + result.body


@pytest.mark.parametrize("template", DEFAULTS, ids=lambda t: t.key)
def test_default_template_with_sparse_data_reports_what_is_missing(
    template: GreetingTemplate,
) -> None:
    result = render_greeting(template, SPARSE)
    used = placeholders_used(template.subject + "\n" + template.body)
    known = {"first_name", "display_name", "occasion", "date", "business_name", "owner_name",
             "signature"}
    expected_missing = [name for name in used if name not in known]
    assert list(result.missing_placeholders) == expected_missing
    for name in expected_missing:
        assert f"[{name}?]" in result.subject + result.body
    assert "$" not in result.subject + result.body
    # Unknown values never leave an empty hole such as "()" or "  ".
    assert "()" not in result.body
    # The signature falls back to the owner's name and business name.
    assert result.body.endswith("Tom Baker\nTom's Tea Room")


def test_sparse_data_in_a_custom_template_reports_age_company_and_conversation() -> None:
    result = render_greeting(
        ("Hello $first_name", "You turn $age. At $company we recall $last_conversation.\n$date"),
        SPARSE,
    )
    assert result.missing_placeholders == ("age", "company", "last_conversation")
    assert result.body == (
        "You turn [age?]. At [company?] we recall [last_conversation?].\n14 March"
    )
    assert not result.complete


def test_loader_rejects_a_library_with_a_bad_template() -> None:
    bad = """
[[template]]
key = "x"
occasion = "birthday"
name = "X"
tone = "warm"
subject = "Hi"
body = "Dear $frist_name"
"""
    with pytest.raises(TemplateError, match=r"Unknown placeholder \$frist_name") as info:
        load_default_templates(bad)
    assert "body of template 'x'" in str(info.value)
    assert info.value.problems[0].suggestion == "$first_name"


def test_loader_rejects_duplicate_keys_and_unknown_occasions() -> None:
    entry = """
[[template]]
key = "same"
occasion = "{occasion}"
name = "X"
tone = "brief"
subject = "Hi"
body = "Hello"
"""
    with pytest.raises(ValueError, match="used twice"):
        load_default_templates(entry.replace("{occasion}", "birthday") * 2)
    with pytest.raises(ValueError, match="malformed"):
        load_default_templates(entry.replace("{occasion}", "christmas"))


def test_loader_returns_templates_with_enums() -> None:
    (template,) = load_default_templates(
        '[[template]]\nkey = "k"\noccasion = "follow_up"\nname = "N"\ntone = "formal"\n'
        'subject = "S"\nbody = """\nDear $display_name,\n"""\n'
    )
    assert template.occasion is Occasion.FOLLOW_UP
    assert template.tone is Tone.FORMAL
    assert template.body == "Dear $display_name,"


# ----------------------------------------------------------------------- hostile templates


HOSTILE = [
    # (template, fragment reported, words the message must contain)
    ("{0.__class__.__init__.__globals__}", "{0.__class__.__init__.__globals__}",
     "attribute or index access"),
    ("Hi {first_name.__class__}", "{first_name.__class__}", "use $first_name"),
    ("${first_name.__class__}", "${first_name.__class__}", "Only a placeholder name"),
    ("{x:>999999999}", "{x:>999999999}", "format specs"),
    ("{first_name:>999999999}", "{first_name:>999999999}", "format specs"),
    ("{first_name}", "{first_name}", "use $first_name"),
    ("{first_name!r}", "{first_name!r}", "conversions"),
    ("{0}", "{0}", "not placeholders here"),
    ("{}", "{}", "not placeholders here"),
    ("{c[0]}", "{c[0]}", "attribute or index access"),
    ("Dear $frist_name", "$frist_name", "did you mean $first_name?"),
    ("Dear ${frist_name}", "${frist_name}", "did you mean ${first_name}?"),
    ("Dear $First_Name", "$First_Name", "did you mean $first_name?"),
    ("Dear $customer", "$customer", "Unknown placeholder $customer"),
    ("Happy ${first_name birthday", "${first_name", "Unbalanced '${'"),
    ("Happy ${", "${", "Unbalanced '${'"),
    ("Costs $5", "$5", "write $$ for a dollar sign"),
    ("Costs 5$", "$", "lone '$' ends the template"),
    ("Hello $ there", "$ ", "is not a placeholder"),
    ("${}", "${}", "Empty ${}"),
    ("${ first_name }", "${ first_name }", "Only a placeholder name"),
    ("${first_name[0]}", "${first_name[0]}", "write ${first_name}"),
    ("You turn $ageth", "$ageth", "write ${age}th"),
    ("$years_as_customer years with us", "$years_as_customer years", "already says 'years'"),
]


@pytest.mark.parametrize(("text", "fragment", "words"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_template_is_rejected_with_a_specific_message(
    text: str, fragment: str, words: str
) -> None:
    problems = validate_template(text)
    assert len(problems) == 1, problems
    (problem,) = problems
    assert problem.fragment == fragment
    assert text[problem.start : problem.end] == fragment
    assert words in problem.message
    assert problem.line == 1 and problem.column == text.index(fragment) + 1
    with pytest.raises(TemplateError, match=re.escape(words)) as info:
        check_template(text, field_name="body")
    assert isinstance(info.value, DomainError)
    assert info.value.problems == (problem,)
    assert words in str(info.value)
    # Rendering refuses it too: a bad template is never half-filled.
    with pytest.raises(TemplateError, match=re.escape(words)):
        render_text(text, FULL)


def test_problem_positions_count_lines_and_columns() -> None:
    text = "Hi $first_name,\n\nSee you {soon}, $frist_name\n$"
    problems = validate_template(text)
    assert [(p.fragment, p.line, p.column) for p in problems] == [
        ("{soon}", 3, 9),
        ("$frist_name", 3, 17),
        ("$", 4, 1),
    ]
    assert str(problems[1]).startswith("line 3, column 17: Unknown placeholder $frist_name")


def test_suggestions() -> None:
    assert suggest_placeholder("frist_name") == "first_name"
    assert suggest_placeholder("surname") == "last_name"
    assert suggest_placeholder("COMPANY") == "company"
    assert suggest_placeholder("buisness_name") == "business_name"
    assert suggest_placeholder("xyzzy") is None


def test_ordinary_text_braces_and_escapes_are_fine() -> None:
    text = "Price: $$5 { see below } :-{ $first_name's ${first_name}s {$first_name}"
    assert validate_template(text) == []
    rendered = render_text(text, FULL)
    assert rendered.text == "Price: $5 { see below } :-{ Anna's Annas {Anna}"


def test_subject_must_be_one_line_and_templates_have_a_length_limit() -> None:
    problems = validate_greeting("Hi\nthere", "x" * (BODY_MAX_LENGTH + 1))
    assert [p.message for p in problems["subject"]] == [
        "A subject is one line: remove the line break"
    ]
    assert problems["body"][0].message == "Too long: 10,001 characters, the limit is 10,000"
    assert problems["body"][0].start == BODY_MAX_LENGTH
    with pytest.raises(TemplateError, match="A subject is one line") as info:
        check_greeting("Hi\nthere", "fine")
    assert info.value.field_name == "subject"
    assert validate_greeting("Hi $first_name", "Fine") == {}


# ------------------------------------------------------------ customer values never expand


def test_customer_values_that_look_like_placeholders_are_printed_literally() -> None:
    context = TemplateContext(
        first_name="$age",
        last_name="{first_name}",
        company="${first_name.__class__} {0.__class__} $$ 100%",
        age=41,
    )
    result = render_text("$first_name / $last_name / $company / $age", context)
    assert result.text == "$age / {first_name} / ${first_name.__class__} {0.__class__} $$ 100% / 41"
    assert result.missing_placeholders == ()


def test_render_only_looks_up_whitelisted_names() -> None:
    values = {"first_name": "Anna", "secret": "do not leak"}
    with pytest.raises(TemplateError, match=r"Unknown placeholder \$secret"):
        render_text("$secret", values)
    assert render_text("$first_name", values).text == "Anna"
    # A whitelisted name absent from a plain mapping is missing, not an error.
    assert render_text("$company", values).missing_placeholders == ("company",)


def test_blank_and_control_character_values_count_as_missing_or_are_cleaned() -> None:
    result = render_text("[$first_name] [$company]", {"first_name": "  ", "company": "A\x00\x1bB"})
    assert result.text == "[[first_name?]] [AB]"
    assert result.missing_placeholders == ("first_name",)


# ------------------------------------------------------------------------------ length caps


def test_subject_is_capped_and_line_breaks_in_values_become_spaces() -> None:
    context = TemplateContext(first_name="Anna\nMaria", company="C" * 500)
    short = render_text("Hi $first_name", context, max_length=SUBJECT_MAX_LENGTH,
                        single_line=True)
    assert short.text == "Hi Anna Maria"
    rendered = render_greeting(("About $company", "Body"), context)
    assert len(rendered.subject) == SUBJECT_MAX_LENGTH
    assert rendered.subject.endswith("…")
    assert rendered.truncated and not rendered.complete


def test_body_is_capped_at_a_word_boundary_and_reported() -> None:
    long_word_text = "word " * 3000  # 15,000 characters
    result = render_text("$company", {"company": long_word_text})
    assert len(result.text) <= BODY_MAX_LENGTH
    assert result.text.endswith("word…")
    assert result.truncated
    assert not render_text("$company", {"company": "short"}).truncated


def test_last_conversation_is_kept_short_and_on_one_line() -> None:
    note = "Talked about\nthe spring order " + "and more " * 100
    value = TemplateContext(last_conversation=note).values()["last_conversation"]
    assert len(value) <= LAST_CONVERSATION_MAX_LENGTH
    assert value.startswith("Talked about the spring order and more")
    assert value.endswith("…") and "\n" not in value


# --------------------------------------------------------------------------- TemplateContext


def test_context_values_cover_exactly_the_whitelist_and_format_values() -> None:
    values = FULL.values()
    assert set(values) == PLACEHOLDER_NAMES
    assert values["date"] == "14 March"
    assert values["occasion"] == "Birthday"
    assert values["age"] == "41"
    assert values["years_as_customer"] == "5 years"
    assert TemplateContext(years_as_customer=1).values()["years_as_customer"] == "1 year"
    assert TemplateContext(years_as_customer=0).values()["years_as_customer"] == ""
    assert TemplateContext(age=0).values()["age"] == ""


def test_context_fallbacks_for_display_name_and_signature() -> None:
    assert TemplateContext(first_name="Anna", last_name="Schmidt").values()["display_name"] == (
        "Anna Schmidt"
    )
    assert TemplateContext(company="Acme").values()["display_name"] == "Acme"
    assert TemplateContext(owner_name="Tom").values()["signature"] == "Tom"
    assert TemplateContext().values()["signature"] == ""
    assert TemplateContext(occasion="Shop opening").values()["occasion"] == "Shop opening"


def test_format_date() -> None:
    assert format_date(date(2026, 3, 14)) == "14 March"
    assert format_date(date(2026, 12, 1), with_year=True) == "1 December 2026"


def test_age_reached() -> None:
    assert age_reached(1985, 3, 14, date(2026, 3, 14)) == 41
    assert age_reached(1985, 3, 14, date(2026, 3, 13)) == 40
    # 29 February: reached on 1 March in a common year, unless that day is the celebration.
    assert age_reached(2000, 2, 29, date(2026, 2, 28)) == 25
    assert age_reached(2000, 2, 29, date(2026, 2, 28), celebrating=True) == 26
    assert age_reached(2000, 2, 29, date(2026, 3, 1)) == 26
    assert age_reached(2030, 1, 1, date(2026, 3, 1)) is None


def _customer(**changes: object) -> Customer:
    base: dict[str, object] = dict(
        id=1, first_name="Anna", last_name="Schmidt", display_name="", company="Acme",
        emails=(), phones=(), address=PostalAddress(), tags=(), status=Status.ACTIVE,
        kind=Kind.EXTERNAL, key_account=False, preferred_channel=None,
        customer_since=date(2021, 3, 20),
        notes="", special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 3, 14, 1985),),
        archived_at=None, created_at=datetime(2021, 3, 20), updated_at=datetime(2021, 3, 20),
        version=1,
    )
    base.update(changes)
    return Customer(**base)  # type: ignore[arg-type]


def test_context_for_customer_computes_age_and_years() -> None:
    context = TemplateContext.for_customer(
        _customer(), occasion=Occasion.BIRTHDAY, occasion_date=date(2026, 3, 14),
        owner_name="Tom",
    )
    values = context.values()
    assert values["age"] == "41"
    assert values["years_as_customer"] == "4 years"  # 20 March 2021 -> 14 March 2026
    assert values["display_name"] == "Anna Schmidt"
    assert values["occasion"] == "Birthday"
    anniversary = TemplateContext.for_customer(
        _customer(), occasion=Occasion.CUSTOMER_ANNIVERSARY, occasion_date=date(2026, 3, 20),
    ).values()
    assert anniversary["years_as_customer"] == "5 years"


def test_context_for_a_sparse_draft_leaves_age_and_years_unknown() -> None:
    draft = CustomerDraft(
        first_name="Ben",
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 5, 2),),  # no birth year
    )
    context = TemplateContext.for_customer(
        draft, occasion=Occasion.CUSTOM, occasion_date=date(2026, 5, 2),
        occasion_title="Shop opening",
    )
    result = render_text("$occasion: $age, $years_as_customer", context)
    assert result.text == "Shop opening: [age?], [years_as_customer?]"
    assert result.missing_placeholders == ("age", "years_as_customer")


def test_placeholders_used_in_order_without_repeats() -> None:
    assert placeholders_used("$date ${first_name} $date $$age {age}") == ("date", "first_name")
    assert re.fullmatch(r"\[age\?\]", render_text("$age", {}).text)
