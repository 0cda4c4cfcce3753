"""Public-review import with confirmable links (issue 15): a dry run proposes each link
(author, customer, by email or by name); the import links only the ones the owner kept and
imports the rest unlinked; without confirmation (the command line) every match is linked."""

from __future__ import annotations

from pathlib import Path

from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.services.container import Services

CSV = ("Review date,Stars,Reviewer,Comment\n"
       "2026-11-10,5,jo@example.com,Lovely bread\n"
       "2026-11-11,2,Sam Lee,Parcel late\n"
       "2026-11-12,4,Kim Nobody,Nice shop\n")


def _setup(services: Services, tmp_path: Path) -> tuple[int, int, Path]:
    jo = services.customers.create(CustomerDraft(
        first_name="Jo", last_name="Walker",
        emails=(EmailAddress("jo@example.com"),))).customer.id
    sam = services.customers.create(CustomerDraft(first_name="Sam",
                                                  last_name="Lee")).customer.id
    path = tmp_path / "reviews.csv"
    path.write_text(CSV, encoding="utf-8")
    return jo, sam, path


def _links(services: Services) -> dict[str, int | None]:
    return {item.reviewer: item.customer_id for item in services.feedback.list(limit=None)}


def test_a_dry_run_proposes_each_link_with_how_it_matched(services: Services,
                                                          tmp_path: Path) -> None:
    jo, sam, path = _setup(services, tmp_path)
    preview = services.feedback.import_reviews(path, dry_run=True)
    assert not preview.written and _links(services) == {}
    assert [(p.line, p.author, p.customer_id, p.customer, p.by, p.rating)
            for p in preview.proposed] == [
        (2, "jo@example.com", jo, "Jo Walker", "email", 5),
        (3, "Sam Lee", sam, "Sam Lee", "name", 2),
    ]
    assert preview.proposed[1].excerpt == "Parcel late"
    assert (preview.linked, preview.unlinked) == (2, 1)


def test_only_the_links_the_owner_kept_are_made(services: Services, tmp_path: Path) -> None:
    jo, _sam, path = _setup(services, tmp_path)
    result = services.feedback.import_reviews(path, confirmed={2: jo})
    assert result.written and (result.created, result.linked, result.unlinked) == (3, 1, 2)
    assert _links(services) == {"jo@example.com": jo, "Sam Lee": None, "Kim Nobody": None}


def test_a_confirmation_naming_another_customer_links_nothing(services: Services,
                                                             tmp_path: Path) -> None:
    _jo, sam, path = _setup(services, tmp_path)
    services.feedback.import_reviews(path, confirmed={2: sam, 3: sam})
    assert _links(services) == {"jo@example.com": None, "Sam Lee": sam, "Kim Nobody": None}


def test_without_confirmation_every_match_is_linked(services: Services, tmp_path: Path) -> None:
    jo, sam, path = _setup(services, tmp_path)
    services.feedback.import_reviews(path)
    assert _links(services) == {"jo@example.com": jo, "Sam Lee": sam, "Kim Nobody": None}
