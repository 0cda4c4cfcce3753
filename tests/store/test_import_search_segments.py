"""An import writes each search statement as one FTS5 segment, merging nothing meanwhile
(store.bulk._FTS_IMPORT_CONFIG); a level of the index that would then hold the 16 segments
that make the next one-row edit merge it whole is merged first. The index's everyday settings
are restored after.

Why it matters: with the bulk settings a demo load uses (automerge 16, a 4 MB hash), 100,000
imported rows into a 100,000-customer index were flushed every 4 MB and merged with the old
segments as they came (~5.2 s of CPU); written once per statement and not merged, ~3.2 s. The
checks are on the settings the search statements run under, the segments they leave and what
searches find afterwards, never on a timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from crmcompanion.core.clock import FixedClock
from crmcompanion.services import import_export
from crmcompanion.services.container import Services, open_services
from crmcompanion.store import bulk, search_aside

QUERIES = ("anna", "mü", "+33 6", "0610", "lilies", "example.org", "a", "zz")


def _csv(path: Path, start: int, count: int) -> Path:
    path.write_text("First Name,Last Name,E-mail Address,Mobile Phone,Notes\n" + "".join(
        f"Anna{i},Müller,anna{i}@example.org,+33 6 10 01 {i // 100 % 100:02} {i % 100:02},"
        f"likes lilies {i}\n" for i in range(start, start + count)), encoding="utf-8")
    return path


def _import(services: Services, path: Path) -> int:
    return services.import_export.run(services.import_export.preview(path).plan).created


@contextmanager
def _statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL the loading connection runs inside `bulk.insert_staged` (values expanded)."""
    seen: list[str] = []
    real_insert = bulk.insert_staged

    def traced(session: Session, *args: Any, **kwargs: Any) -> None:
        raw = session.connection().connection.driver_connection
        raw.set_trace_callback(seen.append)
        try:
            real_insert(session, *args, **kwargs)
        finally:
            raw.set_trace_callback(None)

    monkeypatch.setattr(bulk, "insert_staged", traced)
    yield seen


def _settings_at_search_inserts(seen: list[str]) -> list[dict[str, int]]:
    """The FTS5 settings in force at each statement inserting the search rows."""
    current: dict[str, int] = {}
    found: list[dict[str, int]] = []
    for sql in seen:
        flat = " ".join(sql.split())
        if flat.startswith("INSERT INTO customer_search(customer_search, rank) VALUES"):
            key, value = flat.split("VALUES (", 1)[1].rstrip(")").split(", ")
            if key.strip("'") != "merge":  # a command, not a setting
                current[key.strip("'")] = int(value)
        elif flat.startswith("INSERT INTO customer_search ("):
            found.append(dict(current))
    return found


def _segments(services: Services) -> int:
    with services.db.read() as session:
        return int(session.execute(text(
            "SELECT count(DISTINCT segid) FROM customer_search_idx")).scalar_one())


def _stored_settings(services: Services) -> dict[str, int]:
    with services.db.read() as session:
        return {k: int(v) for k, v in session.execute(text(
            "SELECT k, v FROM customer_search_config WHERE k IN "
            "('automerge', 'crisismerge', 'hashsize')"))}


def test_an_import_into_a_filled_index_writes_one_segment_per_statement_unmerged(
        services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _import(services, _csv(tmp_path / "first.csv", 0, 30)) == 30
    before = _segments(services)
    monkeypatch.setattr(import_export, "BATCH_SIZE", 5)  # customers per statement
    monkeypatch.setattr(bulk, "_SEARCH_CHUNK", 25)  # search rows per statement
    with _statements(monkeypatch) as seen:
        assert _import(services, _csv(tmp_path / "second.csv", 30, 60)) == 60

    at_inserts = _settings_at_search_inserts(seen)
    assert len(at_inserts) == 3  # 60 rows by 25
    assert all(s == dict(bulk._FTS_IMPORT_CONFIG) for s in at_inserts)
    assert dict(bulk._FTS_IMPORT_CONFIG)["automerge"] == 0
    assert _segments(services) == before + 3  # nothing merged
    assert sum(_levels(services)) == before + 3
    assert _stored_settings(services) == dict(bulk._FTS_DEFAULT_CONFIG)


def test_a_level_that_would_reach_the_crisis_merge_level_is_merged_first(
        services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unmerged, the new segments would bring a level to 16: the first one-row edit after the
    import would then merge that whole level (seconds at 100,000 customers). The import
    merges it first, then adds its rows unmerged."""
    monkeypatch.setattr(import_export, "BATCH_SIZE", 5)
    monkeypatch.setattr(bulk, "_SEARCH_CHUNK", 5)
    assert _import(services, _csv(tmp_path / "first.csv", 0, 50)) == 50  # 10 segments
    levels = _levels(services)
    assert sum(levels) == _segments(services) == 10 and 8 <= max(levels) < 16
    with _statements(monkeypatch) as seen:
        assert _import(services, _csv(tmp_path / "second.csv", 50, 40)) == 40

    at_inserts = _settings_at_search_inserts(seen)
    assert len(at_inserts) == 8 and max(levels) + 8 >= 16
    assert all(s == dict(bulk._FTS_IMPORT_CONFIG) for s in at_inserts)
    merges = [i for i, sql in enumerate(seen) if "VALUES ('merge'," in sql]
    first_insert = next(i for i, sql in enumerate(seen)
                        if sql.startswith("INSERT INTO customer_search ("))
    assert len(merges) == 1 and merges[0] < first_insert
    after = _levels(services)
    assert max(after) < 16 and sum(after) < 10 + 8  # merged, the next edit merges nothing big
    assert _stored_settings(services) == dict(bulk._FTS_DEFAULT_CONFIG)
    assert len(services.customers.search("anna", limit=1000)) == 90


def test_an_import_whose_own_segments_reach_the_crisis_level_keeps_the_bulk_settings(
        services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_export, "BATCH_SIZE", 5)
    monkeypatch.setattr(bulk, "_SEARCH_CHUNK", 5)
    assert _import(services, _csv(tmp_path / "first.csv", 0, 10)) == 10
    with _statements(monkeypatch) as seen:
        assert _import(services, _csv(tmp_path / "second.csv", 10, 80)) == 80

    at_inserts = _settings_at_search_inserts(seen)
    assert len(at_inserts) == 16
    assert all(s == dict(bulk._FTS_BULK_CONFIG) for s in at_inserts)
    assert not any("VALUES ('merge'," in sql for sql in seen)
    assert _stored_settings(services) == dict(bulk._FTS_DEFAULT_CONFIG)


def _levels(services: Services) -> list[int]:
    with services.db.read() as session:
        blob = session.execute(text(
            "SELECT block FROM customer_search_data WHERE id = 10")).scalar_one()
    levels = search_aside.level_sizes(blob)
    assert levels is not None
    return levels


def test_an_index_built_aside_takes_the_same_settings(
        services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Into an empty index a big import's search rows are indexed by a second process
    (store.search_aside) and its segments copied in: written the same way."""
    monkeypatch.setattr(search_aside, "MIN_ROWS", 10)
    monkeypatch.setattr(search_aside, "MIN_SPAWNED_ROWS", 10)
    monkeypatch.setattr(import_export, "BATCH_SIZE", 5)
    monkeypatch.setattr(bulk, "_SEARCH_CHUNK", 25)
    given: list[object] = []
    real_start = search_aside.SearchAside.start

    def start(self: search_aside.SearchAside, *args: Any) -> None:
        given.append(args[-1])
        real_start(self, *args)

    monkeypatch.setattr(search_aside.SearchAside, "start", start)
    assert _import(services, _csv(tmp_path / "first.csv", 0, 60)) == 60

    assert given == [bulk._FTS_IMPORT_CONFIG]
    assert _segments(services) == 3  # one per statement of 25 rows, none merged
    assert _stored_settings(services) == dict(bulk._FTS_DEFAULT_CONFIG)
    assert len(services.customers.search("anna", limit=100)) == 60


def _searched(url: str, folder: Path, clock: FixedClock) -> tuple[object, ...]:
    services = open_services(url, folder / "backups", clock)
    try:
        _import(services, _csv(folder / "first.csv", 0, 40))
        _import(services, _csv(folder / "second.csv", 40, 90))
        with services.db.write() as session:  # raises if the index is malformed
            session.execute(text(
                "INSERT INTO customer_search(customer_search) VALUES ('integrity-check')"))
        with services.db.read() as session:
            rows = session.execute(text(
                "SELECT rowid, * FROM customer_search ORDER BY rowid")).all()
        hits = {q: [c.id for c in services.customers.search(q, limit=10_000)]
                for q in QUERIES}
        return rows, hits
    finally:
        services.close()


def test_the_search_finds_what_it_found_with_the_bulk_settings(
        tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_export, "BATCH_SIZE", 10)
    monkeypatch.setattr(bulk, "_SEARCH_CHUNK", 20)
    (tmp_path / "new").mkdir()
    (tmp_path / "old").mkdir()
    new = _searched(f"sqlite:///{tmp_path / 'new' / 'crm.sqlite3'}", tmp_path / "new", clock)
    monkeypatch.setattr(bulk, "_FTS_IMPORT_CONFIG", bulk._FTS_BULK_CONFIG)
    old = _searched(f"sqlite:///{tmp_path / 'old' / 'crm.sqlite3'}", tmp_path / "old", clock)
    assert new == old
    rows, hits = new
    assert len(rows) == 130  # type: ignore[arg-type]
    assert len(hits["anna"]) == 130 and hits["zz"] == []  # type: ignore[index]


def _record(levels: list[list[tuple[int, ...]]], v2: bool) -> bytes:
    """An FTS5 structure record as fts5StructureWrite lays it out (small values: one byte
    per varint, except 300, written as two)."""
    def varint(value: int) -> bytes:
        return bytes([value]) if value < 0x80 else bytes([0x80 | value >> 7, value & 0x7F])

    out = b"\x00\x00\x00\x07" + (b"\xff\x00\x00\x01" if v2 else b"")
    out += varint(len(levels)) + varint(sum(map(len, levels))) + varint(300)
    for segments in levels:
        out += varint(0) + varint(len(segments))
        for segment in segments:
            out += b"".join(map(varint, segment))
    return out


def test_the_structure_record_is_read_in_both_layouts() -> None:
    v1 = [[(1, 1, 9), (2, 10, 300)], [(3, 1, 4)]]
    assert search_aside.level_sizes(_record(v1, v2=False)) == [2, 1]
    v2 = [[(1, 1, 9, 1, 1, 0, 0, 40), (2, 10, 300, 2, 2, 0, 0, 7)], [], [(3, 1, 4, 3, 3, 0, 0, 2)]]
    assert search_aside.level_sizes(_record(v2, v2=True)) == [2, 0, 1]
    # Anything else is not guessed at: the caller then keeps the bulk settings.
    assert search_aside.level_sizes(_record(v2, v2=True)[:-1]) is None
    assert search_aside.level_sizes(_record(v1, v2=False) + b"\x00") is None
