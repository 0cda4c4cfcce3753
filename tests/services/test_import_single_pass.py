"""The preview reads a CSV file once (pass 1 does the preview's work batch by batch): it must
report exactly what the old preview (pass 1, then a second full pass) reported: the same
problems in the same order with the same lines, first rows, duplicates and counts."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from crmcompanion.core import csv_import
from crmcompanion.core.csv_codec import OWN_COLUMNS
from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.core.customer_values import draft_of
from crmcompanion.services.container import Services
from crmcompanion.services.import_export import (
    PREVIEW_ROWS,
    CsvFormat,
    ImportPlan,
    ImportPreview,
    RowProblem,
    _Matcher,
)

HEADERS = [h for _, h in OWN_COLUMNS]


def _old_preview(services: Services, path: Path) -> tuple[object, ...]:
    # The preview before the single pass, kept verbatim: inspect_csv, then `_rows` again.
    service = services.import_export
    region = "US"
    report = csv_import.inspect_csv(path, default_region=region)
    plan = ImportPlan(str(path), CsvFormat.CSV, (), report.date_order, region,
                      report.row_count, report)
    rejected: list[RowProblem] = []
    first_rows: list[CustomerDraft] = []
    duplicates = []
    count = 0
    matcher = _Matcher()
    fatal = False
    with services.db.read() as session:
        try:
            for batch in service._rows(plan, rejected):
                for row in batch:
                    if len(first_rows) < PREVIEW_ROWS:
                        first_rows.append(draft_of(row.values))
                _, found = matcher.split(session, batch)
                count += len(found)
                duplicates.extend(found)
        except csv_import.CsvImportError as exc:
            fatal = True
            rejected = [RowProblem(i.line, i.column, i.reason, i.code, fatal=True)
                        for i in exc.issues]
    problem_count = max(len(rejected), report.issue_count) if fatal else len(rejected)
    return (tuple(first_rows), tuple(rejected[:1000]), problem_count, tuple(duplicates[:1000]),
            count, report.row_count, report.date_order)


def _new(preview: ImportPreview) -> tuple[object, ...]:
    return (preview.first_rows, preview.problems, preview.problem_count, preview.duplicates,
            preview.duplicate_count, preview.row_count, preview.date_order)


def _write(path: Path, n: int, *, settle_late: bool = False, seed: int = 5,
           day_first: str = "") -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for i in range(n):
            row = dict.fromkeys(HEADERS, "")
            row["First name"] = rng.choice(["Anna", "Ben", "", "Zoë"])
            row["Last name"] = f"Row{i}"
            row["Emails"] = rng.choice([f"p{i}@example.org", "shared@example.org", "",
                                        "not-an-email", f"P{i % 50}@Example.org"])
            row["Phones"] = rng.choice(["", "+4930123456", "030 1234567", f"+1555{i:07d}"])
            row["Tags"] = rng.choice(["", "VIP", "t" * 70, "a ::: b"])  # 70: too long a tag
            row["Birthday"] = rng.choice(["", "03/04/1970", "1971-02-30", "12/11", day_first])
            row["Status"] = rng.choice(["active", "active", "sleepy"])
            if settle_late and i == n - 3:
                row["Birthday"] = "3/14/1971"  # settles month-first near the end
            cells = [row[h] for h in HEADERS]
            if rng.random() < 0.01:
                cells = cells[:-2]  # a short row
            writer.writerow(cells)


def test_single_pass_preview_reports_what_two_passes_did(services: Services,
                                                         tmp_path: Path) -> None:
    services.customers.create(CustomerDraft(first_name="Stored", emails=(
        EmailAddress("shared@example.org", "home"),)))
    path = tmp_path / "big.csv"
    _write(path, 12_000, day_first="25/12/1970")  # three batches of the service's 5,000
    new = services.import_export.preview(path)
    assert new.problem_count > 0 and new.duplicate_count > 0
    assert _new(new) == _old_preview(services, path)


def test_rows_read_before_the_date_order_settled_are_shown_month_first(
        services: Services, tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    _write(path, 600, settle_late=True, seed=9)
    new = services.import_export.preview(path)
    assert new.date_order is not None and new.date_order.value == "mdy"
    old = _old_preview(services, path)
    assert _new(new) == old
    assert any(s.month == 3 and s.day == 4 for d in new.first_rows for s in d.special_dates)


def test_fatal_file_reports_only_the_file_problem(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "ambiguous.csv"
    _write(path, 50, seed=3)
    text = path.read_text(encoding="utf-8").replace("1971-02-30", "")
    path.write_text(text, encoding="utf-8")
    new = services.import_export.preview(path)
    assert new.date_order_ambiguous and new.fatal and new.first_rows == ()
    assert _new(new) == _old_preview(services, path)


def test_run_reads_a_file_changed_since_the_preview_again(services: Services,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "changed.csv"
    path.write_text("First name,Last name,Emails\r\nAnna,Berg,anna@example.org\r\n",
                    encoding="utf-8")
    preview = services.import_export.preview(path)
    # Columns swapped and one added: the preview's column mapping no longer fits the file.
    path.write_text("Company,Last name,First name,Emails\r\n"
                    "Fjord AS,Berg,Anna,anna@example.org\r\n", encoding="utf-8")
    result = services.import_export.run(preview.plan)
    assert result.created == 1 and result.rejected_count == 0
    out = tmp_path / "out.csv"
    services.import_export.export_csv(out)
    exported = out.read_text(encoding="utf-8-sig")
    assert "\nAnna,Berg," in exported and ",Fjord AS," in exported
