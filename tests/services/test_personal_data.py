"""Personal-data export (a zip of JSON and CSV with every table that refers to the customer)
and erase on request (statistics kept anonymised, the person gone), on a real database."""

from __future__ import annotations

import csv
import io
import json
import logging
import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from crmcompanion.core.customer import (
    CustomerDraft,
    EmailAddress,
    PhoneNumber,
    SpecialDate,
    SpecialDateKind,
)
from crmcompanion.core.errors import DomainError, NotFoundError
from crmcompanion.services.container import Services
from crmcompanion.services.personal_data import ERASE_POLICY, PLACEHOLDER_NAME
from crmcompanion.store import transfer
from crmcompanion.store.customers import ListQuery
from tests.services.test_duplicates import _db_path, _fill_every_table


def _customer(services: Services, name: str = "Renée", email: str = "renee@example.com",
              notes: str = "likes tulips") -> int:
    return services.customers.create(CustomerDraft(
        first_name=name, last_name="=Dupont", emails=(EmailAddress(email),), tags=("VIP",),
        phones=(PhoneNumber("+33142681234"),),
        notes=notes,
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, None),))).customer.id


def test_export_has_every_table_that_refers_to_the_customer(
    services: Services, db_url: str, tmp_path: Path
) -> None:
    cid = _customer(services)
    bystander = _customer(services, "Other", "other@example.com", "")
    _fill_every_table(services, cid, _db_path(db_url))
    _fill_every_table(services, bystander, _db_path(db_url))
    target = tmp_path / "renee.zip"
    result = services.personal_data.export_personal_data(cid, target)
    assert result.path == target
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".renee")] == []
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        document = json.loads(archive.read("customer.json"))
        tables = document["tables"]
        for table, _ in transfer.customer_references():
            assert tables.get(table.name), f"{table.name} missing from the export"
            assert f"{table.name}.csv" in names
            for row in tables[table.name]:
                assert row["customer_id"] == cid, f"{table.name} leaks another customer"
        assert tables["customers"][0]["notes"] == "likes tulips"
        assert tables["interactions"][0]["summary"] == "Talked about the wedding"
        assert [t["name"] for t in document["referenced"]["tags"]] == ["VIP"]
        rows = list(csv.DictReader(io.StringIO(archive.read("customers.csv").decode())))
        assert rows[0]["last_name"] == "'=Dupont"  # formula-safe, as the CSV export
        assert result.tables["customer_emails"] == 1


def test_export_of_a_missing_customer_writes_nothing(services: Services, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="Customer #999 does not exist"):
        services.personal_data.export_personal_data(999, tmp_path / "x.zip")
    assert list(tmp_path.glob("*.zip")) == []


def test_erase_keeps_anonymised_statistics_and_nothing_personal(
    services: Services, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = _db_path(db_url)
    cid = _customer(services)
    bystander = _customer(services, "Other", "other@example.com", "")
    _fill_every_table(services, cid, path)
    _fill_every_table(services, bystander, path)
    with closing(sqlite3.connect(path)) as conn:
        before_other = conn.execute("SELECT count(*) FROM interactions WHERE customer_id = ?",
                                    (bystander,)).fetchone()[0]
    with caplog.at_level(logging.INFO):
        erased = services.personal_data.erase_customer(cid)
    assert erased.anonymised == {"interactions": 1}
    assert erased.deleted["fired_reminders"] == 1
    with closing(sqlite3.connect(path)) as conn:
        for table, column in transfer.customer_references():
            assert conn.execute(f"SELECT count(*) FROM {table.name} WHERE {column.name} = ?",
                                (cid,)).fetchone()[0] == 0, table.name
        assert conn.execute("SELECT count(*) FROM customers WHERE id = ?",
                            (cid,)).fetchone()[0] == 0
        placeholder, name, archived, dnc = conn.execute(
            "SELECT id, display_name, archived_at IS NOT NULL, do_not_contact FROM customers "
            "WHERE source_uid = 'crmcompanion:erased-customer'").fetchone()
        assert (name, archived, dnc) == (PLACEHOLDER_NAME, 1, 1)
        kept = conn.execute("SELECT occurred_on, channel, staff_id, summary, occurrence_key "
                            "FROM interactions WHERE customer_id = ?", (placeholder,)).fetchall()
        assert kept == [("2026-11-01", "phone", services.staff_id, "", None)]
        dump = "\n".join(conn.iterdump())
        assert "Renée" not in dump and "renee@example.com" not in dump
        assert "likes tulips" not in dump
        assert conn.execute("SELECT count(*) FROM interactions WHERE customer_id = ?",
                            (bystander,)).fetchone()[0] == before_other
    # Not even in freed pages or the search index's segments (secure_delete, FTS optimize).
    services.db.dispose()
    raw = b"".join(p.read_bytes() for p in Path(path).parent.glob(Path(path).name + "*"))
    assert b"tulips" not in raw and "Renée".encode() not in raw
    assert "Renée" not in caplog.text and "renee" not in caplog.text
    assert f"#{cid}" in caplog.text
    # The placeholder stays out of the list, search and Today.
    assert services.customers.count(ListQuery()) == 1
    assert services.customers.search("erased") == []
    assert all(t.customer_id != placeholder for t in services.touchpoints.due(400))
    # A second erase reuses the same placeholder.
    services.personal_data.erase_customer(bystander)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
        assert conn.execute("SELECT count(DISTINCT customer_id) FROM interactions"
                            ).fetchone()[0] == 1
    with pytest.raises(DomainError, match="placeholder cannot be erased"):
        services.personal_data.erase_customer(placeholder)


def test_erase_policy_is_enforced(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmcompanion.services import personal_data

    cid = _customer(services)
    trimmed = {k: v for k, v in ERASE_POLICY.items() if k != "interactions"}
    monkeypatch.setattr(personal_data, "ERASE_POLICY", trimmed)
    with pytest.raises(RuntimeError, match="interactions"):
        services.personal_data.erase_customer(cid)
    assert services.customers.get(cid).first_name == "Renée"
