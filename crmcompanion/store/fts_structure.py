"""FTS5's structure record: how many segments each level of a search index holds.

Two readers need it: the bulk loads (store.bulk, through store.search_aside) decide whether an
import may add its segments unmerged, and the customer list (store.customers) probes customers
one by one only on a compact index. The record is the `_data` row STRUCTURE_ROWID of the FTS5
table, laid out as fts5_index.c writes it, version 1 and (SQLite 3.43+) version 2.
"""

from __future__ import annotations

STRUCTURE_ROWID = 10
_STRUCTURE_V2 = b"\xff\x00\x00\x01"


def _varint(blob: bytes, at: int) -> tuple[int, int]:
    """SQLite's variable-length integer at `at`: (value, position after it)."""
    value = 0
    for _ in range(8):
        byte = blob[at]
        at += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at
    return (value << 8) | blob[at], at + 1


def level_sizes(blob: bytes) -> list[int] | None:
    """The number of segments on each level of an FTS5 structure record, or None when the
    record is not laid out as expected (then nothing is assumed about the index)."""
    try:
        at = 4  # the cookie
        v2 = blob[4:8] == _STRUCTURE_V2
        if v2:
            at += 4
        levels, at = _varint(blob, at)
        segments, at = _varint(blob, at)
        _, at = _varint(blob, at)  # write counter
        sizes: list[int] = []
        for _ in range(levels):
            _, at = _varint(blob, at)  # segments being merged
            count, at = _varint(blob, at)
            # Segment id, first and last page (v2: and its origin and tombstone counts).
            for _ in range(count * (8 if v2 else 3)):
                _, at = _varint(blob, at)
            sizes.append(count)
    except IndexError:
        return None
    return sizes if sum(sizes) == segments and at == len(blob) else None
