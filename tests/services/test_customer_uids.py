"""Every customer has its own random UID, stored from creation on: exports write it, imports
keep the file's, and an import matches a stored customer by UID only when this book issued or
imported that UID. (Issue 18: UIDs derived from row ids made customer #1 of one book "the same
person" as customer #1 of every other book.)"""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path

import pytest

from crmcompanion.core.customer import UID_PREFIX, CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.core.errors import DomainError
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.demo import fill_demo
from crmcompanion.store.customers import ListQuery
from crmcompanion.store.database import HEAD_REVISION
from tests.schema_undo import undo_back_to_0007

ALL = ListQuery(archived=None)


def _is_random_uid(uid: str) -> bool:
    if not uid.startswith(UID_PREFIX):
        return False
    parsed = uuid.UUID(uid[len(UID_PREFIX):])
    return parsed.version == 4 and str(parsed) == uid[len(UID_PREFIX):]


def _uids(services: Services) -> dict[int, str]:
    with services.db.read() as session:
        return dict(session.connection().exec_driver_sql(
            "SELECT id, source_uid FROM customers").all())


def _book(folder: Path, clock: object, prefix: str, count: int) -> Services:
    """A book of `count` people with nothing but a name: only a UID could match them."""
    folder.mkdir()
    book = open_services(f"sqlite:///{folder / 'db.sqlite3'}", folder / "backups", clock)
    for i in range(count):
        book.customers.create(CustomerDraft(first_name=f"{prefix}{i}", last_name="Person"))
    return book


def test_every_new_customer_gets_its_own_random_uid(services: Services, tmp_path: Path) -> None:
    made = services.customers.create(CustomerDraft(first_name="Ann")).customer
    assert _is_random_uid(made.source_uid)
    fill_demo(services.db, services.clock, 300, append=True, staff_id=services.staff_id)
    path = tmp_path / "plain.csv"
    path.write_text("First name,Last name\n" + "".join(f"P{i},Q{i}\n" for i in range(50)),
                    encoding="utf-8")
    services.import_export.run(services.import_export.preview(path).plan)
    uids = _uids(services)
    assert len(uids) == 351 and len(set(uids.values())) == 351
    assert all(_is_random_uid(u) for u in uids.values())
    # An edit (a draft from the form carries no UID) keeps the customer's.
    edited = services.customers.update(made.id, CustomerDraft(first_name="Anne"), made.version)
    assert edited.customer.source_uid == made.source_uid


def test_a_uid_from_the_file_is_kept_and_unique(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "uids.csv"
    path.write_text("First name,Last name,UID\nAnn,One,ext-1\nBob,Two,\nCid,Three,ext-1\n",
                    encoding="utf-8")
    result = services.import_export.run(services.import_export.preview(path).plan)
    assert (result.created, result.skipped_duplicates) == (2, 1)
    by_name = {services.customers.get(i).display_name: u for i, u in _uids(services).items()}
    assert by_name["Ann One"] == "ext-1" and _is_random_uid(by_name["Bob Two"])
    # The store refuses a second customer with a UID already taken.
    with pytest.raises(DomainError):
        services.customers.create(CustomerDraft(first_name="Dee", source_uid="ext-1"))


@pytest.mark.parametrize("kind", ["csv", "vcard"])
def test_an_export_matches_nobody_in_another_book_and_everyone_in_its_own(
        tmp_path: Path, clock: object, kind: str) -> None:
    book_a = _book(tmp_path / "a", clock, "Alpha", 33)
    book_b = _book(tmp_path / "b", clock, "Beta", 39)  # ids 1..33 exist in both
    try:
        out = tmp_path / f"a.{'csv' if kind == 'csv' else 'vcf'}"
        if kind == "csv":
            book_a.import_export.export_csv(out, ALL)
        else:
            book_a.import_export.export_vcard(out, ALL)
        a_uids = _uids(book_a)
        written = set(re.findall(r"urn:uuid:[0-9a-f-]{36}", out.read_text(encoding="utf-8")))
        assert written == set(a_uids.values())  # the stored UIDs, each once

        into_b = book_b.import_export.preview(out)
        assert (into_b.duplicate_count, into_b.duplicates) == (0, ())
        result = book_b.import_export.run(into_b.plan)
        assert (result.created, result.skipped_duplicates) == (33, 0)
        assert len(set(_uids(book_b).values())) == 39 + 33  # the file's UIDs, kept

        into_a = book_a.import_export.preview(out)
        assert into_a.duplicate_count == 33
        owner = {uid: cid for cid, uid in a_uids.items()}
        assert sorted((d.matched_on, d.customer_id) for d in into_a.duplicates) == sorted(
            ("uid", owner[d.value]) for d in into_a.duplicates)
        assert {d.customer_id for d in into_a.duplicates} == set(a_uids)
        again = book_a.import_export.run(into_a.plan)
        assert (again.created, again.skipped_duplicates) == (0, 33)
    finally:
        book_a.close()
        book_b.close()


def test_ics_events_carry_the_stored_uid(services: Services, tmp_path: Path) -> None:
    made = services.customers.create(CustomerDraft(
        first_name="Ann", special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 3, 4),))).customer
    out = tmp_path / "dates.ics"
    services.import_export.export_ics(out, ALL)
    assert f".{made.source_uid}" in out.read_text(encoding="utf-8").replace("\r\n ", "")


def test_migration_gives_every_stored_customer_a_random_unique_uid(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    services = open_services(f"sqlite:///{path}")
    for i in range(6):
        services.customers.create(CustomerDraft(first_name=f"P{i}"))
    services.close()
    # As revision 0006 left them: UIDs only where an import brought one, shared ones allowed.
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX ix_customers_source_uid")
    conn.execute("CREATE INDEX ix_customers_source_uid ON customers (source_uid)")
    conn.execute("UPDATE customers SET source_uid = '' WHERE id <= 3")
    conn.execute("UPDATE customers SET source_uid = 'file-1' WHERE id IN (4, 5)")
    undo_back_to_0007(conn)
    conn.execute("UPDATE alembic_version SET version_num = '0006_search_special_letters'")
    conn.commit()
    conn.close()

    services = open_services(f"sqlite:///{path}", tmp_path / "backups")
    try:
        assert services.db.info.revision == HEAD_REVISION
        uids = _uids(services)
        assert uids[4] == "file-1"
        assert all(_is_random_uid(uids[i]) for i in (1, 2, 3, 5))
        assert len(set(uids.values())) == 6
        with pytest.raises(DomainError):
            services.customers.create(CustomerDraft(first_name="Dup", source_uid="file-1"))
    finally:
        services.close()


def test_undoing_a_delete_after_its_uid_came_back_by_import(services: Services,
                                                           tmp_path: Path) -> None:
    made = services.customers.create(CustomerDraft(first_name="Ann")).customer
    services.customers.create(CustomerDraft(first_name="Bob"))
    out = tmp_path / "ann.vcf"
    services.import_export.export_vcard(out, ALL, ids=[made.id])
    deleted = services.customers.delete(made.id)
    assert services.import_export.run(services.import_export.preview(out).plan).created == 1
    services.customers.undo_delete(deleted)  # both Anns stay, each with a UID of its own
    uids = _uids(services)
    assert len(uids) == 3 and len(set(uids.values())) == 3
    assert made.source_uid in uids.values()


def test_an_import_makes_its_random_uids_ascending_with_the_ids(
        services: Services, tmp_path: Path) -> None:
    # Made before the insert and handed out in order (issue 13: the unique UID index then
    # takes them leaf by leaf): still random v4 UIDs, one per row without one, the file's
    # own kept; the rows in between keep their place in the order.
    path = tmp_path / "mixed.csv"
    path.write_text("First name,Last name,UID\n" + "".join(
        f"P{i},Q{i},{f'ext-{i}' if i % 7 == 0 else ''}\n" for i in range(200)),
        encoding="utf-8")
    services.import_export.run(services.import_export.preview(path).plan)
    uids = _uids(services)
    assert len(uids) == 200 and len(set(uids.values())) == 200
    fresh = [uids[i] for i in sorted(uids) if not uids[i].startswith("ext-")]
    assert len(fresh) == 200 - 29 and all(_is_random_uid(u) for u in fresh)
    assert fresh == sorted(fresh)
    assert [uids[i] for i in sorted(uids) if uids[i].startswith("ext-")] == [
        f"ext-{i}" for i in range(0, 200, 7)]
