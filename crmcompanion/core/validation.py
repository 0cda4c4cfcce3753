"""Validation and normalisation of what a user types into a customer profile.

Returns a cleaned `CustomerDraft` or raises `ValidationError` naming each bad field, so the
form can show the message next to the field and save nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from functools import cache

from crmcompanion.core.customer import CustomerDraft, EmailAddress, PhoneNumber, SpecialDate
from crmcompanion.core.errors import ValidationError

# Pragmatic email syntax: one @, a local part without spaces, a dotted domain with a TLD.
# Full RFC 5322 accepts things no mail client sends; this rejects typos people actually make.
_EMAIL_PATTERN = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\u0080-\uffff-]+"
    r"@(?:[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]{0,61}[A-Za-z0-9\u0080-\uffff])?\.)+"
    r"[A-Za-z\u0080-\uffff]{2,63}$"
)


@cache
def _email_re() -> re.Pattern[str]:
    """Compiled on first use: its Unicode ranges take ~8 ms to compile, which every start of
    the app (and of every CLI command) paid before its first paint or first line."""
    return re.compile(_EMAIL_PATTERN)

MAX_NAME_LENGTH = 200
# A display name left empty is stored as "first last" (CustomerDraft.effective_display_name):
# up to twice the name limit and a space. The display name's limit is that on every path, so
# whatever the store holds an export writes and an import takes back.
MAX_DISPLAY_NAME_LENGTH = 2 * MAX_NAME_LENGTH + 1
MAX_NOTES_LENGTH = 100_000
MAX_TAG_LENGTH = 60
# RFC 5321: a path is at most 256 octets with its angle brackets, so an address 254.
MAX_EMAIL_LENGTH = 254
MIN_NATIONAL_DIGITS = 4


# Letters and symbols that show nothing: Hangul fillers, the Mongolian vowel separator, the
# braille blank. (Format characters, marks and spaces are told apart by category.)
_BLANK_GRAPHEMES = frozenset("\u115f\u1160\u3164\uffa0\u180e\u2800")
INVISIBLE_NAME = ("Holds only invisible characters (zero-width spaces, direction marks, "
                  "accents without a letter); type a name people can read.")


def is_invisible(text: str) -> bool:
    """True for text that is not empty but shows nothing: only spaces, zero-width and
    direction marks, combining marks without a base letter, fillers."""
    if not text or (_BLANK_GRAPHEMES.isdisjoint(text) and any(map(str.isalnum, text))):
        return False  # the usual case, decided in C: a letter or digit that shows
    return not any(unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK_GRAPHEMES
                   for ch in text)


def names_ok(first: str, last: str, display: str, company: str) -> bool:
    """`not name_problems(...)`, quicker: what a bulk import asks of every row."""
    if not (first or last or display or company) or len(first) > MAX_NAME_LENGTH \
            or len(last) > MAX_NAME_LENGTH or len(display) > MAX_DISPLAY_NAME_LENGTH \
            or len(company) > MAX_NAME_LENGTH:
        return False
    # A field starting with a letter or digit that shows is visible: one C call per field.
    blank = _BLANK_GRAPHEMES
    for value in (first, last, display, company):
        if value and (value[0] in blank or not value[0].isalnum()) and is_invisible(value):
            return False
    return True


def name_problems(first: str, last: str, display: str, company: str) -> dict[str, str]:
    """The problems of the (stripped) name fields, by field: none at all, a field longer than
    its limit, or one that shows nothing. One rule for the editor, the service and imports."""
    errors: dict[str, str] = {}
    if not (first or last or display or company):
        errors["name"] = "Enter a first name, last name or company."
    for field_name, value in (("first_name", first), ("last_name", last),
                              ("display_name", display), ("company", company)):
        limit = MAX_DISPLAY_NAME_LENGTH if field_name == "display_name" else MAX_NAME_LENGTH
        if len(value) > limit:
            errors[field_name] = f"At most {limit} characters."
        elif is_invisible(value):
            errors[field_name] = INVISIBLE_NAME
    return errors


def normalise_email(address: str) -> str:
    """Trimmed; the domain lowercased (the local part is case-sensitive by the RFC)."""
    address = address.strip()
    if "@" in address:
        local, _, domain = address.rpartition("@")
        address = f"{local}@{domain.lower()}"
    return address


# Addresses in the plain shape most are in: ASCII, dotted atoms before the @, a lowercase
# domain. Every one of them is unchanged by `normalise_email` and accepted by `email_problem`
# (a test checks), so a bulk import accepts it with one match instead of both (~1 µs each).
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


def is_plain_email(address: str) -> bool:
    """True for an address `normalise_email` leaves as it is and `email_problem` accepts, in
    the common plain shape; False says nothing (ask those two)."""
    return len(address) <= MAX_EMAIL_LENGTH and _PLAIN_EMAIL.fullmatch(address) is not None


def email_problem(address: str) -> str | None:
    if not address:
        return "Email address is empty."
    if len(address) > MAX_EMAIL_LENGTH:
        return f"“{address[:40]}…” is longer than {MAX_EMAIL_LENGTH} characters."
    if " " in address:
        return f"“{address}” contains a space."
    if address.count("@") != 1:
        return f"“{address}” needs exactly one @."
    local = address.split("@")[0]
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return f"“{address}” has a misplaced dot before the @."
    if not _email_re().match(address):
        return f"“{address}” is not a valid email address (e.g. name@example.com)."
    return None


def normalise_phone(number: str, default_region: str) -> str:
    """E.164 (`+4930123456`) when the number parses as possible; raises ValueError if not."""
    import phonenumbers  # imported on first use: ~10 ms the app's start does not need

    text = number.strip()
    if not text:
        raise ValueError("Phone number is empty.")
    try:
        parsed = phonenumbers.parse(text, default_region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"“{text}” is not a phone number ({exc._msg})") from exc
    # Some numbering plans call 2-digit numbers "possible"; nobody stores a customer's that way.
    if len(str(parsed.national_number)) < MIN_NATIONAL_DIGITS:
        raise ValueError(f"“{text}” is too short for a phone number.")
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"“{text}” has the wrong number of digits for a phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """International display form (`+49 30 123456`); anything unparseable shown as stored."""
    import phonenumbers  # imported on first use (see normalise_phone)

    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def special_date_problem(special: SpecialDate) -> str | None:
    from crmcompanion.core.dates import validate_month_day

    try:
        validate_month_day(special.month, special.day, special.year)
    except ValueError as exc:
        return str(exc)
    if special.kind == "custom" and not special.label.strip():
        return "A custom date needs a label (e.g. “Shop opening”)."
    return None


def clean_tags(tags: tuple[str, ...]) -> tuple[str, ...]:
    """Trimmed, inner whitespace collapsed, duplicates (ignoring case) removed, order kept."""
    seen: set[str] = set()
    cleaned: list[str] = []
    for tag in tags:
        name = " ".join(tag.split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            cleaned.append(name)
    return tuple(cleaned)


def validate_customer(draft: CustomerDraft, default_region: str = "US") -> CustomerDraft:
    """Check and normalise a draft; raise ValidationError naming every bad field."""
    draft = replace(
        draft,
        first_name=draft.first_name.strip(),
        last_name=draft.last_name.strip(),
        display_name=draft.display_name.strip(),
        company=draft.company.strip(),
        tags=clean_tags(draft.tags),
    )
    errors = name_problems(draft.first_name, draft.last_name, draft.display_name,
                           draft.company)
    if len(draft.notes) > MAX_NOTES_LENGTH:
        errors["notes"] = f"Notes are limited to {MAX_NOTES_LENGTH:,} characters."
    for tag in draft.tags:
        if len(tag) > MAX_TAG_LENGTH:
            errors["tags"] = f"Tag “{tag[:20]}…” is longer than {MAX_TAG_LENGTH} characters."

    emails: list[EmailAddress] = []
    for index, email in enumerate(draft.emails):
        address = normalise_email(email.address)
        if not address:
            continue
        problem = email_problem(address)
        if problem:
            errors[f"emails.{index}"] = problem
        emails.append(EmailAddress(address=address, label=email.label.strip() or "home"))

    phones: list[PhoneNumber] = []
    for index, phone in enumerate(draft.phones):
        if not phone.number.strip():
            continue
        try:
            number = normalise_phone(phone.number, default_region)
        except ValueError as exc:
            errors[f"phones.{index}"] = str(exc)
            number = phone.number.strip()
        phones.append(PhoneNumber(number=number, label=phone.label.strip() or "mobile"))

    for index, special in enumerate(draft.special_dates):
        problem = special_date_problem(special)
        if problem:
            errors[f"special_dates.{index}"] = problem
    if draft.customer_since and draft.customer_since.year < 1900:
        errors["customer_since"] = "Customer-since date is before 1900."

    if errors:
        raise ValidationError(errors)
    return replace(draft, emails=tuple(emails), phones=tuple(phones))
