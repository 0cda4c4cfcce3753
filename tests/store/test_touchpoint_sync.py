"""The set-based recompute of the derived touchpoint tables gives exactly what the pure rules
of core.touchpoints give, customer by customer, and the per-day due counts always equal a
count over contact_rhythm; the demo's fast rows equal the rows its drafts make."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from crmcompanion.core.customer import Kind, Status
from crmcompanion.core.dates import LeapDayPolicy
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import (
    CadenceDefaults,
    ContactPreferences,
    TouchpointSettings,
    cadence_days,
    keep_in_touch_due,
)
from crmcompanion.services import demo
from crmcompanion.services.container import Services
from crmcompanion.store import bulk
from crmcompanion.store import rows as store_rows
from crmcompanion.store import touchpoints as repo
from crmcompanion.store.touchpoints import local_date

# Clock-sensitive: derived touchpoint rows: keep-in-touch counts from the real creation day.
pytestmark = pytest.mark.clock_sensitive


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def expected_tables(services: Services) -> tuple[dict, Counter]:
    """contact_rhythm (customer -> base, cadence, next due) and touchpoint_sources as the pure
    rules compute them from the stored facts."""
    settings = services.touchpoints.settings()
    with services.db.read() as session:
        conn = session.connection()
        tag_cadences = dict(conn.execute(
            text("SELECT name, cadence_days FROM tags WHERE cadence_days IS NOT NULL")
        ).all())
        settings = TouchpointSettings(
            lead_days=settings.lead_days, leap_day_policy=settings.leap_day_policy,
            cadence=settings.cadence, tag_cadences=tag_cadences,
        )
        opted: dict[int, set[Occasion]] = {}
        for cid, occasion in conn.execute(
            text("SELECT customer_id, occasion FROM touchpoint_opt_outs")
        ):
            opted.setdefault(cid, set()).add(Occasion(occasion))
        tags: dict[int, list[str]] = {}
        for cid, name in conn.execute(text(
            "SELECT ct.customer_id, t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id"
        )):
            tags.setdefault(cid, []).append(name)
        specials: dict[int, list[tuple]] = {}
        for row in conn.execute(text(
            "SELECT customer_id, id, kind, md_key, year, label FROM special_dates"
        )):
            specials.setdefault(row[0], []).append(row[1:])
        rhythm = {r[0]: r[1:] for r in conn.execute(
            text("SELECT customer_id, last_interaction_on, reset_on FROM contact_rhythm")
        )}
        customers = conn.execute(text(
            "SELECT id, status, kind, key_account, cadence_days, customer_since, created_at, "
            "do_not_contact, archived_at FROM customers"
        )).all()
    rows: dict[int, tuple] = {}
    sources: Counter = Counter()
    for cid, status, kind, key_account, override, since, created, dnc, archived in customers:
        prefs = ContactPreferences(
            do_not_contact=bool(dnc), opted_out=frozenset(opted.get(cid, ())),
            archived=archived is not None, lost=status == Status.LOST.value,
        )
        since_day = _day(since)
        for sid, k, md_key, year, label in specials.get(cid, ()):
            if prefs.allows(Occasion(k)):
                sources[(cid, k, sid, md_key, year, label)] += 1
        if since_day is not None and prefs.allows(Occasion.CUSTOMER_ANNIVERSARY):
            sources[(cid, "customer_anniversary", None,
                     since_day.month * 100 + since_day.day, since_day.year, "")] += 1
        last, reset = (_day(v) for v in rhythm[cid])
        created_day = local_date(datetime.fromisoformat(created))
        base = last or since_day or created_day
        if not prefs.allows(Occasion.KEEP_IN_TOUCH):
            rows[cid] = (base, None, None)
            continue
        try:
            cadence = cadence_days(settings=settings, status=Status(status), kind=Kind(kind),
                                   key_account=bool(key_account), tags=tags.get(cid, ()),
                                   override=override)
        except ValueError:
            cadence = cadence_days(settings=settings, status=Status(status), kind=Kind(kind),
                                   key_account=bool(key_account), tags=tags.get(cid, ()))
        due = keep_in_touch_due(last, since_day, created_day, cadence)
        if reset is not None and reset > base:
            due = reset + timedelta(days=cadence)
        rows[cid] = (base, cadence, due)
    return rows, sources


def stored_tables(services: Services) -> tuple[dict, Counter]:
    with services.db.read() as session:
        conn = session.connection()
        assert conn.execute(text("SELECT count(*) FROM contact_rhythm WHERE dirty")).scalar() == 0
        rows = {
            cid: (_day(base), cadence, _day(due))
            for cid, base, cadence, due in conn.execute(text(
                "SELECT customer_id, contact_base_on, cadence_days, next_due_on "
                "FROM contact_rhythm"
            ))
        }
        sources = Counter(conn.execute(text(
            "SELECT customer_id, occasion, source_id, md_key, year, label FROM touchpoint_sources"
        )).all())
    return rows, Counter({tuple(k): v for k, v in sources.items()})


def assert_due_counts_consistent(services: Services) -> None:
    with services.db.read() as session:
        conn = session.connection()
        kept = dict(conn.execute(text(
            "SELECT due_on, customers FROM keep_in_touch_due_counts WHERE customers != 0"
        )).all())
        real = dict(conn.execute(text(
            "SELECT next_due_on, count(*) FROM contact_rhythm WHERE next_due_on IS NOT NULL "
            "GROUP BY next_due_on"
        )).all())
    assert kept == real


def vary(services: Services) -> None:
    """Every input of the rules, changed for some customers through the services."""
    tp = services.touchpoints
    tp.set_tag_cadence("VIP", 20)
    tp.set_tag_cadence("Newsletter", 200)
    for cid in range(5, 40, 7):
        tp.set_cadence(cid, 45)
    for cid in range(6, 60, 11):
        tp.set_do_not_contact(cid, True)
    for cid in range(7, 60, 13):
        tp.set_opt_out(cid, Occasion.KEEP_IN_TOUCH)
        tp.set_opt_out(cid + 1, Occasion.BIRTHDAY)
        tp.set_opt_out(cid + 2, Occasion.CUSTOMER_ANNIVERSARY)
    for cid in (8, 9, 10):
        services.customers.set_archived(cid, True)
    services.interactions.log(11, "Called about the order", channel="phone")
    with services.db.write() as session:
        # A stored override out of range (never written by the service) falls back to defaults;
        # a skip's reset day later than the base moves the next check-in.
        session.execute(text("UPDATE customers SET cadence_days = 0 WHERE id = 12"))
        session.execute(text(
            "UPDATE contact_rhythm SET reset_on = '2026-11-01', dirty = 1 WHERE customer_id IN "
            "(13, 14, 15)"
        ))
        session.execute(text("UPDATE customers SET customer_since = NULL WHERE id IN (16, 17)"))


@pytest.mark.parametrize("rebuild_above", [0, 10_000], ids=["bulk-path", "trigger-path"])
def test_recomputed_tables_equal_the_pure_rules(
    services: Services, monkeypatch: pytest.MonkeyPatch, rebuild_above: int
) -> None:
    monkeypatch.setattr(repo, "_REBUILD_COUNTS_ABOVE", rebuild_above)
    demo.fill_demo(services.db, services.clock, 600, seed=5, staff_id=services.staff_id)
    services.touchpoints.sync()
    vary(services)
    services.settings.update({"touchpoints.cadence.lead": 15, "touchpoints.cadence.internal": 40})
    services.touchpoints.sync()  # the cadence settings made every customer dirty
    rows, sources = stored_tables(services)
    want_rows, want_sources = expected_tables(services)
    assert rows == want_rows
    assert sources == want_sources
    assert len({r[1] for r in rows.values()}) >= 5  # the variations really vary the cadence
    assert_due_counts_consistent(services)


def test_due_counts_follow_every_change(services: Services) -> None:
    demo.fill_demo(services.db, services.clock, 300, seed=3, staff_id=services.staff_id)
    services.touchpoints.sync()
    assert_due_counts_consistent(services)
    services.touchpoints.set_cadence(3, 10)
    key = next(t.key for t in services.touchpoints.due(60)
               if t.occasion is Occasion.KEEP_IN_TOUCH)
    services.touchpoints.skip(key, "on holiday")
    services.customers.delete(4)
    assert_due_counts_consistent(services)
    counts = services.touchpoints.counts()
    with services.db.read() as session:
        overdue = session.scalar(text(
            "SELECT count(*) FROM contact_rhythm WHERE next_due_on < :today"
        ), {"today": services.clock.today().isoformat()})
    view = services.touchpoints.today_view(limit_per_section=None)
    kit = [t for t in view.sections[0].items if t.occasion is Occasion.KEEP_IN_TOUCH]
    assert len(kit) == overdue
    assert sum(counts.values()) == sum(len(s.items) for s in view.sections)


def test_bulk_load_puts_its_triggers_back(services: Services) -> None:
    demo.fill_demo(services.db, services.clock, 50, staff_id=services.staff_id)
    with services.db.read() as session:
        names = set(session.scalars(text("SELECT name FROM sqlite_master WHERE type='trigger'")))
        indexes = set(session.scalars(text("SELECT name FROM sqlite_master WHERE type='index'")))
    assert set(repo.BULK_INSERT_TRIGGERS + repo.DUE_COUNT_TRIGGERS) <= names
    assert {"ix_customers_sort_name", "ix_interactions_customer"} <= indexes


def test_demo_history_makes_a_living_business(services: Services) -> None:
    demo.fill_demo(services.db, services.clock, 2000, staff_id=services.staff_id)
    today = services.clock.today()
    with services.db.read() as session:
        with_history, total, newest, oldest = session.execute(text(
            "SELECT count(DISTINCT customer_id), count(*), max(occurred_on), min(occurred_on) "
            "FROM interactions"
        )).one()
    assert 0.7 * 2000 <= with_history <= 0.85 * 2000
    assert with_history <= total <= 5 * with_history
    assert date.fromisoformat(newest) < today
    assert date.fromisoformat(oldest) >= today - timedelta(days=366)
    losing = services.touchpoints.counts()
    assert losing  # and the overdue list is far from everyone
    overdue = services.touchpoints.today_view(None).sections[0]
    kit = [t for t in overdue.items if t.occasion is Occasion.KEEP_IN_TOUCH]
    assert len(kit) < 0.6 * 2000


def test_demo_fast_rows_equal_the_rows_of_its_drafts() -> None:
    today = date(2026, 11, 22)
    specs = demo._specs(700, today, 4)
    drafts = demo.generate_drafts(700, today, 4)
    tag_ids = {name.casefold(): i for i, name in enumerate(demo.TAGS, start=1)}
    fast = demo._rows(specs, 10, "2026-11-22 09:00:00.000000", 1, tag_ids)
    slow = bulk.rows_from_drafts(drafts, 10, "2026-11-22 09:00:00.000000", 1, tag_ids)
    # Every customer's UID is random: each one is, and the rest are equal.
    at = store_rows.CUSTOMER_COLUMNS.index("source_uid")
    uids = [row[at] for rows in (fast, slow) for row in rows.customers]
    assert len(set(uids)) == 1400 and all(u.startswith("urn:uuid:") for u in uids)
    for rows in (fast, slow):
        rows.customers = [(*row[:at], "", *row[at + 1:]) for row in rows.customers]
    assert fast == slow


def test_cadence_defaults_used_are_the_settings() -> None:
    # The SQL takes the defaults as parameters: a change of CadenceDefaults' fields would
    # need the SQL changed too.
    assert set(CadenceDefaults.__dataclass_fields__) == {"key_account", "active", "lead",
                                                          "internal"}


@pytest.mark.parametrize("policy", list(LeapDayPolicy))
def test_window_totals_equal_the_per_source_counts(services: Services, policy: LeapDayPolicy,
                                                    ) -> None:
    # The Today counts' one-statement form must count exactly what the three per-source
    # counts (the list queries' conditions) count, window by window: year wrap, leap day,
    # open-start windows, closed follow-ups and customers who may not be contacted.
    demo.fill_demo(services.db, services.clock, 800, seed=7, staff_id=services.staff_id)
    vary(services)
    tp = services.touchpoints
    today = services.clock.today()
    for cid in range(20, 120, 3):
        tp.add_follow_up(cid, today + timedelta(days=cid % 45 - 15), "call back")
    tp.set_opt_out(23, Occasion.FOLLOW_UP)
    done = tp.add_follow_up(26, today, "done already")
    tp.mark_done(done.key)
    tp.sync()
    windows = [
        (today - timedelta(days=30), today - timedelta(days=1), None),
        (today, today, today),
        (date(2026, 12, 20), date(2027, 1, 20), date(2026, 12, 20)),  # year wrap
        (date(2027, 2, 20), date(2027, 3, 5), None),  # leap day in a common year
        (date(2028, 2, 28), date(2028, 3, 1), date(2028, 2, 28)),  # and in a leap year
        (date(2025, 12, 1), date(2027, 1, 2), None),  # three year segments
    ]
    with services.db.read() as session:
        expected = [
            repo.count_yearly(session, start, end, policy)
            + repo.count_keep_in_touch(session, open_start, end)
            + repo.count_follow_ups(session, open_start, end)
            for start, end, open_start in windows
        ]
        got = repo.window_totals(session, windows, policy)
    assert got == expected
    assert all(expected[:3]) and expected[2] != expected[3]  # the windows hold real rows
