"""What a profile reads as it opens (issue 13, `timeline_ms`): Coming up reads that
customer's recorded states only (every customer's look-back of done and skipped states, ~500
rows at 100,000 customers, and the dictionary made of them were half of
`TouchpointService.for_customer`) and still hides what that customer's states hide; the
lead and segment lines are one read that gives what the four reads before gave."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.store import touchpoints as repo
from tests.services.helpers import fixed_services

NOW = datetime(2026, 3, 1, 9, 30)


@pytest.fixture()
def svc(tmp_path):
    yield from fixed_services(tmp_path, NOW)


def test_coming_up_reads_and_hides_the_customers_own_states(svc, monkeypatch):
    ada = svc.customers.create(CustomerDraft(first_name="Ada")).customer.id
    bo = svc.customers.create(CustomerDraft(first_name="Bo")).customer.id
    for cid in (ada, bo):
        svc.touchpoints.add_follow_up(cid, date(2026, 3, 4), "Send the quote")
        svc.touchpoints.add_follow_up(cid, date(2026, 3, 9), "Ask how it went")
    for item in svc.touchpoints.for_customer(ada) + svc.touchpoints.for_customer(bo):
        if "quote" in item.label:
            svc.touchpoints.skip(item.key, "Done on the phone")
    read: list[tuple[int, str, date, str]] = []
    real = repo.hiding_state_rows

    def spy(*args, **kwargs):
        rows = real(*args, **kwargs)
        read.extend(rows)
        return rows

    monkeypatch.setattr(repo, "hiding_state_rows", spy)
    coming = svc.touchpoints.for_customer(ada)
    assert [item.customer_id for item in coming] == [ada]
    assert "quote" not in coming[0].label and coming[0].date == date(2026, 3, 9)
    assert read, "the states were read"  # Ada's skipped follow-up
    assert {cid for cid, *_rest in read} == {ada}
    # Today, which lists everyone, still reads every customer's states.
    read.clear()
    due = svc.touchpoints.due(30)
    assert {cid for cid, *_rest in read} == {ada, bo}
    assert sorted(item.customer_id for item in due) == [ada, bo]


def test_the_profile_lines_as_stored(svc):
    """The lead and segment lines' one read gives what the four reads gave."""
    from crmcompanion.core.errors import NotFoundError
    from crmcompanion.services.profile_lines import profile_lines
    from crmcompanion.services.today_support import glances, preferences

    ada = svc.customers.create(CustomerDraft(first_name="Ada")).customer.id
    bo = svc.customers.create(CustomerDraft(first_name="Bo")).customer.id
    svc.interactions.log(ada, "Hello", "email")
    svc.insights.set_yearly_value(ada, 950.5)
    svc.touchpoints.set_do_not_contact(bo, True)
    svc.insights.refresh()
    for cid in (ada, bo):
        lines = profile_lines(svc.db, cid)
        glance = glances(svc.db, [cid])[cid]
        assert (lines.last_contact_on, lines.preferred_channel) == (
            glance.last_contact_on, glance.preferred_channel)
        assert lines.do_not_contact == preferences(svc.db, cid).do_not_contact
        assert lines.health == svc.insights.stored_health([cid]).get(cid)
        assert lines.yearly_value == svc.insights.yearly_value(cid)
    assert profile_lines(svc.db, ada).last_contact_on == NOW.date()
    assert profile_lines(svc.db, ada).yearly_value == 950.5
    assert profile_lines(svc.db, bo).do_not_contact and profile_lines(svc.db, ada).health
    with pytest.raises(NotFoundError):
        profile_lines(svc.db, 999)
