"""Where no helper process can be started (the process may not fork, and the interpreter
cannot be spawned: a missing or broken Python), a big import and export still work, in this
one process, with the same results."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.infra import forking
from crmcompanion.services import import_export
from crmcompanion.services.container import Services, open_services
from crmcompanion.store import search_aside
from crmcompanion.store.customers import ListQuery
from tests.services.helpers import export_demo_csv


@pytest.fixture
def exported(tmp_path: Path, clock: FixedClock) -> Path:
    return export_demo_csv(tmp_path, clock, 800)


def _import_and_export(services: Services, source: Path, out: Path) -> tuple[int, list[list[str]]]:
    created = services.import_export.run(services.import_export.preview(source).plan).created
    services.import_export.export_csv(out)
    with open(out, encoding="utf-8-sig", newline="") as handle:
        return created, list(csv.reader(handle))


def test_without_a_helper_process_everything_is_done_here(
        tmp_path: Path, clock: FixedClock, exported: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    expected_services = open_services(f"sqlite:///{tmp_path / 'a.sqlite3'}", tmp_path / "ba",
                                      clock)
    try:  # the same work with no second process at all, for comparison
        monkeypatch.setattr(forking, "can_fork", lambda: False)
        monkeypatch.setattr(forking, "can_spawn", lambda: False)
        expected = _import_and_export(expected_services, exported, tmp_path / "a.csv")
    finally:
        expected_services.close()

    # Helpers wanted for even this small file, but their interpreter cannot start.
    monkeypatch.setattr(forking, "can_spawn", lambda: True)
    monkeypatch.setattr(import_export, "SPAWNED_STAGING_BYTES", 0)
    monkeypatch.setattr(import_export, "SPAWNED_EXPORT_AT", 2)
    monkeypatch.setattr(search_aside, "MIN_SPAWNED_ROWS", 100)
    monkeypatch.setattr(forking.sys, "executable", str(tmp_path / "no-such-python"))
    services = open_services(f"sqlite:///{tmp_path / 'b.sqlite3'}", tmp_path / "bb", clock)
    try:
        created, rows = _import_and_export(services, exported, tmp_path / "b.csv")
        assert (created, rows) == expected
        assert created > 700
        assert services.customers.count(ListQuery(search="anna")) > 0
    finally:
        services.close()
