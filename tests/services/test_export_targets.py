"""Every writer of a user-chosen file goes through core.atomic_file's gate: the CSV, vCard and
iCalendar exports and the personal-data zip (the GUI's dialogs call these same services)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crmcompanion.core.atomic_file import UnsafeOutput
from crmcompanion.core.customer import CustomerDraft
from crmcompanion.services.container import Services

Writer = Callable[[Services, Path], object]
WRITERS: dict[str, Writer] = {
    "csv": lambda s, p: s.import_export.export_csv(p),
    "vcard": lambda s, p: s.import_export.export_vcard(p),
    "ics": lambda s, p: s.import_export.export_ics(p),
    "personal data": lambda s, p: s.personal_data.export_personal_data(1, p),
}


@pytest.mark.parametrize("writer", WRITERS)
def test_no_writer_can_overwrite_the_database(services: Services, tmp_path: Path,
                                              writer: str) -> None:
    services.customers.create(CustomerDraft(first_name="Anna", last_name="Berg"))
    db = tmp_path / "crmcompanion.sqlite3"
    before = db.read_bytes()
    with pytest.raises(UnsafeOutput, match="it is the CRM Companion database"):
        WRITERS[writer](services, db)
    assert db.read_bytes() == before
    assert services.customers.search("Anna", 5)  # still a working database


@pytest.mark.parametrize("writer", WRITERS)
def test_no_writer_creates_a_missing_folder(services: Services, tmp_path: Path,
                                            writer: str) -> None:
    services.customers.create(CustomerDraft(first_name="Anna", last_name="Berg"))
    with pytest.raises(UnsafeOutput, match="does not exist"):
        WRITERS[writer](services, tmp_path / "missing" / "out")
    assert not (tmp_path / "missing").exists()
