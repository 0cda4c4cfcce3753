"""Demo data: deterministic, realistic, and inserted completely by the bulk path."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from crmcompanion.core.customer import SpecialDateKind
from crmcompanion.services.container import Services
from crmcompanion.services.demo import fill_demo, generate_drafts
from crmcompanion.store.customers import ListQuery

TODAY = date(2026, 11, 22)


def test_same_seed_same_customers_other_seed_other_customers() -> None:
    assert generate_drafts(300, TODAY, seed=3) == generate_drafts(300, TODAY, seed=3)
    assert generate_drafts(300, TODAY, seed=3) != generate_drafts(300, TODAY, seed=4)


def test_interesting_cases_and_variety() -> None:
    drafts = generate_drafts(2000, TODAY)
    birthdays = [s for d in drafts for s in d.special_dates if s.kind == SpecialDateKind.BIRTHDAY]
    assert (TODAY.month, TODAY.day) in {(s.month, s.day) for s in birthdays}
    assert (2, 29) in {(s.month, s.day) for s in birthdays}
    assert any(s.year is None for s in birthdays)
    assert any(not d.first_name.isascii() for d in drafts)
    assert 300 < sum(1 for d in drafts if d.company) < 700
    assert len({d.status for d in drafts}) == 3 and len({d.kind for d in drafts}) == 2
    assert all(d.emails and d.phones for d in drafts)
    assert len({d.emails[0].address for d in drafts}) > 1000
    assert all(len(set(d.tags)) == len(d.tags) and list(d.tags) == sorted(d.tags) for d in drafts)


def test_fill_demo_inserts_every_row_and_its_search_entry(services: Services) -> None:
    fill_demo(services.db, services.clock, 500, seed=2, staff_id=services.staff_id)
    assert services.customers.total() == 500
    with services.db.read() as session:
        indexed = session.scalar(text("SELECT count(*) FROM customer_search"))
        phones = session.scalar(text("SELECT count(*) FROM customer_phones"))
    assert indexed == 500 and phones == 500
    first = services.customers.get(1)
    found = services.customers.search(f"{first.first_name} {first.last_name}", limit=500)
    assert first.id in [c.id for c in found]
    assert services.customers.count(ListQuery(search=first.phones[0].number[-7:])) >= 1
