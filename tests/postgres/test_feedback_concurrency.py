"""Two people working one complaint at once: a move or a plan saved over the other's change
is refused with ConflictError (nothing written over it), on both engines; and on PostgreSQL,
where two transactions really run side by side, two moves racing on the same complaint end
with exactly one saved and the other reported, while two notes racing both land (a note
appends and never conflicts).

The race is made certain rather than hoped for: the test's admin connection holds the
complaint's row (SELECT ... FOR UPDATE) while both saves read it and queue behind it, and
lets go only once PostgreSQL shows both waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.errors import ConflictError
from crmcompanion.services.container import Services, open_services


@pytest.fixture
def two(db_url: str) -> Iterator[tuple[Services, Services, int]]:
    """Two separate services (two users) on one database and a new complaint."""
    mine, theirs = open_services(db_url), open_services(db_url)
    try:
        cid = mine.customers.create(CustomerDraft(first_name="Olga", last_name="Ruiz")).customer.id
        item = mine.feedback.add(cid, "complaint", "The rye bread was stale").item.id
        yield mine, theirs, item
    finally:
        mine.close()
        theirs.close()


def _moves(services: Services, item_id: int) -> list[tuple[str | None, str | None]]:
    return [(e.from_status, e.to_status) for e in services.feedback.get(item_id).events
            if e.to_status is not None and e.from_status is not None]


def test_a_move_over_someone_elses_move_is_refused(
        two: tuple[Services, Services, int]) -> None:
    mine, theirs, item = two
    version = mine.feedback.get(item).item.version
    assert theirs.feedback.get(item).item.version == version
    theirs.feedback.move(item, "acknowledged", expected_version=version)
    with pytest.raises(ConflictError, match="Someone else changed this item"):
        mine.feedback.move(item, "acknowledged", expected_version=version)
    with pytest.raises(ConflictError):
        mine.feedback.set_plan(item, goal="Replace the loaf", expected_version=version)
    stored = mine.feedback.get(item)
    assert stored.item.status == "acknowledged" and stored.item.goal == ""
    assert _moves(mine, item) == [("new", "acknowledged")]
    # Reopened on the new version, the same move goes through.
    mine.feedback.set_plan(item, goal="Replace the loaf", expected_version=stored.item.version)
    assert mine.feedback.get(item).item.goal == "Replace the loaf"


def _race(db_url: str, item_id: int, saves: list[Callable[[], object]]) -> list[object]:
    """Run `saves` in threads while the complaint's row is held; release it once all of them
    wait on it. Returns each save's result or the exception it raised."""
    dsn = db_url.replace("postgresql+psycopg://", "postgresql://")
    results: list[object] = [None] * len(saves)

    def run(n: int) -> None:
        try:
            results[n] = saves[n]()
        except Exception as exc:  # the outcome under test
            results[n] = exc

    with psycopg.connect(dsn) as admin, psycopg.connect(dsn, autocommit=True) as watch:
        admin.execute("SELECT id FROM feedback_items WHERE id = %s FOR UPDATE", (item_id,))
        admin_pid = admin.info.backend_pid
        threads = [threading.Thread(target=run, args=(n,)) for n in range(len(saves))]
        for thread in threads:
            thread.start()
        for _ in range(6000):  # up to a minute; stops as soon as both wait
            waiting = watch.execute(
                # Behind the admin or behind the first waiter (row locks queue).
                "SELECT count(*) FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid))"
                " > 0 AND datname = current_database() AND pid <> %s",
                (admin_pid,)).fetchone()[0]
            if waiting == len(saves):
                break
            time.sleep(0.01)
        else:
            pytest.fail("the saves never queued behind the held row")
        admin.rollback()
        for thread in threads:
            thread.join(120)
    return results


def test_two_moves_racing_on_postgres_save_one_and_report_the_other(
        two: tuple[Services, Services, int], db_url: str, engine: str) -> None:
    if engine != "postgresql":
        pytest.skip("SQLite runs one write at a time: the sequential test covers it")
    mine, theirs, item = two
    version = mine.feedback.get(item).item.version
    results = _race(db_url, item, [
        lambda: mine.feedback.move(item, "acknowledged", expected_version=version),
        lambda: theirs.feedback.move(item, "acknowledged", expected_version=version)])
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], ConflictError), results
    assert _moves(mine, item) == [("new", "acknowledged")]
    assert mine.feedback.get(item).item.version == version + 1


def test_two_notes_racing_on_postgres_both_land(
        two: tuple[Services, Services, int], db_url: str, engine: str) -> None:
    if engine != "postgresql":
        pytest.skip("SQLite runs one write at a time")
    mine, theirs, item = two
    results = _race(db_url, item, [lambda: mine.feedback.add_note(item, "Called her back"),
                                   lambda: theirs.feedback.add_note(item, "Sent a voucher")])
    assert not [r for r in results if isinstance(r, Exception)], results
    notes = sorted(e.note for e in mine.feedback.get(item).events if e.note)
    assert notes == ["Called her back", "Sent a voucher"]
