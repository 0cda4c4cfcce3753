"""vCard and iCalendar exports report progress and honour Cancel as the CSV export does: a
cancel at any report leaves neither the file nor a temporary one, and a finished export
reports every EXPORT_TICK customers and its total."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.services import import_export
from crmcompanion.services.container import Services
from crmcompanion.services.import_export import CancelToken, ExportResult, ImportCancelled

Export = Callable[..., ExportResult]


@pytest.fixture
def many(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setattr(import_export, "EXPORT_TICK", 10)
    for i in range(25):
        services.customers.create(CustomerDraft(
            first_name=f"Person{i}",
            special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 1 + i % 12, 1 + i, None),)))
    return services


def _exports(services: Services) -> dict[str, Export]:
    service = services.import_export
    return {"vcf": service.export_vcard, "ics": service.export_ics, "csv": service.export_csv}


@pytest.mark.parametrize("kind", ["vcf", "ics", "csv"])
def test_cancel_at_the_first_report_leaves_no_file(many: Services, tmp_path: Path,
                                                   kind: str) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / f"out.{kind}"
    token = CancelToken()
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        token.cancel()

    with pytest.raises(ImportCancelled, match="Export cancelled; no file was written"):
        _exports(many)[kind](target, progress=progress, cancel=token)
    assert seen == [(10, 25)]
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("kind", ["vcf", "ics", "csv"])
def test_finished_export_reports_progress_up_to_its_total(many: Services, tmp_path: Path,
                                                         kind: str) -> None:
    target = tmp_path / f"out.{kind}"
    seen: list[tuple[int, int]] = []
    result = _exports(many)[kind](target, progress=lambda *done: seen.append(done),
                                  cancel=CancelToken())
    assert seen == [(10, 25), (20, 25), (25, 25)]
    assert target.stat().st_size > 0
    assert result.count == 25  # cards, CSV rows or yearly events: one per customer here


def test_cancel_after_the_last_report_still_writes_no_calendar(many: Services,
                                                               tmp_path: Path) -> None:
    # The calendar is built after every customer is read: a cancel after the last report
    # of the reading (20 of 25) must still stop it before the file is written.
    token = CancelToken()

    def progress(done: int, total: int) -> None:
        if done == 20:
            token.cancel()

    with pytest.raises(ImportCancelled, match="Export cancelled; no file was written"):
        many.import_export.export_ics(tmp_path / "late.ics", progress=progress, cancel=token)
    assert not (tmp_path / "late.ics").exists()
