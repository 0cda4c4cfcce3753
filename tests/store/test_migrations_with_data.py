"""Each Alembic migration, run on a database that holds data in what it touches.

A migration tested only on an empty database proves little: narrowing 0006 (which rewrites
the stored search rows) to one of its five columns passed every test. Here a database full of
real data is taken back to each migration's parent revision (Alembic's own downgrade), the
columns the migration rewrites are filled as the parent revision stored them, the migration
runs, and the data is checked afterwards: rewritten where it should be, untouched elsewhere,
and usable by the app at head.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from crmcompanion.core import customer as c
from crmcompanion.core.clock import FixedClock
from crmcompanion.core.staff import STAFF_ENV_VAR
from crmcompanion.services.container import Services, open_services
from crmcompanion.store.database import HEAD_REVISION, MIGRATIONS_DIR

NOW = datetime(2026, 11, 22, 10, 30)
# Tables whose rows no migration after 0001 may change (derived and search tables aside).
KEPT_TABLES = ("staff", "customers", "customer_emails", "customer_phones", "tags",
               "customer_tags", "special_dates", "settings")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


REVISIONS = [script.revision for script in reversed(list(
    ScriptDirectory.from_config(alembic_config()).walk_revisions()))]
PARENT = {script.revision: script.down_revision for script in
          ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def migrate(path: Path, direction: str, revision: str) -> None:
    """Run Alembic on the file the way the app does (store.database._run_migrations)."""
    config = alembic_config()
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            getattr(command, direction)(config, revision)
            connection.commit()
    finally:
        engine.dispose()


def rows(path: Path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        found = connection.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    connection.close()
    return found


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        names = {name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    connection.close()
    return names


def schema(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        found = connection.execute(
            "SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    connection.close()
    return found


def fill(services: Services) -> dict[str, int]:
    """Customers with every kind of data, a conversation, a skipped touchpoint, a follow-up,
    a saved template and an import batch."""
    ids = {}
    ids["anna"] = services.customers.create(c.CustomerDraft(
        first_name="Anna", last_name="Weber", company="Bäckerei Weber",
        emails=(c.EmailAddress("anna@weber.example", "work"),),
        phones=(c.PhoneNumber("+49 30 901820", "mobile"),),
        address=c.PostalAddress("Hauptstraße 1", "Berlin", "", "10115", "DE"),
        tags=("VIP", "Bakery"), customer_since=date(2019, 4, 1), notes="Rye bread",
        special_dates=(c.SpecialDate(c.SpecialDateKind.BIRTHDAY, 11, 25, 1986),
                       c.SpecialDate(c.SpecialDateKind.CUSTOM, 2, 29, None, "Shop opening")),
    )).customer.id
    ids["bob"] = services.customers.create(c.CustomerDraft(
        first_name="Bob", last_name="Baker", tags=("Newsletter",),
        special_dates=(c.SpecialDate(c.SpecialDateKind.WEDDING_ANNIVERSARY, 6, 18, 2001),),
    )).customer.id
    services.interactions.log(ids["bob"], "Asked about the spring catalogue", "phone",
                              NOW.astimezone() - timedelta(days=3))
    services.touchpoints.add_follow_up(ids["anna"], date(2026, 12, 1), "Send the price list")
    return ids


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[tuple[Path, dict[str, int]]]:
    path = tmp_path / "crm.sqlite3"
    services = open_services(f"sqlite:///{path}", None, FixedClock(NOW))
    try:
        ids = fill(services)
    finally:
        services.close()
    yield path, ids


def test_the_chain_is_the_one_these_tests_know() -> None:
    assert REVISIONS[0] == "0001_initial" and REVISIONS[-1] == HEAD_REVISION
    assert REVISIONS == ["0001_initial", "0002_touchpoints", "0003_reminders",
                         "0004_import_batches", "0005_greeting_templates",
                         "0006_search_special_letters",
                         "0007_customer_uids_and_search_folding",
                         "0008_staff_and_versions",
                         "0009_voice_of_the_customer", "0010_insights",
                         "0011_feedback_rhythm",
                         "0012_postgres_partial_indexes",
                         "0013_postgres_customer_sort_name_by_id",
                         "0014_sqlite_customer_sort_name_by_id"], \
        "a new migration needs a test here"


@pytest.mark.parametrize("revision", REVISIONS[1:])
def test_each_migration_keeps_the_data_it_runs_over(filled, revision: str) -> None:
    """Back to the parent revision and up through this one: nothing stored is lost, and the
    app opens the file at head and finds its customers."""
    path, ids = filled
    kept = {table: rows(path, table) for table in KEPT_TABLES}
    migrate(path, "downgrade", PARENT[revision])
    before = tables(path)
    migrate(path, "upgrade", revision)
    assert before <= tables(path)
    # Compared at head: a migration below head cannot bring back the columns a later one adds
    # (0010's lost reason), but going on to head must find every stored value where it was.
    migrate(path, "upgrade", "head")
    again = {table: rows(path, table) for table in KEPT_TABLES}
    if revision <= "0008_staff_and_versions":
        # Going below 0008 drops the login keys (a downgrade is no user path); the next
        # start claims the row again (test_0008_... below). Every other staff value stays.
        kept["staff"] = [row[:5] for row in kept["staff"]]
        again["staff"] = [row[:5] for row in again["staff"]]
    assert again == kept
    services = open_services(f"sqlite:///{path}", None, FixedClock(NOW))
    try:
        assert [found.id for found in services.customers.search("weber")] == [ids["anna"]]
        anna = services.customers.get(ids["anna"])
        assert (anna.company, anna.tags, anna.notes) == (
            "Bäckerei Weber", ("Bakery", "VIP"), "Rye bread")
        assert {(s.month, s.day, s.year) for s in anna.special_dates} == {
            (11, 25, 1986), (2, 29, None)}
    finally:
        services.close()


def test_0002_gives_every_stored_customer_a_stale_rhythm_row_and_today_finds_them(
        filled) -> None:
    path, ids = filled
    migrate(path, "downgrade", "0001_initial")
    assert "contact_rhythm" not in tables(path)
    migrate(path, "upgrade", "0002_touchpoints")
    with sqlite3.connect(path) as connection:
        dirty = connection.execute(
            "SELECT customer_id, dirty FROM contact_rhythm ORDER BY customer_id").fetchall()
    connection.close()
    assert dirty == [(cid, 1) for cid in sorted(ids.values())]
    migrate(path, "upgrade", "head")
    services = open_services(f"sqlite:///{path}", None, FixedClock(NOW))
    try:
        # Anna's birthday on 25 Nov is three days after NOW: Today lists it.
        due = services.touchpoints.due(days=7)
        assert ids["anna"] in {item.customer_id for item in due}
    finally:
        services.close()


# Letters the search tokenizer cannot fold, one set per column 0006 rewrites, as revision
# 0005 stored them (typed), and what 0006 must leave (spelled out).
SEARCH_BEFORE = {"name": "Łukasz Søren", "company": "Straße Æble", "emails": "đorđe@example.com",
                 "tags": "Yılmaz œuvre", "notes": "Þor Ðoa"}
SEARCH_AFTER = {"name": "Lukasz Soren", "company": "Strasse AEble",
                "emails": "dorde@example.com", "tags": "Yilmaz oeuvre", "notes": "THor Doa"}


def test_0006_spells_out_special_letters_in_every_search_column(filled) -> None:
    path, ids = filled
    migrate(path, "downgrade", "0005_greeting_templates")
    columns = ", ".join(SEARCH_BEFORE)
    with sqlite3.connect(path) as connection:
        untouched = connection.execute(
            f"SELECT rowid, {columns} FROM customer_search WHERE rowid = ?",
            (ids["bob"],)).fetchone()
        connection.execute(
            f"UPDATE customer_search SET {', '.join(f'{c} = ?' for c in SEARCH_BEFORE)} "
            "WHERE rowid = ?", (*SEARCH_BEFORE.values(), ids["anna"]))
    connection.close()

    migrate(path, "upgrade", "0006_search_special_letters")

    with sqlite3.connect(path) as connection:
        anna = connection.execute(f"SELECT {columns} FROM customer_search WHERE rowid = ?",
                                  (ids["anna"],)).fetchone()
        bob = connection.execute(f"SELECT rowid, {columns} FROM customer_search WHERE rowid = ?",
                                 (ids["bob"],)).fetchone()
    connection.close()
    assert dict(zip(SEARCH_BEFORE, anna, strict=True)) == SEARCH_AFTER
    assert bob == untouched  # a row without those letters is left as it was
    services = open_services(f"sqlite:///{path}", None, FixedClock(NOW))
    try:
        for query in ("lukasz", "strasse", "dorde", "yilmaz", "thor"):
            assert [found.id for found in services.customers.search(query)] == [ids["anna"]], query
    finally:
        services.close()


def test_0008_versions_touchpoint_states_and_the_old_staff_row_is_claimed(
        filled, monkeypatch: pytest.MonkeyPatch) -> None:
    path, ids = filled
    migrate(path, "downgrade", "0007_customer_uids_and_search_folding")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE staff SET name = 'You'")
        connection.execute(
            "INSERT INTO touchpoint_states (occurrence_key, customer_id, occasion, "
            "occurrence_on, state, snoozed_until, reason, interaction_id, recorded_at, "
            "recorded_by_id) VALUES ('follow_up:1:1:2026-12-01', ?, 'follow_up', "
            "'2026-12-01', 'snoozed', '2026-12-05', '', NULL, '2026-11-22 10:00:00', 1)",
            (ids["anna"],))
    connection.close()
    migrate(path, "upgrade", "0008_staff_and_versions")
    assert [row[-1] for row in rows(path, "touchpoint_states")] == [1]
    assert [(row[1], row[-1]) for row in rows(path, "staff")] == [("You", None)]
    monkeypatch.setenv(STAFF_ENV_VAR, "Nora")
    services = open_services(f"sqlite:///{path}", None, FixedClock(NOW))
    try:
        assert services.staff.current().name == "Nora"
        # The history "You" made is now Nora's.
        assert services.customers.get(ids["anna"]).created_by_name == "Nora"
    finally:
        services.close()
    assert [(row[1], row[-1]) for row in rows(path, "staff")] == [("Nora", "nora")]


def test_0009_adds_feedback_tables_whose_search_follows_the_rows(filled) -> None:
    """Down to 0007 (no feedback tables), up through 0009: the customers stay, and an item
    written afterwards is found by the lexical index its triggers keep."""
    path, ids = filled
    migrate(path, "downgrade", PARENT["0009_voice_of_the_customer"])
    assert "feedback_items" not in tables(path)
    migrate(path, "upgrade", "0009_voice_of_the_customer")
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO feedback_items (customer_id, kind, text, source, reviewer, "
            "review_site, created_at, updated_at, version) VALUES (?, 'complaint', "
            "'The bread was stale', 'visit', '', '', '2026-11-20', '2026-11-20', 1)",
            (ids["anna"],))
        found = connection.execute(
            "SELECT rowid FROM feedback_search WHERE feedback_search MATCH 'stale'").fetchall()
        connection.execute("UPDATE feedback_items SET text = 'The rolls were burnt'")
        stale = connection.execute(
            "SELECT rowid FROM feedback_search WHERE feedback_search MATCH 'stale'").fetchall()
    connection.close()
    assert len(found) == 1 and stale == []


def test_0010_gives_lost_customers_an_unknown_reason_and_a_health_table(filled) -> None:
    """Down to 0009 (no lost reasons, no health rows), one customer marked lost there, up
    through 0010: that customer gets a lost day (its last change) and no reason (read as
    `unknown`: lost before reasons were asked), the others neither, and the health table is
    there."""
    path, ids = filled
    migrate(path, "downgrade", PARENT["0010_insights"])
    assert "customer_health" not in tables(path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE customers SET status = 'lost' WHERE id = ?", (ids["anna"],))
    connection.close()
    migrate(path, "upgrade", "0010_insights")
    assert "customer_health" in tables(path)
    with sqlite3.connect(path) as connection:
        lost = {row[0]: row[1:] for row in connection.execute(
            "SELECT id, lost_reason, lost_on, date(updated_at) FROM customers")}
    connection.close()
    reason, lost_on, changed = lost.pop(ids["anna"])
    assert reason is None and lost_on == changed is not None
    assert {row[:2] for row in lost.values()} == {(None, None)}


def test_0011_adds_the_feedback_rhythm_and_keeps_tags_and_their_triggers(filled) -> None:
    """Down to 0010 (no rhythm column, no asks), up through 0011: the tags keep their names
    and keep-in-touch cadences with no rhythm set, the asks table is empty and takes a row,
    and the tag cadence trigger of 0002 still marks customers (an in-place column add, not a
    table rebuild that would drop it)."""
    path, ids = filled
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE tags SET cadence_days = 45")
    connection.close()
    before = rows(path, "tags")
    migrate(path, "downgrade", PARENT["0011_feedback_rhythm"])
    assert "feedback_asks" not in tables(path)
    migrate(path, "upgrade", "0011_feedback_rhythm")
    after = rows(path, "tags")
    assert [row[:-1] for row in after] == [row[:-1] for row in before] and after
    assert {row[-1] for row in after} == {None}
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE contact_rhythm SET dirty = 0")
        connection.execute("UPDATE tags SET cadence_days = 20")
        dirty = connection.execute("SELECT count(*) FROM contact_rhythm WHERE dirty = 1")
        marked = dirty.fetchone()[0]
        connection.execute(
            "INSERT INTO feedback_asks (customer_id, asked_on, skipped, created_at) "
            "VALUES (?, '2026-11-20', 0, '2026-11-20 10:00:00')", (ids["anna"],))
        asked = connection.execute("SELECT count(*) FROM feedback_asks").fetchone()[0]
    connection.close()
    assert marked > 0 and asked == 1


@pytest.mark.parametrize("revision", ["0012_postgres_partial_indexes",
                                      "0013_postgres_customer_sort_name_by_id"])
def test_postgres_only_migrations_change_nothing_on_sqlite(filled, revision: str) -> None:
    """0012 re-creates two indexes as partial on PostgreSQL, 0013 adds one there (tests/postgres
    check them); on SQLite down and up again leaves the schema as it was."""
    path, _ids = filled
    migrate(path, "downgrade", revision)  # the schema as this revision leaves it
    before = schema(path)
    assert any(name == "ix_contact_rhythm_dirty" and "dirty" in sql.split("WHERE")[-1]
               for _type, name, sql in before if sql)
    migrate(path, "downgrade", PARENT[revision])
    assert schema(path) == before
    migrate(path, "upgrade", revision)
    assert schema(path) == before


def test_0014_adds_the_sort_names_by_id_on_sqlite(filled) -> None:
    """0014 adds ix_customers_id_sort_name (id, sort_name) on SQLite, holding every customer's
    sort name (the list's sorted searches read it: store.customers._matches_by_sort_name);
    down removes it and nothing else, up again brings back the same schema."""
    path, ids = filled
    at_head = schema(path)
    index = [sql for _type, name, sql in at_head if name == "ix_customers_id_sort_name"]
    assert index == ["CREATE INDEX ix_customers_id_sort_name ON customers (id, sort_name)"]
    with sqlite3.connect(path) as connection:
        by_index = connection.execute(
            "SELECT id, sort_name FROM customers INDEXED BY ix_customers_id_sort_name "
            "ORDER BY id").fetchall()
    connection.close()
    assert by_index == sorted([(ids["anna"], "anna weber"), (ids["bob"], "bob baker")])
    migrate(path, "downgrade", PARENT["0014_sqlite_customer_sort_name_by_id"])
    assert schema(path) == [row for row in at_head if row[1] != "ix_customers_id_sort_name"]
    migrate(path, "upgrade", "0014_sqlite_customer_sort_name_by_id")
    assert schema(path) == at_head
