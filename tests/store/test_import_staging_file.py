"""The import's staging file is the same whether this process writes it or a forked child does,
and a child that fails makes `finish` raise instead of leaving a short file behind."""

from __future__ import annotations

import os
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from crmcompanion.core.customer import Channel, Kind, SpecialDateKind, Status
from crmcompanion.core.customer_values import CustomerValues
from crmcompanion.infra import forking
from crmcompanion.store import staging as staging_module
from crmcompanion.store.staging import StagingFile

TABLES = ("customers", "emails", "phones", "tags", "dates", "search")



def _values(i: int) -> CustomerValues:
    return CustomerValues(
        f"First{i}", "Müller" if i % 2 else "", "" if i % 3 else f"Shown {i}",
        "ACME" if i % 5 == 0 else "",
        [(f"p{i}@example.org", "home"), (f"P{i}@Work.example", "work")][: i % 3],
        [("+4930123" + f"{i:04d}", "mobile")] if i % 2 else [],
        ("Straße 1\nHof", "Köln", "", "50667", "DE") if i % 4 == 0 else ("", "", "", "", ""),
        ["VIP", "vip", "Café"][: i % 4], Status.LEAD if i % 7 == 0 else Status.ACTIVE,
        Kind.INTERNAL if i % 9 == 0 else Kind.EXTERNAL, i % 8 == 0,
        Channel.SMS if i % 11 == 0 else None, date(2015, 1, 1 + i % 28) if i % 2 else None,
        "line one\nline two" if i % 6 == 0 else "",
        [(SpecialDateKind.BIRTHDAY, 2, 29, None, ""),
         (SpecialDateKind.CUSTOM, 3, 14, 2000 + i % 20, "Pi")][: i % 3],
        f"uid-{i}" if i % 13 == 0 else "",
    )


def _stage(folder: Path, in_child: bool) -> dict[str, list[tuple]]:
    staging = StagingFile(folder, in_child=in_child)
    try:
        for start in range(0, 1200, 500):
            staging.add([(line + 2, _values(line)) for line in range(start, start + 500)])
        # Rows read again (dates of a file whose day/month order came late) replace theirs.
        staging.replace([(line + 2, _values(line + 1))
                         for line in range(0, 1500, 7)])
        staging.finish()
        conn = sqlite3.connect(staging.path)
        try:
            return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
                    for t in TABLES}
        finally:
            conn.close()
    finally:
        staging.discard()


@pytest.mark.usefixtures("second_process")
def test_a_child_stages_what_this_process_stages(tmp_path: Path) -> None:
    here = _stage(tmp_path, in_child=False)
    child = _stage(tmp_path, in_child=True)
    assert len(here["customers"]) == 1500 and here["tags"] and here["dates"]
    assert child == here
    assert not list(tmp_path.iterdir())  # both files removed


@pytest.mark.usefixtures("second_process")
def test_a_failing_child_makes_finish_raise(tmp_path: Path) -> None:
    staging = StagingFile(tmp_path, in_child=True)
    bad = _values(1)._replace(emails=[(12345, "home")])
    staging.add([(2, bad)])  # passes the pipe; the child cannot lowercase a number
    with pytest.raises(RuntimeError, match="Staging the import failed: AttributeError"):
        staging.finish()
    staging.discard()
    assert not os.path.exists(staging.path)


@pytest.mark.usefixtures("second_process")
def test_discarding_stops_the_child(tmp_path: Path) -> None:
    staging = StagingFile(tmp_path, in_child=True)
    staging.add([(2, _values(2))])
    staging.discard()
    assert not list(tmp_path.iterdir())


def _sharing(i: int) -> CustomerValues:
    """Rows sharing keys within a batch and across batches: a source UID (some rows), an
    email (case aside; one row holds its address twice), an E.164 phone; national numbers
    shared too, which are not duplicate keys."""
    email = f"P{i % 300}@Example.org" if i % 2 else f"p{i % 300}@example.org"
    emails = [(email, "home"), (email.upper(), "work")] if i == 7 else [(email, "home")]
    return _values(i)._replace(
        emails=emails if i % 5 else [(f"only{i}@example.org", "home")],
        phones=[(f"+4930{i % 250:06d}", "mobile"), (f"030{i % 40:05d}", "home")],
        source_uid=f"uid-{i % 400}" if i % 3 == 0 else "")


def _candidates(path: Path, folder: Path, noted: bool) -> list[int]:
    copy = folder / f"copy-{noted}.sqlite3"
    copy.write_bytes(path.read_bytes())
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"ATTACH DATABASE ? AS {staging_module.SCHEMA}", (str(copy),))
        if not noted:
            conn.execute(f"DROP TABLE {staging_module.SCHEMA}.{staging_module.FILE_CANDIDATES}")
        cursor = conn.cursor()
        with staging_module.work_tables(cursor):
            staging_module.mark_candidates(cursor, lookup=False)
            return [r for (r,) in cursor.execute("SELECT row FROM temp.import_candidates")]
    finally:
        conn.close()


@pytest.mark.parametrize("in_child", [False, True])
def test_rows_sharing_a_key_noted_while_staging_are_the_ones_sql_finds(
        tmp_path: Path, in_child: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if in_child and not forking.can_fork():
        pytest.skip("this process has other threads (or is not Linux): it would not fork")
    staging = StagingFile(tmp_path, in_child=in_child)
    try:
        for start in range(0, 1500, 400):
            staging.add([(line + 2, _sharing(line)) for line in range(start, start + 400)])
        staging.finish()
        path = Path(staging.path)
        with sqlite3.connect(path) as conn:
            assert conn.execute(
                f"SELECT count(*) FROM {staging_module.FILE_CANDIDATES}").fetchone()[0] > 500
        noted = _candidates(path, tmp_path, noted=True)
        assert noted == _candidates(path, tmp_path, noted=False)
        assert 8 in noted  # row 8 = line 7: its own address twice, shared with others too
    finally:
        staging.discard()


def test_past_the_limit_nothing_is_noted_and_the_run_asks_sql(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staging_module.FileKeys, "LIMIT", 500)
    staging = StagingFile(tmp_path)
    try:
        for start in range(0, 1200, 400):
            staging.add([(line + 2, _sharing(line)) for line in range(start, start + 400)])
        staging.finish()
        with sqlite3.connect(staging.path) as conn:
            assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                                    (staging_module.FILE_CANDIDATES,)).fetchone()
    finally:
        staging.discard()


def test_the_pipe_to_the_child_holds_several_batches_and_the_file_has_big_pages(
        tmp_path: Path, second_process: str) -> None:
    fcntl = pytest.importorskip("fcntl")
    staging = StagingFile(tmp_path, in_child=True)
    try:
        kind = forking.SpawnedCall if second_process == "spawned" else forking.ForkedCall
        assert isinstance(staging._child._child, kind)  # type: ignore[union-attr]
        batches = staging._child._batches  # type: ignore[union-attr]
        assert batches is not None
        assert fcntl.fcntl(batches.fileno(), fcntl.F_GETPIPE_SZ) >= 1024 * 1024
        staging.add([(2, _values(1))])
        staging.finish()
        conn = sqlite3.connect(staging.path)
        try:
            assert conn.execute("PRAGMA page_size").fetchone() == (
                staging_module.STAGING_PAGE_SIZE,)
            assert conn.execute("SELECT count(*) FROM customers").fetchone() == (1,)
        finally:
            conn.close()
    finally:
        staging.discard()
