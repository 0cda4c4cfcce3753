"""A big import into an empty search index has its search rows indexed by a forked child into
a scratch file, whose index is then copied in (store/search_aside.py). The result must be the
index an in-line import builds: same rows under the same ids (in-file duplicates skipped),
FTS5's own integrity check passing, and the index still right after the edits that follow in
the same process; a second import (index not empty) indexes in line; a failing child leaves
the database as it was."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.services.container import Services, open_services
from crmcompanion.store import search_aside
from crmcompanion.store.customers import ListQuery
from tests.services.helpers import export_demo_csv

QUERIES = ("anna", "sø", "mü", "4930", "+33 1", "newsletter", "vip", "example.com", "a", "zz")


pytestmark = pytest.mark.usefixtures("second_process")


@pytest.fixture
def exported(tmp_path: Path, clock: FixedClock) -> Path:
    """The app's own CSV of 1,500 demo customers (some sharing an email: in-file duplicates)."""
    return export_demo_csv(tmp_path, clock, 1500)


class _Counted(search_aside.SearchAside):
    copies = 0

    def copy_into(self, cursor: sqlite3.Cursor, expected: int) -> None:
        type(self).copies += 1
        super().copy_into(cursor, expected)


def _import(services: Services, path: Path) -> int:
    result = services.import_export.run(services.import_export.preview(path).plan)
    return result.created


def _index(services: Services) -> tuple[object, ...]:
    with services.db.read() as session:
        rows = session.execute(text("SELECT rowid, * FROM customer_search ORDER BY rowid")).all()
    hits = {q: [c.id for c in services.customers.search(q, limit=10_000)] for q in QUERIES}
    return rows, hits


def _integrity_check(services: Services) -> None:
    with services.db.write() as session:  # raises "database disk image is malformed" if not
        session.execute(text(
            "INSERT INTO customer_search(customer_search) VALUES ('integrity-check')"))


@pytest.fixture
def aside_used(monkeypatch: pytest.MonkeyPatch) -> type[_Counted]:
    monkeypatch.setattr(search_aside, "MIN_ROWS", 100)
    monkeypatch.setattr(search_aside, "MIN_SPAWNED_ROWS", 100)
    monkeypatch.setattr(search_aside, "SearchAside", _Counted)
    _Counted.copies = 0
    return _Counted


def test_the_copied_index_is_the_one_built_in_line(
        services: Services, exported: Path, tmp_path: Path, clock: FixedClock,
        aside_used: type[_Counted], monkeypatch: pytest.MonkeyPatch) -> None:
    created = _import(services, exported)
    assert aside_used.copies == 1
    assert 1400 < created < 1500  # the in-file duplicates were skipped (ids keep no gaps)
    _integrity_check(services)
    monkeypatch.setattr(search_aside, "MIN_ROWS", 10**9)
    monkeypatch.setattr(search_aside, "MIN_SPAWNED_ROWS", 10**9)
    in_line = open_services(f"sqlite:///{tmp_path / 'line.sqlite3'}", tmp_path / "b1", clock)
    try:
        assert _import(in_line, exported) == created
        assert aside_used.copies == 1
        assert _index(services) == _index(in_line)
    finally:
        in_line.close()


def test_the_index_stays_right_through_the_edits_that_follow(
        services: Services, exported: Path, aside_used: type[_Counted]) -> None:
    _import(services, exported)
    assert aside_used.copies == 1
    first = services.customers.get(1)
    services.customers.update(1, CustomerDraft(first_name="Zyxwvu", last_name="Qwerty",
                                               emails=(EmailAddress("zq@example.org"),)),
                              first.version)
    services.customers.set_archived(2, True)
    added = services.customers.create(CustomerDraft(first_name="Xavierette")).customer.id
    assert [c.id for c in services.customers.search("zyxwvu")] == [1]
    assert [c.id for c in services.customers.search("xavierette")] == [added]
    assert services.customers.count(ListQuery(search="qwerty zq@example")) == 1
    assert services.customers.count(ListQuery(archived=True)) == 1
    _integrity_check(services)
    # A second import finds the index not empty: indexed in line, next to the copied rows.
    again = _import(services, exported)
    assert aside_used.copies == 1
    assert again == 0  # every row is a duplicate of the first import now
    _integrity_check(services)


def test_a_second_file_into_a_filled_index_is_indexed_in_line(
        services: Services, exported: Path, tmp_path: Path, aside_used: type[_Counted]) -> None:
    services.customers.create(CustomerDraft(first_name="Already", last_name="There"))
    created = _import(services, exported)
    assert created > 1400
    assert aside_used.copies == 0
    assert services.customers.count(ListQuery(search="already there")) == 1
    _integrity_check(services)


def test_a_failing_child_leaves_the_database_as_it_was(
        services: Services, exported: Path, aside_used: type[_Counted],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A function the child (forked or spawned) finds, but that refuses the indexing's
    # eight arguments.
    monkeypatch.setattr(search_aside, "_index_in_child", math.sqrt)
    preview = services.import_export.preview(exported)
    with pytest.raises(RuntimeError, match="Indexing the search rows failed: TypeError"):
        services.import_export.run(preview.plan)
    assert services.customers.total() == 0
    assert services.customers.count(ListQuery(search="a")) == 0
    assert not list(Path(services.db.info.path).parent.glob("crmcompanion-search-*"))
    _integrity_check(services)
