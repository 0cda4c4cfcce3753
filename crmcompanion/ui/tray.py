"""The system tray: icon and menu, the tray-message notifier, and close-to-tray behaviour.

Where a system tray exists, closing the window hides it and reminders keep running (a
setting, on by default; the user is told once). Where none exists (offscreen, some Wayland
desktops) closing quits, and `--minimized` shows a minimised window instead.

`TrayNotifier` is the fallback notification backend: it is called on the scheduler's worker
thread, so it only emits a signal; the queued connection shows the message on the GUI thread.
Clicking a message that names one customer asks the main window to open that customer.

`ReminderTray` is the glue the composition root builds: it shows the window (or not), starts
the reminder runner only once the window is up (APScheduler, the reminder engine and the
desktop notification backends are imported then, off the path to Today's first rows), keeps
the tray count and the change bus in step with delivered reminders, applies the reminder
settings (autostart file, reminder time) when they change, and stops the runner before the
app quits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from crmcompanion import APP_NAME
from crmcompanion.services.changes import Changed
from crmcompanion.services.container import Services
from crmcompanion.services.reminders import (
    AUTOSTART,
    DAILY_DIGEST,
    KEEP_RUNNING_IN_TRAY,
    REMINDER_TIME,
    TRAY_HINT_SHOWN,
)
from crmcompanion.ui.badge import badge_text

if TYPE_CHECKING:  # imported for real only when the runner starts (APScheduler is heavy)
    from crmcompanion.reminders.engine import PassReport, ReminderEngine
    from crmcompanion.reminders.notifier import Notification, Notifier, NotifierChain
    from crmcompanion.reminders.runner import ReminderRunner

logger = logging.getLogger(__name__)

MESSAGE_MS = 10_000
RUNNER_FALLBACK_MS = 1500


def tray_available() -> bool:
    return QSystemTrayIcon.isSystemTrayAvailable()


class TrayController(QObject):
    """The tray icon and its menu. The actions are plain QActions so tests can trigger them."""

    open_requested = Signal()
    reminders_requested = Signal()
    quit_requested = Signal()
    customer_requested = Signal(int)

    def __init__(self, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.menu = QMenu()
        self.open_action = self.menu.addAction("Open " + APP_NAME)
        self.reminders_action = self.menu.addAction("Today's reminders")
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction("Quit")
        self.open_action.triggered.connect(self.open_requested)
        self.reminders_action.triggered.connect(self.reminders_requested)
        self.quit_action.triggered.connect(self.quit_requested)
        self.icon = QSystemTrayIcon(icon, self)
        self.icon.setToolTip(APP_NAME)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(self._message_clicked)
        self._last_customer: int | None = None

    @property
    def available(self) -> bool:
        return tray_available()

    def show(self) -> bool:
        """Show the icon where a tray exists; False (and nothing shown) otherwise."""
        if not self.available:
            return False
        self.icon.show()
        return True

    def hide(self) -> None:
        self.icon.hide()

    def set_count(self, count: int) -> None:
        badge = badge_text(count)
        self.icon.setToolTip(f"{APP_NAME} - {badge} new reminders" if badge else APP_NAME)
        self.reminders_action.setText(
            f"Today's reminders ({badge})" if badge else "Today's reminders"
        )

    def show_message(self, notification: Notification) -> None:
        self._last_customer = notification.customer_id
        self.icon.showMessage(
            notification.title, notification.body,
            QSystemTrayIcon.MessageIcon.Information, MESSAGE_MS,
        )

    def _message_clicked(self) -> None:
        if self._last_customer is not None:
            self.customer_requested.emit(self._last_customer)
        else:
            self.reminders_requested.emit()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.open_requested.emit()


class TrayNotifier(QObject):
    """The `Notifier` that shows a tray balloon; safe to call from any thread."""

    name = "tray"
    _show = Signal(object)

    def __init__(self, tray: TrayController) -> None:
        super().__init__()
        self._tray = tray
        # Queued when emitted from the scheduler's thread: shown on the GUI thread.
        self._show.connect(tray.show_message)

    def notify(self, notification: Notification) -> None:
        from crmcompanion.reminders.notifier import NotificationFailed  # loaded by the engine

        if not self._tray.available or not self._tray.icon.isVisible():
            raise NotificationFailed("there is no system tray to show a message in")
        if not QSystemTrayIcon.supportsMessages():
            raise NotificationFailed("the system tray cannot show messages")
        self._show.emit(notification)


class _PassRelay(QObject):
    """Carries a finished pass from the scheduler thread to the GUI thread."""

    finished = Signal(object)

    def report(self, report: PassReport) -> None:
        self.finished.emit(report)  # emitted on the worker thread: a queued connection


class ReminderTray(QObject):
    """Wires reminders into the GUI: engine + scheduler + tray + close-to-tray behaviour.

    Built by the composition root after the main window. `publish` receives a `Changed`
    whenever a pass delivered something (the app's change bus), so the list and badge refresh.
    Call `handle_close()` from the window's closeEvent and `on_changed` from the change bus.
    """

    runner_started = Signal()
    pass_finished = Signal(object)  # a PassReport, on the GUI thread

    def __init__(
        self,
        services: Services,
        window: QWidget,
        icon: QIcon,
        publish: Callable[[Changed], None],
        open_customer: Callable[[int], None] | None = None,
        show_reminders: Callable[[], None] | None = None,
        notifiers: Sequence[Notifier] | None = None,
    ) -> None:
        super().__init__(window)
        self.services = services
        self.window = window
        self.tray = TrayController(icon, self)
        self.tray_notifier = TrayNotifier(self.tray)
        self._given_notifiers = notifiers
        self._engine: ReminderEngine | None = None  # built with the runner (see `engine`)
        self.runner: ReminderRunner | None = None  # built by start_runner()
        self._relay = _PassRelay()
        self._relay.finished.connect(self._on_pass)
        self._publish = publish
        self._quitting = False
        self._stopped = False
        self.tray.open_requested.connect(self.bring_to_front)
        self.tray.quit_requested.connect(self.quit)
        if show_reminders is not None:
            self.tray.reminders_requested.connect(self.bring_to_front)
            self.tray.reminders_requested.connect(show_reminders)
        if open_customer is not None:
            self.tray.customer_requested.connect(self.bring_to_front)
            self.tray.customer_requested.connect(open_customer)
        self.in_tray = self.tray.show()

    @property
    def engine(self) -> ReminderEngine:
        """The reminder engine and its notifier chain, built on first use: by the runner once
        Today's rows are on screen, not before them (issue 13: ~5 ms of modules at start)."""
        if self._engine is None:
            from crmcompanion.reminders.engine import ReminderEngine
            from crmcompanion.reminders.notifier import NotifierChain, desktop_notifiers

            # Desktop notification first (D-Bus on Linux, then plyer), the tray balloon when
            # it fails; the in-app list has every reminder whatever these do.
            given = self._given_notifiers
            chain = [*desktop_notifiers(), self.tray_notifier] if given is None else list(given)
            self._engine = ReminderEngine(self.services.reminders, NotifierChain(chain))
            self._engine.add_listener(self._relay.report)
        return self._engine

    @property
    def notifiers(self) -> NotifierChain:
        return self.engine.notifiers

    # --- lifecycle -----------------------------------------------------------------------
    def start(self, minimized: bool = False) -> None:
        """Show the window (or not: tray only / minimised), then start the scheduler from
        the event loop, once the window is up."""
        if minimized and self.in_tray:
            logger.info("Starting in the tray")
        elif minimized:
            # No tray to come back from: a minimised window the user can find in the taskbar.
            self.window.showMinimized()
        else:
            self.window.show()
        painted = getattr(self.window, "first_painted", None)
        if painted is not None and self.window.isVisible() and not self.window.painted:
            # Its first pass reads the database on its thread and would compete with the
            # window's first paint for the interpreter: start it once the window is painted.
            painted.connect(self.start_runner)
            # A window that never paints (minimised on some platforms) must not keep the
            # reminders waiting: start anyway a moment later (start_runner runs once).
            QTimer.singleShot(RUNNER_FALLBACK_MS, self, self.start_runner)
        else:
            QTimer.singleShot(0, self, self.start_runner)

    def start_runner(self) -> None:
        """Import APScheduler and start the runner (its first pass catches up at once); and
        refresh the autostart entry, which can wait as long (a settings read, a file)."""
        if self._stopped or self.runner is not None:
            return
        if self.services.settings.get(AUTOSTART):
            self.apply_autostart()  # refresh the entry (the install may have moved)
        from crmcompanion.reminders.runner import ReminderRunner

        self.runner = ReminderRunner(self.engine, self.services.clock)
        self.runner.start()
        self.refresh_count()
        logger.info("Reminder runner started")
        self.runner_started.emit()

    def stop(self) -> None:
        """Stop the runner (waiting briefly for a running pass) and hide the icon. Idempotent."""
        self._stopped = True
        if self.runner is not None:
            self.runner.stop()
        self.tray.hide()

    def quit(self) -> None:
        self._quitting = True
        self.stop()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def bring_to_front(self) -> None:
        if self.window.isMinimized():
            self.window.showNormal()
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()

    # --- close-to-tray -------------------------------------------------------------------
    def keeps_running_on_close(self) -> bool:
        return (
            not self._quitting
            and self.in_tray
            and self.tray.available
            and self.tray.icon.isVisible()
            and bool(self.services.settings.get(KEEP_RUNNING_IN_TRAY))
        )

    def handle_close(self) -> bool:
        """Call from the window's closeEvent: True means "hide, don't quit" (event ignored).

        False: the app quits (no tray, the setting is off, or Quit was chosen); the runner is
        stopped before the window goes.
        """
        if not self.keeps_running_on_close():
            if not self._quitting:
                self.quit()
            return False
        self.window.hide()
        if not self.services.settings.get(TRAY_HINT_SHOWN):
            from crmcompanion.reminders.notifier import Notification

            self.tray.show_message(
                Notification(
                    f"{APP_NAME} keeps running",
                    "Reminders keep arriving while the window is closed. Use Quit in the tray "
                    "menu to stop them; Settings can turn this off.",
                )
            )
            self.services.settings.update({TRAY_HINT_SHOWN.key: True})
        return True

    # --- settings and the change bus ---------------------------------------------------------
    def on_changed(self, changed: Changed) -> None:
        """Connect to the app's change bus."""
        if changed.reminders:
            self.refresh_count()
        if AUTOSTART.key in changed.settings:
            self.apply_autostart()
        if self.runner is not None and (
            REMINDER_TIME.key in changed.settings or DAILY_DIGEST.key in changed.settings
        ):
            self.runner.reschedule()  # a new reminder time may make items due right now

    def apply_autostart(self) -> None:
        """Write or remove the login autostart entry to match the setting."""
        from crmcompanion.reminders.autostart import set_autostart  # only when it changes

        enabled = bool(self.services.settings.get(AUTOSTART))
        try:
            set_autostart(enabled)
        except OSError as exc:
            logger.warning("Could not %s the autostart entry: %s",
                           "write" if enabled else "remove", exc)

    def refresh_count(self) -> None:
        try:
            self.tray.set_count(self.services.reminders.unacknowledged_count())
        except Exception:  # a closing database must not break the tray
            logger.exception("Could not count the unseen reminders")

    def _on_pass(self, report: PassReport) -> None:
        self.refresh_count()
        self._publish(report.changed)
        self.pass_finished.emit(report)
