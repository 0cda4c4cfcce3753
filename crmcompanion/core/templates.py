"""Greeting templates: user-written text with `$placeholders`, filled safely.

Why this module exists: the owner writes (and edits) the greetings sent to customers, so a
template is *user text, never code*. `str.format` would walk attributes of whatever it is given
(`{c.__class__.__init__.__globals__}`) and accept huge format specs (`{x:>999999999}`), so it is
never used on template text. Instead one small scanner, shared by validation and rendering,
recognises exactly the `string.Template` syntax (`$name`, `${name}`, `$$`) and substitutes values
from a whitelist of plain strings built by `TemplateContext`. Because substitution is a single
pass over the *template*, a customer whose name contains `$age` or `{first_name}` is printed
literally: inserted values are never scanned again.

Validation names the exact bad part with its position (and a suggestion where one is likely)
so the editor can underline it; `render_greeting` refuses a template that does not validate.
An unknown value (no birth year, so no age) is not an error: the render leaves a visible
marker such as `[age?]` and lists it in `missing_placeholders`, so the owner can edit it out
before sending, instead of mailing a sentence with a hole in it.
"""

from __future__ import annotations

import difflib
import logging
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from crmcompanion.core.customer import Customer, CustomerDraft, SpecialDateKind
from crmcompanion.core.errors import DomainError
from crmcompanion.core.occasions import Occasion
from crmcompanion.resources import TEMPLATES, resource_path

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# The whitelist
# --------------------------------------------------------------------------------------------

#: Every placeholder a template may use, with the help text the editor shows for it.
PLACEHOLDERS: dict[str, str] = {
    "first_name": "The customer's first name",
    "last_name": "The customer's last name",
    "display_name": "The name shown in lists (the person, else the company)",
    "company": "The customer's company",
    "age": "The age reached on the occasion date, e.g. 40 (needs a birth year)",
    "years_as_customer": "How long they have been a customer, with the unit: '1 year', '5 years'",
    "occasion": "The occasion's title, e.g. 'Birthday' or a special date's label",
    "date": "The occasion date, e.g. '14 March'",
    "business_name": "Your business name (Settings)",
    "owner_name": "Your name (Settings)",
    "signature": "Your sign-off (Settings); defaults to your name and business name",
    "last_conversation": "A short note from your last conversation with the customer",
}
PLACEHOLDER_NAMES: frozenset[str] = frozenset(PLACEHOLDERS)

# Names people commonly type for a placeholder we do have; checked before fuzzy matching.
_ALIASES: dict[str, str] = {
    "name": "display_name",
    "firstname": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "fullname": "display_name",
    "full_name": "display_name",
    "company_name": "company",
    "business": "business_name",
    "owner": "owner_name",
    "my_name": "owner_name",
    "years": "years_as_customer",
    "occasion_date": "date",
    "last_note": "last_conversation",
}

SUBJECT_MAX_LENGTH = 200
"""A rendered subject longer than this is cut (see `_cap`); so is a subject template."""
BODY_MAX_LENGTH = 10_000
"""A rendered body longer than this is cut (see `_cap`); so is a body template."""
LAST_CONVERSATION_MAX_LENGTH = 300
"""`$last_conversation` is a personal touch, not a transcript: longer notes are shortened."""

ELLIPSIS = "…"


def missing_marker(name: str) -> str:
    """The visible text left where a placeholder has no value, e.g. `[age?]`."""
    return f"[{name}?]"


# --------------------------------------------------------------------------------------------
# Problems and errors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateProblem:
    """One bad part of a template: `text[start:end] == fragment`; line/column are 1-based."""

    start: int
    end: int
    fragment: str
    message: str
    line: int
    column: int
    suggestion: str = ""
    """What to write instead (e.g. `$first_name`), empty when there is no single good answer."""

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class TemplateError(DomainError):
    """A template that cannot be saved or rendered; `problems` says exactly where and why."""

    def __init__(self, problems: Iterable[TemplateProblem], field_name: str = "") -> None:
        self.problems: tuple[TemplateProblem, ...] = tuple(problems)
        self.field_name = field_name
        where = f"The {field_name}" if field_name else "The template"
        count = len(self.problems)
        details = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {count - 5} more)" if count > 5 else ""
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{where} has {count} {noun}: {details}{more}")


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _problem(
    text: str, start: int, end: int, message: str, suggestion: str = ""
) -> TemplateProblem:
    line, column = _position(text, start)
    return TemplateProblem(start, end, text[start:end], message, line, column, suggestion)


def suggest_placeholder(name: str) -> str | None:
    """The whitelisted name someone most likely meant by `name`, or None."""
    if name in PLACEHOLDER_NAMES:
        return name
    lowered = name.lower()
    if lowered in PLACEHOLDER_NAMES:
        return lowered
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    close = difflib.get_close_matches(lowered, sorted(PLACEHOLDER_NAMES), n=1, cutoff=0.75)
    return close[0] if close else None


# --------------------------------------------------------------------------------------------
# The scanner: the one place that knows the syntax
# --------------------------------------------------------------------------------------------

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_IDENT_RE = re.compile(_IDENT)
# A `$` and what follows it, or a `{...}` that may be a str.format field (no `$` inside, so a
# `$placeholder` between braces is still seen as a placeholder; one line, bounded length).
_TOKEN_RE = re.compile(
    r"\$(?:(?P<escaped>\$)|(?P<named>" + _IDENT + r")|\{(?P<braced>[^{}$\n]{0,200})\})?"
    r"|(?P<brace>\{[^{}$\n]{0,200}\})"
)
# What Python's str.format would treat as a replacement field: a field name (digits or an
# identifier, or nothing), then attribute/index access, a !conversion or a :format spec.
_FORMAT_FIELD_RE = re.compile(r"(?P<field>\d+|" + _IDENT + r")?(?P<rest>[.\[!:].*)?", re.S)


@dataclass(frozen=True)
class _Placeholder:
    name: str
    start: int
    end: int


@dataclass(frozen=True)
class _Literal:
    text: str


_Piece = _Placeholder | _Literal


def _scan(text: str) -> tuple[list[_Piece], list[TemplateProblem]]:
    """Split `text` into literal pieces and placeholders, collecting every problem on the way."""
    pieces: list[_Piece] = []
    problems: list[TemplateProblem] = []
    pos = 0
    for match in _TOKEN_RE.finditer(text):
        start, end = match.span()
        if start > pos:
            pieces.append(_Literal(text[pos:start]))
        pos = end
        if match.group("escaped") is not None:
            pieces.append(_Literal("$"))
        elif match.group("named") is not None:
            name = match.group("named")
            if name in PLACEHOLDER_NAMES:
                pieces.append(_Placeholder(name, start, end))
            else:
                problems.append(_unknown_name(text, start, end, name, braced=False))
        elif match.group("braced") is not None:
            inner = match.group("braced")
            if inner in PLACEHOLDER_NAMES:
                pieces.append(_Placeholder(inner, start, end))
            else:
                problems.append(_bad_braced(text, start, end, inner))
        elif match.group("brace") is not None:
            problem = _format_field_problem(text, start, end, match.group("brace")[1:-1])
            if problem is None:
                pieces.append(_Literal(match.group("brace")))
            else:
                problems.append(problem)
        else:
            problems.append(_lone_dollar(text, start))
    if pos < len(text):
        pieces.append(_Literal(text[pos:]))
    return pieces, problems


_GLUED_SUFFIXES = frozenset({"s", "es", "th", "st", "nd", "rd"})


def _unknown_name(text: str, start: int, end: int, name: str, *, braced: bool) -> TemplateProblem:
    written = f"${{{name}}}" if braced else f"${name}"
    # `$first_names`, `$ageth`: a known placeholder glued to a short suffix; braces separate them.
    if not braced:
        for known in sorted(PLACEHOLDER_NAMES, key=len, reverse=True):
            if name.startswith(known) and name[len(known):] in _GLUED_SUFFIXES:
                fix = f"${{{known}}}{name[len(known):]}"
                return _problem(
                    text, start, end,
                    f"Unknown placeholder {written}: to put text right after ${known}, "
                    f"write {fix}",
                    fix,
                )
    guess = suggest_placeholder(name)
    if guess:
        fix = f"${{{guess}}}" if braced else f"${guess}"
        return _problem(
            text, start, end, f"Unknown placeholder {written}: did you mean {fix}?", fix
        )
    return _problem(
        text, start, end,
        f"Unknown placeholder {written}; write $$ for a dollar sign. Known placeholders: "
        + ", ".join(f"${n}" for n in PLACEHOLDERS),
    )


def _bad_braced(text: str, start: int, end: int, inner: str) -> TemplateProblem:
    if not inner.strip():
        return _problem(text, start, end, "Empty ${}: put a placeholder name inside, "
                        "e.g. ${first_name}")
    if _IDENT_RE.fullmatch(inner):
        return _unknown_name(text, start, end, inner, braced=True)
    head = _IDENT_RE.match(inner.strip())
    known = head.group(0) if head and head.group(0) in PLACEHOLDER_NAMES else None
    fix = f"${{{known}}}" if known else ""
    tail = f": write {fix}" if known else ""
    return _problem(
        text, start, end,
        f"Only a placeholder name may stand inside ${{...}}, not {inner!r} "
        f"(no attributes, indexes, spaces or formats){tail}",
        fix,
    )


def _lone_dollar(text: str, start: int) -> TemplateProblem:
    following = text[start + 1 : start + 2]
    if following == "{":
        # `${` that never closes on its line (or holds braces/`$`): show the name typed so far.
        head = _IDENT_RE.match(text, start + 2)
        end = head.end() if head else start + 2
        name = head.group(0) if head else ""
        fix = f"${{{name}}}" if name in PLACEHOLDER_NAMES else ""
        hint = f": write {fix}" if fix else ": close it with }"
        return _problem(text, start, end, f"Unbalanced '${{' is never closed{hint}", fix)
    if not following:
        return _problem(text, start, start + 1,
                        "A lone '$' ends the template: write $$ for a dollar sign", "$$")
    shown = following if following.isprintable() and not following.isspace() else repr(following)
    return _problem(
        text, start, start + 2,
        f"'$' followed by {shown!r} is not a placeholder: write $$ for a dollar sign "
        "or $name for a placeholder",
        "$$" + following,
    )


def _format_field_problem(text: str, start: int, end: int, inner: str) -> TemplateProblem | None:
    """A problem if `{inner}` looks like a str.format field; None for ordinary braces."""
    parsed = _FORMAT_FIELD_RE.fullmatch(inner)
    if parsed is None:
        return None  # e.g. "{ see below }": plain text, kept as written
    name, rest = parsed.group("field"), parsed.group("rest") or ""
    guess = suggest_placeholder(name) if name and not name.isdigit() else None
    fix = f"${guess}" if guess else ""
    use = f"use {fix}" if guess else "placeholders are written $first_name"
    if rest.startswith((".", "[")):
        why = "attribute or index access is not allowed in templates"
    elif rest.startswith("!"):
        why = "conversions such as !r are not allowed in templates"
    elif rest.startswith(":"):
        why = f"format specs such as {rest!r} are not allowed in templates"
    else:
        why = "curly-brace fields are not placeholders here"
    return _problem(text, start, end, f"{{{inner}}}: {why}; {use}", fix)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

_YEARS_WORD_RE = re.compile(
    r"\$(?:years_as_customer|\{years_as_customer\})(?P<word>\s+years?\b)", re.IGNORECASE
)


def validate_template(
    text: str, *, max_length: int | None = None, single_line: bool = False
) -> list[TemplateProblem]:
    """Every problem in `text`, in order; an empty list means it can be saved and rendered.

    `max_length` caps the template itself (a longer template could only be cut when rendered);
    `single_line` is for subjects, where a line break would end the header.
    """
    _, problems = _scan(text)
    for match in _YEARS_WORD_RE.finditer(text):
        problems.append(_problem(
            text, match.start(), match.end(),
            "$years_as_customer already says 'years' (it reads '5 years'): drop the word after it",
            "$years_as_customer",
        ))
    if single_line:
        for match in re.finditer(r"\r\n|\r|\n", text):
            problems.append(_problem(text, match.start(), match.end(),
                                     "A subject is one line: remove the line break", " "))
    if max_length is not None and len(text) > max_length:
        problems.append(_problem(
            text, max_length, len(text),
            f"Too long: {len(text):,} characters, the limit is {max_length:,}",
        ))
    problems.sort(key=lambda p: (p.start, p.end))
    return problems


def check_template(
    text: str, *, field_name: str = "", max_length: int | None = None, single_line: bool = False
) -> None:
    """Raise `TemplateError` naming every problem in `text`; return None when it is fine."""
    problems = validate_template(text, max_length=max_length, single_line=single_line)
    if problems:
        raise TemplateError(problems, field_name)


def validate_greeting(subject: str, body: str) -> dict[str, list[TemplateProblem]]:
    """Problems per field (`"subject"`, `"body"`), only for fields that have any."""
    result = {
        "subject": validate_template(subject, max_length=SUBJECT_MAX_LENGTH, single_line=True),
        "body": validate_template(body, max_length=BODY_MAX_LENGTH),
    }
    return {name: problems for name, problems in result.items() if problems}


def check_greeting(subject: str, body: str) -> None:
    """Raise `TemplateError` for the first field (subject, then body) that has problems."""
    problems_by_field = validate_greeting(subject, body)
    if problems_by_field:
        name, problems = next(iter(problems_by_field.items()))
        raise TemplateError(problems, name)


def placeholders_used(text: str) -> tuple[str, ...]:
    """The valid placeholder names `text` uses, in order of first use, without repeats."""
    pieces, _ = _scan(text)
    return tuple(dict.fromkeys(p.name for p in pieces if isinstance(p, _Placeholder)))


# --------------------------------------------------------------------------------------------
# Values: TemplateContext builds the whitelist dict of plain strings
# --------------------------------------------------------------------------------------------

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


def format_date(day: date, *, with_year: bool = False) -> str:
    """'14 March' (or '14 March 2026'): English month names, independent of the OS locale."""
    text = f"{day.day} {MONTH_NAMES[day.month - 1]}"
    return f"{text} {day.year}" if with_year else text


def format_years(years: int) -> str:
    return "1 year" if years == 1 else f"{years} years"


def age_reached(
    birth_year: int, birth_month: int, birth_day: int, on: date, *, celebrating: bool = False
) -> int | None:
    """The age someone born on that day has on `on`; None if not yet born or age 0.

    With `celebrating=True`, `on` is the day this year's birthday is celebrated (a 29 February
    birthday may be celebrated on 28 February in other years), so the age is the year
    difference. Otherwise a 29 February birthday counts as reached on 1 March in common years.
    """
    age = on.year - birth_year
    if not celebrating and (on.month, on.day) < (birth_month, birth_day):
        age -= 1
    return age if age > 0 else None


def full_years_between(since: date, on: date, *, anniversary: bool = False) -> int | None:
    """Completed years from `since` to `on` (the year difference on an anniversary); None if <1."""
    years = on.year - since.year
    if not anniversary and (on.month, on.day) < (since.month, since.day):
        years -= 1
    return years if years >= 1 else None


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a word boundary when one is near, with '…'."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit - 40 and space > 0:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + ELLIPSIS


# Control characters and lone surrogates (which cannot even be encoded as UTF-8). Format
# characters (Cf) stay: zero-width joiners hold emoji and some scripts together.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cs"})


def clean_value(value: object) -> str:
    """A field value as plain text: line breaks normalised to \\n, other control chars dropped.

    Customer data comes from forms, CSV and vCard imports; a stray NUL, escape sequence or
    bidi override must not end up in a message.
    """
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _DROPPED_CATEGORIES
    ).strip()


@dataclass(frozen=True)
class TemplateContext:
    """Plain values for one message; `values()` turns them into the whitelist dict of strings.

    None or blank means unknown: the placeholder is then reported as missing, never filled
    with an empty string.
    """

    first_name: str | None = None
    last_name: str | None = None
    display_name: str | None = None
    company: str | None = None
    occasion: Occasion | str | None = None
    """An `Occasion` (its title is used) or a title such as a custom date's label."""
    occasion_date: date | None = None
    age: int | None = None
    years_as_customer: int | None = None
    business_name: str | None = None
    owner_name: str | None = None
    signature: str | None = None
    last_conversation: str | None = None

    def values(self) -> dict[str, str]:
        """Every whitelisted placeholder name mapped to its text ('' when unknown)."""
        first, last = clean_value(self.first_name), clean_value(self.last_name)
        company = clean_value(self.company)
        display = clean_value(self.display_name) or " ".join(p for p in (first, last) if p)
        display = display or company
        if isinstance(self.occasion, Occasion):
            occasion = self.occasion.title
        else:
            occasion = clean_value(self.occasion)
        owner, business = clean_value(self.owner_name), clean_value(self.business_name)
        # A sign-off is better than a hole: default to the owner's name over the business name.
        signature = clean_value(self.signature) or "\n".join(p for p in (owner, business) if p)
        note = clean_value(self.last_conversation).replace("\n", " ")
        values = {
            "first_name": first,
            "last_name": last,
            "display_name": display,
            "company": company,
            "age": str(self.age) if self.age is not None and self.age > 0 else "",
            "years_as_customer": (
                format_years(self.years_as_customer)
                if self.years_as_customer is not None and self.years_as_customer > 0 else ""
            ),
            "occasion": occasion,
            "date": format_date(self.occasion_date) if self.occasion_date else "",
            "business_name": business,
            "owner_name": owner,
            "signature": signature,
            "last_conversation": shorten(note, LAST_CONVERSATION_MAX_LENGTH),
        }
        return values

    @classmethod
    def for_customer(
        cls,
        customer: Customer | CustomerDraft,
        *,
        occasion: Occasion,
        occasion_date: date,
        occasion_title: str | None = None,
        business_name: str | None = None,
        owner_name: str | None = None,
        signature: str | None = None,
        last_conversation: str | None = None,
    ) -> TemplateContext:
        """The context for greeting `customer` on `occasion_date`, computing age and years.

        `occasion_title` overrides the occasion's standard title (a custom date's label).
        """
        draft = customer.to_draft() if isinstance(customer, Customer) else customer
        birthday = next(
            (d for d in draft.special_dates
             if d.kind is SpecialDateKind.BIRTHDAY and d.year is not None),
            None,
        )
        age = None
        if birthday is not None and birthday.year is not None:
            age = age_reached(birthday.year, birthday.month, birthday.day, occasion_date,
                              celebrating=occasion is Occasion.BIRTHDAY)
        years = None
        if draft.customer_since is not None:
            years = full_years_between(draft.customer_since, occasion_date,
                                       anniversary=occasion is Occasion.CUSTOMER_ANNIVERSARY)
        return cls(
            first_name=draft.first_name,
            last_name=draft.last_name,
            display_name=draft.effective_display_name(),
            company=draft.company,
            occasion=occasion_title or occasion,
            occasion_date=occasion_date,
            age=age,
            years_as_customer=years,
            business_name=business_name,
            owner_name=owner_name,
            signature=signature,
            last_conversation=last_conversation,
        )


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedText:
    text: str
    missing_placeholders: tuple[str, ...]
    """Placeholders with no value, in order of first use; each left as `[name?]` in `text`."""
    truncated: bool
    """True when the result was longer than the cap and was cut (ending in '…')."""


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str
    missing_placeholders: tuple[str, ...]
    truncated: bool

    @property
    def complete(self) -> bool:
        """True when nothing is missing or cut: ready to send as is."""
        return not self.missing_placeholders and not self.truncated


def _cap(text: str, limit: int) -> tuple[str, bool]:
    # At the cap the text is cut to `limit` characters in total, the last being '…', preferring
    # a word boundary, and the result says `truncated=True` so the UI can warn before sending.
    if len(text) <= limit:
        return text, False
    return shorten(text, limit), True


def render_text(
    text: str,
    values: Mapping[str, str | None] | TemplateContext,
    *,
    max_length: int = BODY_MAX_LENGTH,
    single_line: bool = False,
) -> RenderedText:
    """Fill `text` from `values` in one pass; raise `TemplateError` if `text` is not valid.

    Only whitelisted names are looked up, values are inserted as plain text and never scanned
    again. With `single_line`, line breaks inside values become spaces (for subjects).
    """
    problems = validate_template(text)
    if problems:
        raise TemplateError(problems)
    pieces, _ = _scan(text)
    lookup = values.values() if isinstance(values, TemplateContext) else values
    out: list[str] = []
    missing: dict[str, None] = {}
    for piece in pieces:
        if isinstance(piece, _Literal):
            out.append(piece.text)
            continue
        value = clean_value(lookup.get(piece.name))
        if not value:
            missing[piece.name] = None
            value = missing_marker(piece.name)
        out.append(value)
    result = "".join(out)
    if single_line:
        result = re.sub(r"\s*(?:\r\n|\r|\n)\s*", " ", result)
    result, truncated = _cap(result, max_length)
    return RenderedText(result, tuple(missing), truncated)


class Tone(StrEnum):
    WARM = "warm"
    BRIEF = "brief"
    FORMAL = "formal"


@dataclass(frozen=True)
class GreetingTemplate:
    """A named subject + body for one occasion, in one tone."""

    key: str
    occasion: Occasion
    name: str
    tone: Tone
    subject: str
    body: str

    def problems(self) -> dict[str, list[TemplateProblem]]:
        return validate_greeting(self.subject, self.body)


def render_greeting(
    template: GreetingTemplate | tuple[str, str],
    context: TemplateContext | Mapping[str, str | None],
) -> RenderedMessage:
    """Render subject and body; `missing_placeholders` covers both, subject first."""
    subject_text, body_text = (
        (template.subject, template.body) if isinstance(template, GreetingTemplate) else template
    )
    check_greeting(subject_text, body_text)
    values = context.values() if isinstance(context, TemplateContext) else context
    subject = render_text(subject_text, values, max_length=SUBJECT_MAX_LENGTH, single_line=True)
    body = render_text(body_text, values, max_length=BODY_MAX_LENGTH)
    missing = tuple(dict.fromkeys(subject.missing_placeholders + body.missing_placeholders))
    return RenderedMessage(subject.text, body.text, missing, subject.truncated or body.truncated)


# --------------------------------------------------------------------------------------------
# The default library
# --------------------------------------------------------------------------------------------

DEFAULT_TEMPLATES_FILE = "default_templates.toml"


def load_default_templates(text: str) -> tuple[GreetingTemplate, ...]:
    """Parse the TOML template library (`[[template]]` tables) and validate every template.

    Raises `TemplateError` (naming the template) for a template that does not validate and
    `ValueError` for a malformed file, so a broken library is caught by tests, not customers.
    """
    data = tomllib.loads(text)
    result: list[GreetingTemplate] = []
    seen: set[str] = set()
    for index, entry in enumerate(data.get("template", []), start=1):
        try:
            template = GreetingTemplate(
                key=str(entry["key"]),
                occasion=Occasion(entry["occasion"]),
                name=str(entry["name"]),
                tone=Tone(entry["tone"]),
                subject=str(entry["subject"]).strip(),
                body=str(entry["body"]).strip("\n"),
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"Template #{index} in the library is malformed: {exc}") from exc
        if template.key in seen:
            raise ValueError(f"Template key {template.key!r} is used twice")
        seen.add(template.key)
        problems_by_field = template.problems()
        if problems_by_field:
            field_name, problems = next(iter(problems_by_field.items()))
            raise TemplateError(problems, f"{field_name} of template {template.key!r}")
        result.append(template)
    return tuple(result)


def default_templates_path() -> Path:
    """Where the default library lives: `crmcompanion/resources/templates/`, inside the
    package so that every installation (wheel, pipx, bundle) has it."""
    path = resource_path(TEMPLATES, DEFAULT_TEMPLATES_FILE)
    if path is None:
        raise FileNotFoundError(
            f"The default greeting templates ({DEFAULT_TEMPLATES_FILE}) are missing from this "
            "installation of CRM Companion; reinstall it."
        )
    return path


def read_default_templates() -> tuple[GreetingTemplate, ...]:
    """The default library, read from `default_templates_path()`."""
    return load_default_templates(default_templates_path().read_text(encoding="utf-8"))


def templates_for(
    occasion: Occasion, templates: Iterable[GreetingTemplate]
) -> tuple[GreetingTemplate, ...]:
    return tuple(t for t in templates if t.occasion is occasion)


def iter_placeholder_help() -> Iterator[tuple[str, str]]:
    """(`$name`, help text) pairs for the editor's placeholder menu, in a sensible order."""
    for name, help_text in PLACEHOLDERS.items():
        yield f"${name}", help_text
