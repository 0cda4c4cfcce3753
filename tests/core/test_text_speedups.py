"""The fast paths in core.text give exactly what the straightforward definitions give."""

from __future__ import annotations

import random
import unicodedata

import pytest

from crmcompanion.core.text import digits, fold, fts_query, phone_tokens, sort_key

_SPECIAL = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d"})


def slow_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slow_digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def slow_phone_tokens(numbers: list[str]) -> list[str]:
    tokens: list[str] = []
    for number in numbers:
        all_digits = slow_digits(number)
        if not all_digits:
            continue
        variants = {all_digits}
        if number.strip().startswith("+"):
            for cc_len in (1, 2, 3):
                variants.add("0" + all_digits[cc_len:])
        for variant in variants:
            for start in range(0, max(1, len(variant) - 2)):
                tokens.append(variant[start:])
    return sorted(set(tokens))


def random_texts(count: int) -> list[str]:
    rng = random.Random(5)
    alphabet = "aZé ÅßøŁ+0123456789()-./²ﬁ١\u0301_"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16))) for _ in range(count)]


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Ångström", "angstrom"), ("WEIß", "weiss"), ("Łukasz", "lukasz"), ("ABC", "abc"), ("", "")],
)
def test_fold_examples(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_digits_and_tokens_equal_the_slow_definitions() -> None:
    for text in random_texts(5000):
        assert fold(text) == slow_fold(text), text
        assert digits(text) == slow_digits(text), text
        assert phone_tokens([text, "+" + text]) == slow_phone_tokens([text, "+" + text]), text


def test_phone_tokens_cover_international_national_and_local_forms() -> None:
    tokens = set(phone_tokens(["+49 30 1234567"]))
    assert {"49301234567", "0301234567", "1234567", "567"} <= tokens
    assert "67" not in tokens


def test_sort_key_and_query() -> None:
    assert sort_key("  Élodie   MÜLLER ") == "elodie muller"
    assert fts_query("+49 (30) 12") == '"493012"*'
    assert fts_query("Jo Mü") == '"jo"* "mu"*'
    assert fts_query("  '*") is None
