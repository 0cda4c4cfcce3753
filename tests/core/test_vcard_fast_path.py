"""The unfolding fast path gives exactly what the general path gives (issue 18, item 4).

`core.vcard._logical_lines` yields most lines of an address book (a plain header, not folded,
no QP or BASE64 encoding) without building its general `_Logical` unfolder; `fast=False`
sends every line through the general path. Both must agree on every input: the fixed cards
cover each way a line can continue, Hypothesis the mixes nobody thought of.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcompanion.core import vcard

CARDS = [
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Müller;Anna;;;\r\nFN:Anna Müller\r\n"
    "EMAIL;TYPE=work:anna@example.com\r\nTEL;TYPE=cell:+493012345\r\nEND:VCARD\r\n",
    # RFC folding with space and tab, a folded header
    "BEGIN:VCARD\nNOTE:one\n two\n\tthree\nTE\n L;TYPE=cell:1\nEND:VCARD\n",
    # quoted-printable soft breaks, bare and named encodings, lower case, spaces after '='
    "BEGIN:VCARD\rNOTE;QUOTED-PRINTABLE:a=\rb= \rc\rNOTE;encoding=quoted-printable:x=\ry\r"
    "END:VCARD\r",
    # BASE64 blocks without indent, ended by an empty line or a property
    "BEGIN:VCARD\r\nPHOTO;ENCODING=BASE64;TYPE=JPEG:AAAA\r\nBBBB\r\n\r\n"
    "PHOTO;ENCODING=b:AAAA\r\nCC==\r\nFN:x\r\nPHOTO;BASE64:QQ\r\nQQ\r\nEND:VCARD\r\n",
    # quoted parameters with ':' and ';' inside, groups, a colon first, no colon, empty lines
    'BEGIN:VCARD\r\nitem1.TEL;TYPE="work,voice";X-A="a:b;c":123\r\nitem1.X-ABLabel:l\r\n'
    ':novalue\r\nno colon here\r\n\r\n \r\nADR;;TYPE=home:;;street\r\nEND:VCARD',
    # a quoted header that hides an encoding, and an encoding after a quoted parameter
    'BEGIN:VCARD\r\nNOTE;X="q:";ENCODING=QUOTED-PRINTABLE:a=\r\nb\r\n'
    'X"a:b";ENCODING=BASE64:AA\r\nBB\r\nEND:VCARD\r\n',
]

PIECES = [
    "BEGIN:VCARD", "END:VCARD", "FN:Anna", "TEL;TYPE=cell:1", "NOTE;QUOTED-PRINTABLE:a=",
    "PHOTO;ENCODING=BASE64:AA", "PHOTO;B:AA", "AAAA", "=", "", " ", "\t", ":", ";", '"', "x",
    "ENCODING=b", "item2.", "=3D", "NOTE:a\\,b", "X;8BIT:v",
]


def both(text: str, limit: int = vcard.MAX_VALUE_CHARS) -> None:
    fast = list(vcard._logical_lines(text, limit))
    general = list(vcard._logical_lines(text, limit, fast=False))
    assert fast == general


def test_the_fixed_cards_unfold_the_same_both_ways() -> None:
    for card in CARDS:
        both(card)
        both(card, limit=6)  # values over the limit come as None either way
    assert list(vcard._logical_lines(CARDS[1]))[1] == (2, "NOTE:onetwothree")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(PIECES), max_size=4).map("".join),
        max_size=12,
    ),
    st.sampled_from(["\r\n", "\n", "\r"]),
    st.integers(min_value=1, max_value=40),
)
def test_any_mix_of_lines_unfolds_the_same_both_ways(
    lines: list[str], newline: str, limit: int
) -> None:
    text = newline.join(lines)
    both(text)
    both(text, limit)


def test_cards_read_the_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole cards: the drafts and problems of the fixed cards with and without the fast path."""
    text = "".join(CARDS)
    fast = vcard.parse_vcards(text, default_region="DE")
    general_path = functools.partial(vcard._logical_lines, fast=False)
    monkeypatch.setattr(vcard, "_logical_lines", general_path)
    general = vcard.parse_vcards(text, default_region="DE")
    assert fast == general
    assert fast.drafts  # the comparison covers read cards, not only problems
