"""Import/export services on a real SQLite database: round trips, duplicates, all-or-nothing,
cancel, undo of the last import."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from crmcompanion.core.customer import (
    Channel,
    CustomerDraft,
    EmailAddress,
    Kind,
    PhoneNumber,
    PostalAddress,
    SpecialDate,
    SpecialDateKind,
    Status,
)
from crmcompanion.core.validation import validate_customer
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.import_export import (
    CancelToken,
    ImportCancelled,
    ImportExportService,
    ImportRejected,
)
from crmcompanion.store import bulk
from crmcompanion.store.customers import ListQuery
from crmcompanion.store.database import utcnow
from tests.services.helpers import dump

NAMES = ["Zoë", "Łukasz", "José", "O'Brien", "Анна", "李", "Søren", "=SUM(A1)", "+49 x", "Renée"]


def varied_drafts(n: int, seed: int = 7) -> list[CustomerDraft]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        specials = []
        if i % 3 == 0:
            specials.append(SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, None if i % 2 else 1988))
        elif i % 3 == 1:
            specials.append(SpecialDate(SpecialDateKind.BIRTHDAY, rnd.randint(1, 12),
                                        rnd.randint(1, 28), None))
        if i % 4 == 0:
            specials.append(SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, 6, 1, 2010))
        if i % 5 == 0:
            specials.append(SpecialDate(SpecialDateKind.CUSTOM, 3, 14, None, "Pi day"))
        out.append(CustomerDraft(
            first_name=rnd.choice(NAMES) + ("" if i % 7 else " \"quoted\""),
            last_name=f"Müller-{i}",
            company="ACME; Ltd, \"x\"" if i % 6 == 0 else "",
            emails=(EmailAddress(f"user{i}@Example.com", "work"),) if i % 10 else (),
            phones=(PhoneNumber(f"+4930{12340000 + i}", "mobile"),) if i % 2 else (),
            address=PostalAddress("Straße 1\nHinterhaus", "Köln", "", "50667", "DE")
            if i % 4 == 1 else PostalAddress(),
            tags=("vip", "Café") if i % 3 == 0 else (),
            status=Status.LEAD if i % 5 == 1 else Status.ACTIVE,
            kind=Kind.INTERNAL if i % 9 == 0 else Kind.EXTERNAL,
            key_account=i % 8 == 0,
            preferred_channel=Channel.SMS if i % 11 == 0 else None,
            customer_since=date(2015, 1, 1 + i % 28) if i % 2 == 0 else None,
            notes="line one\nline two, \"quoted\"\r\n-dash" if i % 4 == 3 else "",
            special_dates=tuple(specials),
            source_uid=f"ext-{i}" if i % 13 == 0 else "",
        ))
    return out


def fill(services: Services, drafts: list[CustomerDraft]) -> list[int]:
    # Stored customers are validated ones (normalised emails and phones), as the app stores.
    clean = [validate_customer(d, "DE") for d in drafts]
    with services.db.write() as session:
        return bulk.insert_customers(session, clean, utcnow(), services.staff_id)


def service_for(services: Services) -> ImportExportService:
    return ImportExportService(services.db, services.settings, services.staff_id)


def profile(c) -> tuple:
    d = c.to_draft()
    return (d.first_name, d.last_name, d.display_name, d.company, d.emails, d.phones,
            d.address, tuple(sorted(d.tags)), d.status, d.kind, d.key_account,
            d.preferred_channel, d.customer_since, d.notes,
            tuple(sorted(d.special_dates, key=repr)))


@pytest.fixture
def other(tmp_path: Path, clock) -> Services:
    opened = open_services(f"sqlite:///{tmp_path / 'other.sqlite3'}", tmp_path / "b2", clock)
    yield opened
    opened.close()


def test_round_trip_of_1000_varied_customers_and_reimport(services: Services, other: Services,
                                                           tmp_path: Path) -> None:
    ids = fill(services, varied_drafts(1000))
    out = tmp_path / "all.csv"
    exported = service_for(services).export_csv(out, ListQuery(archived=None))
    assert exported.count == 1000
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")

    importer = service_for(other)
    preview = importer.preview(out)
    assert preview.ok, preview.problems[:3]
    assert preview.recognised == "crmcompanion" and preview.row_count == 1000
    result = importer.run(preview.plan)
    assert (result.created, result.skipped_duplicates, result.written) == (1000, 0, True)

    originals = {profile(c) for c in (services.customers.get(i) for i in ids)}
    imported = [other.customers.get(i) for i in range(1, 1001)]
    assert {profile(c) for c in imported} == originals
    # Every customer carries its own stored UID over, the file's ones included.
    assert {c.source_uid for c in imported} == {
        services.customers.get(i).source_uid for i in ids}
    assert "ext-0" in {c.source_uid for c in imported}

    again = importer.run(importer.preview(out).plan)
    assert (again.created, again.skipped_duplicates) == (0, 1000)
    assert other.customers.total() == 1000
    # Re-importing into the source database matches every row too (its stored UIDs).
    same = service_for(services).run(service_for(services).preview(out).plan)
    assert (same.created, same.skipped_duplicates) == (0, 1000)


def test_bad_row_leaves_database_byte_for_byte_unchanged(services: Services,
                                                         tmp_path: Path) -> None:
    fill(services, varied_drafts(20))
    before = dump(services)
    bad = tmp_path / "bad.csv"
    bad.write_text("First name,Last name,Emails,Birthday\nAna,Silva,ana@example.com,1990-01-01\n"
                   "Bob,Bad,not-an-email,1990-02-30\nCy,Ok,cy@example.com,\n", encoding="utf-8")
    importer = service_for(services)
    preview = importer.preview(bad)
    assert not preview.ok
    assert {(p.line, p.column) for p in preview.problems} == {(3, "Emails"), (3, "Birthday")}
    with pytest.raises(ImportRejected, match=r"2 row\(s\) cannot be imported") as info:
        importer.run(preview.plan)
    # One row with two problems: one row rejected (issue 18 counts rows, not problems).
    assert info.value.result.written is False and info.value.result.rejected_count == 1
    assert dump(services) == before
    skipped = importer.run(preview.plan, skip_invalid=True)
    assert (skipped.created, skipped.rejected_count, skipped.written) == (2, 1, True)


def test_cancel_mid_import_leaves_database_unchanged(services: Services, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from crmcompanion.services import import_export

    monkeypatch.setattr(import_export, "BATCH_SIZE", 10)
    path = tmp_path / "many.csv"
    path.write_text("First name,Emails\n" + "".join(f"P{i},p{i}@example.com\n"
                                                    for i in range(100)), encoding="utf-8")
    before = dump(services)
    token = CancelToken()
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if done >= 30:
            token.cancel()

    importer = service_for(services)
    with pytest.raises(ImportCancelled, match="Import cancelled; nothing was written"):
        importer.run(importer.preview(path).plan, progress=progress, cancel=token)
    assert seen[0] == (10, 100) and seen[-1][0] == 30
    assert dump(services) == before


def test_undo_last_import_removes_only_its_customers(services: Services, tmp_path: Path) -> None:
    fill(services, varied_drafts(5))
    importer = service_for(services)
    for name, rows in (("a.csv", "Ann,ann@example.com\n"), ("b.csv", "Ben,ben@example.com\n"
                                                                     "Cat,cat@example.com\n")):
        (tmp_path / name).write_text("First name,Emails\n" + rows, encoding="utf-8")
        importer.run(importer.preview(tmp_path / name).plan)
    assert services.customers.total() == 8
    undone = importer.undo_last_import()
    assert undone.removed == 2 and undone.source.endswith("b.csv")
    assert services.customers.total() == 6
    assert services.customers.search("ann")[0].first_name == "Ann"
    assert not services.customers.search("cat")
    assert importer.undo_last_import().removed == 1
    assert services.customers.total() == 5


def test_vcard_export_import_round_trip(services: Services, other: Services,
                                        tmp_path: Path) -> None:
    ids = fill(services, varied_drafts(60))
    path = tmp_path / "all.vcf"
    assert service_for(services).export_vcard(path, version="3.0").count == 60
    importer = service_for(other)
    preview = importer.preview(path)
    assert preview.format == "vcard" and preview.row_count == 60, preview.problems[:3]
    assert importer.run(preview.plan).created == 60
    assert importer.run(importer.preview(path).plan).skipped_duplicates == 60
    names = sorted(services.customers.get(i).display_name for i in ids)
    assert sorted(other.customers.get(i).display_name for i in range(1, 61)) == names


def test_ics_export_uses_leap_day_setting(services: Services, tmp_path: Path) -> None:
    fill(services, [CustomerDraft(first_name="Leap", special_dates=(
        SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, None),))])
    path = tmp_path / "dates.ics"
    service_for(services).export_ics(path)
    assert "BYMONTH=2;BYMONTHDAY=-1" in path.read_text(encoding="utf-8")
    services.settings.update({"touchpoints.leap_day_policy": "mar1"})
    service_for(services).export_ics(path)
    assert "BYYEARDAY=60" in path.read_text(encoding="utf-8")


def test_export_follows_the_list_query(services: Services, tmp_path: Path) -> None:
    fill(services, varied_drafts(30))
    path = tmp_path / "vip.csv"
    result = service_for(services).export_csv(path, ListQuery(tag="vip", archived=None))
    assert result.count == 10
    assert path.read_text(encoding="utf-8-sig").count("vip") == 10
