"""Team mode: the server connection drops (server restart, network, an administrator ending
the session). Between two calls the next call simply works (the pool pings and reconnects);
during a save the unit is rolled back whole and the user is told in one sentence that nothing
was saved (`ConnectionDropped`), and saving again works; the customer editor keeps what was
typed through it.

The drop is real: the test's admin connection ends the app's backend with
pg_terminate_backend. To drop it *during* a save, the admin holds the customer's row
(SELECT ... FOR UPDATE), so the save queues behind it, and ends the queued backend.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path

import psycopg
import pytest
from PySide6.QtCore import Qt

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.services.container import Services, open_services
from crmcompanion.store.database import ConnectionDropped
from crmcompanion.ui.customer_editor import CustomerEditor
from tests.postgres.dropping import dsn, end_first_queued
from tests.ui.helpers import save_shot


@pytest.fixture
def services(pg_database: str) -> Iterator[Services]:
    opened = open_services(pg_database)
    yield opened
    opened.close()


@pytest.fixture
def customer_id(services: Services) -> int:
    return services.customers.create(
        CustomerDraft(first_name="Mara", last_name="Vogt", notes="First visit")).customer.id


def _terminate_others(url: str) -> int:
    with psycopg.connect(dsn(url), autocommit=True) as admin:
        return len(admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall())


@contextmanager
def _dropped_during_save(url: str, customer_id: int) -> Iterator[list[int]]:
    """While inside, the customer's row is held; the first backend that queues behind it is
    ended (its pid lands in the yielded list) and then the row is let go."""
    killed: list[int] = []
    with psycopg.connect(dsn(url)) as admin:
        admin.execute("SELECT id FROM customers WHERE id = %s FOR UPDATE", (customer_id,))
        holder = admin.info.backend_pid

        killer = threading.Thread(target=end_first_queued, args=(url, holder, killed))
        killer.start()
        try:
            yield killed
        finally:
            killer.join(120)
            admin.rollback()


def test_the_next_call_after_a_dropped_connection_works(services: Services, customer_id: int,
                                                        pg_database: str) -> None:
    services.customers.get(customer_id)  # a pooled connection now exists
    assert _terminate_others(pg_database) >= 1
    read = services.customers.get(customer_id)  # pre-ping replaces the dead connection
    saved = services.customers.update(customer_id, replace(read.to_draft(), notes="Second"),
                                      read.version, read.to_draft())
    assert saved.customer.notes == "Second"


def test_a_save_whose_connection_drops_saves_nothing_and_saving_again_works(
        services: Services, customer_id: int, pg_database: str) -> None:
    read = services.customers.get(customer_id)
    mine = replace(read.to_draft(), notes="Wants the blue one")
    with (_dropped_during_save(pg_database, customer_id) as killed,
          pytest.raises(ConnectionDropped, match="nothing was saved")):
        services.customers.update(customer_id, mine, read.version, read.to_draft())
    assert len(killed) == 1
    stored = services.customers.get(customer_id)
    assert (stored.notes, stored.version) == ("First visit", read.version)
    saved = services.customers.update(customer_id, mine, read.version, read.to_draft())
    assert saved.customer.notes == "Wants the blue one"


def test_the_editor_keeps_the_typed_form_when_the_connection_drops(
        qtbot, services: Services, customer_id: int, pg_database: str,
        tmp_path: Path) -> None:
    editor = CustomerEditor(services.customers, date(2026, 12, 6),
                            services.customers.get(customer_id))
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    editor.first_name.selectAll()
    qtbot.keyClick(editor.first_name, Qt.Key.Key_Backspace)
    qtbot.keyClicks(editor.first_name, "Marianne")
    with _dropped_during_save(pg_database, customer_id) as killed:
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert len(killed) == 1
    assert editor.banner.isVisible()
    assert "nothing was saved" in editor.banner.text()
    assert editor.first_name.text() == "Marianne"
    assert editor.result() == 0 and services.customers.get(customer_id).first_name == "Mara"
    save_shot(editor, tmp_path, "dropped_connection.png")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert editor.result() == editor.DialogCode.Accepted
    assert services.customers.get(customer_id).first_name == "Marianne"
