"""Benchmark hooks: report the moment the user's wait ends, then quit (benchmarks/run.py).

The first paint of the window shows placeholders ("Loading what needs you today…"); what the
owner waits for is the rows. `report_when_useful` prints one JSON line (wall-clock time,
process CPU time, peak RSS) when, depending on `what`:

- "today": the Today page has its data and has painted it (the app opens there);
- "customers": started on the Customers page, its list has painted rows;
- "settled": Today has painted its rows, the reminder runner's first pass has finished,
  and the customer list has been shown and jumped to its end (the peak RSS of a session's
  start, `startup_rss_mb`).

Only the composition root calls this, and only when CRMCOMPANION_BENCHMARK_WAIT_FOR is set;
it changes nothing the user sees otherwise. benchmarks/README.md says where each clock stops.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

if TYPE_CHECKING:  # kept light: benchmarks/raw_first_paint.py imports peak_rss_kb from here
    from crmcompanion.ui.main_window import MainWindow
    from crmcompanion.ui.tray import ReminderTray

logger = logging.getLogger(__name__)

WAIT_CHOICES = ("today", "customers", "settled")


def peak_rss_kb() -> int:
    """This process's peak RSS (VmHWM: Linux carries ru_maxrss over fork+exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class _AfterPaint(QObject):
    """Calls `then` once, after the first paint of `widget` for which `ready()` holds."""

    def __init__(self, widget: QWidget, ready: Callable[[], bool], then: Callable[[], None]
                 ) -> None:
        super().__init__(widget)
        self._widget = widget
        self._ready = ready
        self._then = then
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._ready():
            self._widget.removeEventFilter(self)
            QTimer.singleShot(0, self, self._then)  # after the whole paint pass
        return False


class _PassDone(QObject):
    done = Signal(object)


def _emit(result: dict[str, object]) -> None:
    result["peak_rss_kb"] = peak_rss_kb()
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    QApplication.quit()


def _stamp() -> dict[str, object]:
    return {"painted_at": time.time(), "cpu_ms": round(time.process_time() * 1000, 1)}


def report_when_useful(window: MainWindow, reminders: ReminderTray, what: str) -> None:
    """Install the hook for `what` (one of WAIT_CHOICES) before the event loop starts."""
    from crmcompanion.ui.main_window import CUSTOMERS

    if what not in WAIT_CHOICES:
        raise SystemExit(f"CRMCOMPANION_BENCHMARK_WAIT_FOR must be one of {WAIT_CHOICES}")
    hooks: list[QObject] = []
    window._benchmark_hooks = hooks  # type: ignore[attr-defined]  # kept alive with it
    if what == "customers":
        window.show_section(CUSTOMERS)
        view = window.customers
        hooks.append(_AfterPaint(view.table.viewport(), lambda: view.model.rowCount() > 0,
                                 lambda: _emit({**_stamp(), "rows": view.model.rowCount()})))
        return

    today = window.today
    state: dict[str, object] = {"passes": 0}

    def today_shown() -> None:
        state.update(_stamp())
        state["rows"] = len(today.rows())
        if what == "today":
            _emit(dict(state))
        else:
            settle()

    def pass_done(_report: object) -> None:
        state["passes"] = int(state["passes"]) + 1  # type: ignore[call-overload]
        settle()

    def settle() -> None:
        if "painted_at" not in state or not state["passes"] or "settled" in state:
            return
        state["settled"] = True
        window.show_section(CUSTOMERS)
        window.customers.table.scrollToBottom()
        window.repaint()
        QApplication.processEvents()
        result = dict(state)
        result["settled_at"] = time.time()
        result["customer_rows"] = window.customers.model.rowCount()
        _emit(result)

    def painted() -> None:
        # The rows were laid out when `loaded` fired; paint them now (what the event loop's
        # next update does), so the clock includes rendering them.
        today.repaint()
        today_shown()

    if what == "settled":
        # The engine tells its listeners only about passes that delivered something; a pass
        # with nothing due must end the wait too, so wrap this engine's run_pass (benchmark
        # only). Only here: the engine is otherwise built with the runner, after Today's rows.
        relay = _PassDone(window)
        hooks.append(relay)
        relay.done.connect(pass_done)
        run_pass = reminders.engine.run_pass

        def counted_pass(now: object = None) -> object:
            try:
                return run_pass(now)  # type: ignore[arg-type]
            finally:
                relay.done.emit(None)  # from the scheduler's thread: queued to the GUI thread

        reminders.engine.run_pass = counted_pass  # type: ignore[method-assign]
    today.loaded.connect(lambda: QTimer.singleShot(0, today, painted))
