"""Team mode's last gaps, each on a real PostgreSQL (and SQLite beside it where both apply):
the duplicate finder (SQLite's group_concat), a merge and its undo, the erase of personal data
(SQLite's secure_delete pragma, FTS5's optimize, the WAL checkpoint), the sample data past
customer #53,000 (32-bit products), and a read whose connection drops being retried once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg
import pytest
from sqlalchemy import text

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import Channel, CustomerDraft, EmailAddress, PhoneNumber
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.demo import fill_demo
from crmcompanion.services.personal_data import PLACEHOLDER_NAME
from crmcompanion.store import models as m
from crmcompanion.store import transfer
from crmcompanion.store.customers import ListQuery
from tests.postgres.dropping import dsn, end_first_queued
from tests.services.test_duplicates import (  # noqa: F401 - run here on both engines
    _add,
    _pairs,
    test_finder_groups_chains_and_puts_strong_evidence_first,
    test_finder_reports_each_pair_with_its_reasons,
)


def _count(services: Services, sql: str, **params: object) -> int:
    with services.db.read() as session:
        return int(session.execute(text(sql), params).scalar_one())


def test_merge_and_its_undo_on_both_engines(services: Services) -> None:
    keep = _add(services, "Anna", "Müller", "anna@example.com", "+4930123456")
    other = _add(services, "Anna", "Mueller", "ANNA@example.com")
    services.interactions.log(other, "Asked about the spring catalogue", Channel.PHONE,
                              datetime(2026, 11, 2, 10, 0))
    assert _pairs(services) == {(keep, other): {"email"}}
    merged = services.duplicates.merge(keep, other, {})
    assert services.customers.search("mueller") == []
    assert _count(services, "SELECT count(*) FROM interactions WHERE customer_id = :c",
                  c=keep) == 1
    assert _pairs(services) == {}
    services.duplicates.undo_merge(merged)
    assert _count(services, "SELECT count(*) FROM interactions WHERE customer_id = :c",
                  c=other) == 1
    assert _pairs(services) == {(keep, other): {"email"}}


def test_erase_on_both_engines_leaves_no_personal_text(services: Services, engine: str,
                                                      db_url: str) -> None:
    cid = services.customers.create(CustomerDraft(
        first_name="Renée", last_name="Dupont", emails=(EmailAddress("renee@example.com"),),
        phones=(PhoneNumber("+33142681234"),), tags=("VIP",),
        notes="likes tulips")).customer.id
    bystander = _add(services, "Other", "Person", "other@example.com")
    services.interactions.log(cid, "Ordered tulips for the shop", Channel.PHONE,
                              datetime(2026, 11, 1, 9, 30))
    erased = services.personal_data.erase_customer(cid)
    assert erased.anonymised == {"interactions": 1}
    for table, column in transfer.customer_references():
        assert _count(services, f"SELECT count(*) FROM {table.name} "
                      f"WHERE {column.name} = :c", c=cid) == 0, table.name
    assert _count(services, "SELECT count(*) FROM customers WHERE display_name = :n",
                  n=PLACEHOLDER_NAME) == 1
    assert services.customers.search("tulips") == []
    assert services.customers.search("renee") == []
    assert services.customers.count(ListQuery(search="dupont")) == 0
    assert services.customers.count(ListQuery()) == 1
    if engine == "postgresql":
        # No readable row anywhere holds the erased text (every table's rows as text).
        with psycopg.connect(dsn(db_url)) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            for table in tables:
                found = conn.execute(
                    f"SELECT count(*) FROM {table} t WHERE t::text ILIKE '%tulips%' "
                    f"OR t::text ILIKE '%renée%' OR t::text ILIKE '%renee@%'").fetchone()[0]
                assert found == 0, table
            # The dead row versions were vacuumed away right after the erase.
            dead = conn.execute("SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables "
                                "WHERE relname IN ('customers', 'customer_search')"
                                ).fetchone()[0]
            assert dead == 0
    services.personal_data.erase_customer(bystander)
    assert _count(services, "SELECT count(*) FROM customers") == 1


def test_sample_data_past_customer_53000_on_both_engines(services: Services) -> None:
    # The demo's insight figures hash the id (id * 40503 ...): a 32-bit product on
    # PostgreSQL overflowed from customer #53,022 on ("integer out of range").
    with services.db.write() as session:
        session.add(m.Customer(id=70_000, first_name="Seed", display_name="Seed",
                               sort_name="seed", created_at=datetime(2026, 1, 1),
                               updated_at=datetime(2026, 1, 1)))
    fill_demo(services.db, FixedClock(datetime(2026, 12, 6, 9, 0)), 40, 1, True,
              services.staff_id)
    assert _count(services, "SELECT count(*) FROM customers WHERE id > 70000") == 40
    assert _count(services, "SELECT count(*) FROM customers WHERE yearly_value IS NOT NULL "
                  "AND id > 70000") >= 1


@pytest.fixture
def pg_services(pg_database: str) -> Iterator[Services]:
    opened = open_services(pg_database)
    yield opened
    opened.close()


@contextmanager
def _dropped_during_read(url: str) -> Iterator[list[int]]:
    """While inside, the customers table is locked against readers; the first backend that
    queues behind the lock is ended (its pid lands in the yielded list), then the lock goes."""
    killed: list[int] = []
    admin = psycopg.connect(dsn(url))
    admin.execute("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE")
    holder = admin.info.backend_pid

    def kill_when_queued() -> None:
        end_first_queued(url, holder, killed)
        admin.rollback()  # the lock goes: the retried read may run

    killer = threading.Thread(target=kill_when_queued)
    killer.start()
    try:
        yield killed
    finally:
        killer.join(120)
        admin.close()


def test_a_read_whose_connection_drops_is_retried_once(pg_services: Services,
                                                       pg_database: str) -> None:
    cid = pg_services.customers.create(CustomerDraft(first_name="Mara", last_name="Vogt")
                                       ).customer.id
    with _dropped_during_read(pg_database) as killed:
        read = pg_services.customers.get(cid)
    assert len(killed) == 1
    assert read.first_name == "Mara"
    # Writes are never retried: the dropped-save tests (test_dropped_connection.py) show a
    # save whose connection drops raising ConnectionDropped with nothing saved.


def test_today_and_search_read_after_a_drop(pg_services: Services, pg_database: str) -> None:
    pg_services.customers.create(CustomerDraft(first_name="Mara", last_name="Vogt"))
    with _dropped_during_read(pg_database) as killed:
        total = pg_services.customers.count(ListQuery(search="mar"))
    assert len(killed) == 1 and total == 1


def test_the_dirty_indexes_are_partial_on_postgres(pg_database: str) -> None:
    # 0012: "is anything stale?" (before every Today read) is an index probe, not a scan.
    with psycopg.connect(dsn(pg_database)) as conn:
        found = dict(conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
            "('ix_contact_rhythm_dirty', 'ix_customer_health_dirty')").fetchall())
    assert set(found) == {"ix_contact_rhythm_dirty", "ix_customer_health_dirty"}
    assert all(d.endswith("WHERE dirty") for d in found.values()), found


def test_the_staleness_check_probes_the_partial_index(pg_services: Services) -> None:
    # store.touchpoints' "SELECT 1 FROM contact_rhythm WHERE dirty IS 1" reached PostgreSQL
    # as "dirty IS TRUE", which no partial index matches: a scan of every rhythm row.
    from crmcompanion.store.postgres_touchpoints import adapt

    sql = adapt("SELECT 1 FROM contact_rhythm WHERE dirty IS 1 LIMIT 1")
    with pg_services.db.read() as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: seq scans win
        plan = "\n".join(r[0] for r in session.execute(text(f"EXPLAIN {sql}")))
    assert "ix_contact_rhythm_dirty" in plan, plan
