"""The import's staging file is the same whether this process writes it or a forked child does,
and a child that fails makes `finish` raise instead of leaving a short file behind."""

from __future__ import annotations

import os
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from crmcompanion.core import forking
from crmcompanion.core.customer import Channel, Kind, SpecialDateKind, Status
from crmcompanion.core.customer_values import CustomerValues
from crmcompanion.store.staging import StagingFile

TABLES = ("customers", "emails", "phones", "tags", "dates", "search")



@pytest.fixture
def forkable() -> None:
    if not forking.can_fork():  # checked when the test runs: threads come and go
        pytest.skip("this process has other threads (or is not Linux): it would not fork")


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


@pytest.mark.usefixtures("forkable")
def test_a_child_stages_what_this_process_stages(tmp_path: Path) -> None:
    here = _stage(tmp_path, in_child=False)
    child = _stage(tmp_path, in_child=True)
    assert len(here["customers"]) == 1500 and here["tags"] and here["dates"]
    assert child == here
    assert not list(tmp_path.iterdir())  # both files removed


@pytest.mark.usefixtures("forkable")
def test_a_failing_child_makes_finish_raise(tmp_path: Path) -> None:
    staging = StagingFile(tmp_path, in_child=True)
    bad = _values(1)._replace(special_dates=[(SpecialDateKind.BIRTHDAY, 2, 30, None, "")])
    staging.add([(2, bad)])  # month_day_key refuses 30 February in the child
    with pytest.raises(RuntimeError, match="Staging the import failed: ValueError"):
        staging.finish()
    staging.discard()
    assert not os.path.exists(staging.path)


@pytest.mark.usefixtures("forkable")
def test_discarding_stops_the_child(tmp_path: Path) -> None:
    staging = StagingFile(tmp_path, in_child=True)
    staging.add([(2, _values(2))])
    staging.discard()
    assert not list(tmp_path.iterdir())
