"""An import into a PostgreSQL database that already holds customers checks its rows'
foreign keys once, set-based, instead of one look-up per row written (issue 17: ~1.26
million look-ups, ~10 s of the server's 23 s of CPU for 87,588 new customers), and the keys
stay in place and valid (store.postgres_bulk.foreign_keys_checked_after).

How the per-row checks are seen: each one locks the row it finds FOR KEY SHARE, which
stamps the new customer's row version with the importing transaction as a locker (its xmax);
a set-based check locks nothing in customers (the load holds the table locked against other
writers). A role that may not switch the checks off imports with the per-row checks, as
before.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.services.container import Services, open_services
from crmcompanion.store import postgres_bulk
from tests.postgres.conftest import CLOCK, Cluster
from tests.services import test_import_touchpoints_at_insert as on_sqlite

write_own_file = on_sqlite.write_own_file
stocked = on_sqlite.stocked  # the fixture: customers, cadence tags, a feedback rhythm

_KEYS = ("SELECT conrelid::regclass::text, conname, convalidated FROM pg_constraint "
         "WHERE contype = 'f' ORDER BY 1, 2")


@pytest.fixture
def engine() -> str:
    """PostgreSQL only: `services` (and so `stocked`) on a fresh PostgreSQL database."""
    return "postgresql"


def _import(services: Services, folder: Path, customers: int) -> tuple[int, int]:
    """Import `customers` new rows of the varied file; (the largest id before, created)."""
    with services.db.read() as session:
        before = session.execute(text("SELECT max(id) FROM customers")).scalar_one()
    path = folder / f"own{customers}.csv"
    write_own_file(path, customers)
    plan = services.import_export.preview(path, find_duplicates=True).plan
    created = services.import_export.run(plan, skip_invalid=True).created
    return before, created


def _row_locked(services: Services, after: int) -> int:
    """How many customers above id `after` carry a locker (a per-row key check's lock), of
    those without an ask-for-feedback follow-up (the feedback rhythm's follow-ups are
    written apart, with their per-row checks)."""
    with services.db.read() as session:
        return session.execute(text(
            "SELECT count(*) FROM customers c WHERE c.id > :after AND c.xmax <> '0' AND NOT "
            "EXISTS (SELECT 1 FROM follow_ups f WHERE f.customer_id = c.id)"),
            {"after": after}).scalar_one()


def _without_follow_ups(services: Services, after: int) -> int:
    with services.db.read() as session:
        return session.execute(text(
            "SELECT count(*) FROM customers c WHERE c.id > :after AND NOT EXISTS "
            "(SELECT 1 FROM follow_ups f WHERE f.customer_id = c.id)"),
            {"after": after}).scalar_one()


def test_an_import_into_a_filled_database_checks_its_keys_once(stocked: Services,
                                                                tmp_path: Path) -> None:
    with stocked.db.read() as session:
        keys = session.execute(text(_KEYS)).all()
        held = session.execute(text("SELECT count(*) FROM customers")).scalar_one()
    assert held and all(valid for _t, _n, valid in keys)
    before, created = _import(stocked, tmp_path, 60)
    assert created == 60
    assert _without_follow_ups(stocked, before) > 0
    assert _row_locked(stocked, before) == 0, "the new customers were looked up row by row"
    with stocked.db.read() as session:
        # Every key still there and valid; the checks are on again for the next writer.
        assert session.execute(text(_KEYS)).all() == keys
        assert session.execute(text("SHOW session_replication_role")).scalar() == "origin"
        for table in ("customer_emails", "customer_tags", "special_dates", "interactions",
                      "contact_rhythm", "touchpoint_sources", "import_batch_customers"):
            assert session.execute(text(
                f"SELECT count(DISTINCT customer_id) FROM {table} WHERE customer_id > :b"),
                {"b": before}).scalar_one(), f"no new rows in {table}"
        # The search table's statistics trigger ran (not switched off with the keys).
        assert session.execute(text(
            "SELECT s.rows = (SELECT count(*) FROM customer_search) AND s.tokens = "
            "(SELECT sum(doc_len) FROM customer_search) FROM customer_search_stats s")
        ).scalar_one()
    added = stocked.customers.create(CustomerDraft(first_name="After")).customer
    assert added.id == before + created + 1


def test_a_row_naming_no_customer_fails_the_check_and_rolls_back(pg_services: Services) -> None:
    pg_services.customers.create(CustomerDraft(first_name="Held"))
    with pytest.raises(postgres_bulk.LoadBrokeForeignKey,
                       match=r"customer_emails\.customer_id = 999999"), \
            pg_services.db.write() as session:
        postgres_bulk.lock_customers(session)
        with postgres_bulk.foreign_keys_checked_after(session, ("customer_emails",)):
            session.execute(text(
                "INSERT INTO customer_emails (customer_id, position, label, address, "
                "address_key) VALUES (999999, 0, '', 'x@example.com', 'x@example.com')"))
    with pg_services.db.read() as session:
        assert session.execute(text("SELECT count(*) FROM customer_emails WHERE "
                                    "customer_id = 999999")).scalar_one() == 0
        assert session.execute(text("SHOW session_replication_role")).scalar() == "origin"


@pytest.fixture
def plain_role(pg_cluster: Cluster, pg_database: str) -> Iterator[str]:
    """The URL of `pg_database` as a role that is no superuser (all table rights)."""
    name = f"plain_{uuid.uuid4().hex[:8]}"
    database = pg_database.rsplit("/", 1)[1]
    pg_cluster.sql(f"CREATE ROLE {name} LOGIN")
    pg_cluster.sql(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {name}; "
                   f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {name}", database)
    yield pg_database.replace("postgres@", f"{name}@")
    pg_cluster.sql(f"DROP OWNED BY {name} CASCADE", database)
    pg_cluster.sql(f"DROP ROLE {name}")


def test_a_role_that_may_not_switch_checks_off_imports_with_row_checks(
        plain_role: str, pg_database: str, tmp_path: Path) -> None:
    owner = open_services(pg_database, None, CLOCK)
    try:
        owner.customers.create(CustomerDraft(first_name="Held"))
    finally:
        owner.close()
    services = open_services(plain_role, None, CLOCK)
    try:
        before, created = _import(services, tmp_path, 30)
        assert created == 30
        # looked up row by row, as before
        assert _row_locked(services, before) == _without_follow_ups(services, before) > 0
    finally:
        services.close()


def test_a_cancelled_import_into_a_filled_database_leaves_it_as_it_was(
        stocked: Services, tmp_path: Path) -> None:
    from crmcompanion.services.import_export import CancelToken, ImportCancelled

    tables = ("customers", "customer_emails", "customer_tags", "special_dates", "interactions",
              "import_batch_customers", "contact_rhythm", "touchpoint_sources",
              "customer_search")

    def counts() -> list[int]:
        with stocked.db.read() as session:
            return [session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                    for t in tables]

    before = counts()
    path = tmp_path / "own.csv"
    write_own_file(path, 40)
    importer = stocked.import_export
    plan = importer.preview(path, find_duplicates=True).plan
    token = CancelToken()
    # Cancelled after the customers' COPY, inside the block whose per-row checks are off.
    with pytest.raises(ImportCancelled):
        importer.run(plan, skip_invalid=True, cancel=token,
                     progress=lambda done, _total: token.cancel() if done else None)
    assert counts() == before
    with stocked.db.write() as session:  # the write engine's connection: checks on again
        assert session.execute(text("SHOW session_replication_role")).scalar() == "origin"
    assert importer.run(plan, skip_invalid=True).created == 40
