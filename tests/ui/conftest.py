"""Real widgets over a real temporary SQLite database, offscreen, on a fixed day."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import datetime

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.settings import CONFIRM_DELETE, WELCOME_COMPLETED
from crmcompanion.services.container import Services, open_services

NOW = datetime(2026, 3, 1, 9, 30)


@pytest.fixture
def services(tmp_path) -> Services:
    opened = open_services(
        f"sqlite:///{tmp_path / 'crm.sqlite3'}", tmp_path / "backups", FixedClock(NOW)
    )
    # The first-start welcome (a modal dialog) would sit over every window on an empty
    # database; tests of the first start set this back (tests/ui/test_first_run.py).
    opened.settings.update({WELCOME_COMPLETED.key: True})
    yield opened
    opened.close()


@pytest.fixture
def make_window(qtbot, qapp, services):
    """Build the main window over `services` (seed the database first if a test needs to)."""
    from crmcompanion.ui.main_window import MainWindow
    from crmcompanion.ui.style import apply_look

    def make():
        apply_look(qapp)
        main = MainWindow(services)
        qtbot.addWidget(main)
        main.resize(1280, 800)
        main.show()
        qtbot.waitExposed(main)
        main.activateWindow()
        # Today, the first page, loads its data off the GUI thread after the first paint.
        qtbot.waitUntil(lambda: main.today.ready)
        return main

    return make


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def no_confirm(services):
    services.settings.update({CONFIRM_DELETE.key: False})
