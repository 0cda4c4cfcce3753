"""The "Team database" window on a real server, through its widgets (offscreen): fill in the
server, test the connection (no tables yet), prepare the database, test again (ready); a
wrong port says so in one sentence; the password never appears."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from PySide6.QtCore import Qt
from sqlalchemy.engine import make_url

from crmcompanion.ui.team_database import TeamDatabaseDialog


def fill(qtbot, dialog: TeamDatabaseDialog, url: str, port: int | None = None) -> None:
    parsed = make_url(url)
    qtbot.keyClicks(dialog.host, parsed.host)
    dialog.port.setValue(port or parsed.port)
    qtbot.keyClicks(dialog.database, parsed.database)
    qtbot.keyClicks(dialog.user, parsed.username)
    dialog.tls.setCurrentIndex(0)  # the test server offers no TLS: "when offered"


def click_and_wait(qtbot, dialog: TeamDatabaseDialog, button) -> str:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.task is not None and dialog.task.done, timeout=60_000)
    return dialog.status.text()


@pytest.fixture
def dialog(qtbot) -> TeamDatabaseDialog:
    shown = TeamDatabaseDialog()
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitExposed(shown)
    return shown


def test_test_prepare_and_test_again(qtbot, dialog: TeamDatabaseDialog,
                                     empty_pg_database: str, tmp_path: Path) -> None:
    fill(qtbot, dialog, empty_pg_database)
    said = click_and_wait(qtbot, dialog, dialog.test_button)
    assert "Connected to PostgreSQL" in said and "no CRM Companion tables yet" in said

    said = click_and_wait(qtbot, dialog, dialog.migrate_button)
    assert "The database is prepared" in said
    assert "CRMCOMPANION_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1" in said
    with psycopg.connect(empty_pg_database.replace("+psycopg", "")) as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone() == (0,)

    said = click_and_wait(qtbot, dialog, dialog.test_button)
    assert "It is ready for CRM Companion" in said
    dialog.grab().save(str(tmp_path / "team_database.png"))


def test_an_unreachable_server_is_one_sentence(qtbot, dialog: TeamDatabaseDialog,
                                               pg_database: str) -> None:
    fill(qtbot, dialog, pg_database, port=1)
    said = click_and_wait(qtbot, dialog, dialog.test_button)
    assert said.startswith("Cannot use the PostgreSQL database") and "\n" not in said
    assert dialog.test_button.isEnabled() and dialog.migrate_button.isEnabled()


def test_nothing_is_tried_without_a_server(qtbot, dialog: TeamDatabaseDialog) -> None:
    assert not dialog.test_button.isEnabled()  # greyed out until server and database are typed
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert dialog.task is None
