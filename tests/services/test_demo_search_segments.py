"""After `demo`, the user's first one-row edit must not merge the demo's search index.

Why it matters: with the bulk FTS5 settings a `demo --customers 100000` left 15 segments on
level 0 of the customer search index; the first customer saved after it brought that level to
the crisis-merge level (16) and SQLite merged the whole level in that save (~0.7 s of CPU,
12,752 blocks written). The demo now merges its search index's full levels at the end of its
load, in its own transaction (store.bulk._settle_search_index).

To make small demos fill the levels as a big one does, the hash the load's settings give FTS5
is made tiny (a flush every few rows) and the index's pages small; the checks are on the
levels of the index and the blocks one save writes, never on a timing.
"""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest
from sqlalchemy import text

from crmcompanion.services.container import Services
from crmcompanion.services.demo import fill_demo
from crmcompanion.store import bulk, search_aside

pytestmark = pytest.mark.clock_sensitive

TINY_HASH = 512  # bytes: the pending terms of a few customers
SMALL_PAGE = 64  # bytes (FTS5 `pgsz`): a merged level is many blocks, one row's terms few
USERMERGE = 4  # FTS5's 'merge' merges the levels holding this many segments or more
# One customer's old and new terms at 64-byte pages take 25-40 blocks; the save that merged
# the 15 segments the bulk settings left on level 0 wrote 188 (measured on the old code).
MANY_BLOCKS = 60


@pytest.fixture
def tiny_hash(monkeypatch: pytest.MonkeyPatch, services: Services) -> None:
    """Every bulk setting the load gives FTS5 with a tiny hash; the everyday ones untouched."""
    real = bulk._configure_fts
    default_hash = dict(bulk._FTS_DEFAULT_CONFIG)["hashsize"]

    def configure(cursor: sqlite3.Cursor, settings: tuple[tuple[str, int], ...]) -> None:
        real(cursor, tuple((key, TINY_HASH if key == "hashsize" and value != default_hash
                            else value) for key, value in settings))

    monkeypatch.setattr(bulk, "_configure_fts", configure)
    with services.db.write() as session:
        session.execute(text(
            "INSERT INTO customer_search(customer_search, rank) VALUES ('pgsz', :size)"),
            {"size": SMALL_PAGE})


def _levels(services: Services) -> list[int]:
    with services.db.read() as session:
        levels = search_aside.index_levels(session.connection().connection.cursor())
    assert levels  # read, and the demo's rows are in
    return levels


def _blocks(services: Services) -> dict[int, bytes]:
    with services.db.read() as session:
        return {int(i): bytes(b) for i, b in session.execute(text(
            "SELECT id, block FROM customer_search_data"))}


def _blocks_one_save_writes(services: Services, customer_id: int) -> int:
    """FTS5 blocks (rows of customer_search_data) new or changed by saving one customer."""
    before = _blocks(services)
    customer = services.customers.get(customer_id)
    draft = dataclasses.replace(customer.to_draft(), notes=f"{customer.notes or ''} tulips")
    services.customers.update(customer_id, draft, customer.version)
    after = _blocks(services)
    assert len(services.customers.search("tulips", limit=10)) == 1
    return sum(1 for key, block in after.items() if before.get(key) != block)


def _check_index(services: Services, count: int) -> None:
    with services.db.write() as session:  # raises if the index is malformed
        session.execute(text(
            "INSERT INTO customer_search(customer_search) VALUES ('integrity-check')"))
        assert session.scalar(text("SELECT count(*) FROM customer_search")) == count


@pytest.mark.usefixtures("tiny_hash")
def test_the_first_save_after_demo_merges_nothing_big(services: Services) -> None:
    fill_demo(services.db, services.clock, 15, seed=2, staff_id=services.staff_id)

    # One segment per customer (the tiny hash): as the 100,000-customer demo, the bulk
    # settings left 15 on level 0 ([15]); the next write then merged the level whole.
    levels = _levels(services)
    assert max(levels) < USERMERGE, levels
    written = _blocks_one_save_writes(services, 7)
    assert written <= MANY_BLOCKS, (levels, written)
    _check_index(services, 15)


@pytest.mark.usefixtures("tiny_hash")
def test_the_first_save_after_demo_append_merges_nothing_big(services: Services) -> None:
    # 10 segments, then 5 more: 15 on level 0 with the bulk settings.
    fill_demo(services.db, services.clock, 10, seed=2, staff_id=services.staff_id)
    fill_demo(services.db, services.clock, 5, seed=3, append=True,
              staff_id=services.staff_id)

    assert max(_levels(services)) < USERMERGE
    written = _blocks_one_save_writes(services, 12)
    assert written <= MANY_BLOCKS, written
    _check_index(services, 15)
