"""The importer's phone short cut must give exactly what phonenumbers' parse/is_valid/format
gives (the old code path), on numbers from every country code, national prefixes included."""

from __future__ import annotations

import random

import phonenumbers

from crmcompanion.core.csv_import import _import_phone_slow, import_phone


def _old(typed: str, region: str | None) -> str:
    # The importer's phone normalisation before the short cut, kept verbatim.
    try:
        parsed = phonenumbers.parse(typed, region)
    except phonenumbers.NumberParseException:
        return typed
    if not phonenumbers.is_valid_number(parsed):
        return typed
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _generated_numbers() -> list[str]:
    rng = random.Random(6)
    out: list[str] = []
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]:
            example = phonenumbers.example_number(region) if region != "001" else None
            if example is not None:
                e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                out.append(e164)
                out.append(e164[:-1])  # too short for most plans
                out.append(f"+{code}0{e164[1 + len(str(code)):]}")  # a national prefix typed in
        for _ in range(6):
            out.append(f"+{code}" + "".join(rng.choice("0123456789")
                                            for _ in range(rng.randint(1, 13))))
    out += ["+", "+0", "+01234567", "+1", "+12", "+999123456", "+4930123456", "+49030123456",
            "+33013164442", "+3313164442", "+390612345678", "+7 495 123", "030 123456",
            "(030) 123456", "+1 (555) 010-0000", "555-0100", "tel:+4930123456", "0049301234"]
    return out


def test_fast_path_matches_phonenumbers_for_every_country_code() -> None:
    numbers = _generated_numbers()
    assert len(numbers) > 1500
    for region in ("US", "DE", "GB", None):
        for typed in numbers:
            assert import_phone(typed, region) == _old(typed, region), (typed, region)


def test_national_prefix_after_country_code_takes_the_slow_path() -> None:
    # parse strips Germany's trunk 0 after +49: the short cut must not keep the typed text.
    _import_phone_slow.cache_clear()
    assert import_phone("+49030123456", "US") == _old("+49030123456", "US")
    assert _import_phone_slow.cache_info().misses == 1


def _formatted(e164: str, rng: random.Random) -> str:
    """An E.164 number written the way address books do: groups of digits split by spaces,
    dashes, dots or a bracketed area code."""
    digits = e164[1:]
    out, i = "+", 0
    while i < len(digits):
        size = rng.randint(1, 4)
        group = digits[i:i + size]
        i += size
        sep = rng.choice((" ", " ", "-", ".", "", " (", ") ", "(", ")"))
        out += group + (sep if i < len(digits) else "")
    return out


def _formatted_numbers() -> list[str]:
    rng = random.Random(13)
    out: list[str] = []
    for typed in _generated_numbers():
        if typed.startswith("+") and typed[1:].isdigit():
            for _ in range(3):
                out.append(_formatted(typed, rng))
    out += ["+33 6 10 01 23 45", "+49 30 1001 234", "+1 (555) 010-0199", "+44 20 7946 0958",
            "+ 33 6 10 01 23 45", "+(33) 6 10 01 23 45", "+33 (0) 6 10 01 23 45",
            "+49 (0)30 1234567", "+7 495 123-45-67", "+39 06 1234 5678", "+1-", "+ ", "+()",
            "+1 2", "+44 (20) 7946-0958.", "+--44 20 7946 0958", "+4 4 2 0 7 9 4 6 0 9 5 8",
            "+800 1234 5678", "+882 1234 5678", "+1 684 733 1234", "+262 269 61 23 45"]
    return out


def test_formatted_plus_numbers_match_phonenumbers() -> None:
    numbers = _formatted_numbers()
    assert len(numbers) > 3000
    for region in ("US", "DE", None):
        for typed in numbers:
            assert import_phone(typed, region) == _old(typed, region), (typed, region)


def test_formatted_plus_numbers_skip_phonenumbers_parse(monkeypatch) -> None:
    # The shapes of a Google or Outlook export never reach parse (the cost this short cut
    # removes): counted by replacing parse with a counting wrapper.
    calls = []
    real = phonenumbers.parse

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(phonenumbers, "parse", counting)
    _import_phone_slow.cache_clear()
    typed = [f"+33 6 10 01 {i // 100:02} {i % 100:02}" for i in range(300)] + [
        f"+49 30 {1000 + i} {i:03}" for i in range(300)] + ["+1 (555) 010-0199"]
    results = [import_phone(t, "US") for t in typed]
    assert calls == []
    assert results[0] == "+33610010000" and results[300] == "+49301000000"


def test_country_code_work_is_done_once_per_distinct_head(monkeypatch) -> None:
    # What the first digits decide (country code, national prefix, validity check) is looked
    # up once per distinct three digits of a file, not once per number (issue 13): counted
    # by wrapping the lookup, on a fresh cache.
    from crmcompanion.core import csv_import

    calls: list[str] = []
    checks: list[int] = []
    real, real_validator = csv_import._country_head, csv_import._validator

    def counting(first_three: str):
        calls.append(first_three)
        return real(first_three)

    def counting_validator(code: int):
        checks.append(code)
        return real_validator(code)

    monkeypatch.setattr(csv_import, "_COUNTRY_HEADS", {})
    monkeypatch.setattr(csv_import, "_country_head", counting)
    monkeypatch.setattr(csv_import, "_validator", counting_validator)
    typed = [f"+33 6 10 01 {i // 100:02} {i % 100:02}" for i in range(300)] + [
        f"+49 30 {1000 + i} {i:03}" for i in range(300)] + [
        f"+4930{1000 + i}{i:03}" for i in range(300)]
    results = [import_phone(t, "US") for t in typed]
    assert sorted(calls) == ["336", "493"]
    assert sorted(checks) == [33, 49]
    assert results == [_old(t, "US") for t in typed]
