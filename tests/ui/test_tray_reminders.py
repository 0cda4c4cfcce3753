"""pytest-qt tests: the in-app reminder list and badge, the tray menu's actions, the
"no notification service" path, the reminder glue's start/close paths without a tray
(offscreen has none), single-instance activation and the autostart file."""

from __future__ import annotations

import logging
from datetime import timedelta
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

# Clock-sensitive: reminders due on the fixed clock's day.
pytestmark = pytest.mark.clock_sensitive


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
    assert widget.list.item(0).text() == "Birthday: Ada Test\nturns 46 · from 1 Mar"
    assert widget.heading.text() == "Reminders" and widget.count_pill.text() == "1"
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
    # Every emit arrived with its value (a bad PySide6 aborts or drops them before this).
    assert seen == [0] * count


# --- the reminder glue (ReminderTray) without a tray -------------------------------------------


@pytest.fixture
def no_session_bus(monkeypatch) -> None:
    """No D-Bus: plyer's check fails fast and nothing reaches the developer's desktop."""
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


def make_glue(qtbot, services):
    from crmcompanion.ui.main_window import MainWindow, app_icon
    from crmcompanion.ui.tray import ReminderTray

    window = MainWindow(services)
    qtbot.addWidget(window)
    glue = ReminderTray(
        services, window, app_icon(), window.bus.publish,
        open_customer=window.open_customer, show_reminders=window.show_reminders,
    )
    window.close_handler = glue.handle_close
    window.bus.changed.connect(glue.on_changed)
    return window, glue


def test_minimized_without_a_tray_shows_a_minimised_window_and_closing_quits(
    qtbot, services, no_session_bus
) -> None:
    ada = add_birthday(services, "Ada")
    window, glue = make_glue(qtbot, services)
    assert not glue.in_tray  # offscreen: no system tray
    with qtbot.waitSignal(glue.pass_finished, timeout=10_000) as finished:
        glue.start(minimized=True)
    assert window.isVisible() and window.isMinimized()
    assert glue.runner is not None and glue.runner.running
    assert [r.customer_id for r in finished.args[0].delivered] == [ada]
    qtbot.waitUntil(lambda: window.today_badge() == "1")
    assert not glue.keeps_running_on_close()
    # Closing with no tray quits: the runner stops (it used to hang here) and the window goes.
    assert window.close()
    assert not window.isVisible()
    assert not glue.runner.running and not glue.runner.scheduler.running


def test_closing_while_a_pass_runs_does_not_hang(qtbot, services, no_session_bus) -> None:
    """The hang: quitting while a "next-due" pass re-armed itself (APScheduler's shutdown
    joined the worker while holding the lock the worker's add_job needed)."""
    import threading

    add_birthday(services, "Ada")
    entered, release = threading.Event(), threading.Event()

    class SlowNotifier:
        name = "slow"

        def notify(self, notification: Notification) -> None:
            entered.set()
            release.wait(10)

    from crmcompanion.ui.main_window import MainWindow, app_icon
    from crmcompanion.ui.tray import ReminderTray

    window = MainWindow(services)
    qtbot.addWidget(window)
    glue = ReminderTray(services, window, app_icon(), window.bus.publish,
                        notifiers=[SlowNotifier()])
    window.close_handler = glue.handle_close
    glue.start()
    qtbot.waitUntil(lambda: glue.runner is not None)
    assert entered.wait(10), "no pass started"
    # The fixed clock is in the past, so "next-due" fires at once and re-arms after its pass.
    threading.Timer(0.3, release.set).start()
    assert window.close()
    assert not glue.runner.running
    assert services.reminders.unacknowledged_count() == 1  # delivered, not lost


def test_tray_actions_open_the_window_the_reminders_and_the_customer(
    qtbot, services, no_session_bus
) -> None:
    from crmcompanion.ui.main_window import CUSTOMERS, TODAY

    ada = add_birthday(services, "Ada")
    window, glue = make_glue(qtbot, services)
    window.show()
    qtbot.waitExposed(window)
    window.showMinimized()
    glue.tray.open_action.trigger()
    assert window.isVisible() and not window.isMinimized()
    window.show_section(CUSTOMERS)
    glue.tray.reminders_action.trigger()
    assert window.nav.currentRow() == TODAY
    # A tray message that names a customer, clicked: that customer's page opens.
    glue.tray.show_message(Notification("Birthday: Ada Test", "turns 46", customer_id=ada))
    glue.tray.icon.messageClicked.emit()
    assert window.nav.currentRow() == CUSTOMERS
    assert window.customers.selected_id() == ada
    # Quit from the menu stops everything (the app's event loop is not running here).
    glue.start_runner()
    assert glue.runner is not None and glue.runner.running
    glue.tray.quit_action.trigger()
    assert not glue.runner.running


# --- one instance per database ------------------------------------------------------------------


def test_a_second_instance_activates_the_first_and_exits(qtbot, tmp_path, db_url) -> None:
    from crmcompanion.ui.single_instance import SingleInstance

    first = SingleInstance(db_url, tmp_path / "crmcompanion.lock")
    assert first.acquire() and first.listening
    for _ in range(3):  # each later launch is told, and its connection cleaned up
        second = SingleInstance(db_url, tmp_path / "crmcompanion.lock")
        with qtbot.waitSignal(first.activation_requested, timeout=5000):
            assert not second.acquire()
        second.release()
    qtbot.waitUntil(lambda: first.client_count == 0)
    other_db = SingleInstance(db_url + "-other", tmp_path / "crmcompanion.lock")
    assert other_db.acquire()  # another database is another instance
    other_db.release()
    first.release()
    third = SingleInstance(db_url, tmp_path / "crmcompanion.lock")
    assert third.acquire()  # the lock was given back
    third.release()


def test_an_instance_that_listens_later_holds_the_lock_and_answers_once_listening(
    qtbot, tmp_path, db_url
) -> None:
    """The app takes the lock before its window and listens after the first paint."""
    from crmcompanion.ui.single_instance import SingleInstance

    first = SingleInstance(db_url, tmp_path / "crmcompanion.lock")
    assert first.acquire(listen=False) and not first.listening
    early = SingleInstance(db_url, tmp_path / "crmcompanion.lock")
    assert not early.acquire()  # the lock is held: the early launch exits, unanswered
    assert not early.notify_running()
    early.release()
    first.listen()
    first.listen()  # once
    assert first.listening
    later = SingleInstance(db_url, tmp_path / "crmcompanion.lock")
    with qtbot.waitSignal(first.activation_requested, timeout=5000):
        assert not later.acquire()
    later.release()
    first.release()


def test_autostart_entry_is_refreshed_after_the_first_paint_not_before(
    qtbot, services, no_session_bus, tmp_path, monkeypatch
) -> None:
    from crmcompanion.services.reminders import AUTOSTART

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    services.settings.update({AUTOSTART.key: True})
    window, glue = make_glue(qtbot, services)
    glue.start()  # shows the window; the first paint has not happened yet
    assert not autostart_file().exists()
    qtbot.waitUntil(lambda: glue.runner is not None)  # started by the first paint
    assert window.painted and autostart_file().exists()
    glue.stop()


TEARDOWN_SCRIPT = """
import gc, sys, tempfile
from pathlib import Path
from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
from crmcompanion.ui.single_instance import SingleInstance

app = QCoreApplication([])
tmp = Path(tempfile.mkdtemp())

def run(release):
    url = f"sqlite:///{tmp}/db{int(release)}.sqlite3"
    first = SingleInstance(url, tmp / "x.lock")
    assert first.acquire()
    second = SingleInstance(url, tmp / "x.lock")
    loop = QEventLoop()
    first.activation_requested.connect(loop.quit)
    QTimer.singleShot(5000, loop.quit)
    assert not second.acquire()
    loop.exec()
    if release:
        first.release()
        second.release()
    # Return at once: both objects are dropped before the event loop runs again.

for release in (False, True):
    run(release)
    gc.collect()
    for _ in range(20):
        app.processEvents()
print("ok")
"""


def test_dropping_instances_right_after_an_activation_does_not_crash(tmp_path) -> None:
    """The segfault: an accepted socket with a pending deleteLater() was deleted directly
    with its server when the instance object was dropped. Run where a crash is an exit code."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", TEARDOWN_SCRIPT], capture_output=True, text=True,
        timeout=60, env=env, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
