"""vCard unfolding is linear (issue 18: a property folded over 300,000 lines hung the import).

No timings (machines are noisy; benchmarks/vcard_unfold_bench.py prints them): the work is
counted as the characters handed to the header parser (`_parse_property`, `_find_colon`),
which the old unfolding called with the whole growing line once per physical line.
"""

from __future__ import annotations

import pytest

from crmcompanion.core import vcard
from crmcompanion.core.vcard import MAX_VALUE_CHARS, parse_vcards

LINE = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"


def folded(shape: str, lines: int) -> str:
    head = "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Fold;Fran;;;\r\n"
    if shape == "rfc":
        body = "NOTE:" + "\r\n ".join([LINE] * lines) + "\r\n"
    elif shape == "qp":
        body = "NOTE;ENCODING=QUOTED-PRINTABLE:" + "=\r\n".join([LINE] * lines) + "\r\n"
    else:
        body = "PHOTO;ENCODING=BASE64;TYPE=JPEG:" + "\r\n".join([LINE] * lines) + "\r\n\r\n"
    return head + body + "END:VCARD\r\n"


def work(monkeypatch: pytest.MonkeyPatch, text: str) -> tuple[int, vcard.VCardImport]:
    seen = [0]
    parse, find = vcard._parse_property, vcard._find_colon

    def counted_parse(line_no: int, line: str) -> vcard._Property | None:
        seen[0] += len(line)
        return parse(line_no, line)

    def counted_find(line: str) -> int:
        seen[0] += len(line)
        return find(line)

    monkeypatch.setattr(vcard, "_parse_property", counted_parse)
    monkeypatch.setattr(vcard, "_find_colon", counted_find)
    result = parse_vcards(text)
    monkeypatch.undo()
    return seen[0], result


@pytest.mark.parametrize("shape", ["rfc", "qp", "base64"])
def test_unfolding_work_grows_linearly(monkeypatch: pytest.MonkeyPatch, shape: str) -> None:
    small_work, small = work(monkeypatch, folded(shape, 800))
    big_work, big = work(monkeypatch, folded(shape, 6400))  # 8x the lines (460 KB)
    assert small.problems == () and big.problems == ()
    if shape != "base64":
        (draft,) = big.drafts
        assert draft.notes == LINE * 6400  # unfolded exactly
    # Linear: 8x the lines, about 8x the work (quadratic would be ~64x).
    assert big_work <= 12 * max(small_work, 1), (small_work, big_work)


@pytest.mark.parametrize("shape", ["rfc", "qp", "base64"])
def test_an_oversized_value_is_refused_with_its_line(shape: str) -> None:
    lines = MAX_VALUE_CHARS // len(LINE) + 10
    result = parse_vcards(folded(shape, lines) + folded(shape, 3))
    (problem,) = result.problems
    assert problem.line == 4 and problem.skipped_card
    assert f"longer than {MAX_VALUE_CHARS:,} characters" in problem.message
    assert len(result.drafts) == 1  # the next card is read as usual
