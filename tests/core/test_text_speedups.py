"""The fast paths in core.text give exactly what the straightforward definitions give."""

from __future__ import annotations

import random
import sqlite3
import unicodedata

import pytest

from crmcompanion.core.text import (
    PHONE_RUN_END,
    country_code_length,
    digits,
    fold,
    fts_query,
    phone_forms,
    phone_search_text,
    phone_tokens,
    sort_key,
    trigrams,
)

_SPECIAL = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d"})


def slow_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slow_digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


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
    for text in ("+4930123456", "+", "+²", "+١٢٣", "+12a", "++12", "+ 12", "12+"):
        assert digits(text) == slow_digits(text), text


def test_country_code_lengths_match_the_phonenumbers_table() -> None:
    from phonenumbers.data import _COUNTRY_CODE_TO_REGION_CODE as codes

    for code in codes:
        assert country_code_length(f"{code}1234567") == len(str(code)), code


def test_phone_forms_are_the_digits_and_the_national_form_with_trunk_zero() -> None:
    assert phone_forms("+49 30 1234567") == ["49301234567", "0301234567"]
    assert phone_forms("+1 503 555 0101") == ["15035550101", "05035550101"]
    assert phone_forms("+353 1 234 5678") == ["35312345678", "012345678"]
    assert phone_forms("030 1234567") == ["0301234567"]
    assert phone_forms("no digits") == []


@pytest.mark.parametrize("length", [0, 1, 3, 4, 11, 15, 32, 33, 40])
def test_trigrams_cut_by_slices_equal_the_plain_definition(length: int) -> None:
    text = "".join(str(i % 10) for i in range(7, 7 + length))
    expected = [text] if length <= 3 else [text[i:i + 3] for i in range(length - 2)]
    assert trigrams(text) == expected


@pytest.mark.parametrize("numbers", [
    ["+49 30 1234567", "030 1234567", "+1 (503) 555-0101", "ext. 12", "none", ""],
    ["+4930123456"], ["12"], ["+1"], ["+" + "1" * 40], ["+44 20 7946 0958", "+44 20 7946 0959"],
    [],
])
def test_phone_tokens_and_their_text_equal_the_plain_definition(numbers: list[str]) -> None:
    # Each number: its digits' trigrams and a run end, then its national form and a run end.
    plain: list[str] = []
    for number in numbers:
        forms = phone_forms(number)
        if forms:
            whole = forms[0]
            plain += [whole] if len(whole) <= 3 else [whole[i:i + 3]
                                                      for i in range(len(whole) - 2)]
            plain.append(PHONE_RUN_END)
            for national in forms[1:]:
                plain += [national, PHONE_RUN_END]
    pairs = [(n, digits(n)) for n in numbers]
    assert phone_tokens(numbers) == plain
    assert phone_search_text(pairs) == " ".join(phone_tokens(numbers))
    assert phone_tokens(["+49 30 1234567"])[:3] == ["493", "930", "301"]


def _phone_index(numbers: list[str]) -> sqlite3.Connection:
    # The very tokenizer of the customer search index (migration 0001).
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE s USING fts5(phones, tokenize = \"unicode61 remove_diacritics 2\","
        " prefix = '1 2 3')"
    )
    conn.executemany(
        "INSERT INTO s (rowid, phones) VALUES (?, ?)",
        [(i, " ".join(phone_tokens([n]))) for i, n in enumerate(numbers)],
    )
    return conn


def test_a_typed_number_finds_exactly_the_numbers_holding_its_digits_in_one_form() -> None:
    """The definition: three or more typed digits match where they occur, in a row, in one
    form of a number (its digits, or its national form); formatting never matters."""
    rng = random.Random(11)
    numbers = [
        rng.choice(("+49 30 ", "+1 503 ", "+353 1 ", "030 ", "+44 20 ", "(0)"))
        + "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 9)))
        for _ in range(400)
    ]
    conn = _phone_index(numbers)
    queries = ["0049 30 765", "030 1234", "+49 30", "4567", "503 555", "000", "12"]
    for _ in range(300):
        number = rng.choice(numbers)
        form = rng.choice(phone_forms(number))
        start = rng.randrange(len(form))
        piece = form[start : start + rng.randint(3, 8)]
        queries.append(" ".join(piece[i : i + 2] for i in range(0, len(piece), 2)))
    for typed in queries:
        expression = fts_query(typed)
        assert expression is not None
        found = {r[0] for r in conn.execute("SELECT rowid FROM s WHERE s MATCH ?", (expression,))}
        wanted = digits(typed)
        if len(wanted) < 3:  # not a phone query: a word prefix (matches trigrams by prefix)
            expected = {
                i for i, n in enumerate(numbers)
                if any(t.startswith(wanted) for t in phone_tokens([n]))
            }
        else:
            expected = {
                i for i, n in enumerate(numbers) if any(wanted in f for f in phone_forms(n))
            }
        assert found == expected, typed


def test_phone_runs_never_join_two_numbers() -> None:
    # "...4567" followed by "6789..." must not make "5678" a match.
    conn = _phone_index(["+49 30 1234567 ", "", ""])
    conn.execute(
        "INSERT INTO s (rowid, phones) VALUES (9, ?)",
        (" ".join(phone_tokens(["0301234567", "6789000"])),),
    )
    hits = conn.execute("SELECT rowid FROM s WHERE s MATCH ?", (fts_query("5678"),)).fetchall()
    assert hits == []


def test_sort_key_and_query() -> None:
    assert sort_key("  Élodie   MÜLLER ") == "elodie muller"
    assert fts_query("+49 (30) 12") == '("493 930 301 012" OR "493012"*)'
    assert fts_query("(030)") == '"030"*'
    assert fts_query("Jo Mü") == '"jo"* "mu"*'
    assert fts_query("  '*") is None


def _plain_search_text(number: str) -> str:
    forms = phone_forms(number)
    if not forms:
        return ""
    whole = forms[0]
    parts = [whole] if len(whole) <= 3 else [whole[i:i + 3] for i in range(len(whole) - 2)]
    parts.append(PHONE_RUN_END)
    for national in forms[1:]:
        parts += [national, PHONE_RUN_END]
    return " ".join(parts)


def test_phone_search_text_with_remembered_heads_equals_the_plain_definition(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The trigrams of all but a number's last four digits are joined once per such head
    # (issue 13): the same text for every length, read cold and warm, with "+" or not.
    from crmcompanion.core import text as text_module

    monkeypatch.setattr(text_module, "_HEAD_TRIGRAMS", {})
    rng = random.Random(24)
    numbers = [rng.choice(("+", " +", "", "0", "(")) + "".join(
        rng.choice("0123456789") for _ in range(length)) for length in range(45)
        for _ in range(20)]
    numbers += [f"+33 6 10 01 23 {i:02}" for i in range(100)]
    for _ in range(2):
        for number in numbers:
            assert phone_search_text([(number, digits(number))]) == \
                _plain_search_text(number), number
    pairs = [(n, digits(n)) for n in numbers[-100:]]
    assert phone_search_text(pairs) == " ".join(_plain_search_text(n) for n in numbers[-100:])
    # The hundred numbers differing in their last two digits share one head.
    assert sum(1 for head in text_module._HEAD_TRIGRAMS if head.startswith("3361001")) == 1


def test_phone_search_text_works_out_each_heads_country_code_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A contacts file's numbers share their country and area codes: the country code's
    # length is decided by the head (all digits but the last four) and worked out once per
    # head, not once per number (issue 13: the staging writer makes 200,000 of these).
    from crmcompanion.core import text as text_module

    monkeypatch.setattr(text_module, "_HEAD_TRIGRAMS", {})
    numbers = [f"+33 6 10 01 {i:04}" for i in range(0, 10_000, 100)]  # one head: 3361001
    expected = " ".join(_plain_search_text(n) for n in numbers)
    calls: list[str] = []

    def counted(international_digits: str) -> int:
        calls.append(international_digits)
        return country_code_length(international_digits)

    monkeypatch.setattr(text_module, "country_code_length", counted)
    assert phone_search_text([(n, digits(n)) for n in numbers]) == expected
    assert len(calls) == 1
