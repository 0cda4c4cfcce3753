"""Composition root: paths, log file, database, services, QApplication and the main window.

The only module that knows every layer. Opening the database comes before any window: when it
cannot be used (`DatabaseProblem`), the user sees one clear message box, the database is left
untouched and the process exits with 1.

One GUI per database: a second launch only asks the running one to come to the front and
exits 0 (`SingleInstance`). Reminders (`ReminderTray`) decide what closing the window means
and start their scheduler once the window is up.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from crmcompanion import APP_ID, APP_NAME, __version__
from crmcompanion.core.clock import SystemClock
from crmcompanion.core.errors import DatabaseProblem
from crmcompanion.logfile import install_file_log
from crmcompanion.paths import LOG_FILENAME, AppPaths, resolve_paths
from crmcompanion.services.backups import DailyBackups
from crmcompanion.services.container import Services, build_services
from crmcompanion.store.database import Database, open_database
from crmcompanion.ui import crash
from crmcompanion.ui.main_window import MainWindow, app_icon
from crmcompanion.ui.style import apply_look
from crmcompanion.ui.text_display import tell

if TYPE_CHECKING:  # imported inside run_gui: off the module-import path
    from crmcompanion.ui.single_instance import SingleInstance
    from crmcompanion.ui.tray import ReminderTray

logger = logging.getLogger(__name__)

LOG_FILE = LOG_FILENAME  # paths.log_file's name
# Without Today's rows on screen (started in the tray, or on another page), second launches
# are answered after this long.
LISTEN_FALLBACK_MS = 1500
# The reminder runner starts this long after Today has its rows (see _start_reminders_after_today).
RUNNER_AFTER_TODAY_MS = 250


def setup_file_logging(paths: AppPaths) -> logging.Handler:
    """Log INFO and above to the rotating, owner-only log file (crmcompanion.logfile; the
    same handler when crmcompanion.__main__ installed it already)."""
    return install_file_log(paths.log_file)


def _resume_gc() -> None:
    """Collect again (paused by crmcompanion.__main__ during start-up), with the start-up
    objects frozen out of later collections."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def freeze_start_up_heap() -> None:
    """Collect once, then take every object alive now out of later collections (gc.freeze):
    what start-up built since the first paint (Today's rows and widgets, the ORM's mappers,
    the statement caches) lives as long as the window.

    Why: a full collection walks every object not frozen. After the first paint's freeze
    ~21,000 were left once Today had its rows, and each full collection cost 12-18 ms of
    CPU on the GUI thread, landing on a keystroke now and then (issue 13); frozen here, it
    costs ~2 ms (100,000 customers, measured at the settled start)."""
    gc.collect()
    gc.freeze()


def _freeze_once_today_is_shown(window: MainWindow) -> None:
    """Freeze the start-up heap (freeze_start_up_heap) once Today's first rows are painted:
    start-up is over then, and the user has not begun to type."""
    window.today.rows_shown.connect(freeze_start_up_heap)


def make_application() -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    apply_look(app)
    return app


def claim_single_instance(paths: AppPaths) -> SingleInstance | None:
    """This process's claim on the database, or None when another instance already runs on
    it (that instance was asked to bring its window to the front). It does not answer later
    launches yet: `run_gui` has it listen once the window is painted."""
    from crmcompanion.ui.single_instance import SingleInstance

    instance = SingleInstance(paths.database_url, paths.lock_file)
    if instance.acquire(listen=False):
        return instance
    logger.info("%s already runs on %s: brought it to the front", APP_NAME, paths.database_url)
    return None


def attach_reminders(
    app: QApplication, services: Services, window: MainWindow, instance: SingleInstance
) -> ReminderTray:
    """Plug reminders into the window: tray (where there is one, else closing quits),
    the tray-message fallback notifier, close-to-tray, a second launch's activation, and the
    settings that take effect at once. The scheduler itself starts after the window shows."""
    from crmcompanion.ui.tray import ReminderTray

    reminders = ReminderTray(
        services, window, app_icon(), window.bus.publish,
        open_customer=window.open_customer, show_reminders=window.show_reminders,
    )
    window.close_handler = reminders.handle_close
    window.bus.changed.connect(reminders.on_changed)
    instance.activation_requested.connect(reminders.bring_to_front)
    # With a tray, closing the window only hides it: Quit (menu, tray) ends the app.
    app.setQuitOnLastWindowClosed(not reminders.in_tray)
    app.aboutToQuit.connect(reminders.stop)
    return reminders


# benchmarks/run.py sets these: print one JSON line after the first paint, then quit.
BENCHMARK_EXIT_AFTER_PAINT = "CRMCOMPANION_BENCHMARK_EXIT_AFTER_PAINT"
BENCHMARK_JUMP_TO_END = "CRMCOMPANION_BENCHMARK_JUMP_TO_END"
# ... or after what the user waits for (benchmarks/README.md): "today" (Today's rows painted),
# "customers" (started on Customers, its first rows painted), "settled" (Today loaded, the
# first reminder pass done, the list jumped to its end: the peak RSS of a session's start).
BENCHMARK_WAIT_FOR = "CRMCOMPANION_BENCHMARK_WAIT_FOR"


def _benchmark_report_after_first_paint(window: MainWindow) -> None:
    """Report wall-clock time at the first paint (and peak RSS, optionally after showing the
    end of the customer list), so the benchmark measures what a user waits for."""
    import json
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer

    from crmcompanion.ui.bench_hooks import peak_rss_kb
    from crmcompanion.ui.main_window import CUSTOMERS

    def report() -> None:
        # CPU time too: on a busy machine it shows our own cost when wall time cannot.
        result: dict[str, object] = {
            "painted_at": time.time(), "cpu_ms": round(time.process_time() * 1000, 1)
        }
        if BENCHMARK_JUMP_TO_END in os.environ:
            window.show_section(CUSTOMERS)
            window.customers.table.scrollToBottom()
            window.repaint()
            QApplication.processEvents()
            result["rows"] = window.customers.model.rowCount()
        result["peak_rss_kb"] = peak_rss_kb()
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        QApplication.quit()

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                watched.removeEventFilter(self)
                QTimer.singleShot(0, report)  # after the whole paint pass
            return False

    window._benchmark_filter = FirstPaint(window)  # type: ignore[attr-defined]
    window.installEventFilter(window._benchmark_filter)  # type: ignore[attr-defined]


def _start_reminders_after_today(window: MainWindow, reminders: ReminderTray) -> None:
    """Start the reminder runner once Today shows its rows instead of at the first paint.

    Its first pass reads the database on its own thread: started at the first paint, it
    competed for the interpreter with Today's read and row building while the page still said
    "Loading…" (issue 13). The tray's fallback timer still starts it when Today never loads
    (a window that never paints, an error)."""
    if reminders.runner is not None or not window.isVisible() or window.painted:
        return
    try:
        window.first_painted.disconnect(reminders.start_runner)
    except (RuntimeError, TypeError):  # not connected: the tray chose another way to start
        return
    # A moment after the rows are in, so their paint goes first too.
    window.today.loaded.connect(
        lambda: QTimer.singleShot(RUNNER_AFTER_TODAY_MS, reminders.start_runner))


def run_gui(args: argparse.Namespace | None = None) -> int:
    paths = resolve_paths()
    paths.ensure()
    handler = setup_file_logging(paths)
    uninstall_crash_hook = crash.install(
        crash.Places(data_folder=paths.home, log_file=paths.log_file))
    logger.info("Starting %s %s with %s", APP_NAME, __version__, paths.database_url)
    try:
        db = open_database_or_offer_restore(paths)
        if db is None:
            return 1
        services = build_services(db, SystemClock())
        daily_backups = DailyBackups(services.backups)
        try:
            app = make_application()
            instance = claim_single_instance(paths)
            if instance is None:
                return 0  # the running instance was asked to come to the front
            window = MainWindow(services)
            reminders = attach_reminders(app, services, window, instance)
            reminders.start(minimized=bool(getattr(args, "minimized", False)))  # shows it
            _start_reminders_after_today(window, reminders)
            # The daily backup's thread waits a while before its first look: never a copy
            # of the database competing with the first paint.
            daily_backups.start()
            # Answering second launches (QtNetwork and a socket) waits for Today's rows on
            # screen (or, for a window that is not shown, never paints or opens elsewhere, a
            # moment): it is needed neither to show the window nor its rows.
            window.today.rows_shown.connect(instance.listen)
            _freeze_once_today_is_shown(window)
            QTimer.singleShot(LISTEN_FALLBACK_MS, instance.listen)
            # crmcompanion.__main__ paused the garbage collector for the start-up imports;
            # resume it once the first events (the first paint) have been handled.
            QTimer.singleShot(0, _resume_gc)
            if BENCHMARK_EXIT_AFTER_PAINT in os.environ:
                _benchmark_report_after_first_paint(window)
            elif os.environ.get(BENCHMARK_WAIT_FOR):
                from crmcompanion.ui.bench_hooks import report_when_useful

                report_when_useful(window, reminders, os.environ[BENCHMARK_WAIT_FOR])
            try:
                code = app.exec()
            finally:
                reminders.stop()  # the runner's thread ends before the database closes
                daily_backups.stop()
                instance.release()
        finally:
            services.close()
    finally:
        uninstall_crash_hook()
        logging.getLogger().removeHandler(handler)
        handler.close()
    if window.restart_requested:  # a backup was restored: start again on it
        os.execv(sys.executable, [sys.executable, "-m", "crmcompanion"])
    return code


def open_database_or_offer_restore(paths: AppPaths) -> Database | None:
    """The database, or None after telling the user why not. When a backup would help,
    the message offers to restore the newest good one and opens the database again."""
    try:
        return open_database(paths.database_url, paths.backups_dir)
    except DatabaseProblem as exc:
        from crmcompanion.ui.backups import offer_restore_at_start  # only on this path

        logger.error("Cannot open the database: %s", exc)
        make_application()
        if not offer_restore_at_start(exc, paths.database_url, paths.backups_dir):
            return None
    try:
        return open_database(paths.database_url, paths.backups_dir)
    except DatabaseProblem as exc:
        logger.error("Cannot open the restored database: %s", exc)
        # Plain text: the message quotes a path, which may hold anything.
        tell(None, f"{APP_NAME}: cannot open the database", str(exc), QMessageBox.Icon.Critical)
        return None
