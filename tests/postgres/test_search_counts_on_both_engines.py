"""The list's search count and first page on both engines with archived customers and typed
phone digits: PostgreSQL counts from its search indexes less the archived matches (no join
of every match to its customer row), reads few matches first and walks the sort index for
many; every way must give the same count as the rows it lists, and the same on SQLite."""

from __future__ import annotations

import pytest

from crmcompanion.core.customer import CustomerDraft, PhoneNumber
from crmcompanion.services.container import Services
from crmcompanion.services.customers import ListQuery

SEARCHES = ("zo", "zoe", "anna", "a", "4930", "+49 30 12", "030 12", "12345", "berg", "nobody")


@pytest.fixture
def filled(services: Services) -> Services:
    people = [("Zoe", "Berg", "+49 30 1234567"), ("Zoë", "Anders", "+49 30 1299999"),
              ("Anna", "Zorn", "+44 20 7946 0000"), ("Annabel", "Berg", "030 1234500"),
              ("Bob", "Anna", ""), ("Carl", "Weiß", "+49 89 123450")]
    ids = []
    for n in range(3):  # enough rows for both page plans to have something to do
        for first, last, phone in people:
            ids.append(services.customers.create(CustomerDraft(
                first_name=first, last_name=f"{last}{n or ''}",
                phones=(PhoneNumber(phone),) if phone else ())).customer.id)
    services.customers.set_archived_many(ids[::4], True)
    return services


@pytest.mark.parametrize("archived", [False, True, None])
def test_counts_match_the_listed_rows(filled: Services, archived: bool | None) -> None:
    seen = {}
    for search in SEARCHES:
        query = ListQuery(search=search, archived=archived)
        total = filled.customers.count(query)
        rows = filled.customers.page_at(query, 0, 100, total).rows
        assert total == len(rows), search
        assert all(row.archived == archived for row in rows if archived is not None), search
        seen[search] = total
    assert seen["nobody"] == 0
    if archived is None:
        assert seen["4930"] == 6 and seen["zo"] >= 6

