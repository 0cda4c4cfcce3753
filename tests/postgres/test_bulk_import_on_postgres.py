"""A CSV import big enough for the bulk paths (over 2,000 customers: the keep-in-touch due
counts recounted whole instead of kept row by row; every "Last contact" written by COPY),
the same file imported on both engines with the same outcome."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from crmcompanion.core.clock import FixedClock
from crmcompanion.services.container import Services
from crmcompanion.services.import_export import LAST_CONTACT_SUMMARY
from tests.services.helpers import export_demo_csv

pytestmark = pytest.mark.slow
CUSTOMERS = 2_100  # above store.postgres_touchpoints.REBUILD_COUNTS_ABOVE


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datetime import datetime

    folder = tmp_path_factory.mktemp("demo")
    return export_demo_csv(folder, FixedClock(datetime(2026, 12, 6, 9, 0)), CUSTOMERS)


def _scalar(services: Services, sql: str, **params: object) -> int:
    with services.db.read() as session:
        return int(session.execute(text(sql), params).scalar_one())


def test_a_big_import_keeps_last_contacts_and_due_counts(services: Services,
                                                         demo_csv: Path) -> None:
    preview = services.import_export.preview(demo_csv)
    result = services.import_export.run(preview.plan, skip_invalid=False)
    assert result.created > 2_000
    contacts = _scalar(services, "SELECT count(*) FROM interactions WHERE summary = :s",
                       s=LAST_CONTACT_SUMMARY)
    assert contacts > 1_000
    # Each logged contact is its customer's last interaction day and nothing is left dirty.
    assert _scalar(services, "SELECT count(*) FROM contact_rhythm r JOIN interactions i "
                   "ON i.customer_id = r.customer_id WHERE i.summary = :s "
                   "AND r.last_interaction_on = i.occurred_on", s=LAST_CONTACT_SUMMARY
                   ) == contacts
    assert _scalar(services, "SELECT count(*) FROM contact_rhythm WHERE dirty") == 0
    # The per-day due counts equal a recount of the rhythm rows.
    assert _scalar(services, "SELECT count(*) FROM (SELECT next_due_on, count(*) AS n "
                   "FROM contact_rhythm WHERE next_due_on IS NOT NULL GROUP BY next_due_on) r "
                   "FULL JOIN keep_in_touch_due_counts d ON d.due_on = r.next_due_on "
                   "WHERE r.n IS DISTINCT FROM nullif(d.customers, 0)") == 0
    overdue = services.touchpoints.counts()
    assert sum(overdue.values()) > 0
    # A customer saved after the load gets the next id (the sequences moved past the load).
    from crmcompanion.core.customer import CustomerDraft

    late = services.customers.create(CustomerDraft(first_name="Late", last_name="Comer"))
    assert late.customer.id == _scalar(services, "SELECT max(id) FROM customers")
