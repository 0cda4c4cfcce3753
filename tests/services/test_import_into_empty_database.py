"""A big import into an empty database runs without SQLite's per-row foreign key lookups
(every row it writes refers to rows the same transaction wrote), and the connection has them
back afterwards, whether the import was written, cancelled or failed; an import into a
database that has customers keeps them on throughout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from crmcompanion.core.clock import FixedClock
from crmcompanion.services import import_export
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.import_export import CancelToken, ImportCancelled
from crmcompanion.store import bulk
from tests.services.helpers import export_demo_csv


@pytest.fixture
def exported(tmp_path: Path, clock: FixedClock) -> Path:
    return export_demo_csv(tmp_path, clock, 600)


@pytest.fixture
def services(tmp_path: Path, clock: FixedClock) -> Iterator[Services]:
    opened = open_services(f"sqlite:///{tmp_path / 'crm.sqlite3'}", tmp_path / "b1", clock)
    yield opened
    opened.close()


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The check_foreign_keys of each write unit of work over a staging file."""
    monkeypatch.setattr(import_export, "BIG_LOAD", 100)
    seen: list[bool] = []
    real = bulk.attached

    @contextmanager
    def spied(*args: object, **kwargs: object) -> Iterator[object]:
        if kwargs.get("write"):
            seen.append(bool(kwargs.get("check_foreign_keys", True)))
        with real(*args, **kwargs) as session:  # type: ignore[arg-type]
            yield session

    monkeypatch.setattr(bulk, "attached", spied)
    return seen


def _foreign_keys_enforced(services: Services) -> None:
    """Every pooled write connection enforces foreign keys again: an orphan row is refused."""
    with services.db.write() as session:
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            session.execute(text(
                "INSERT INTO customer_emails (customer_id, position, label, address, "
                "address_key) VALUES (999999, 0, 'home', 'x@y.zz', 'x@y.zz')"))


def _no_orphans(services: Services) -> None:
    with services.db.read() as session:
        assert session.execute(text("PRAGMA foreign_key_check")).all() == []
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_into_an_empty_database_without_checks_then_with_them(
        services: Services, exported: Path, checks: list[bool]) -> None:
    created = services.import_export.run(services.import_export.preview(exported).plan).created
    assert created > 500 and checks == [False]
    _no_orphans(services)
    _foreign_keys_enforced(services)
    # Cascades work again: deleting a customer takes its emails with it.
    with services.db.write() as session:
        session.execute(text("DELETE FROM customers WHERE id = 1"))
    with services.db.read() as session:
        assert session.execute(text(
            "SELECT count(*) FROM customer_emails WHERE customer_id = 1")).scalar() == 0

    # A second import (customers stored now) keeps the checks on.
    services.import_export.run(services.import_export.preview(exported).plan,
                               merge_duplicates=True)
    assert checks == [False, True]
    _no_orphans(services)
    _foreign_keys_enforced(services)


def test_a_cancelled_import_gives_the_checks_back(
        services: Services, exported: Path, checks: list[bool]) -> None:
    plan = services.import_export.preview(exported).plan
    token = CancelToken()

    def progress(done: int, _total: int) -> None:
        if done:
            token.cancel()

    with pytest.raises(ImportCancelled, match="Import cancelled; nothing was written"):
        services.import_export.run(plan, progress=progress, cancel=token)
    assert checks == [False]
    with services.db.read() as session:
        assert session.execute(text("SELECT count(*) FROM customers")).scalar() == 0
    _foreign_keys_enforced(services)
