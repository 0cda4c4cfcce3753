"""`mailto:`, `sms:` and `tel:` URLs that hand a drafted greeting to the user's own apps.

Why this module exists: CRM Companion never sends mail itself; it opens the owner's mail, SMS or
phone app with the message filled in. Those URLs are easy to get subtly wrong: form encoding
turns spaces into `+` (which RFC 6068 says is a literal plus), bare `\\n` line breaks are not
allowed in a mailto body (RFC 6068 wants `%0D%0A`), and an unencoded `&`, `?`, `#` or `%` in a
customer's text cuts the message short or injects another header. Every piece here is
percent-encoded as UTF-8 with nothing but RFC 3986 "unreserved" characters left bare (plus `@`
in addresses), which every RFC 6068 / RFC 5724 / RFC 3966 reader accepts.

Long URLs are silently truncated by some mail clients and by the OS URL handlers, so
`mailto_too_long` tells the UI to copy the text to the clipboard instead.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from crmcompanion.core.errors import ValidationError

MAILTO_SAFE_LENGTH = 1800
"""Longest mailto URL we hand to the OS; beyond it, copy the text instead of opening a URL."""

# Visual separators people type in phone numbers; RFC 3966/5724 allow some, we drop them all.
_PHONE_SEPARATORS_RE = re.compile(r"[\s\-.()/\u00a0]")
_PHONE_RE = re.compile(r"\+?[0-9]{2,20}")


def _encode(text: str, safe: str = "") -> str:
    # quote() percent-encodes UTF-8 and leaves only A-Z a-z 0-9 - . _ ~ (and `safe`) bare:
    # spaces become %20, '+' becomes %2B, so no reader can take them for form encoding.
    # A lone surrogate (broken import data) has no UTF-8 form: it becomes '?' instead of
    # crashing the "Open in mail app" button.
    return quote(text, safe=safe, encoding="utf-8", errors="replace")


def _crlf(text: str) -> str:
    """Every line break (\\n, \\r\\n or \\r) as CRLF, as RFC 6068 requires in a body."""
    return re.sub(r"\r\n|\r|\n", "\r\n", text)


def _one_line(text: str) -> str:
    """A header value on one line: a line break in a subject would end the header."""
    return re.sub(r"\s*(?:\r\n|\r|\n)\s*", " ", text).strip()


def mailto_url(to: list[str] | tuple[str, ...] | str, subject: str = "", body: str = "") -> str:
    """A `mailto:` URL (RFC 6068) addressed to `to`, with `subject` and `body` filled in.

    Addresses are comma-separated in the path, each percent-encoded except `@` (a comma,
    `?`, `%`, `#` or `&` inside an address cannot break out of it). The subject is put on one
    line; body line breaks become `%0D%0A`. Empty parts are left out: `mailto:?subject=Hi`
    (no recipient) is valid and lets the user choose one.
    """
    addresses = [to] if isinstance(to, str) else list(to)
    cleaned = [a.strip() for a in addresses if a and a.strip()]
    url = "mailto:" + ",".join(_encode(a, safe="@") for a in cleaned)
    fields: list[str] = []
    subject = _one_line(subject)
    if subject:
        fields.append("subject=" + _encode(subject))
    if body:
        fields.append("body=" + _encode(_crlf(body)))
    if fields:
        url += "?" + "&".join(fields)
    return url


def mailto_too_long(url: str) -> bool:
    """True when `url` is too long to hand to a mail client reliably (copy the text instead)."""
    return len(url) > MAILTO_SAFE_LENGTH


def parse_mailto(url: str) -> tuple[list[str], str, str]:
    """(addresses, subject, body) of a `mailto:` URL, body line breaks as `\\n`.

    `to=` header fields are appended to the path's addresses; `+` stays a plus (RFC 6068), it is
    never read as a space. Other header fields (cc, bcc, in-reply-to) are ignored.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "mailto":
        raise ValueError(f"Not a mailto URL: {url[:60]!r}")
    to = [unquote(a) for a in parts.path.split(",") if a]
    subject = ""
    body = ""
    for hfield in parts.query.split("&") if parts.query else []:
        name, _, value = hfield.partition("=")
        name = unquote(name).lower()
        value = unquote(value)
        if name == "to":
            to.extend(a for a in value.split(",") if a)
        elif name == "subject":
            subject = value
        elif name == "body":
            body = value.replace("\r\n", "\n")
    return to, subject, body


def normalise_phone_number(number: str) -> str:
    """`+49 (30) 123-456` -> `+4930123456`; raises `ValidationError` if it is not a number.

    Numbers are normally stored E.164 already; this is the last check before a URL is built.
    """
    compact = _PHONE_SEPARATORS_RE.sub("", number or "")
    if compact.startswith("00"):  # international prefix typed the European way
        compact = "+" + compact[2:]
    if not _PHONE_RE.fullmatch(compact):
        raise ValidationError(
            {"phone": f"{number!r} is not a phone number (digits, optionally starting with +)"}
        )
    return compact


def sms_url(number: str, body: str = "") -> str:
    """An `sms:` URL (RFC 5724) such as `sms:+4930123?body=Happy%20birthday`.

    Line breaks in the body are sent as `%0A`, which phone SMS apps understand.
    """
    url = "sms:" + normalise_phone_number(number)
    if body:
        url += "?body=" + _encode(re.sub(r"\r\n|\r", "\n", body))
    return url


def tel_url(number: str) -> str:
    """A `tel:` URL (RFC 3966) such as `tel:+4930123456`."""
    return "tel:" + normalise_phone_number(number)
