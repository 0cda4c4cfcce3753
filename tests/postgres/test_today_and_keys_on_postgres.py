"""Guards of the PostgreSQL Today and search-keystroke work (issue 17's targets: Today 30 days
<= 100 ms, keystroke p95 <= 30 ms at 100,000 customers), each a fact about the work sent to
a real server, never a timing: the Today view's versions read is one statement binding one
array, its hidden checks make dates without text casts, a rarer search's first page walks
the sort index against a hashed match set (same rows as the counted list), and a read whose
connection drops after it made session state makes it again and reads on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import event, text

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.services.container import Services
from crmcompanion.services.demo import fill_demo
from crmcompanion.store import postgres_search
from crmcompanion.store.customers import ListQuery
from crmcompanion.store.postgres import vacuum
from tests.postgres.conftest import CLOCK


@pytest.fixture
def filled(pg_services: Services) -> Services:
    fill_demo(pg_services.db, CLOCK, 400, 1, False, pg_services.staff_id)
    return pg_services


@pytest.fixture
def vacuumed(filled: Services) -> Services:
    """`filled` once autovacuum has come by: the customers' visibility map set."""
    vacuum(filled.db, ["customers"])
    return filled


def _sent(services: Services, action: Callable[[], object]
          ) -> tuple[object, list[tuple[str, object]]]:
    """What `action` returns and the (statement, parameters) it sent."""
    sent: list[tuple[str, object]] = []

    def log(_c: object, _cur: object, statement: str, params: object, *_rest: object) -> None:
        sent.append((statement, params))

    event.listen(services.db.read_engine, "before_cursor_execute", log)
    try:
        return action(), sent
    finally:
        event.remove(services.db.read_engine, "before_cursor_execute", log)


def test_the_today_view_reads_its_versions_as_one_bound_text(filled: Services) -> None:
    # ~800 rows at 100,000 customers: as IN (...) one placeholder each, which SQLAlchemy
    # rendered and psycopg parsed on every view (~20 ms of client CPU); as a bound list,
    # which psycopg dumped element by element (~2 ms).
    view, sent = _sent(filled, filled.touchpoints.today_view)
    rows = sum(len(section.items) for section in view.sections)
    assert rows > 100  # enough rows for the old IN to have needed one mark per row
    versions = [(s, p) for s, p in sent if "touchpoint_states.version" in s
                or s.startswith("SELECT occurrence_key, version")]
    assert len(versions) == 1, [s for s, _ in versions]
    statement, params = versions[0]
    assert "= ANY(" in statement and statement.count("%(") == 1, statement
    assert isinstance(params, dict) and isinstance(params["keys"], str)
    assert len(params["keys"].split("\n")) == rows


def test_the_hidden_checks_make_yearly_dates_without_text(filled: Services) -> None:
    # The day a yearly source falls on, in the hidden checks of the counts and the lists:
    # make_date on PostgreSQL, not text built with lpad and cast per row.
    _view, sent = _sent(filled, filled.touchpoints.today_view)
    hidden = [s for s, _ in sent if "touchpoint_states hs" in s or s.startswith("WITH h AS")]
    assert hidden, [s for s, _ in sent]
    assert all("lpad(" not in s for s in hidden), hidden
    assert any("make_date(" in s for s in hidden), hidden


def _first_page(services: Services, query: ListQuery, offset: int = 0, limit: int = 20
                ) -> tuple[list[int], list[str]]:
    from crmcompanion.store import customers as repo

    def read() -> list[int]:
        with services.db.read() as session:
            columns = (*repo.LIST_COLUMNS, repo.SORT_COLUMNS[query.sort])
            rows, _total = postgres_search.uncounted_window(session, query, offset, limit,
                                                            columns, repo._ordered)
        return [r[0] for r in rows]

    ids, sent = _sent(services, read)
    return ids, [s for s, _ in sent]  # type: ignore[return-value]


@pytest.mark.parametrize("ratio", [0, 4])
def test_a_rarer_search_walks_the_sort_index_against_its_hashed_matches(
        vacuumed: Services, monkeypatch: pytest.MonkeyPatch, ratio: int) -> None:
    # 400 customers: every search is taken for a rare one, so each page goes through the
    # hashed walk; a walk bounded at 0 entries finds nothing and falls back to the read of
    # every match. Either way the rows are the counted list's (test_lean_on_postgres's
    # comparison over the shared search cases, three sorts, both archived filters).
    from tests.postgres.test_lean_on_postgres import (
        test_a_page_without_its_count_lists_what_the_counted_list_lists as compare,
    )

    monkeypatch.setattr(postgres_search, "estimated_matches", lambda _s, _m: 0)
    monkeypatch.setattr(postgres_search, "FEW_MATCHES", ratio * 10)
    monkeypatch.setattr(postgres_search, "HASHED_WALK_RATIO", ratio)
    _done, sent = _sent(vacuumed, lambda: compare(vacuumed))
    assert sum("OR false" in statement for statement, _ in sent) > 50


def test_a_walk_that_falls_short_reads_the_matches_once(
        vacuumed: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    # Matches sorting past the walk ('z', 'jose' at 100,000 customers): the fallback was a
    # second statement reading every match from the search indexes again (~2,600 pages of
    # the search table for 'z') and a round trip more. Now one statement serves both, and
    # its page is still the counted list's.
    from crmcompanion.store import customers as repo

    monkeypatch.setattr(postgres_search, "estimated_matches", lambda _s, _m: 0)
    monkeypatch.setattr(postgres_search, "FEW_MATCHES", 0)
    monkeypatch.setattr(postgres_search, "HASHED_WALK_RATIO", 0)  # a walk of one page
    with vacuumed.db.read() as session:
        walked = {row.id for row, _extra in repo.page_at(session, ListQuery(), 0, 20, None)}
    fell_short = 0
    for typed in ("a", "m", "s", "t", "z", "so"):
        query = ListQuery(search=typed)
        ids, sent = _first_page(vacuumed, query)
        searched = [s for s in sent if "customer_search" in s]
        assert len(searched) == 1 and "OR false" in searched[0], (typed, searched)
        with vacuumed.db.read() as session:
            counted = repo.page_at(session, query, 0, 20,
                                   repo.count_customers(session, query))
        assert ids == [row.id for row, _extra in counted], typed
        fell_short += bool(set(ids) - walked)  # a match past the 20 entries walked
    assert fell_short >= 2


def test_no_index_only_walk_before_the_visibility_map_is_set(
        filled: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    # Right after a bulk load (ANALYZE, no VACUUM yet) each walked entry would read its
    # customer row: ~330 ms for 'so' at 100,000 customers. The walk of the span is kept.
    monkeypatch.setattr(postgres_search, "estimated_matches", lambda _s, _m: 0)
    rows, sent = _first_page(filled, ListQuery(search="a"))
    assert len(rows) == 20
    assert not any("OR false" in s for s in sent), sent
    vacuum(filled.db, ["customers"])
    rows_after, sent = _first_page(filled, ListQuery(search="a"))
    assert rows_after == rows and any("OR false" in s for s in sent), sent


def test_the_hashed_walk_builds_the_match_set_once(vacuumed: Services,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # As a plain IN the planner made it a semi-join probing each walked customer's search
    # row (1.3 s for 'z' at 100,000 customers); the plan must hash the matches once.
    import psycopg

    from tests.postgres.dropping import dsn

    monkeypatch.setattr(postgres_search, "estimated_matches", lambda _s, _m: 0)
    vacuumed.customers.set_archived(1, True)
    vacuum(vacuumed.db, ["customers"])
    _rows, sent = _first_page(vacuumed, ListQuery(search="a"))
    walk = next(s for s in sent if "OR false" in s)
    match = postgres_search.Match("a")
    params = {**match.params(), "pg_walk": 4000, "pg_offset": 0, "pg_limit": 20}
    with psycopg.connect(dsn(vacuumed.db.url)) as conn:
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN {walk.replace('%(pg_q)s::VARCHAR', '%(pg_q)s')}", params))
    # The matches and the archived in the walk, the archived again in the fallback.
    assert plan.count("hashed SubPlan") == 3, plan
    assert "Semi Join" not in plan and "customer_search_pkey" not in plan, plan


def test_a_walk_that_falls_short_sorts_the_matches_from_an_index_alone(
        vacuumed: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    # Matches sorting past the walk ('z', 'so' at 100,000 customers): each match's wide
    # customer row was read by primary key for its sort name and archived state (3,464 rows
    # for 'z'). Migration 0013's ix_customers_id_sort_name holds the sort name by id, and
    # the archived are left out by their ids, so the sort reads no customer row.
    import psycopg

    from tests.postgres.dropping import dsn

    monkeypatch.setattr(postgres_search, "estimated_matches", lambda _s, _m: 0)
    monkeypatch.setattr(postgres_search, "FEW_MATCHES", 0)
    monkeypatch.setattr(postgres_search, "HASHED_WALK_RATIO", 0)  # a walk of one page
    vacuumed.customers.set_archived(1, True)
    vacuum(vacuumed.db, ["customers"])
    _rows, sent = _first_page(vacuumed, ListQuery(search="z"))
    walk = next(s for s in sent if "OR false" in s)
    params = {**postgres_search.Match("z").params(), "pg_walk": 20, "pg_offset": 0,
              "pg_limit": 20}
    with psycopg.connect(dsn(vacuumed.db.url)) as conn:
        # 400 customers fit in a few pages, where a scan of them all would win; at 100,000
        # the planner takes the index by itself.
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN (COSTS OFF) "
            f"{walk.replace('%(pg_q)s::VARCHAR', '%(pg_q)s')}", params))
    fallback = plan.split("One-Time Filter")[1]
    assert "Index Only Scan using ix_customers_id_sort_name on customers f" in fallback, plan


def test_a_counted_page_of_few_matches_sorts_them_from_an_index_alone(
        vacuumed: Services) -> None:
    # The list's page once its count is known, for a search too rare to walk the sort index
    # ("o'br", 'so', 'z': 1-4% of 100,000 customers): `id = ANY(matches) ORDER BY sort_name`
    # read every match's wide customer row to sort them. Now their sort names come from
    # ix_customers_id_sort_name and only the page's customers are read; same rows as before
    # (test_lean_on_postgres and test_search_same_order compare the pages).
    import psycopg

    from crmcompanion.store import customers as repo
    from tests.postgres.dropping import dsn

    vacuumed.customers.set_archived(1, True)
    vacuum(vacuumed.db, ["customers"])
    with vacuumed.db.read() as session:
        population = repo._population(session)
        # Few enough not to walk (one in 20), more than two pages of 5: read forward.
        typed = next(t for t in ("z", "so", "jo", "le", "zo", "jos", "lena")
                     if 10 <= repo.count_customers(session, ListQuery(search=t))
                     <= population // 20)
        query = ListQuery(search=typed)
        total = repo.count_customers(session, query)

    def page() -> list[int]:
        with vacuumed.db.read() as session:
            return [row.id for row, _key in repo.page_at(session, query, 0, 5, total)]

    _ids, sent = _sent(vacuumed, page)
    statement, params = next((s, p) for s, p in sent if "customer_search" in s)
    with psycopg.connect(dsn(vacuumed.db.url)) as conn:
        conn.execute("SET enable_seqscan = off")  # 400 customers: see the test above
        conn.execute("SET enable_bitmapscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN (COSTS OFF) {statement.replace('::VARCHAR', '')}", params))
    assert "Index Only Scan using ix_customers_id_sort_name on customers f" in plan, plan


def test_typed_digits_count_the_archived_matches_one_archived_customer_at_a_time(
        vacuumed: Services) -> None:
    # The count less its archived matches: for typed digits, the archived were joined to the
    # search rows on `terms @@ q OR rowid IN (numbers)`, which the planner took for half the
    # book, so it tested every search row's words and hash-joined them to the archived
    # (~100,000 rows for each count of '5035' at 100,000 customers with 140 archived).
    import psycopg

    from crmcompanion.store import customers as repo
    from tests.postgres.dropping import dsn

    for customer_id in range(1, 41):
        vacuumed.customers.set_archived(customer_id, True)
    vacuum(vacuumed.db, ["customers"])
    query = ListQuery(search="+49 30")
    assert postgres_search.Match(query.search).phone is not None

    def count() -> int:
        with vacuumed.db.read() as session:
            return repo.count_customers(session, query)

    total, sent = _sent(vacuumed, count)
    statement, params = next((s, p) for s, p in sent if "customer_search" in s)
    with psycopg.connect(dsn(vacuumed.db.url)) as conn:
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN (COSTS OFF) {statement.replace('::VARCHAR', '')}", params))
        listed = conn.execute(
            "SELECT count(*) FROM customers c WHERE c.archived_at IS NULL AND (c.id IN "
            "(SELECT w.rowid FROM customer_search w WHERE w.terms @@ CAST(%(pg_q)s AS "
            "tsquery)) OR c.id IN (SELECT p.customer_id FROM customer_phones p WHERE "
            "p.digits LIKE %(pg_digits)s))", params).fetchone()[0]
    assert total == listed
    # At 400 customers the planner still joins the few archived by nested loop: the shape
    # of the statement, a probe per archived customer and no join, is what keeps it so.
    assert "JOIN customer_search" not in statement and "ts_match_vq(" in statement, statement
    archived = plan.split("ix_customers_archived_at")[1]
    assert "customer_search_pkey" in archived and "Join" not in archived, plan


def test_a_read_that_made_session_state_makes_it_again_after_a_drop(
        pg_services: Services, pg_database: str) -> None:
    # The retry ran the dropped statement alone on a fresh connection, where the unit's
    # session state (here a setting; a read unit may not CREATE a temporary table, see
    # test_read_units) did not exist: no row instead of the customer's.
    from tests.postgres.test_gaps_on_postgres import _dropped_during_read

    cid = pg_services.customers.create(CustomerDraft(first_name="Mara", last_name="Vogt")
                                       ).customer.id
    with pg_services.db.read() as session:
        session.execute(text("SELECT set_config('crm.picked', :id, false)"), {"id": str(cid)})
        with _dropped_during_read(pg_database) as killed:
            names = session.execute(text(
                "SELECT c.first_name FROM customers c "
                "WHERE c.id = CAST(current_setting('crm.picked', true) AS integer)")).all()
    assert len(killed) == 1
    assert names == [("Mara",)]


def test_a_raw_read_that_made_session_state_makes_it_again_after_a_drop(
        pg_services: Services, pg_database: str) -> None:
    # The same through the raw DBAPI cursors the store's bulk reads use.
    from tests.postgres.test_gaps_on_postgres import _dropped_during_read

    cid = pg_services.customers.create(CustomerDraft(first_name="Mara", last_name="Vogt")
                                       ).customer.id
    with pg_services.db.read() as session:
        cursor = session.connection().connection.cursor()
        cursor.execute("SELECT set_config('crm.picked', ?, false)", (str(cid),))
        with _dropped_during_read(pg_database) as killed:
            cursor.execute("SELECT c.first_name FROM customers c "
                           "WHERE c.id = CAST(current_setting('crm.picked', true) AS integer)")
            names = cursor.fetchall()
    assert len(killed) == 1
    assert names == [("Mara",)]
