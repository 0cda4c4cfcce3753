"""The command line on PostgreSQL, run as a user runs it (real processes, a real server):
`db migrate`, the refusal of an unmigrated database, `demo` numbering, `db copy`, the answers
of the everyday commands on both engines, and the missing-driver message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.services.container import open_services
from tests.cli.conftest import Ran, cli_env

pytestmark = pytest.mark.slow


def crm(home: Path, url: str | None, *args: str, python: list[str] | None = None) -> Ran:
    env = cli_env(home)
    if url is not None:
        env["CRMCOMPANION_DATABASE_URL"] = url
    command = python or [sys.executable, "-m", "crmcompanion"]
    done = subprocess.run([*command, *args], env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=300, check=False)
    return Ran(done.returncode, done.stdout, done.stderr)


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def extensions(url: str) -> set[str]:
    with psycopg.connect(libpq(url)) as conn:
        return {r[0] for r in conn.execute("SELECT extname FROM pg_extension")}


def add_customer(url: str) -> int:
    services = open_services(url)
    try:
        return services.customers.create(CustomerDraft(first_name="Late", last_name="Comer")
                                         ).customer.id
    finally:
        services.close()


def test_an_unmigrated_database_is_refused_until_db_migrate(tmp_path: Path,
                                                            empty_pg_database: str) -> None:
    refused = crm(tmp_path, empty_pg_database, "customers", "search", "anna")
    assert refused.code == 1 and refused.err_lines == [refused.err.strip()]
    assert "run `crmcompanion db migrate`" in refused.err
    assert "postgres@127.0.0.1" in refused.err and "Traceback" not in refused.err

    migrated = crm(tmp_path, empty_pg_database, "db", "migrate")
    assert migrated.code == 0, migrated.err
    assert "Migrated" in migrated.err
    assert {"pg_trgm", "unaccent"} <= extensions(empty_pg_database)

    again = crm(tmp_path, empty_pg_database, "db", "migrate")
    assert again.code == 0 and "nothing to do" in again.err
    works = crm(tmp_path, empty_pg_database, "customers", "search", "anna")
    assert works.code == 0, works.err


def test_demo_on_an_empty_database_numbers_customers_from_1_and_the_next_one_follows(
        tmp_path: Path, pg_database: str) -> None:
    done = crm(tmp_path, pg_database, "demo", "--customers", "40", "--seed", "3")
    assert done.code == 0, done.err
    listed = crm(tmp_path, pg_database, "customers", "list", "--limit", "100", "--json")
    assert sorted(c["id"] for c in json.loads(listed.out)) == list(range(1, 41))
    # The sequence was advanced past the ids the bulk load wrote.
    assert add_customer(pg_database) == 41


def test_everyday_commands_answer_the_same_on_both_engines(tmp_path: Path,
                                                           pg_database: str) -> None:
    sqlite_home, pg_home = tmp_path / "sqlite", tmp_path / "pg"
    for home, url in ((sqlite_home, None), (pg_home, pg_database)):
        done = crm(home, url, "demo", "--customers", "150", "--seed", "5")
        assert done.code == 0, done.err
    commands = [
        ("customers", "search", "an", "--json"), ("customers", "search", "mül"),
        ("customers", "search", "example.com", "--limit", "10"),
        ("customers", "list", "--limit", "30"), ("customers", "show", "#7", "--json"),
        ("due", "--days", "30", "--json"), ("due", "--days", "0"),
    ]
    for args in commands:
        on_sqlite, on_pg = crm(sqlite_home, None, *args), crm(pg_home, pg_database, *args)
        assert on_sqlite.code == on_pg.code == 0, (args, on_pg.err)
        assert on_pg.out == on_sqlite.out, args
        assert on_pg.out.strip(), args  # something was compared


def test_db_copy_moves_the_book_all_or_nothing(tmp_path: Path, empty_pg_database: str) -> None:
    home = tmp_path / "home"
    assert crm(home, None, "demo", "--customers", "50", "--seed", "2").code == 0
    copied = crm(home, None, "db", "copy", "--to", empty_pg_database)
    assert copied.code == 0, copied.err
    assert "Copied 50 customers" in copied.err
    for args in (("customers", "search", "a", "--json"), ("due", "--days", "30", "--json"),
                 ("customers", "show", "#3", "--json")):
        assert crm(home, empty_pg_database, *args).out == crm(home, None, *args).out, args
    assert add_customer(empty_pg_database) == 51

    # A second copy finds customers there: refused, the target unchanged.
    again = crm(home, None, "db", "copy", "--to", empty_pg_database)
    assert again.code == 1 and "holds 51 customers already" in again.err
    listed = crm(home, empty_pg_database, "customers", "list", "--limit", "100", "--json")
    assert len(json.loads(listed.out)) == 51


def test_without_the_driver_a_postgresql_url_names_the_extra(tmp_path: Path) -> None:
    blocked = [sys.executable, "-c",
               "import sys; sys.modules['psycopg'] = None; "
               "from crmcompanion.__main__ import main; sys.exit(main())"]
    ran = crm(tmp_path, "postgresql+psycopg://crm:secret@127.0.0.1:1/crm", "customers",
              "search", "x", python=blocked)
    assert ran.code == 1 and len(ran.err_lines) == 1
    assert 'pip install "crmcompanion[postgresql]"' in ran.err
    assert "secret" not in ran.err


def test_backup_on_postgresql_points_to_pg_dump(tmp_path: Path, pg_database: str) -> None:
    ran = crm(tmp_path, pg_database, "backup")
    assert ran.code == 1 and "pg_dump" in ran.err and len(ran.err_lines) == 1



def test_import_into_postgresql_then_the_next_customer_follows(tmp_path: Path,
                                                               pg_database: str) -> None:
    book = tmp_path / "book"
    assert crm(book, None, "demo", "--customers", "30", "--seed", "4").code == 0
    exported = tmp_path / "customers.csv"
    assert crm(book, None, "export", "--format", "csv", "-o", str(exported)).code == 0
    imported = crm(tmp_path / "pg", pg_database, "import", str(exported))
    assert imported.code == 0, imported.err
    listed = crm(tmp_path / "pg", pg_database, "customers", "list", "--limit", "100", "--json")
    assert sorted(c["id"] for c in json.loads(listed.out)) == list(range(1, 31))
    # The same rows as the same import into SQLite: both exported again, the files are equal.
    assert crm(tmp_path / "sqlite", None, "import", str(exported)).code == 0
    for home, url in ((tmp_path / "sqlite", None), (tmp_path / "pg", pg_database)):
        out = home / "again.csv"
        assert crm(home, url, "export", "--format", "csv", "-o", str(out)).code == 0
    assert (tmp_path / "pg" / "again.csv").read_bytes() == (
        tmp_path / "sqlite" / "again.csv").read_bytes()
    assert add_customer(pg_database) == 31
