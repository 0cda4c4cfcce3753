"""mailto/sms/tel URLs: exact RFC encodings, and round trips read back with urllib."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from crmcompanion.core.errors import ValidationError
from crmcompanion.core.message_urls import (
    MAILTO_SAFE_LENGTH,
    mailto_too_long,
    mailto_url,
    normalise_phone_number,
    parse_mailto,
    sms_url,
    tel_url,
)

NASTY_SUBJECT = "Grüße & Glückwunsch? 100% #1 a+b=c; 🎂"
NASTY_BODY = "Hallo Jürgen,\n\nQ&A? 50% off #today, 1+1=2.\r\nZeile drei\rEnde 🎉 ${x} {y}"


def test_spaces_are_percent_20_never_plus_and_line_breaks_are_crlf() -> None:
    url = mailto_url("anna@example.org", "Happy birthday", "Hi Anna,\nall the best")
    assert url == (
        "mailto:anna@example.org?subject=Happy%20birthday"
        "&body=Hi%20Anna%2C%0D%0Aall%20the%20best"
    )


@pytest.mark.parametrize("body", ["a\nb", "a\r\nb", "a\rb"])
def test_every_line_break_style_becomes_one_crlf(body: str) -> None:
    url = mailto_url([], "", body)
    assert url == "mailto:?body=a%0D%0Ab"


def test_reserved_characters_are_encoded() -> None:
    url = mailto_url(["a+b@example.org"], "&?%#+=", "")
    query = url.split("?", 1)[1]
    assert query == "subject=%26%3F%25%23%2B%3D"
    assert "+" not in url
    assert "#" not in url  # a '#' would start a fragment and cut the message


def test_round_trip_with_urllib_for_non_ascii_and_reserved_characters() -> None:
    to = ["jürgen@bäckerei.example", "o'brien+news@example.org", "odd,one?@example.org"]
    url = mailto_url(to, NASTY_SUBJECT, NASTY_BODY)
    assert url.isascii()
    parts = urlsplit(url)
    assert parts.scheme == "mailto"
    assert parts.fragment == ""
    assert [unquote(a) for a in parts.path.split(",")] == to
    fields = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    assert fields == {
        "subject": [NASTY_SUBJECT],
        "body": [NASTY_BODY.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")],
    }
    # Our own parser agrees, and gives the body back with \n line breaks.
    assert parse_mailto(url) == (
        to, NASTY_SUBJECT, NASTY_BODY.replace("\r\n", "\n").replace("\r", "\n")
    )


def test_subject_line_breaks_become_spaces() -> None:
    url = mailto_url("a@example.org", "Hello\r\nBcc: evil@example.org", "")
    assert parse_mailto(url)[1] == "Hello Bcc: evil@example.org"
    assert "%0A" not in url and "%0D" not in url


def test_empty_parts_are_left_out_and_addresses_trimmed() -> None:
    assert mailto_url([" a@example.org ", "", "b@example.org"]) == (
        "mailto:a@example.org,b@example.org"
    )
    assert mailto_url("", "Hi") == "mailto:?subject=Hi"


def test_parse_mailto_reads_to_fields_and_keeps_plus() -> None:
    to, subject, body = parse_mailto(
        "MAILTO:a@example.org?to=b@example.org,c@example.org&Subject=1+1&cc=x@example.org"
    )
    assert to == ["a@example.org", "b@example.org", "c@example.org"]
    assert subject == "1+1"  # RFC 6068: '+' is a plus, not a space
    assert body == ""
    with pytest.raises(ValueError, match="Not a mailto URL"):
        parse_mailto("https://example.org")


def test_too_long_helper() -> None:
    short = mailto_url("a@example.org", "Hi", "x" * 100)
    assert not mailto_too_long(short)
    long = mailto_url("a@example.org", "Hi", "ü" * 400)  # 6 URL characters per 'ü'
    assert len(long) > MAILTO_SAFE_LENGTH
    assert mailto_too_long(long)
    assert mailto_too_long("m" * (MAILTO_SAFE_LENGTH + 1))
    assert not mailto_too_long("m" * MAILTO_SAFE_LENGTH)


def test_sms_url() -> None:
    url = sms_url("+49 30 123-456", "Happy birthday, Jürgen!\nSee you & yours")
    assert url == (
        "sms:+4930123456?body=Happy%20birthday%2C%20J%C3%BCrgen%21%0ASee%20you%20%26%20yours"
    )
    parts = urlsplit(url)
    assert parts.path == "+4930123456"
    assert parse_qs(parts.query) == {"body": ["Happy birthday, Jürgen!\nSee you & yours"]}
    assert sms_url("+4930123") == "sms:+4930123"


def test_tel_url_and_phone_normalisation() -> None:
    assert tel_url("+49 (30) 123.456") == "tel:+4930123456"
    assert tel_url("0049 30 123456") == "tel:+4930123456"
    assert tel_url("030 123456") == "tel:030123456"
    assert normalise_phone_number("+1 555\u00a0010 9999") == "+15550109999"


@pytest.mark.parametrize("bad", ["", "call me", "+49 30 12x", "+", "12;ext=3"])
def test_bad_phone_numbers_are_rejected(bad: str) -> None:
    with pytest.raises(ValidationError, match="is not a phone number") as info:
        tel_url(bad)
    assert "phone" in info.value.field_errors
    with pytest.raises(ValidationError, match="is not a phone number"):
        sms_url(bad, "hi")


def test_an_address_cannot_inject_header_fields() -> None:
    url = mailto_url("a@example.org?bcc=evil@example.org&body=spam", "Hi", "")
    parts = urlsplit(url)
    assert parse_qs(parts.query) == {"subject": ["Hi"]}
    assert parse_mailto(url) == (["a@example.org?bcc=evil@example.org&body=spam"], "Hi", "")


def test_a_lone_surrogate_becomes_a_question_mark_instead_of_crashing() -> None:
    url = mailto_url("a@example.org", "", "bad \ud800 text")
    assert parse_mailto(url)[2] == "bad ? text"
