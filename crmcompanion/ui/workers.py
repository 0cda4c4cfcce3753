"""Run one long service call (an import, an export, a preview) off the GUI thread.

Why it exists: imports and exports of 100,000 customers take seconds, and the window must keep
painting and answer a Cancel click meanwhile (docs/architecture.md, conv. 10). The services know no
Qt: they take a plain `progress(done, total)` callable and a `CancelToken`. This module is the
adapter: a `BackgroundTask` runs the call on a one-thread pool (so database work from the GUI is
never concurrent with itself, as Anki's single-worker executor), turns progress into a queued
Qt signal and hands the result or the exception back on the GUI thread. `TaskProgressDialog`
is the progress window with Cancel that every long action shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from crmcompanion.ui.formatting import number

logger = logging.getLogger(__name__)

_pool: QThreadPool | None = None
# Tasks still running: held here so Python cannot collect one while its thread reports to it.
_running: set[BackgroundTask] = set()


def task_pool() -> QThreadPool:
    """The one worker thread all GUI-started database jobs share (one writer at a time)."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setMaxThreadCount(1)
        _pool.setExpiryTimeout(30_000)
    return _pool


class TaskState:
    """What the work function receives: report progress, and check whether to stop."""

    def __init__(self, task: BackgroundTask) -> None:
        self._task = task
        # Imported here: services.import_export brings the CSV parser and phonenumbers
        # (~20 ms), which the first paint does without (Today's feedback actions import
        # this module at start-up).
        from crmcompanion.services.import_export import CancelToken

        self.cancel_token = CancelToken()

    def progress(self, done: int, total: int) -> None:
        # Called on the worker thread; the signal is queued to the GUI thread's receivers.
        self._task.progressed.emit(int(done), int(total))

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled


class _Runner(QRunnable):
    def __init__(self, task: BackgroundTask) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._task = task

    def run(self) -> None:
        task = self._task
        try:
            result = task.work(task.state)
        except Exception as exc:  # handed to the GUI, which shows it; never lost
            if not isinstance(exc, _EXPECTED):
                logger.exception("Background task %s failed", task.name)
            task._outcome.emit(False, exc)
        else:
            task._outcome.emit(True, result)


class BackgroundTask(QObject):
    """One call of `work(state)` on the worker thread, reported by signals on the GUI thread.

    `succeeded(result)` or `failed(exception)`, then `finished()`, always exactly once.
    """

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()
    _outcome = Signal(bool, object)  # worker -> GUI thread, queued

    def __init__(self, work: Callable[[TaskState], Any], name: str = "task",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.work = work
        self.name = name
        self.state = TaskState(self)
        self.running = False
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        # The task object lives on the GUI thread, so this slot runs there.
        self._outcome.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def start(self) -> BackgroundTask:
        self.running = True
        _running.add(self)
        task_pool().start(_Runner(self))
        return self

    def cancel(self) -> None:
        """Ask the work to stop; it stops at its next check and reports a failure."""
        self.state.cancel_token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.state.cancelled

    def _deliver(self, ok: bool, value: object) -> None:
        self.running = False
        self.done = True
        _running.discard(self)
        if ok:
            self.result = value
            self.succeeded.emit(value)
        else:
            self.error = value  # type: ignore[assignment]
            self.failed.emit(value)
        self.finished.emit()


def _expected_errors() -> tuple[type[BaseException], ...]:
    from crmcompanion.core.errors import DomainError

    return (DomainError,)


_EXPECTED = _expected_errors()


class TaskProgressDialog(QProgressDialog):
    """A window-modal progress window for one task; Cancel asks the task to stop.

    It stays open after Cancel ("Cancelling…") until the work has really stopped, so the user
    never starts something new while a rollback is still running.
    """

    def __init__(self, task: BackgroundTask, title: str, label: str,
                 parent: QWidget | None = None, cancellable: bool = True) -> None:
        super().__init__(label, "Cancel", 0, 0, parent)
        self.task = task
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumWidth(380)
        if not cancellable:
            self.setCancelButton(None)
        self.canceled.connect(self._cancel)
        task.progressed.connect(self._progress)
        task.finished.connect(self._finished)

    def _progress(self, done: int, total: int) -> None:
        if total > 0 and not self.task.cancelled:
            self.setMaximum(total)
            self.setValue(min(done, total))
            what = self.labelText().split(" (")[0]
            self.setLabelText(f"{what} ({number(done)} of {number(total)})")

    def _cancel(self) -> None:
        if self.task.running:
            self.task.cancel()
            self.setLabelText("Cancelling…")
            self.show()  # QProgressDialog hides itself on cancel; stay until the work stops

    def _finished(self) -> None:
        self.hide()
        self.deleteLater()
