"""One shared set of search cases, run on both engines: the same customers must come back in
the same top-10 order (FTS5's bm25 on SQLite; the same formula over the same folded texts on
PostgreSQL, store/postgres_search.py). Single words, prefixes of one to three letters, two
and three words, accents and letters folded by core.text, e-mail parts, tags, notes words,
companies, digits, and searches that find nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft, EmailAddress, PhoneNumber
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.demo import fill_demo
from tests.conftest import FIXED_NOW

CASES = [
    "a", "an", "ann", "anna", "m", "mü", "mul", "müller", "muller", "jo", "john", "sø",
    "soren", "łukasz", "lukasz", "straße", "strasse", "garcia", "garcía", "anna m",
    "anna müller", "maria gar", "example", "example.com", "post", "de", "florist", "vip",
    "tulips", "lilies", "delivery", "happy", "becker", "consulting", "design", "garage",
    "berlin", "lena", "sch", "schäfer", "kim", "yılmaz", "yilmaz", "françois", "zz",
    "nobody-here", "a b", "the last", "030", "4930", "12", "+49 30 1234", "1234567",
    "0301234", "(030) 12", "914", "33 14",
]

EXTRA = [
    CustomerDraft(first_name="Anna", last_name="Müller", company="Blumen Müller",
                  emails=(EmailAddress("anna.mueller@example.com"),),
                  phones=(PhoneNumber("+49 30 1234567"),), tags=("VIP", "Florist"),
                  notes="Loves tulips, anna's favourite"),
    CustomerDraft(first_name="Łukasz", last_name="Straße", company="Annaberg GmbH",
                  notes="Anna recommended him"),
    CustomerDraft(first_name="Søren", last_name="Yılmaz", tags=("anna",),
                  emails=(EmailAddress("soren@anna.example"),)),
    CustomerDraft(first_name="María", last_name="García-Müller", company="García & Hijos",
                  notes="müller müller müller"),
]


def _filled(url: str, backups: Path) -> Services:
    services = open_services(url, backups, FixedClock(FIXED_NOW))
    fill_demo(services.db, services.clock, 400, seed=7, staff_id=services.staff_id)
    for draft in EXTRA:
        services.customers.create(draft)
    return services


@pytest.fixture(scope="module")
def both(pg_cluster, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[Services, Services]]:
    folder = tmp_path_factory.mktemp("search")
    pg_cluster.sql("CREATE DATABASE search_cases TEMPLATE crm_template")
    on_sqlite = _filled(f"sqlite:///{folder / 'db.sqlite3'}", folder / "b")
    on_pg = _filled(pg_cluster.url("search_cases"), folder / "b2")
    yield on_sqlite, on_pg
    on_sqlite.close()
    on_pg.close()
    pg_cluster.sql("DROP DATABASE search_cases WITH (FORCE)")


@pytest.mark.parametrize("query", CASES)
def test_the_top_10_is_the_same_on_both_engines(both: tuple[Services, Services],
                                                query: str) -> None:
    on_sqlite, on_pg = both
    expected = [c.id for c in on_sqlite.customers.search(query, limit=10)]
    got = [c.id for c in on_pg.customers.search(query, limit=10)]
    assert got == expected
    assert on_pg.customers.search_total(query) == on_sqlite.customers.search_total(query)


def test_the_cases_find_something(both: tuple[Services, Services]) -> None:
    """The comparison means something: most cases find customers, some find many."""
    on_sqlite, _ = both
    totals = [on_sqlite.customers.search_total(q) for q in CASES]
    assert sum(1 for t in totals if t) >= len(CASES) - 5
    assert sum(1 for t in totals if t > 10) >= 15


def test_words_made_for_a_bulk_load_equal_the_servers_own(both: tuple[Services, Services]
                                                          ) -> None:
    """The demo's search rows got their words and token counts from Python
    (postgres_search.with_terms), the hand-made customers' from the table's trigger: the
    server's functions make the same of every row."""
    from sqlalchemy import text

    _, on_pg = both
    with on_pg.db.read() as session:
        rows, differing = session.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE terms IS DISTINCT FROM "
            "crm_search_terms(name, company, emails, phones, tags, notes) OR doc_len IS "
            "DISTINCT FROM crm_token_count(name, company, emails, phones, tags, notes, flags)) "
            "FROM customer_search")).one()
    assert rows == 404 and differing == 0
