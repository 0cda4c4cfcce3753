"""The preview stages the rows it read and checked; `run` inserts them from there instead of
reading the file again, unless the file changed. Duplicates are matched against the database as
it is at the run, not as it was at the preview."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from crmcompanion.core import forking
from crmcompanion.core.customer import (
    CustomerDraft,
    EmailAddress,
    PhoneNumber,
    SpecialDate,
    SpecialDateKind,
)
from crmcompanion.services.container import Services
from crmcompanion.store import rows as store_rows
from crmcompanion.store.customers import ListQuery

HEADER = "First name,Last name,Emails,Phones,Tags,Birthday\r\n"


def _rows(services: Services) -> list:
    return services.customers.page_at(ListQuery(archived=None), 0, 1000, 1000).rows


def _names(services: Services) -> list[str]:
    return sorted(r.display_name for r in _rows(services))


def test_run_inserts_the_staged_rows_without_reading_the_file_again(
        services: Services, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(HEADER + "Anna,Berg,anna@example.org,,,\r\n", encoding="utf-8")
    preview = services.import_export.preview(path)
    stamp = os.stat(path)
    # Same size, same modification time, other content: only a run that reads the file
    # again would see "Enna".
    path.write_text(HEADER + "Enna,Berg,anna@example.org,,,\r\n", encoding="utf-8")
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    result = services.import_export.run(preview.plan)
    assert result.created == 1
    assert _names(services) == ["Anna Berg"]


def test_a_file_changed_since_the_preview_is_read_and_staged_again(
        services: Services, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(HEADER + "Anna,Berg,anna@example.org,,,\r\n", encoding="utf-8")
    preview = services.import_export.preview(path)
    path.write_text(HEADER + "Anna,Berg,anna@example.org,,,\r\nBen,Holm,,,,\r\n",
                    encoding="utf-8")
    result = services.import_export.run(preview.plan)
    assert (result.created, result.rows) == (2, 2)
    assert _names(services) == ["Anna Berg", "Ben Holm"]


def test_customers_stored_after_the_preview_are_matched_at_the_run(
        services: Services, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(HEADER + "Anna,Berg,anna@example.org,,,\r\n"
                    "Ben,Holm,ben@example.org,,,\r\n"
                    "Cleo,Dahl,,+4930123456,,\r\n", encoding="utf-8")
    preview = services.import_export.preview(path)
    assert preview.duplicate_count == 0
    ben = services.customers.create(CustomerDraft(
        first_name="Benjamin", emails=(EmailAddress("Ben@example.org", "work"),)))
    cleo = services.customers.create(CustomerDraft(
        first_name="C.", phones=(PhoneNumber("+49 30 123456", "mobile"),)))
    result = services.import_export.run(preview.plan)
    assert result.created == 1 and result.skipped_duplicates == 2
    assert {(d.line, d.customer_id, d.matched_on) for d in result.duplicates} == {
        (3, ben.customer.id, "email"), (4, cleo.customer.id, "phone")}
    assert _names(services) == ["Anna Berg", "Benjamin", "C."]


def test_duplicates_within_the_file_are_skipped_and_never_merged(
        services: Services, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(HEADER + "Anna,Berg,anna@example.org,,,\r\n"
                    "Anna,B.,ANNA@example.org,,VIP,\r\n", encoding="utf-8")
    result = services.import_export.run(services.import_export.preview(path).plan,
                                        merge_duplicates=True)
    assert (result.created, result.merged) == (1, 0)
    assert [(d.line, d.customer_id) for d in result.duplicates] == [(3, None)]
    assert _names(services) == ["Anna Berg"]


def test_merge_fills_a_stored_customer_from_the_staged_row(
        services: Services, tmp_path: Path) -> None:
    stored = services.customers.create(CustomerDraft(
        first_name="Anna", emails=(EmailAddress("anna@example.org", "home"),)))
    path = tmp_path / "people.csv"
    path.write_text(HEADER + "Anna,Berg,anna@example.org ::: a.berg@example.org,"
                    "+4930123456,Café ::: vip,1970-02-03\r\n"
                    "Ben,Holm,ben@example.org,,,\r\n", encoding="utf-8")
    result = services.import_export.run(services.import_export.preview(path).plan,
                                        merge_duplicates=True)
    assert (result.created, result.merged, result.skipped_duplicates) == (1, 1, 0)
    anna = services.customers.get(stored.customer.id)
    assert anna.last_name == "Berg"
    assert [e.address for e in anna.emails] == ["anna@example.org", "a.berg@example.org"]
    assert [p.number for p in anna.phones] == ["+4930123456"]
    assert sorted(anna.tags) == ["Café", "vip"]
    assert anna.special_dates == (SpecialDate(SpecialDateKind.BIRTHDAY, 2, 3, 1970),)
    assert result.changed.customers == frozenset({stored.customer.id})


def test_rows_staged_before_the_date_order_settled_are_stored_month_first(
        services: Services, tmp_path: Path) -> None:
    rows = [f"P{i},Row,,,,03/04/1970\r\n" for i in range(30)] + ["Last,Row,,,,3/14/1971\r\n"]
    path = tmp_path / "dates.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    preview = services.import_export.preview(path)
    assert preview.date_order is not None and preview.date_order.value == "mdy"
    assert services.import_export.run(preview.plan).created == 31
    birthdays = {(s.month, s.day) for c in _rows(services)
                 for s in services.customers.get(c.id).special_dates}
    assert birthdays == {(3, 4), (3, 14)}


def test_the_staging_file_goes_with_the_plan(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(HEADER + "Anna,Berg,anna@example.org,,,\r\n", encoding="utf-8")
    preview = services.import_export.preview(path)
    staged = preview.plan.staged
    assert staged is not None
    staging_path = Path(staged.file.path)
    # In this process's own scratch folder under <data>/tmp (swept at the next start).
    assert staging_path.exists() and staging_path.parent.parent == tmp_path / "tmp"
    services.import_export.run(preview.plan)
    assert staging_path.exists()  # the same plan may run again (e.g. after a dry run)
    del preview, staged
    gc.collect()
    assert not staging_path.exists()


def test_only_rows_matching_an_earlier_new_row_are_duplicates_of_the_file(
        services: Services, tmp_path: Path) -> None:
    stored = services.customers.create(CustomerDraft(
        first_name="Stored", phones=(PhoneNumber("+4930999888", "mobile"),)))
    path = tmp_path / "chain.csv"
    path.write_text(HEADER
                    + "Ann,A,e1@example.org,,,\r\n"  # new
                    + "Bea,B,e1@example.org ::: e2@example.org,,,\r\n"  # repeats Ann (e1)
                    + "Cy,C,e2@example.org,,,\r\n"  # e2 only on Bea, a duplicate: new
                    + "Dee,D,,+4930999888,,\r\n"  # the stored customer's phone
                    + "Eve,E,e3@example.org,+4930999888,,\r\n"  # the same
                    + "Fay,F,e3@example.org,,,\r\n", encoding="utf-8")  # e3 only on Eve: new
    result = services.import_export.run(services.import_export.preview(path).plan)
    assert [(d.line, d.customer_id, d.matched_on, d.value) for d in result.duplicates] == [
        (3, None, "email", "e1@example.org"), (5, stored.customer.id, "phone", "+4930999888"),
        (6, stored.customer.id, "phone", "+4930999888")]
    assert result.created == 3
    assert _names(services) == ["Ann A", "Cy C", "Fay F", "Stored"]


def test_a_forked_staging_writer_imports_what_this_process_imports(
        services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmcompanion.services import import_export
    from crmcompanion.services.container import open_services

    if not forking.can_fork():
        pytest.skip("this process has other threads (or is not Linux): it would not fork")
    rows = [f"P{i},Row{i},p{i % 900}@example.org,+4930{i % 700:06d},T{i % 5},"
            f"{'03/04/1970' if i % 3 else ''}\r\n" for i in range(3000)]
    rows.append("Last,Row,,,,3/14/1971\r\n")  # month first, settled late: rows restaged
    rows.insert(10, "Bad,Row,not-an-email,,,\r\n")
    path = tmp_path / "many.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")

    def imported(target: Services) -> tuple[object, ...]:
        preview = target.import_export.preview(path)
        result = target.import_export.run(preview.plan, skip_invalid=True)
        with target.db.read() as session:
            # Customers without their time stamps (the import's clock is the real one) and
            # UIDs (random for rows the file gave none).
            columns = ", ".join(("id", *(c for c in store_rows.DATA_COLUMNS
                                         if c != "source_uid")))
            tables = {t: session.execute(text(f"SELECT {columns if t == 'customers' else '*'} "
                                              f"FROM {t} ORDER BY 1")).all()
                      for t in ("customers", "customer_emails", "customer_phones",
                                "customer_tags", "special_dates", "customer_search")}
        return (preview.problems, preview.duplicates, preview.first_rows, result.created,
                result.duplicates, result.rejected, tables)

    here = imported(services)
    monkeypatch.setattr(import_export, "CHILD_STAGING_BYTES", 0)
    folder = tmp_path / "forked"
    folder.mkdir()
    forked = open_services(f"sqlite:///{folder / 'db.sqlite3'}", folder / "b", services.clock)
    try:
        assert imported(forked) == here
    finally:
        forked.close()
    assert here[3] > 600 and here[4] and here[5]


def test_a_big_import_leaves_every_index_and_trigger_as_it_was(
        services: Services, tmp_path: Path) -> None:
    from crmcompanion.services.demo import fill_demo

    fill_demo(services.db, services.clock, 30, staff_id=services.staff_id)  # with history

    def schema() -> list[tuple]:
        with services.db.read() as session:
            return session.execute(text(
                "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                "ORDER BY name")).all()

    before = schema()
    path = tmp_path / "many.csv"
    path.write_text(HEADER + "".join(f"P{i},Row,p{i}@example.org,,T{i % 3},\r\n"
                                     for i in range(1500)), encoding="utf-8")
    # 1,500 rows into 30 customers: the loaded tables' indexes are dropped and rebuilt.
    assert services.import_export.run(services.import_export.preview(path).plan).created == 1500
    assert schema() == before
    with services.db.read() as session:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
