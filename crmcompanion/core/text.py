"""Text folding and search tokens, shared by the search index and the query parser.

The same folding must be applied when a customer is indexed and when a user types, or
"Müller" would not find "muller". Phone numbers are indexed as runs of overlapping digit
trigrams (national forms as one whole token) and searched as phrases of trigrams or digit
prefixes, so any run of three or more digits of a number ("030 1234", "+49 30 1234", "301234",
"4567") finds the customer whatever the formatting.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_PHONE_QUERY_RE = re.compile(r"^[\d\s()+\-./]+$")
# Letters with no decomposition that unicodedata (and SQLite's unicode61 tokenizer) cannot
# strip to a base letter: "Łukasz", "Søren", "Straße", "Yılmaz" must be found as typed in ASCII.
_SPECIAL_FOLDS = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d",
                                "ı": "i", "þ": "th", "ð": "d"})
# Left out of folded text: variation selectors (U+FE0F turns "❤" into the emoji "❤️") and the
# emoji skin tones, which change how a character looks, not which one it is.
_DROPPED = dict.fromkeys([*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0),
                          *range(0x1F3FB, 0x1F400)])
MIN_PHONE_SUFFIX = 3

# What the search index counts as a word character: its tokenizer (migration 0007) is
# unicode61 with `categories 'L* N* Co M* So'` and no diacritics removal of its own, since the
# index holds folded text already. Marks inside words (the vowel signs of Hindi or Thai) and
# emoji are word characters; spaces, punctuation, math and currency symbols are not. Private
# use (Co) is left out here on purpose: the index's flag tokens start with one, and no typed
# word may ever reach them.
_QUERY_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No", "Mn", "Mc",
                               "Me", "So", "Cn"})
_ASCII_WORD_RE = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lowercase and strip accents and other marks: "Ångström" -> "angstrom", "أحمد" ->
    "احمد", "だいご" -> "たいこ". The search index holds exactly this of every text (see
    `indexable`) and a typed query is folded by it, so whatever was stored is found when typed
    as stored."""
    if text.isascii():
        # Most text is ASCII: casefold is lower() there and NFKD changes nothing. Measured:
        # bulk inserts fold every name, and this path is ~10x cheaper than the full one.
        return text.lower()
    return _fold_unicode(text)


@lru_cache(maxsize=8192)
def _fold_unicode(text: str) -> str:
    # Cached because the same non-ASCII names and cities recur thousands of times in an import.
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL_FOLDS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # NFC puts back together what NFKD took apart and was no mark: Hangul syllables ("김" is
    # three jamo in NFD), so a Korean name stays whole words, found by any leading syllables.
    return unicodedata.normalize("NFC", stripped.translate(_DROPPED))


# The search index stores `fold` of every text: one function for both sides, so the index can
# never hold a form no query is folded to (the tokenizer only splits and lowercases).
indexable = fold


# Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, kana, CJK
# ideographs) and Hangul, whose names are one word ("김민준": family name 김, given name 민준).
_UNSPACED = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u1100-\u11ff"
                       "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
MAX_SUFFIXED_WORD = 24


def inner_suffixes(folded: str) -> str:
    """The suffixes (but the whole) of each word of `folded` text that holds a letter of a
    script written without spaces, space-separated: the index finds words by their
    beginnings, and these let a name be found by any part ("小明" in "王小明", "민준" in
    "김민준"). Words longer than MAX_SUFFIXED_WORD get none (names are short)."""
    if folded.isascii() or not _UNSPACED.search(folded):
        return ""
    words_ = folded.split()
    suffixes = dict.fromkeys(word[i:] for word in words_
                             if 1 < len(word) <= MAX_SUFFIXED_WORD and _UNSPACED.search(word)
                             for i in range(1, len(word)))
    return " ".join(s for s in suffixes if s not in words_)


def sort_key(text: str) -> str:
    """The key lists sort on: folded, whitespace collapsed, so "élodie" sorts with "Elodie"."""
    return " ".join(fold(text).split())


def digits(text: str) -> str:
    if text.isdigit():
        return text
    if text[:1] == "+" and text[1:].isdigit():  # E.164, as imports store most numbers
        return text[1:]
    # filter() with the unbound method runs in C: ~3x faster than a generator expression.
    return "".join(filter(str.isdigit, text))


def words(text: str) -> list[str]:
    """Folded word tokens, split where the search index's tokenizer splits (see
    _QUERY_CATEGORIES)."""
    folded = fold(text)
    if folded.isascii():
        return _ASCII_WORD_RE.findall(folded)
    found: list[str] = []
    current: list[str] = []
    category = unicodedata.category
    for ch in folded:
        if category(ch) in _QUERY_CATEGORIES:
            current.append(ch)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found


# ITU-T E.164 country calling codes of one and two digits; every other code has three. Only
# the length matters here (to derive the national form with its trunk 0); a test checks this
# table against the phonenumbers library's.
_SHORT_COUNTRY_CODES = frozenset(
    str(code)
    for code in (1, 7, 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49,
                 51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86,
                 90, 91, 92, 93, 94, 95, 98)
)
# Ends one run of phone trigrams, so a phrase can never match across two numbers (or across
# the international and national form of one). A private-use character: unicode61 keeps it
# as a token, and no typed word can contain it.
PHONE_RUN_END = "\ue001"


def country_code_length(international_digits: str) -> int:
    """Length of the country calling code that starts `international_digits` (E.164)."""
    if international_digits[:1] in _SHORT_COUNTRY_CODES:
        return 1
    return 2 if international_digits[:2] in _SHORT_COUNTRY_CODES else 3


def phone_forms(number: str) -> list[str]:
    """The digit strings a number is found by: all its digits and, for an international
    number, the national form with a trunk 0 that people type at home (+49 30 1234567 is
    dialled 030 1234567 in Germany). Any run of three or more digits of a form matches."""
    return _phone_forms(number, digits(number))


def _phone_forms(number: str, all_digits: str) -> list[str]:
    """`phone_forms`, with the number's digits already known (a bulk load has them)."""
    if not all_digits:
        return []
    if not number.lstrip().startswith("+"):
        return [all_digits]
    national = all_digits[country_code_length(all_digits) :]
    return [all_digits, "0" + national] if national else [all_digits]


# The slices of each string length's trigrams: map(text.__getitem__, ...) cuts them in C.
_TRIGRAM_SLICES = [tuple(slice(i, i + 3) for i in range(length - 2)) for length in range(33)]


def trigrams(digit_string: str) -> list[str]:
    """Overlapping three-character pieces ("12345" -> 123 234 345); shorter strings whole."""
    length = len(digit_string)
    if length <= 3:
        return [digit_string]
    if length < len(_TRIGRAM_SLICES):
        return list(map(digit_string.__getitem__, _TRIGRAM_SLICES[length]))
    return [digit_string[i : i + 3] for i in range(length - 2)]


def phone_tokens(numbers: Iterable[str]) -> list[str]:
    """The search-index tokens of phone numbers, in order: each number's digit trigrams and a
    run end, then its national form (if it has one) as one whole token and a run end.

    Why trigrams and not every digit suffix (which prefix queries would also find): the
    suffixes of 100,000 numbers are ~1.2 million distinct index terms and cost ~1.4 s of a
    100,000-customer bulk load; digit trigrams are at most 1,000 distinct terms. A typed
    number becomes the phrase of its trigrams OR a prefix query of its digits (`fts_query`),
    and a phrase of overlapping trigrams matches exactly where the typed digits occur.

    Why the national form needs no trigrams: it is "0" + the digits after the country code,
    so digits typed from it either leave out its leading 0 (then they occur in the
    international digits too, and the trigram phrase finds them) or start with it (then
    they are a prefix of the whole national token, and the prefix query finds them). Its
    trigrams were ~40% of all phone tokens, each with three prefix-index entries (~0.1 s of
    a 100,000-customer load).
    """
    text = phone_search_text([(number, digits(number)) for number in numbers])
    return text.split(" ") if text else []  # a token never holds a space


def phone_search_text(numbers: Iterable[tuple[str, str]]) -> str:
    """" ".join(phone_tokens(...)) of (number, its `digits`) pairs, made without a list of
    tokens: a bulk load has the digits already (it stores them), and makes one of these per
    customer (~0.1 s of 100,000 less than working the digits out again into a token list).

    A number of 7 to 32 digits (nearly all) is one f-string: its head's part (the trigrams of
    all but its last four digits, and the length of the country code it starts with) looked
    up in _HEAD_TRIGRAMS, then its last four trigrams and its national form cut from its
    digits (the 200,000 formatted numbers of a 100,000-row contacts file: ~0.5 -> ~0.3 s of the
    staging writer's CPU, where each number's tail trigrams were joined apart and its country
    code worked out again)."""
    texts: list[str] = []
    for number, all_digits in numbers:
        international = number[:1] == "+" or number.lstrip().startswith("+")  # `_phone_forms`
        if 7 <= len(all_digits) <= _LONGEST_HEADED:
            head = _HEAD_TRIGRAMS.get(all_digits[:-4]) or _head(all_digits[:-4])
            if international:
                texts.append(f"{head[0]} {all_digits[-6:-3]} {all_digits[-5:-2]} "
                             f"{all_digits[-4:-1]} {all_digits[-3:]} {PHONE_RUN_END} "
                             f"0{all_digits[head[1]:]} {PHONE_RUN_END}")
            else:
                texts.append(f"{head[0]} {all_digits[-6:-3]} {all_digits[-5:-2]} "
                             f"{all_digits[-4:-1]} {all_digits[-3:]} {PHONE_RUN_END}")
            continue
        if not all_digits:
            continue
        texts.append(" ".join(trigrams(all_digits)))
        texts.append(PHONE_RUN_END)
        if international:
            national = all_digits[country_code_length(all_digits):]
            if national:
                texts.append("0" + national)
                texts.append(PHONE_RUN_END)
    return " ".join(texts)


# By head (the digits of a number of 7 to _LONGEST_HEADED digits but its last four): the
# head's trigram text and the length of the country code its number starts with (both
# decided by the head alone). An address book's numbers share their country and area codes,
# so a bulk load of 100,000 works each head out once; bounded, so odd files cannot grow it.
_HEAD_TRIGRAMS: dict[str, tuple[str, int]] = {}
_MAX_HEADS = 65536
_LONGEST_HEADED = 32


def _head(head: str) -> tuple[str, int]:
    """The _HEAD_TRIGRAMS entry of `head` (3 digits or more), remembered."""
    # trigrams(d) = trigrams(d[:-4]) (those starting before len(d) - 6) + the last four.
    found = (" ".join(trigrams(head)), country_code_length(head))
    if len(_HEAD_TRIGRAMS) < _MAX_HEADS:
        _HEAD_TRIGRAMS[head] = found
    return found


def is_phone_query(text: str) -> bool:
    """A query made of digits and phone punctuation only, with at least three digits."""
    return bool(_PHONE_QUERY_RE.match(text.strip())) and len(digits(text)) >= MIN_PHONE_SUFFIX


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression: every word must match as a prefix (implicit AND).

    Each token is quoted, so user text can never be FTS syntax (NEAR, OR, column filters,
    stray quotes). Returns None when the text holds nothing searchable.
    """
    if is_phone_query(text):
        typed = digits(text)
        if len(typed) == MIN_PHONE_SUFFIX:
            return f'"{typed}"*'
        # The phrase finds the digits inside a phone number's digits; the prefix finds the
        # start of a national form (one whole token, see phone_tokens) and keeps finding
        # digit words elsewhere (an e-mail like a.12345@..., a note), as every typed word does.
        return f'("{" ".join(trigrams(typed))}" OR "{typed}"*)'
    tokens = words(text)
    if not tokens:
        return None
    return " ".join(f'"{token}"*' for token in tokens)
