"""Who did what, on screen: a conversation's history line names who logged it, and Settings
says who this user works as."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.staff import STAFF_ENV_VAR
from crmcompanion.services.container import open_services
from crmcompanion.ui.main_window import CUSTOMERS
from tests.ui.conftest import NOW
from tests.ui.helpers import add_customer, history_shown


def test_history_names_who_logged_each_conversation(qtbot, make_window, services,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    anna = add_customer(services, "Anna", "Berg")
    services.interactions.log(anna.id, "Called about the order")
    monkeypatch.setenv(STAFF_ENV_VAR, "Sam Lee")
    sam = open_services(services.db.url, None, FixedClock(NOW))
    try:
        sam.interactions.log(anna.id, "Sent the quote")
        current = sam.customers.get(anna.id)
        sam.customers.update(anna.id, replace(current.to_draft(), company="Berg AB"),
                             current.version, current.to_draft())
    finally:
        sam.close()
    me = services.staff.current().name
    window = make_window()
    window.show_section(CUSTOMERS)
    window.customers.open_customer(anna.id)
    activity = window.customers.detail.activity
    qtbot.waitUntil(lambda: "Sent the quote" in history_shown(activity))
    lines = history_shown(activity)
    assert any("by Sam Lee" in line for line in lines), lines
    assert any(f"by {me}" in line for line in lines), lines
    profile = [label.text() for label in window.customers.detail.findChildren(QLabel)]
    assert f"Created by {me} · last changed by Sam Lee" in profile


def test_settings_shows_who_this_user_works_as(qtbot, window, services) -> None:
    qtbot.mouseClick(window.settings_button, Qt.MouseButton.LeftButton)
    dialog = window.settings_dialog
    qtbot.waitExposed(dialog)
    assert dialog.staff_label.isVisible()
    assert services.staff.current().name in dialog.staff_label.text()
    assert dialog.staff_label.text().startswith("Working as ")
