"""Several customers at once (a multi-selection in the list): resolving a selected range of
rows to ids without reading the rows, deleting and archiving many with one Undo."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from crmcompanion.core.customer import (
    CustomerDraft,
    EmailAddress,
    SpecialDate,
    SpecialDateKind,
)
from crmcompanion.core.errors import DomainError, NotFoundError
from crmcompanion.services.container import Services
from crmcompanion.services.demo import fill_demo
from crmcompanion.store import snapshots
from crmcompanion.store.customers import ListQuery, SortColumn

# Clock-sensitive: conversations logged at given local times.
pytestmark = pytest.mark.clock_sensitive

# Caches the touchpoint sync rebuilds (a restored row may be marked for recomputing).
DERIVED = {"contact_rhythm", "touchpoint_sources"}


def person(first: str, last: str, email: str, month: int = 5, day: int = 17) -> CustomerDraft:
    return CustomerDraft(
        first_name=first, last_name=last, tags=("Bakery",),
        emails=(EmailAddress(email, "work"),),
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, month, day, 1980),),
    )


def all_ids(services: Services, query: ListQuery) -> list[int]:
    """Every id in list order, the slow honest way: the pages the list itself reads."""
    total = services.customers.count(query)
    return [row.id for row in services.customers.page_at(query, 0, total, total).rows]


@pytest.fixture
def populated(services: Services) -> Services:
    fill_demo(services.db, services.clock, 300, staff_id=services.staff_id)
    return services


@pytest.mark.parametrize("query", [
    ListQuery(),
    ListQuery(sort=SortColumn.COMPANY, descending=True),
    ListQuery(search="a", archived=None),
    ListQuery(sort=SortColumn.UPDATED, descending=True, archived=None),
])
def test_ids_in_rows_match_the_rows_the_list_shows(populated: Services, query: ListQuery):
    expected = all_ids(populated, query)
    total = len(expected)
    assert total > 20
    ranges = [(0, 4), (total // 2, total // 2 + 7), (total - 3, total - 1)]
    got = populated.customers.ids_in_rows(query, ranges, total)
    wanted = expected[0:5] + expected[total // 2:total // 2 + 8] + expected[total - 3:]
    assert got == wanted
    # A range near the end is read backwards from the end of the index: same ids, same order.
    assert populated.customers.ids_in_rows(query, [(0, total - 1)], total) == expected


@pytest.mark.parametrize("query", [
    ListQuery(sort=SortColumn.EMAIL),
    ListQuery(sort=SortColumn.COMPANY, descending=True),  # many equal companies: ties by id
    ListQuery(search="a", sort=SortColumn.UPDATED, descending=True, archived=None),
])
def test_positions_of_several_ids(populated: Services, query: ListQuery):
    expected = all_ids(populated, query)
    picked = [expected[-1], expected[3], expected[4], expected[150]]
    positions = populated.customers.positions_of(query, [*picked, 999_999])
    assert positions == {expected[3]: 3, expected[4]: 4, expected[150]: 150,
                         expected[-1]: len(expected) - 1}
    # Many ids take the one-pass numbering; same answers.
    many = expected[::2]
    assert populated.customers.positions_of(query, many) == {
        cid: row for row, cid in enumerate(expected) if row % 2 == 0}


def test_delete_many_then_undo_puts_every_row_back(services: Services):
    ids = [services.customers.create(person(f"P{i}", "Baker", f"p{i}@example.com", day=10 + i))
           .customer.id for i in range(4)]
    services.interactions.log(ids[0], "Talked about bread",
                              when=datetime(2026, 11, 20, 10).astimezone())
    services.interactions.log(ids[2], "Sent the catalogue")
    with services.db.read() as session:
        before = snapshots.snapshot_customers(session, ids[:3])
    records = [services.customers.get(cid) for cid in ids[:3]]

    deleted = services.customers.delete_many(ids[:3])
    assert deleted.count == 3
    assert deleted.display_names == ("P0 Baker", "P1 Baker", "P2 Baker")
    assert [c.id for c in services.customers.search("baker")] == [ids[3]]
    for cid in ids[:3]:
        with pytest.raises(NotFoundError, match=rf"Customer #{cid} does not exist"):
            services.customers.get(cid)

    changed = services.customers.undo_delete_many(deleted)
    assert changed.customers == frozenset(ids[:3])
    assert [services.customers.get(cid) for cid in ids[:3]] == records
    with services.db.read() as session:
        after = snapshots.snapshot_customers(session, ids[:3])
    for table, rows in before.items():
        if table in DERIVED:
            assert len(after[table]) == len(rows), table
        else:
            assert sorted(map(repr, after[table])) == sorted(map(repr, rows)), table
    assert before["interactions"] and before["customer_emails"] and before["special_dates"]
    assert sorted(c.id for c in services.customers.search("baker")) == sorted(ids)
    assert [h.summary for h in services.interactions.history(ids[0])] == ["Talked about bread"]
    with pytest.raises(DomainError, match="already back"):
        services.customers.undo_delete_many(deleted)


def test_delete_many_refuses_a_missing_customer_and_deletes_nothing(services: Services):
    anna = services.customers.create(person("Anna", "Weber", "anna@example.com")).customer
    with pytest.raises(NotFoundError, match="Customer #101 does not exist"):
        services.customers.delete_many([anna.id, anna.id + 100])
    assert services.customers.get(anna.id) == anna


def test_archive_many_then_undo(services: Services):
    ids = [services.customers.create(person(f"A{i}", "Stone", f"a{i}@example.com"))
           .customer.id for i in range(3)]
    services.customers.set_archived(ids[0], True)
    first_archived_at = services.customers.get(ids[0]).archived_at
    version = services.customers.get(ids[1]).version

    done = services.customers.set_archived_many(ids, True)
    assert done.count == 2  # the one already archived is left as it was
    assert services.customers.count(ListQuery()) == 0
    assert services.customers.search("stone") == []
    assert services.customers.get(ids[0]).archived_at == first_archived_at
    assert services.customers.get(ids[1]).version == version + 1

    services.customers.undo_archive_many(done)
    assert services.customers.count(ListQuery()) == 2
    assert [c.id for c in services.customers.search("stone")] == ids[1:]
    assert services.customers.get(ids[0]).archived_at == first_archived_at

    back = services.customers.set_archived_many(ids, False)
    assert back.count == 1 and services.customers.count(ListQuery()) == 3
    services.customers.undo_archive_many(back)
    assert services.customers.get(ids[0]).archived_at == first_archived_at


def test_add_tag_to_several_then_undo(services: Services):
    ids = [services.customers.create(person(f"T{i}", "Lund", f"t{i}@example.com"))
           .customer.id for i in range(3)]
    services.customers.update(ids[0], replace(services.customers.get(ids[0]).to_draft(),
                                              tags=("Bakery", "Newsletter")),
                              services.customers.get(ids[0]).version)
    before = [services.customers.get(cid) for cid in ids]

    tagged = services.customers.add_tag_many(ids, "  newsletter ")
    assert tagged.count == 2  # the first already had it (ignoring case)
    assert [services.customers.get(cid).tags for cid in ids] == [
        ("Bakery", "Newsletter"), ("Bakery", "Newsletter"), ("Bakery", "Newsletter")]
    assert services.customers.count(ListQuery(tag="Newsletter")) == 3
    assert sorted(c.id for c in services.customers.search("newsl")) == sorted(ids)
    assert dict(services.customers.tags())["Newsletter"] == 3
    rows = services.customers.page_at(ListQuery(), 0, 3, 3).rows
    assert {r.tags for r in rows} == {"Bakery, Newsletter"}

    services.customers.undo_add_tag_many(tagged)
    after = [services.customers.get(cid) for cid in ids]
    assert [c.tags for c in after] == [c.tags for c in before]
    assert [c.id for c in services.customers.search("newsl")] == [ids[0]]
    assert services.customers.count(ListQuery(tag="Newsletter")) == 1
    rows = services.customers.page_at(ListQuery(), 0, 3, 3).rows
    assert [r.tags for r in rows] == ["Bakery, Newsletter", "Bakery", "Bakery"]


def test_add_tag_refuses_an_empty_or_long_tag(services: Services):
    cid = services.customers.create(person("U", "V", "u@example.com")).customer.id
    for bad in ("   ", "x" * 61):
        says = "Enter a tag" if not bad.strip() else "at most 60 characters"
        with pytest.raises(DomainError, match=says):
            services.customers.add_tag_many([cid], bad)
    assert services.customers.get(cid).tags == ("Bakery",)


def test_same_list_knows_texts_that_search_the_same_words() -> None:
    from crmcompanion.core.customer import Status
    from crmcompanion.services.customers import ListQuery, same_list

    def same(a: str, b: str, **filters: object) -> bool:
        return same_list(ListQuery(search=a), ListQuery(search=b, **filters))

    assert same("sofia", "sofia ")
    assert same("anna", "anna.")
    assert same("o", "o'")
    assert same("030 12", "030 12 ")
    assert same("", "  ")  # everybody either way
    assert not same("", "'")  # nothing searchable: nobody
    assert not same("ann", "anna")
    assert not same("sofia s", "sofia")
    assert not same("sofia", "sofia ", status=Status.LEAD)
