"""`position_of` on the plain list (store.customers: the sort index counted, less the archived
rows before the customer) gives the customer's row in the list on SQLite and on PostgreSQL."""

from __future__ import annotations

from crmcompanion.services.demo import fill_demo
from crmcompanion.store.customers import ListQuery
from tests.store.test_position_of import SORTS, listed

N = 80


def test_position_is_the_row_in_the_list_on_both_engines(services) -> None:
    fill_demo(services.db, services.clock, N, seed=3, staff_id=services.staff_id)
    for customer_id in range(2, N, 7):
        services.customers.set_archived(customer_id, True)
    for archived in (False, None):
        for sort in SORTS:
            for descending in (False, True):
                query = ListQuery(archived=archived, sort=sort, descending=descending)
                ids = listed(services, query)
                for customer_id in range(1, N + 1, 3):
                    expected = ids.index(customer_id) if customer_id in ids else None
                    assert services.customers.position_of(query, customer_id) == expected, (
                        query, customer_id)
