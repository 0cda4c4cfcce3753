"""vCard parse time of 5 MB files of each hostile shape (issue 18: unfolding must be linear).

Usage: python benchmarks/vcard_unfold_bench.py [--megabytes N]

Shapes, each N MB (default 5):
- rfc_folding: one NOTE folded over ~70,000 physical lines (RFC 6350 "CRLF + space").
- qp_soft_breaks: one quoted-printable NOTE continued by "=" soft breaks on every line.
- base64_block: a vCard 2.1 PHOTO;BASE64 block whose continuation lines are not indented.
- many_cards: ordinary small cards, as many as fit.
- long_notes: cards whose NOTE is folded over 1,000 lines each (values within the limit).
Values over core.vcard.MAX_VALUE_CHARS are refused with their line, so the first three parse
to one problem; the time is what matters. Target: each under 2 s. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crmcompanion.core.vcard import parse_vcards

LINE = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"  # 72


def shapes(size: int) -> dict[str, bytes]:
    lines = size // (len(LINE) + 3)
    head = "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Fold;Fran;;;\r\n"
    tail = "END:VCARD\r\n"
    small = ("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Müller;Anna;;;\r\nFN:Anna Müller\r\n"
             "EMAIL;TYPE=work:anna{}@example.com\r\nTEL;TYPE=cell:+4930123{:05d}\r\n"
             "BDAY:1984-02-29\r\nNOTE:Met at the fair\\, likes tea\r\nEND:VCARD\r\n")
    one_small = len(small.format(0, 0).encode())
    note_card = head + "NOTE:" + "\r\n ".join([LINE] * 1000) + "\r\n" + tail
    return {
        "rfc_folding": (head + "NOTE:" + "\r\n ".join([LINE] * lines) + "\r\n" + tail).encode(),
        "qp_soft_breaks": (head + "NOTE;ENCODING=QUOTED-PRINTABLE:" +
                           "=\r\n".join([LINE] * lines) + "\r\n" + tail).encode(),
        "base64_block": (head + "PHOTO;ENCODING=BASE64;TYPE=JPEG:" +
                         "\r\n".join([LINE] * lines) + "\r\n\r\n" + tail).encode(),
        "many_cards": "".join(small.format(i, i % 100_000)
                              for i in range(size // one_small)).encode(),
        "long_notes": (note_card * max(1, size // len(note_card))).encode(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=5.0)
    args = parser.parse_args()
    size = int(args.megabytes * (1 << 20))
    for name, data in shapes(size).items():
        start = time.perf_counter()
        result = parse_vcards(data, default_region="DE")
        elapsed = time.perf_counter() - start
        print(f"{name:16s} {len(data) / (1 << 20):5.1f} MB  {elapsed:6.3f} s  "
              f"{len(result.drafts):6d} cards read, {len(result.problems)} problems")


if __name__ == "__main__":
    main()
