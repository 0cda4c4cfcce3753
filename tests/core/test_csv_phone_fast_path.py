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
