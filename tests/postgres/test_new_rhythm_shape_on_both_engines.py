"""store.touchpoints.insert_new_rhythm takes its `last_interactions` in one shape on both
engines: the SQL of a relation of (customer_id, occurred_on), each loaded customer's last
interaction day (it was a table of (customer_id, occurred_on) on SQLite and a relation of
(customer_id, day) on PostgreSQL, so one caller could not serve both).

The check: customers made through the services, their derived rows (rhythm, yearly sources,
due counts) read, removed, and written again by insert_new_rhythm from a grouped read of the
interactions, the same SELECT on both engines: the rows must come back as they were.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.services.container import Services
from crmcompanion.store import touchpoints as tp_repo

LAST_INTERACTIONS = (
    "(SELECT customer_id, max(occurred_on) AS occurred_on FROM interactions "
    "GROUP BY customer_id)"
)


def _derived(session: Session, first: int, last: int) -> tuple[list[tuple], ...]:
    bounds = {"first": first, "last": last}
    rhythm = session.execute(text(
        "SELECT customer_id, dirty, last_interaction_on, reset_on, contact_base_on, "
        "cadence_days, next_due_on FROM contact_rhythm "
        "WHERE customer_id BETWEEN :first AND :last ORDER BY customer_id"), bounds).all()
    sources = session.execute(text(
        "SELECT customer_id, occasion, source_id, md_key, year, label FROM touchpoint_sources "
        "WHERE customer_id BETWEEN :first AND :last ORDER BY 1, 2, 3"), bounds).all()
    counts = session.execute(text(
        "SELECT * FROM keep_in_touch_due_counts ORDER BY 1")).all()
    return [tuple(r) for r in rhythm], [tuple(r) for r in sources], [tuple(r) for r in counts]


def test_last_interactions_is_one_relation_shape_on_both_engines(services: Services) -> None:
    ada = services.customers.create(CustomerDraft(
        first_name="Ada", customer_since=date(2025, 1, 10),
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 5, 4, 1980),))).customer.id
    services.customers.create(CustomerDraft(first_name="Bo"))
    cy = services.customers.create(CustomerDraft(first_name="Cy")).customer.id
    services.interactions.log(ada, "Called about the order", "phone")
    services.interactions.log(cy, "Wrote back", "email")
    settings = services.touchpoints.settings()
    with services.db.write() as session:
        tp_repo.sync_dirty(session, settings)
    with services.db.read() as session:
        before = _derived(session, ada, cy)
    rhythm, sources, counts = before
    assert len(rhythm) == 3 and sources and counts  # something to write again
    assert [r[2] is not None for r in rhythm] == [True, False, True]  # last interaction days

    with services.db.write() as session:  # the per-row triggers take the due days off
        for table in ("touchpoint_sources", "contact_rhythm"):
            session.execute(text(f"DELETE FROM {table} WHERE customer_id BETWEEN :f AND :l"),
                            {"f": ada, "l": cy})
    with services.db.read() as session:
        assert _derived(session, ada, cy)[:2] == ([], [])
    with services.db.write() as session, tp_repo.triggers_set_aside(
            session, tp_repo.BULK_INSERT_TRIGGERS + tp_repo.DUE_COUNT_TRIGGERS):
        tp_repo.insert_new_rhythm(session, ada, cy, settings, LAST_INTERACTIONS)
    with services.db.read() as session:
        assert _derived(session, ada, cy) == before
