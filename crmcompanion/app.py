"""Composition root: paths, log file, database, services, QApplication and the main window.

The only module that knows every layer. Opening the database comes before any window: when it
cannot be used (`DatabaseProblem`), the user sees one clear message box, the database is left
untouched and the process exits with 1.
"""

from __future__ import annotations

import argparse
import gc
import logging
import logging.handlers
import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from crmcompanion import APP_ID, APP_NAME, APP_SLUG, __version__
from crmcompanion.core.clock import SystemClock
from crmcompanion.core.errors import DatabaseProblem
from crmcompanion.paths import AppPaths, resolve_paths
from crmcompanion.services.container import build_services
from crmcompanion.store.database import open_database
from crmcompanion.ui.main_window import MainWindow, app_icon
from crmcompanion.ui.style import apply_look

logger = logging.getLogger(__name__)

LOG_FILE = f"{APP_SLUG}.log"


def setup_file_logging(paths: AppPaths) -> logging.Handler:
    """Log INFO and above to a rotating file in the logs folder (kept small)."""
    handler = logging.handlers.RotatingFileHandler(
        paths.logs_dir / LOG_FILE, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
        # Keep the console as quiet as it was configured: only the file gets INFO.
        for other in root.handlers:
            if other is not handler and other.level == logging.NOTSET:
                other.setLevel(logging.WARNING)
    return handler


def _resume_gc() -> None:
    """Collect again (paused by crmcompanion.__main__ during start-up), with the start-up
    objects frozen out of later collections."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


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


# benchmarks/run.py sets these: print one JSON line after the first paint, then quit.
BENCHMARK_EXIT_AFTER_PAINT = "CRMCOMPANION_BENCHMARK_EXIT_AFTER_PAINT"
BENCHMARK_JUMP_TO_END = "CRMCOMPANION_BENCHMARK_JUMP_TO_END"


def _peak_rss_kb() -> int:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork+exec
    from the parent, so a child of a big process would report the parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _benchmark_report_after_first_paint(window: MainWindow) -> None:
    """Report wall-clock time at the first paint (and peak RSS, optionally after showing the
    end of the customer list), so the benchmark measures what a user waits for."""
    import json
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer

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
        result["peak_rss_kb"] = _peak_rss_kb()
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


def run_gui(args: argparse.Namespace | None = None) -> int:
    paths = resolve_paths()
    paths.ensure()
    handler = setup_file_logging(paths)
    logger.info("Starting %s %s with %s", APP_NAME, __version__, paths.database_url)
    try:
        try:
            db = open_database(paths.database_url, paths.backups_dir)
        except DatabaseProblem as exc:
            logger.error("Cannot open the database: %s", exc)
            make_application()
            QMessageBox.critical(None, f"{APP_NAME}: cannot open the database", str(exc))
            return 1
        services = build_services(db, SystemClock())
        try:
            app = make_application()
            window = MainWindow(services)
            window.show()
            # crmcompanion.__main__ paused the garbage collector for the start-up imports;
            # resume it once the first events (the first paint) have been handled.
            QTimer.singleShot(0, _resume_gc)
            if BENCHMARK_EXIT_AFTER_PAINT in os.environ:
                _benchmark_report_after_first_paint(window)
            return app.exec()
        finally:
            services.close()
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
