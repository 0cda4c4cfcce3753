"""Letters SQLite's unicode61 tokenizer keeps (ł, ø, ß, æ, œ, đ, ı, þ, ð) are found whether
the user types them or their ASCII spelling, through every way a customer enters the index."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.services.container import Services, open_services
from crmcompanion.store.database import HEAD_REVISION
from tests.schema_undo import undo_back_to_0007

PEOPLE = {
    "Łukasz Kowalski": ("lukasz", "łukasz", "Łukasz"),
    "Søren Østergaard": ("soren", "søren", "ostergaard", "Østergaard"),
    "Hans Straße": ("strasse", "straße", "STRASSE"),
    "Ayşe Yılmaz": ("yilmaz", "yılmaz", "ayse"),
    "Æsa Bjørk": ("aesa", "æsa", "bjork"),
    "Þóra Guðmundsdóttir": ("thora", "þóra", "gudmundsdottir", "guðmundsdóttir"),
}


def _add_people(services: Services) -> dict[str, int]:
    ids = {}
    for name in PEOPLE:
        first, last = name.split()
        ids[name] = services.customers.create(CustomerDraft(first_name=first,
                                                            last_name=last)).customer.id
    return ids


@pytest.mark.parametrize("name", list(PEOPLE))
def test_created_customers_are_found_typed_either_way(services: Services, name: str) -> None:
    ids = _add_people(services)
    for query in PEOPLE[name]:
        assert [c.id for c in services.customers.search(query)] == [ids[name]], query


def test_company_email_tags_and_notes_fold_the_same_letters(services: Services) -> None:
    saved = services.customers.create(CustomerDraft(
        first_name="Ann", company="Øresund Bakery", emails=(EmailAddress("ann@straße.example"),),
        tags=("Łódź",), notes="Met at the Þingvellir fair")).customer
    services.customers.create(CustomerDraft(first_name="Bob"))
    for query in ("oresund", "øresund", "strasse.example", "lodz", "łódź", "thingvellir"):
        assert [c.id for c in services.customers.search(query)] == [saved.id], query


def test_imported_customers_are_found_by_ascii_spelling(services: Services, tmp_path: Path
                                                        ) -> None:
    path = tmp_path / "people.csv"
    lines = ["First name,Last name,Company,Tags"]
    lines += [f"{n.split()[0]},{n.split()[1]},Øresund {i},Łódź" for i, n in enumerate(PEOPLE)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    preview = services.import_export.preview(path)
    assert services.import_export.run(preview.plan).created == len(PEOPLE)
    assert len(services.customers.search("oresund lodz")) == len(PEOPLE)
    assert [c.display_name for c in services.customers.search("lukasz")] == ["Łukasz Kowalski"]


def test_migration_0006_rewrites_rows_indexed_before_it(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    services = open_services(f"sqlite:///{path}")
    ids = _add_people(services)
    services.close()
    # Put the search rows back as revision 0005 stored them (the letters as typed) and mark
    # the file as 0005, so opening it runs the real migration.
    conn = sqlite3.connect(path)
    for name, customer_id in ids.items():
        conn.execute("UPDATE customer_search SET name = ? WHERE rowid = ?", (name, customer_id))
    undo_back_to_0007(conn)
    conn.execute("UPDATE alembic_version SET version_num = '0005_greeting_templates'")
    conn.commit()
    assert conn.execute("SELECT count(*) FROM customer_search WHERE customer_search MATCH "
                        "'lukasz'").fetchone() == (0,)
    conn.close()

    services = open_services(f"sqlite:///{path}", tmp_path / "backups")
    try:
        assert services.db.info.revision == HEAD_REVISION
        for name, queries in PEOPLE.items():
            for query in queries:
                assert [c.id for c in services.customers.search(query)] == [ids[name]], query
    finally:
        services.close()
