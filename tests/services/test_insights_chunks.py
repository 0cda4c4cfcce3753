"""A full refresh of the segments reads the customers' facts and writes their segments a
chunk at a time (`store.insights.FACT_CHUNK`), so its memory does not grow with the customers.

Issue 13's `startup_rss_mb`: Today's "moved to at risk" link runs the first refresh of the day
shortly after start-up, and at 100,000 customers that refresh held every customer's facts and
every row to write at once (+55 to +70 MB of peak RSS). These tests set a small chunk and
check that the reads come in chunks with the writes between them, that the segments stored
are still exactly the rules over per-customer facts across chunk boundaries (rows inserted,
moved and reworded, with the first refresh's index rebuild), and that the traced peak of a
first refresh grows far less than the customers. tests/postgres runs these on PostgreSQL too.
"""

from __future__ import annotations

import tracemalloc
from datetime import timedelta
from itertools import pairwise

import pytest

from crmcompanion.core.segments import assess
from crmcompanion.services.container import Services
from crmcompanion.services.demo import fill_demo
from crmcompanion.store import insights as insights_store
from tests.conftest import FIXED_NOW
from tests.services import test_insights_sql_agrees as agrees
from tests.services.test_insights_sql_agrees import (
    _customer,
    _forget_segments,
    _on,
    _quiet_customers,
    _statements,
    _stored,
    reference_facts,
)

# 250 demo customers and customers made to hit every rule (a fixture of the agreement tests).
varied = agrees.varied

# The customers' facts statement (the other two read feedback).
CUSTOMERS_READ = "FROM customers LEFT OUTER JOIN contact_rhythm"


def test_a_full_refresh_reads_and_writes_a_chunk_at_a_time(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """23 customers, 5 a chunk: five reads of the customers' facts (the last one short: no
    sixth read for an empty chunk), two feedback reads with each, and each chunk's rows
    written before the next chunk is read."""
    if not services.db.info.url.startswith("sqlite"):
        pytest.skip("counted with SQLite's statement trace")
    monkeypatch.setattr(insights_store, "FACT_CHUNK", 5)
    _quiet_customers(services, 13)
    for _ in range(10):
        _customer(services, "Fresh Fay")
    services.touchpoints.sync()  # the keep-in-touch rhythm's own catching up, not ours
    with _statements(services) as seen:
        assert services.insights.refresh() == 23
    reads = [n for n, s in enumerate(seen) if CUSTOMERS_READ in s]
    feedback = [s for s in seen if "FROM feedback_items" in s and "GROUP BY" in s]
    inserts = [n for n, s in enumerate(seen) if s.startswith("INSERT INTO customer_health")]
    assert len(reads) == 5, [seen[n] for n in reads]
    assert all("LIMIT" in seen[n] for n in reads)
    assert len(feedback) == 2 * 5
    assert len(inserts) == 23
    # Written chunk by chunk: 5 rows inserted after each of the first four reads, before
    # the next one.
    for before, after in pairwise(reads):
        assert sum(1 for n in inserts if before < n < after) == 5


@pytest.mark.parametrize("bulk", [False, True])
def test_segments_written_in_small_chunks_are_the_rules(
        varied: Services, monkeypatch: pytest.MonkeyPatch, bulk: bool) -> None:
    """Chunks of 7 customers (feedback, lost customers and leads spread over them): the
    first refresh (rows inserted; `bulk`: with the secondary indexes
    dropped before the first chunk and built after the last) and a refresh 40 days on (rows
    moved and reworded in place) store exactly the rules over per-customer facts."""
    monkeypatch.setattr(insights_store, "FACT_CHUNK", 7)
    if bulk:
        monkeypatch.setattr(insights_store, "_REINDEX_ABOVE", 1)
    for days_later in (0, 40):
        later = _on(varied, FIXED_NOW + timedelta(days=days_later))
        try:
            assert later.insights.refresh() > 7
            today = later.clock.today()
            rules = later.insights.thresholds()
            expected = {cid: assess(f, today, rules)
                        for cid, f in reference_facts(later, today, rules.window_days).items()}
        finally:
            later.close()
        assert _stored(varied) == {cid: (h.segment.value, h.reasons)
                                   for cid, h in expected.items()}


def _first_refresh_peak(services: Services) -> int:
    """The traced peak (bytes) of a first refresh of every customer's segment."""
    _forget_segments(services)
    services.touchpoints.sync()  # not ours: the keep-in-touch rhythm's catching up
    tracemalloc.start()
    try:
        services.insights.refresh()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_first_refresh_peak_grows_far_less_than_the_customers(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """2,000 then 8,000 customers, 500 a chunk: the traced peak of a first refresh grows by
    well under 300 bytes a customer added (~140 here: what does grow is the cache of distinct
    sets of facts, 981 then 2,913, which levels off: 14,700 at 100,000 customers). Holding
    every customer's facts and rows at once it grew by ~780 bytes a customer."""
    monkeypatch.setattr(insights_store, "FACT_CHUNK", 500)
    fill_demo(services.db, services.clock, 2_000, seed=5, staff_id=services.staff_id)
    services.insights.refresh()  # statements compiled, modules imported: not counted
    small = _first_refresh_peak(services)
    fill_demo(services.db, services.clock, 6_000, seed=6, append=True,
              staff_id=services.staff_id)
    large = _first_refresh_peak(services)
    assert len(_stored(services)) == 8_000  # every customer got a row
    assert (large - small) / 6_000 < 300, (small, large)
