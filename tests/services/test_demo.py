"""Demo data: deterministic, realistic, and inserted completely by the bulk path."""

from __future__ import annotations

import itertools
import sqlite3
import tempfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from crmcompanion.core.customer import SpecialDateKind
from crmcompanion.infra import forking
from crmcompanion.services import demo as demo_module
from crmcompanion.services.container import Services
from crmcompanion.services.demo import fill_demo, generate_drafts
from crmcompanion.store.bulk import rollback_journal_if_alone
from crmcompanion.store.customers import ListQuery

# Clock-sensitive: demo data relative to today.
pytestmark = pytest.mark.clock_sensitive

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


def _journal_mode(path: str) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def test_empty_database_is_loaded_through_the_rollback_journal_then_back_to_wal(
    services: Services, tmp_path: Path
) -> None:
    path = str(tmp_path / "crmcompanion.sqlite3")
    with rollback_journal_if_alone(services.db) as switched:
        assert switched
        assert _journal_mode(path) == "delete"
    assert _journal_mode(path) == "wal"
    fill_demo(services.db, services.clock, 200, staff_id=services.staff_id)
    assert _journal_mode(path) == "wal"
    assert services.customers.total() == 200


def test_bulk_load_keeps_the_wal_while_another_connection_is_open(
    services: Services, tmp_path: Path
) -> None:
    path = str(tmp_path / "crmcompanion.sqlite3")
    other = sqlite3.connect(path)  # like the app running in another process
    try:
        other.execute("SELECT count(*) FROM customers").fetchone()
        with rollback_journal_if_alone(services.db) as switched:
            assert not switched
            assert _journal_mode(path) == "wal"
        fill_demo(services.db, services.clock, 200, staff_id=services.staff_id)
        assert other.execute("SELECT count(*) FROM customers").fetchone()[0] == 200
    finally:
        other.close()
    assert _journal_mode(path) == "wal"


def test_big_demo_is_staged_by_a_child_process_and_leaves_no_scratch_files(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not forking.can_fork():
        pytest.skip("this process has other threads: the demo would not fork here")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    fill_demo(services.db, services.clock, demo_module._BIG_LOAD, staff_id=services.staff_id)
    assert services.customers.total() == demo_module._BIG_LOAD
    with services.db.read() as session:
        counts = session.execute(
            text(
                "SELECT (SELECT count(*) FROM customer_search), "
                "(SELECT count(*) FROM interactions), "
                "(SELECT count(*) FROM contact_rhythm WHERE last_interaction_on IS NOT NULL), "
                "(SELECT count(DISTINCT customer_id) FROM interactions)"
            )
        ).one()
    assert counts[0] == demo_module._BIG_LOAD and counts[1] > demo_module._BIG_LOAD / 2
    assert counts[2] == counts[3]
    assert _journal_mode(str(tmp_path / "crmcompanion.sqlite3")) == "wal"
    assert list(scratch.iterdir()) == []


def test_demo_feedback_has_every_type_every_complaint_state_and_shared_themes(
        services: Services) -> None:
    from crmcompanion.core.feedback import COMPLAINT_TRANSITIONS, ComplaintStatus, FeedbackType
    from crmcompanion.core.occasions import Occasion
    from crmcompanion.services.feedback_demo import WALKS

    for walk in WALKS:  # every demo complaint got where it is by allowed moves
        for before, after in itertools.pairwise(walk):
            assert after in COMPLAINT_TRANSITIONS[before]
    fill_demo(services.db, services.clock, 120, seed=4, staff_id=services.staff_id)
    items = services.feedback.list(limit=None)
    assert {i.kind for i in items} == set(FeedbackType)
    complaints = [i for i in items if i.kind is FeedbackType.COMPLAINT]
    assert {c.status for c in complaints} == {s.value for s in ComplaintStatus}
    assert any(i.source.value == "public_review" and i.customer_id is None for i in items)
    ideas = services.feedback.ideas()
    assert ideas and all(len(card.requesters) >= 2 for card in ideas)
    view = services.feedback.themes_view()
    assert max(t.customers for t in view) >= 3  # themes recur across customers
    due = services.touchpoints.due(days=7)
    assert any(t.occasion is Occasion.COMPLAINT_CHECKBACK for t in due)
    assert services.feedback.overdue_plans()
    # Every demo step is in the complaint's history.
    detail = services.feedback.get(next(c.id for c in complaints if c.status == "reopened"))
    assert [e.to_status for e in detail.events][-2:] == ["not_satisfied", "reopened"]
