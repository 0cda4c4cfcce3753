"""Duplicate finder and merge on a real SQLite database: reasons per pair, field-by-field
choices, every table with a foreign key to customers re-pointed, and an exact undo."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

import pytest

from crmcompanion.core.customer import (
    CustomerDraft,
    EmailAddress,
    PhoneNumber,
    SpecialDate,
    SpecialDateKind,
)
from crmcompanion.core.errors import ConflictError, DomainError, ValidationError
from crmcompanion.core.touchpoints import Occasion, occurrence_key
from crmcompanion.services.container import Services
from crmcompanion.services.duplicates import MERGE_POLICY
from crmcompanion.store import transfer
from crmcompanion.store.models import Base

# Clock-sensitive: merging dated conversations and touchpoint states.
pytestmark = pytest.mark.clock_sensitive


def _add(services: Services, first: str, last: str, email: str = "", phone: str = "",
         **extra: object) -> int:
    draft = CustomerDraft(
        first_name=first, last_name=last,
        emails=(EmailAddress(email, "work"),) if email else (),
        phones=(PhoneNumber(phone, "mobile"),) if phone else (), **extra)  # type: ignore[arg-type]
    return services.customers.create(draft).customer.id


def _pairs(services: Services) -> dict[tuple[int, int], set[str]]:
    out: dict[tuple[int, int], set[str]] = {}
    for group in services.duplicates.find_duplicates():
        for pair in group.pairs:
            out.setdefault((pair.first_id, pair.second_id), set()).update(
                r.kind for r in pair.reasons)
    return out


def test_finder_reports_each_pair_with_its_reasons(services: Services) -> None:
    a = _add(services, "Anna", "Müller", "anna@example.com", "+4930123456")
    b = _add(services, "Anna", "Mueller", "ANNA@example.com")
    c = _add(services, "Jon", "Smith", phone="+4930999999")
    d = _add(services, "John", "Smith", phone="+49 30 999999")
    e = _add(services, "Zoë", "Ng")
    f = _add(services, "Zoe", "NG")
    g = _add(services, "Maria", "Lopez", company="ACME")
    h = _add(services, "Mariah", "Lopes", company="Acme")
    _add(services, "Peter", "Unique", "peter@example.com")
    pairs = _pairs(services)
    assert pairs[(a, b)] == {"email"}
    assert pairs[(c, d)] == {"phone", "similar_name"}
    assert pairs[(e, f)] == {"same_name"}
    assert pairs[(g, h)] == {"similar_name"}
    assert len(pairs) == 4


def test_finder_groups_chains_and_puts_strong_evidence_first(services: Services) -> None:
    x = _add(services, "Lena", "Berg")
    y = _add(services, "Lena", "Berg", "lena@example.com")
    z = _add(services, "Lina", "Berg", "lena@example.com")
    a = _add(services, "Otto", "Kern")
    b = _add(services, "Otto", "Kern")
    groups = services.duplicates.find_duplicates()
    assert [g.customer_ids for g in groups] == [(x, y, z), (a, b)]
    assert groups[0].reason_kinds[0] in ("email", "same_name", "similar_name")
    assert "email" in groups[0].reason_kinds
    assert services.duplicates.find_duplicates(limit=1)[0].customer_ids == (x, y, z)
    assert groups[1].customers[0].display_name == "Otto Kern"


def test_finder_blocks_never_compare_all_pairs() -> None:
    # A shared key among many customers is linked as a chain, not n*(n-1)/2 pairs.
    pairs: transfer.PairReasons = {}
    transfer._link(pairs, list(range(1, 1001)), "phone", "+1555")
    assert len(pairs) == 999
    assert transfer._within_one_edit("john", "jonh")
    assert transfer._within_one_edit("jon", "john")
    assert not transfer._within_one_edit("jon", "jan ")


def _fill_every_table(services: Services, cid: int, db_path: str) -> None:
    """At least one row of each table with a foreign key to customers."""
    services.interactions.log(cid, "Talked about the wedding", "phone",
                              datetime(2026, 11, 1, 9, 0).astimezone())
    services.touchpoints.add_follow_up(cid, date(2026, 12, 1), "call back")
    key = occurrence_key(cid, Occasion.KEEP_IN_TOUCH, None, date(2026, 12, 24))
    services.touchpoints.skip(key, "on holiday")
    services.touchpoints.set_opt_out(cid, Occasion.WEDDING_ANNIVERSARY)
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO fired_reminders (occurrence_key, staff_id, customer_id, customer_name,"
            " occasion, description, remind_on, fired_at, channel, error) VALUES "
            "(?, ?, ?, 'x', 'birthday', '', '2026-11-20', '2026-11-20 09:00:00.000000', 'app', '')",
            (f"birthday/c{cid}/d1/2026-11-20", services.staff_id, cid))
        conn.execute("INSERT INTO import_batches (created_at, source, format, row_count, "
                     "created_count) VALUES ('2026-11-01 00:00:00.000000', 'f.csv', 'csv', 1, 1)")
        conn.execute("INSERT INTO import_batch_customers (batch_id, customer_id) "
                      "VALUES (last_insert_rowid(), ?)", (cid,))
        conn.execute("INSERT INTO feedback_items (customer_id, kind, text, source, status, "
                     "reviewer, review_site, created_at, updated_at, version) VALUES (?, "
                     "'idea', 'Open on Sundays', 'visit', 'under_review', '', '', "
                     "'2026-11-01 00:00:00.000000', '2026-11-01 00:00:00.000000', 1)", (cid,))
        conn.execute("INSERT INTO idea_requesters (idea_id, customer_id, created_at) VALUES "
                     "(last_insert_rowid(), ?, '2026-11-01 00:00:00.000000')", (cid,))
        conn.execute("INSERT INTO feedback_asks (customer_id, asked_on, skipped, created_at) "
                     "VALUES (?, '2026-11-02', 0, '2026-11-02 00:00:00.000000')", (cid,))
    services.touchpoints.sync()
    services.insights.refresh()  # the health row (segment and reasons)


def _rows_by_table(db_path: str) -> dict[str, list[tuple]]:
    with sqlite3.connect(db_path) as conn:
        out = {}
        for table, _ in transfer.customer_references():
            if MERGE_POLICY[table.name] == "derived":
                continue
            out[table.name] = sorted(conn.execute(f"SELECT * FROM {table.name}").fetchall(),
                                     key=repr)
        out["customers"] = conn.execute("SELECT * FROM customers ORDER BY id").fetchall()
        # Lowercased: create() indexes tags as typed, a restore as stored (search ignores case).
        out["search"] = conn.execute(
            "SELECT rowid, name, emails, phones, lower(tags) FROM customer_search ORDER BY rowid"
        ).fetchall()
        return out


def _db_path(db_url: str) -> str:
    return db_url.removeprefix("sqlite:///")


def test_merge_moves_every_table_and_undo_restores_both_exactly(
    services: Services, db_url: str
) -> None:
    path = _db_path(db_url)
    keep = _add(services, "Anna", "Müller", "anna@example.com", tags=("VIP",),
                special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, 1988),))
    other = _add(services, "Anna", "Mueller", "anna.m@example.com", "+4930123456",
                 company="Bakery", tags=("vip", "Wedding"), notes="from the fair")
    _fill_every_table(services, other, path)
    _fill_every_table(services, keep, path)  # clashing keys: opt-out, skipped state
    before = _rows_by_table(path)
    tables_with_rows = {t for t, rows in before.items() if any(other in r for r in rows)}
    fk_tables = {t.name for t, _ in transfer.customer_references()
                 if MERGE_POLICY[t.name] != "derived"}
    assert fk_tables <= tables_with_rows | {"customer_tags"}, "fixture must fill every table"

    result = services.duplicates.merge(keep, other, {"last_name": "other"})
    merged = result.customer
    assert merged.id == keep
    assert (merged.first_name, merged.last_name, merged.company) == ("Anna", "Mueller",
                                                                     "Bakery")
    assert merged.display_name == "Anna Mueller"
    assert [e.address for e in merged.emails] == ["anna@example.com", "anna.m@example.com"]
    assert [p.number for p in merged.phones] == ["+4930123456"]
    assert merged.tags == ("VIP", "Wedding")
    assert merged.notes == "from the fair"
    with sqlite3.connect(path) as conn:
        for table, column in transfer.customer_references():
            left = conn.execute(f"SELECT count(*) FROM {table.name} WHERE {column.name} = ?",
                                (other,)).fetchone()[0]
            assert left == 0, f"{table.name} still points at the merged-away customer"
        assert conn.execute("SELECT count(*) FROM interactions WHERE customer_id = ?",
                            (keep,)).fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM follow_ups WHERE customer_id = ?",
                            (keep,)).fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM fired_reminders WHERE customer_id = ?",
                            (keep,)).fetchone()[0] == 2
        # The two skipped keep-in-touch states had the same occurrence: one remains.
        states = conn.execute("SELECT occurrence_key FROM touchpoint_states").fetchall()
        assert len(states) == 1 and states[0][0].startswith(f"keep_in_touch/c{keep}/")
        # Import links of the merged-away customer are dropped: undoing that import must
        # not delete the kept customer.
        assert conn.execute("SELECT customer_id FROM import_batch_customers").fetchall() \
            == [(keep,)]
        assert conn.execute("SELECT count(*) FROM customer_search WHERE rowid = ?",
                            (other,)).fetchone()[0] == 0
    assert services.customers.search("fair")[0].id == keep
    assert {t.customer_id for t in services.touchpoints.due(60)} <= {keep}

    services.duplicates.undo_merge(result)
    assert _rows_by_table(path) == before


def test_undo_refuses_after_new_history(services: Services) -> None:
    keep = _add(services, "Otto", "Kern")
    other = _add(services, "Otto", "Kern")
    result = services.duplicates.merge(keep, other)
    services.interactions.log(keep, "after the merge")
    with pytest.raises(ConflictError, match="can no longer be undone"):
        services.duplicates.undo_merge(result)
    assert services.customers.total() == 1


def test_merge_choices_are_checked(services: Services) -> None:
    keep = _add(services, "Otto", "Kern")
    other = _add(services, "Otto", "Kern")
    with pytest.raises(ValidationError, match="Choose keep or other for first_name"):
        services.duplicates.merge(keep, other, {"first_name": "union"})
    with pytest.raises(ValidationError, match="is not a field a merge can choose"):
        services.duplicates.merge(keep, other, {"shoe_size": "keep"})
    with pytest.raises(DomainError, match="cannot be merged with itself"):
        services.duplicates.merge(keep, keep)
    preview = services.duplicates.merge_preview(keep, other)
    assert preview.differing == ()
    assert services.customers.total() == 2


def test_list_choices_take_one_side(services: Services) -> None:
    keep = _add(services, "Otto", "Kern", "a@example.com", tags=("x",))
    other = _add(services, "Otto", "Kern", "b@example.com", tags=("y",))
    preview = services.duplicates.merge_preview(keep, other)
    assert "emails" in preview.differing and "tags" in preview.differing
    assert [e.address for e in preview.merged.emails] == ["a@example.com", "b@example.com"]
    result = services.duplicates.merge(keep, other, {"emails": "other", "tags": "keep"})
    assert [e.address for e in result.customer.emails] == ["b@example.com"]
    assert result.customer.tags == ("x",)


def test_merge_refuses_a_schema_table_without_a_policy(services: Services,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    keep = _add(services, "Otto", "Kern")
    other = _add(services, "Otto", "Kern")
    from crmcompanion.services import duplicates

    trimmed = {k: v for k, v in MERGE_POLICY.items() if k != "follow_ups"}
    monkeypatch.setattr(duplicates, "MERGE_POLICY", trimmed)
    with pytest.raises(RuntimeError, match="follow_ups"):
        services.duplicates.merge(keep, other)
    assert services.customers.total() == 2
    assert "follow_ups" in {t.name for t in Base.metadata.sorted_tables}
