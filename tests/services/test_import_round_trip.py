"""The app's own CSV export imports back with everything it exported (issue 14): 200 demo
customers exported, imported into an empty database and exported again give the same cells in
every column, "Last contact" included (it used to be recognised and never read, so 172 of 200
customers lost it and keep-in-touch reminders multiplied)."""

from __future__ import annotations

import csv
from pathlib import Path

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.csv_codec import OWN_HEADERS
from crmcompanion.services.container import open_services
from crmcompanion.services.customers import ListQuery
from crmcompanion.services.import_export import LAST_CONTACT_SUMMARY
from tests.services.helpers import export_demo_csv


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def test_own_export_round_trips_every_field(tmp_path: Path, clock: FixedClock) -> None:
    first = export_demo_csv(tmp_path, clock, 200)
    header, before = _rows(first)
    contact = header.index(OWN_HEADERS["last_contact"])
    assert sum(1 for r in before if r[contact]) > 100  # the demo logs conversations

    target = open_services(f"sqlite:///{tmp_path / 'copy.sqlite3'}", tmp_path / "b2", clock)
    try:
        preview = target.import_export.preview(first)
        assert preview.recognised == "crmcompanion" and not preview.unknown_headers
        assert not preview.unimported_contacts
        result = target.import_export.run(preview.plan, skip_invalid=False)
        # Rows sharing an email with an earlier row are skipped as duplicates of the file.
        assert result.created + result.skipped_duplicates == len(before)
        again = tmp_path / "again.csv"
        target.import_export.export_csv(again)
        overdue_after = _keep_in_touch_overdue(target)
        # The last contact is a conversation in the customer's history, read as any other.
        someone = next(c for c in target.customers.list_customers(ListQuery(archived=None), 50)
                       if target.interactions.history(c.id))
        [entry] = target.interactions.history(someone.id)
        assert entry.summary == LAST_CONTACT_SUMMARY and entry.occurred_at.tzinfo is not None
    finally:
        target.close()
    header_again, after = _rows(again)
    assert header_again == header
    uid = header.index(OWN_HEADERS["source_uid"])
    by_uid = {r[uid]: r for r in after}
    skipped = {m.line for m in result.duplicates}
    compared = 0
    for line, row in enumerate(before, start=2):
        if line in skipped:
            continue
        assert row[uid] in by_uid, row
        mismatched = {header[i]: (a, b) for i, (a, b) in enumerate(
            zip(row, by_uid[row[uid]], strict=True)) if a != b}
        assert mismatched == {}, (line, mismatched)
        compared += 1
    assert compared == result.created
    # Keep-in-touch runs from the imported last contacts: no more customers overdue than in
    # the source (the skipped duplicates can only make it fewer).
    source = open_services(f"sqlite:///{tmp_path / 'source.sqlite3'}", tmp_path / "b3", clock)
    try:
        overdue_before = _keep_in_touch_overdue(source)
    finally:
        source.close()
    assert 0 < overdue_after <= overdue_before
    assert overdue_after >= overdue_before - result.skipped_duplicates


def _keep_in_touch_overdue(services) -> int:
    return sum(1 for t in services.touchpoints.due(0)
               if t.occasion.value == "keep_in_touch" and t.date < services.clock.today())
