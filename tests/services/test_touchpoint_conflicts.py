"""Done, skip and snooze over a state someone else recorded since the touchpoint was read:
detected and reported (who did what), never written over. Two services on one file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.errors import ConflictError
from crmcompanion.core.staff import STAFF_ENV_VAR
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.touchpoints import Touchpoint, TouchpointConflict


@pytest.fixture
def sam(services: Services, clock: FixedClock,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    monkeypatch.setenv(STAFF_ENV_VAR, "Sam Lee")
    opened = open_services(services.db.url, None, clock)
    yield opened
    opened.close()


def follow_up(services: Services, clock: FixedClock) -> Touchpoint:
    """A follow-up due today, as the Today list reads it."""
    cid = services.customers.create(CustomerDraft(first_name="Nora")).customer.id
    services.touchpoints.add_follow_up(cid, clock.today(), "Call back")
    (item,) = [t for t in services.touchpoints.due(0) if t.customer_id == cid]
    return item


def state_of(services: Services, key: str) -> tuple[str, int] | None:
    import sqlite3

    path = services.db.info.path
    assert isinstance(path, Path)
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT state, version FROM touchpoint_states WHERE "
                           "occurrence_key = ?", (key,)).fetchone()
    finally:
        conn.close()
    return row


def test_done_over_their_snooze_is_reported_and_their_snooze_kept(
        services: Services, sam: Services, clock: FixedClock) -> None:
    item = follow_up(services, clock)
    assert item.version == 0
    until = clock.today() + timedelta(days=3)
    sam.touchpoints.snooze(item.key, until, expected_version=item.version)
    with pytest.raises(TouchpointConflict) as caught:
        services.touchpoints.mark_done(item.key, expected_version=item.version)
    assert isinstance(caught.value, ConflictError)
    text = str(caught.value)
    assert "Sam Lee snoozed this touchpoint until" in text and "nothing was changed" in text
    assert until.isoformat() not in text
    assert state_of(services, item.key) == ("snoozed", 1)
    # No conversation was logged by the refused "done".
    assert services.interactions.history(item.customer_id) == []


def test_snooze_over_their_done_is_reported(services: Services, sam: Services,
                                            clock: FixedClock) -> None:
    item = follow_up(services, clock)
    sam.touchpoints.mark_done(item.key, expected_version=item.version)
    with pytest.raises(TouchpointConflict, match=r"already done \(recorded by Sam Lee\)"):
        services.touchpoints.snooze(item.key, clock.today() + timedelta(days=2),
                                    expected_version=item.version)
    assert state_of(services, item.key)[0] == "done"


def test_an_expired_snooze_carries_its_version_and_acting_on_it_works(
        services: Services, clock: FixedClock, tmp_path: Path) -> None:
    item = follow_up(services, clock)
    services.touchpoints.snooze(item.key, clock.today() + timedelta(days=1))
    later = FixedClock(clock.now() + timedelta(days=2))
    again = open_services(services.db.url, None, later)
    try:
        (seen,) = [t for t in again.touchpoints.due(0) if t.key == item.key]
        assert seen.version == 1
        again.touchpoints.mark_done(seen.key, expected_version=seen.version)
    finally:
        again.close()
    assert state_of(services, item.key) == ("done", 2)


def test_without_a_version_the_old_behaviour_stays(services: Services, sam: Services,
                                                   clock: FixedClock) -> None:
    item = follow_up(services, clock)
    sam.touchpoints.snooze(item.key, clock.today() + timedelta(days=3))
    services.touchpoints.mark_done(item.key)  # the CLI and greetings pass no version
    assert state_of(services, item.key) == ("done", 2)
