"""Optimistic locking of customer edits: a save over a concurrent one is merged three ways;
only fields both changed differently are conflicts, reported with theirs and mine, and
nothing is ever written over silently. Two services on one file play the two people."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import (
    CustomerDraft,
    EmailAddress,
    PhoneNumber,
    PostalAddress,
    Status,
)
from crmcompanion.core.errors import ConflictError, NotFoundError
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.customers import DeletedMeanwhile, EditConflict

BASE = CustomerDraft(
    first_name="Nora", last_name="Brown", company="Brown & Co",
    emails=(EmailAddress("nora@example.com", "work"),), phones=(PhoneNumber("+493012345678"),),
    address=PostalAddress("Main St 1", "Berlin", "", "10115", "DE"), tags=("VIP",),
    notes="Likes tea",
)


@pytest.fixture
def other(services: Services, tmp_path: Path, clock: FixedClock) -> Iterator[Services]:
    """A second person's services on the same database file."""
    opened = open_services(services.db.url, None, clock)
    yield opened
    opened.close()


def opened(services: Services) -> tuple[int, int, CustomerDraft]:
    """A customer as an editor opens it: id, version, and the form's draft (the base)."""
    customer = services.customers.create(BASE).customer
    return customer.id, customer.version, customer.to_draft()


def test_an_edit_without_a_concurrent_save_just_saves(services: Services) -> None:
    cid, version, base = opened(services)
    saved = services.customers.update(cid, replace(base, company="Brown Ltd"), version, base)
    assert saved.customer.company == "Brown Ltd" and saved.kept_theirs == ()
    assert saved.customer.version == version + 1


def test_both_changed_one_field_differently_is_a_conflict_with_theirs_and_mine(
        services: Services, other: Services) -> None:
    cid, version, base = opened(services)
    theirs = other.customers.update(cid, replace(base, company="Theirs GmbH"), version, base)
    with pytest.raises(EditConflict) as caught:
        services.customers.update(cid, replace(base, company="Mine AG"), version, base)
    conflict = caught.value
    assert isinstance(conflict, ConflictError)
    assert [(f.key, f.base, f.theirs, f.mine) for f in conflict.conflicts] == [
        ("company", "Brown & Co", "Theirs GmbH", "Mine AG")]
    assert "Company".lower() in str(conflict) and conflict.theirs.version == version + 1
    # Nothing was saved: the stored customer is still theirs.
    assert services.customers.get(cid).company == "Theirs GmbH"
    assert theirs.customer.company == "Theirs GmbH"
    # Picking mine and saving with their version goes through.
    resolved = conflict.resolved({"company": "mine"})
    saved = services.customers.update(cid, resolved, conflict.theirs.version,
                                      conflict.theirs.to_draft())
    assert saved.customer.company == "Mine AG"
    again = conflict.resolved({"company": "theirs"})
    assert again.company == "Theirs GmbH"


def test_disjoint_changes_are_merged_keeping_theirs_and_applying_mine(
        services: Services, other: Services) -> None:
    cid, version, base = opened(services)
    other.customers.update(cid, replace(base, phones=(PhoneNumber("+49 30 999999"),),
                                        address=replace(base.address, postcode="10117")),
                           version, base)
    saved = services.customers.update(
        cid, replace(base, notes="Likes coffee now",
                     address=replace(base.address, street="Main St 2")), version, base)
    merged = saved.customer
    assert merged.notes == "Likes coffee now"          # only mine changed it: applied
    assert merged.address.street == "Main St 2"
    assert merged.address.postcode == "10117"          # only theirs changed it: kept
    assert [p.number for p in merged.phones] == ["+4930999999"]
    assert set(saved.kept_theirs) == {"Phone", "Postcode"}
    assert merged.version == version + 2


def test_the_same_change_on_both_sides_is_no_conflict(services: Services,
                                                      other: Services) -> None:
    cid, version, base = opened(services)
    other.customers.update(cid, replace(base, status=Status.LOST), version, base)
    saved = services.customers.update(cid, replace(base, status=Status.LOST, notes="Gone"),
                                      version, base)
    assert (saved.customer.status, saved.customer.notes) == (Status.LOST, "Gone")


def test_their_name_change_and_an_automatic_display_name_merge(services: Services,
                                                               other: Services) -> None:
    cid, version, base = opened(services)
    # The editor shows an automatic display name as an empty field: the form's base.
    form_base = replace(base, display_name="", phones=(PhoneNumber("+49 30 12345678"),))
    other.customers.update(cid, replace(form_base, first_name="Norah"), version, form_base)
    saved = services.customers.update(cid, replace(form_base, notes="New note"), version,
                                      form_base)
    assert (saved.customer.display_name, saved.customer.notes) == ("Norah Brown", "New note")
    assert saved.kept_theirs == ("First name",)


def test_a_bulk_tag_meanwhile_is_kept(services: Services, other: Services) -> None:
    cid, version, base = opened(services)
    other.customers.add_tag_many([cid], "Newsletter")
    saved = services.customers.update(cid, replace(base, notes="x"), version, base)
    assert set(saved.customer.tags) == {"VIP", "Newsletter"}


def test_deleted_underneath_is_reported(services: Services, other: Services) -> None:
    cid, version, base = opened(services)
    other.customers.delete(cid)
    with pytest.raises(DeletedMeanwhile) as caught:
        services.customers.update(cid, replace(base, notes="x"), version, base)
    assert isinstance(caught.value, NotFoundError)
    assert "Nora Brown was deleted" in str(caught.value)


def test_a_third_save_during_the_choice_is_a_new_conflict(services: Services,
                                                          other: Services) -> None:
    cid, version, base = opened(services)
    other.customers.update(cid, replace(base, company="Theirs 1"), version, base)
    with pytest.raises(EditConflict) as first:
        services.customers.update(cid, replace(base, company="Mine"), version, base)
    now = other.customers.get(cid)
    other.customers.update(cid, replace(now.to_draft(), company="Theirs 2"), now.version,
                           now.to_draft())
    with pytest.raises(EditConflict) as second:
        services.customers.update(cid, first.value.resolved({"company": "mine"}),
                                  first.value.theirs.version, first.value.theirs.to_draft())
    assert [(f.theirs, f.mine) for f in second.value.conflicts] == [("Theirs 2", "Mine")]
    assert services.customers.get(cid).company == "Theirs 2"


def test_without_a_base_every_difference_is_a_conflict(services: Services,
                                                       other: Services) -> None:
    cid, version, base = opened(services)
    other.customers.update(cid, replace(base, notes="Theirs"), version, base)
    with pytest.raises(EditConflict) as caught:
        services.customers.update(cid, replace(base, company="Mine"), version)
    assert {f.key for f in caught.value.conflicts} == {"notes", "company"}
