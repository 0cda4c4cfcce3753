"""An import into PostgreSQL sends the staged rows to the server as it reads them from the
staging file, never gathered into a list first (issue 17: 100,000 staged customers of 30
columns were fetched before their first COPY, and each of the e-mail, phone and date tables
before its own, time the server sat idle; the list of customers was held to the end of the
import). The customers still go in chunks, one COPY each, with a progress report and a
chance to cancel between them, and every row arrives (store.postgres_import.insert_staged).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from crmcompanion.services import import_export
from crmcompanion.services.container import Services
from crmcompanion.store import postgres_bulk
from tests.services.test_import_touchpoints_at_insert import write_own_file

CHUNK = 10
# The tables whose rows an import reads from its staging file.
STAGED_TABLES = ("customers", "customer_emails", "customer_phones", "customer_tags",
                 "special_dates")


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool, int]]:
    """Each COPY of the import: (table, whether its rows came gathered in a list or tuple,
    how many rows)."""
    seen: list[tuple[str, bool, int]] = []
    real = postgres_bulk.copy_rows

    def spy(session: Session, table: str, columns: Sequence[str],
            rows: Iterable[tuple[object, ...]]) -> int:
        count = real(session, table, columns, rows)
        seen.append((table, isinstance(rows, list | tuple), count))
        return count

    monkeypatch.setattr(postgres_bulk, "copy_rows", spy)
    monkeypatch.setattr(import_export, "BATCH_SIZE", CHUNK)
    return seen


@pytest.mark.parametrize("rows", [25, 2 * CHUNK])
def test_staged_rows_go_to_the_server_as_they_are_read(
        pg_services: Services, tmp_path: Path, copies: list[tuple[str, bool, int]],
        rows: int) -> None:
    path = tmp_path / "own.csv"
    write_own_file(path, rows)
    service = pg_services.import_export
    plan = service.preview(path).plan
    reports: list[int] = []
    result = service.run(plan, progress=lambda done, _total: reports.append(done))
    assert result.created == rows
    gathered = [table for table, listed, _ in copies if listed and table in STAGED_TABLES]
    assert gathered == [], f"rows gathered in a list before their COPY: {gathered}"
    customer_copies = [count for table, _, count in copies if table == "customers"]
    assert sum(customer_copies) == rows
    assert all(count == CHUNK for count in customer_copies[:rows // CHUNK])
    assert reports[:-1] == [min(rows, done) for done in range(CHUNK, rows + CHUNK, CHUNK)]
    with pg_services.db.read() as session:
        stored = session.execute(text(
            "SELECT count(*), count(DISTINCT source_uid), count(*) FILTER (WHERE source_uid "
            "LIKE 'urn:uuid:%') FROM customers")).one()
        emails = session.execute(text("SELECT count(*) FROM customer_emails")).scalar_one()
    assert tuple(stored) == (rows, rows, rows)  # every customer given its own new UID
    assert emails == rows
