"""Customer use cases against a real SQLite database."""

from __future__ import annotations

from datetime import date

import pytest

from crmcompanion.core.customer import (
    CustomerDraft,
    EmailAddress,
    Kind,
    PhoneNumber,
    SpecialDate,
    SpecialDateKind,
    Status,
)
from crmcompanion.core.errors import ConflictError, NotFoundError, ValidationError
from crmcompanion.services.container import Services
from crmcompanion.services.customers import AmbiguousCustomer
from crmcompanion.store.customers import ListQuery, SortColumn


def anna(**changes: object) -> CustomerDraft:
    values: dict[str, object] = dict(
        first_name="Anna",
        last_name="Müller",
        company="Blumen Müller",
        emails=(EmailAddress("Anna.Mueller@Example.COM", "work"),),
        phones=(PhoneNumber("030 1234567", "mobile"),),
        tags=("VIP", "Florist", "vip"),
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, None),),
        customer_since=date(2015, 4, 1),
        notes="Loves tulips",
    )
    values.update(changes)
    return CustomerDraft(**values)  # type: ignore[arg-type]


@pytest.fixture
def german(services: Services) -> Services:
    services.settings.update({"general.default_region": "DE"})
    return services


def test_create_normalises_and_reads_back(german: Services) -> None:
    saved = german.customers.create(anna())
    got = german.customers.get(saved.customer.id)
    assert got.display_name == "Anna Müller"
    assert got.emails == (EmailAddress("Anna.Mueller@example.com", "work"),)
    assert got.phones == (PhoneNumber("+49301234567", "mobile"),)
    assert got.tags == ("Florist", "VIP")  # duplicate "vip" dropped, sorted by name
    assert got.special_dates == (SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, None),)
    assert got.version == 1
    assert saved.changed.customer_list and saved.changed.customers == {got.id}


def test_invalid_input_names_each_field_and_saves_nothing(german: Services) -> None:
    bad = anna(
        emails=(EmailAddress("anna@@example"),),
        phones=(PhoneNumber("12"),),
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 2, 30, None),),
    )
    with pytest.raises(ValidationError, match="needs exactly one @") as caught:
        german.customers.create(bad)
    assert set(caught.value.field_errors) == {"emails.0", "phones.0", "special_dates.0"}
    assert german.customers.total() == 0


def test_nameless_customer_is_rejected(services: Services) -> None:
    with pytest.raises(ValidationError, match="Enter a first name, last name or company") as caught:
        services.customers.create(CustomerDraft(notes="who?"))
    assert "name" in caught.value.field_errors


@pytest.mark.parametrize(
    "query",
    ["anna", "ANN", "muller", "Mül", "anna mull", "blumen", "example.com", "florist", "tulip",
     "030 1234567", "+49 30 1234567", "1234567", "(030) 123-4567", "301234"],
)
def test_search_finds_by_every_field_and_folding(german: Services, query: str) -> None:
    saved = german.customers.create(anna())
    german.customers.create(CustomerDraft(first_name="Bob", last_name="Stone"))
    assert [c.id for c in german.customers.search(query)] == [saved.customer.id]


@pytest.mark.parametrize("query", ["anna stone", "zzz", "tulipx", '"', "NEAR(", "*", "7654321"])
def test_search_requires_every_word_and_survives_fts_syntax(german: Services, query: str) -> None:
    german.customers.create(anna())
    german.customers.create(CustomerDraft(first_name="Bob", last_name="Stone"))
    assert german.customers.search(query) == []


def test_update_with_stale_version_is_a_conflict(german: Services) -> None:
    created = german.customers.create(anna()).customer
    german.customers.update(created.id, anna(first_name="Anne"), created.version)
    with pytest.raises(ConflictError, match=r"was changed by .* while you were editing"):
        german.customers.update(created.id, anna(first_name="Annette"), created.version)
    assert german.customers.get(created.id).first_name == "Anne"


def test_update_reindexes_search(german: Services) -> None:
    created = german.customers.create(anna()).customer
    german.customers.update(created.id, anna(last_name="Schulz", company=""), created.version)
    assert german.customers.search("müller") == []
    assert [c.id for c in german.customers.search("schulz")] == [created.id]


def test_delete_then_undo_restores_everything(german: Services) -> None:
    created = german.customers.create(anna()).customer
    deleted = german.customers.delete(created.id)
    with pytest.raises(NotFoundError, match=rf"Customer #{created.id} does not exist"):
        german.customers.get(created.id)
    assert german.customers.search("anna") == []
    restored = german.customers.undo_delete(deleted).customer
    assert restored == created
    assert [c.id for c in german.customers.search("anna")] == [created.id]


def test_archive_hides_from_default_list_and_search(german: Services) -> None:
    created = german.customers.create(anna()).customer
    german.customers.set_archived(created.id, True)
    assert german.customers.count(ListQuery()) == 0
    assert german.customers.count(ListQuery(archived=True)) == 1
    assert german.customers.search("anna") == []
    assert len(german.customers.search("anna", include_archived=True)) == 1


def test_filters_and_sorting(german: Services) -> None:
    german.customers.create(anna())
    german.customers.create(CustomerDraft(first_name="Émile", last_name="Zola", status=Status.LEAD))
    german.customers.create(
        CustomerDraft(first_name="Carl", last_name="Ahn", kind=Kind.INTERNAL, tags=("Staff",))
    )
    total = german.customers.count(ListQuery())
    names = [r.display_name for r in german.customers.page_at(ListQuery(), 0, 10, total).rows]
    assert names == ["Anna Müller", "Carl Ahn", "Émile Zola"]  # accent-folded order
    desc = ListQuery(sort=SortColumn.NAME, descending=True)
    rows = german.customers.page_at(desc, 0, 10, total).rows
    assert [r.display_name for r in rows] == names[::-1]
    assert german.customers.count(ListQuery(status=Status.LEAD)) == 1
    assert german.customers.count(ListQuery(kind=Kind.INTERNAL)) == 1
    assert german.customers.count(ListQuery(tag="vip")) == 1
    assert german.customers.count(ListQuery(tag="vip", search="carl")) == 0


def test_paging_from_the_end_matches_paging_from_the_start(services: Services) -> None:
    from crmcompanion.services.demo import fill_demo

    fill_demo(services.db, services.clock, 700, seed=7)
    query = ListQuery(sort=SortColumn.COMPANY)
    total = services.customers.count(query)
    forward = [r.id for r in services.customers.page_at(query, 0, total, total).rows]
    tail = [r.id for r in services.customers.page_at(query, total - 50, 50, total).rows]
    assert tail == forward[-50:]
    keyset: list[int] = []
    after = None
    while True:
        page = services.customers.page_after(query, after, 128)
        if not page.rows:
            break
        keyset += [r.id for r in page.rows]
        after = (page.keys[-1], page.rows[-1].id)
    assert keyset == forward


def test_resolve_customer_text(german: Services) -> None:
    a = german.customers.create(anna()).customer
    b = german.customers.create(CustomerDraft(first_name="Anna", last_name="Schmidt")).customer
    assert german.customers.resolve(f"#{a.id}").id == a.id
    assert german.customers.resolve("ANNA.MUELLER@example.com").id == a.id
    assert german.customers.resolve("+49 30 1234567").id == a.id
    assert german.customers.resolve("anna muller").id == a.id
    assert german.customers.resolve("schmidt").id == b.id
    with pytest.raises(AmbiguousCustomer, match="matches several customers") as caught:
        german.customers.resolve("anna")
    assert {c.id for c in caught.value.candidates} == {a.id, b.id}
    with pytest.raises(NotFoundError, match="Customer #999 does not exist"):
        german.customers.resolve("#999")
    with pytest.raises(NotFoundError, match="No customer matches “nobody”"):
        german.customers.resolve("nobody")


def test_demo_refuses_non_empty_database_without_append(services: Services) -> None:
    from crmcompanion.core.errors import DomainError
    from crmcompanion.services.demo import fill_demo

    fill_demo(services.db, services.clock, 20)
    with pytest.raises(DomainError, match="--append"):
        fill_demo(services.db, services.clock, 5)
    fill_demo(services.db, services.clock, 5, seed=2, append=True)
    assert services.customers.total() == 25
