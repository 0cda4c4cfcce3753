"""pytest-qt tests: the in-app reminder list and badge, the tray menu's actions, the
"no notification service" path, single-instance activation and the autostart file."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QIcon

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.reminders.autostart import autostart_file, set_autostart
from crmcompanion.reminders.engine import ReminderEngine
from crmcompanion.reminders.notifier import Notification, NotifierChain, PlyerNotifier
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.reminder_list import ReminderListWidget, badge_text
from crmcompanion.ui.tray import TrayController, TrayNotifier


def add_birthday(services, first: str) -> int:
    """A birthday 3 days after the fixed clock's today: due now (3-day lead), turning 46."""
    day = services.clock.today() + timedelta(days=3)
    draft = CustomerDraft(
        first_name=first, last_name="Test",
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, day.month, day.day, 1980),),
    )
    return services.customers.create(draft).customer.id


def test_badge_text() -> None:
    assert [badge_text(n) for n in (0, 1, 7, 99, 100)] == ["", "1", "7", "99", "99+"]


def test_no_notification_service_keeps_reminder_in_list_and_logs_why(
    qtbot, services, monkeypatch, caplog
) -> None:
    ada = add_birthday(services, "Ada")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    bus = AppState()
    widget = ReminderListWidget(services.reminders, bus)
    qtbot.addWidget(widget)
    assert widget.count == 0 and widget.empty.isVisibleTo(widget)
    tray = TrayController(QIcon())
    chain = NotifierChain([PlyerNotifier(), TrayNotifier(tray)])
    engine = ReminderEngine(services.reminders, chain)
    with caplog.at_level(logging.WARNING), qtbot.waitSignal(widget.count_changed) as counted:
        report = engine.run_pass()
        bus.publish(report.changed)
    assert counted.args == [1]
    assert report.channels == ["app"]
    assert "there is no D-Bus session bus" in caplog.text
    assert "there is no system tray" in caplog.text
    assert widget.list.item(0).text().startswith("Birthday: Ada Test - turns 46")
    assert widget.heading.text() == "Reminders (1)"
    with qtbot.waitSignal(widget.customer_activated) as opened:
        widget.list.itemActivated.emit(widget.list.item(0))
    assert opened.args == [ada]
    widget.mark_seen.click()
    assert widget.count == 0
    assert services.reminders.unacknowledged_count() == 0


def test_tray_menu_actions_emit_their_signals(qtbot) -> None:
    tray = TrayController(QIcon())
    for action, signal in (
        (tray.open_action, tray.open_requested),
        (tray.reminders_action, tray.reminders_requested),
        (tray.quit_action, tray.quit_requested),
    ):
        with qtbot.waitSignal(signal, timeout=1000):
            action.trigger()
    assert [a.text() for a in tray.menu.actions() if a.text()] == [
        "Open CRM Companion", "Today's reminders", "Quit"
    ]
    tray.set_count(3)
    assert tray.reminders_action.text() == "Today's reminders (3)"
    # Clicking a message that names a customer asks to open that customer.
    tray.show_message(Notification("Birthday: Ada", "turns 40", customer_id=12))
    with qtbot.waitSignal(tray.customer_requested) as clicked:
        tray.icon.messageClicked.emit()
    assert clicked.args == [12]


def test_autostart_file_goes_to_xdg_config_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    path = set_autostart(True, ["/opt/crm companion/bin/crmcompanion", "--minimized"])
    assert path == autostart_file() == tmp_path / "autostart" / path.name
    text = path.read_text()
    assert "Exec='/opt/crm companion/bin/crmcompanion' --minimized" in text
    assert "[Desktop Entry]" in text and "Type=Application" in text
    set_autostart(False)
    assert not path.exists()


@pytest.mark.parametrize("count", [10_000])
def test_badge_signal_survives_many_emits(qtbot, services, count: int) -> None:
    widget = ReminderListWidget(services.reminders)
    qtbot.addWidget(widget)
    seen = []
    widget.count_changed.connect(seen.append)
    for _ in range(count):
        widget.count_changed.emit(0)
    assert len(seen) == count and date.today()  # a bad PySide6 aborts before this
