"""`position_of` on the plain list (what `MainWindow.open_customer` selects a customer in)
gives the customer's row in the list, and counts it from the sort index alone.

Counted with `archived_at IS NULL` beside the sort key, SQLite read every earlier row of the
customers table: ~150 ms of CPU at 100,000 customers on each open of a profile (issue 15's
`timeline_ms`). The plain list now counts the sort index (covering) less the archived rows
before the customer, found through their own index; these tests hold it to the list's real
order and to the query plan that makes it cheap.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, text

from crmcompanion.services.container import Services
from crmcompanion.services.demo import fill_demo
from crmcompanion.store.customers import ListQuery, SortColumn

N = 240
SORTS = [SortColumn.NAME, SortColumn.COMPANY, SortColumn.UPDATED, SortColumn.CREATED,
         SortColumn.STATUS]


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """Demo customers, one in seven archived."""
    from crmcompanion.core.clock import FixedClock
    from crmcompanion.services.container import open_services
    from tests.conftest import FIXED_NOW

    folder = tmp_path_factory.mktemp("position")
    services = open_services(
        f"sqlite:///{folder / 'db.sqlite3'}", folder / "b", FixedClock(FIXED_NOW))
    fill_demo(services.db, services.clock, N, seed=3, staff_id=services.staff_id)
    for customer_id in range(2, N, 7):
        services.customers.set_archived(customer_id, True)
    yield services
    services.close()


def listed(services: Services, query: ListQuery) -> list[int]:
    """The list's ids in order, as the list's pages give them."""
    total = services.customers.count(query)
    return [row.id for row in services.customers.page_at(query, 0, total, total).rows]


@pytest.mark.parametrize("descending", [False, True], ids=["up", "down"])
@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("archived", [False, None], ids=["not-archived", "all"])
def test_position_is_the_row_in_the_list(
        filled: Services, sort: str, descending: bool, archived: bool | None) -> None:
    query = ListQuery(archived=archived, sort=sort, descending=descending)
    ids = listed(filled, query)
    assert len(ids) == (N - len(range(2, N, 7)) if archived is False else N)
    for customer_id in range(1, N + 1, 5):
        expected = ids.index(customer_id) if customer_id in ids else None
        assert filled.customers.position_of(query, customer_id) == expected, customer_id


def test_opening_a_customer_counts_the_sort_index_not_the_table(filled: Services) -> None:
    """Every statement position_of runs reads customers through a covering index or the
    primary key: none walks the sort index and looks each earlier row up in the table."""
    engine = filled.db.read_engine
    statements: list[tuple[str, object]] = []

    def seen(_conn: object, _cursor: object, statement: str, parameters: object,
             *_rest: object) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert filled.customers.position_of(ListQuery(), N // 2) is not None
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    counts = [(s, p) for s, p in statements if "count(" in s.lower()]
    assert counts
    with engine.connect() as connection:
        for statement, parameters in counts:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                              parameters).all()  # type: ignore[arg-type]
            steps = [str(row[-1]) for row in plan]
            walks = [s for s in steps if s.startswith(("SEARCH customers USING INDEX",
                                                       "SCAN customers"))
                     and "COVERING" not in s]
            assert walks == [], (statement, steps)


def test_the_data_has_archived_customers_before_and_after(filled: Services) -> None:
    # Guards the tests above: archived rows sit on both sides of the customers asked about.
    with filled.db.read() as session:
        archived = session.scalar(text(
            "SELECT count(*) FROM customers WHERE archived_at IS NOT NULL"))
    assert 20 < int(archived or 0) < N
