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

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget
from shiboken6 import isValid

from crmcompanion.services.cancel import CancelToken
from crmcompanion.ui.formatting import number

logger = logging.getLogger(__name__)

_pool: QThreadPool | None = None
# Tasks still running, by key: held here so Python cannot collect one before its outcome is
# delivered (its C++ side may still go with its parent: the relay checks).
_running: dict[int, BackgroundTask] = {}
_keys = itertools.count(1)


def single_thread_pool() -> QThreadPool:
    """A pool of one thread, kept 30 s after its last job (a burst of jobs reuses it)."""
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    pool.setExpiryTimeout(30_000)
    return pool


def task_pool() -> QThreadPool:
    """The one worker thread all GUI-started database jobs share (one writer at a time)."""
    global _pool
    if _pool is None:
        _pool = single_thread_pool()
    return _pool


class TaskState:
    """What the work function receives: report progress, and check whether to stop."""

    def __init__(self, key: int) -> None:
        # The task's key, not the task: the worker thread never holds a reference to a
        # QObject of the GUI thread (its last reference dropped there would delete it there).
        self._key = key
        self.cancel_token = CancelToken()

    def progress(self, done: int, total: int) -> None:
        # Called on the worker thread: through the relay, never the task itself, whose C++
        # object its parent may have deleted meanwhile (emitting on it would raise).
        _relay().progressed.emit(self._key, int(done), int(total))

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled


class _Relay(QObject):
    """Carries every task's progress and outcome from the worker thread to the GUI thread.

    Why not the task's own signals: a task is often a child of a dialog or a view, and Qt
    deletes it with its parent while its work still runs; emitting on a deleted object raises
    "Signal source has been deleted" on the worker thread. The relay is made once, on the GUI
    thread, with no parent, and never deleted, so it outlives every runnable by construction;
    its slots run on the GUI thread and hand the message to the task if the task still exists.
    """

    progressed = Signal(int, int, int)  # task key, done, total
    outcome = Signal(int, bool, object)  # task key, ok, result or exception

    def __init__(self) -> None:
        super().__init__()
        self.progressed.connect(self._progress, Qt.ConnectionType.QueuedConnection)
        self.outcome.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def _progress(self, key: int, done: int, total: int) -> None:
        task = _running.get(key)
        if task is not None and isValid(task):
            task.progressed.emit(done, total)

    def _deliver(self, key: int, ok: bool, value: object) -> None:
        task = _running.pop(key, None)
        if task is None or not isValid(task):
            # Its window was closed meanwhile: nobody is left to tell.
            logger.debug("Background task #%s finished after its owner was deleted", key)
            return
        task._deliver(ok, value)


_relay_instance: _Relay | None = None


def _relay() -> _Relay:
    """The one relay; first made by `BackgroundTask.start` on the GUI thread."""
    global _relay_instance
    if _relay_instance is None:
        _relay_instance = _Relay()
    return _relay_instance


class _Runner(QRunnable):
    """Runs one task's work. Holds the work and the state, not the task: what it reports
    goes through the relay by the task's key, so a deleted task is never touched here."""

    def __init__(self, task: BackgroundTask) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._key = task.key  # never the task itself: see TaskState
        self._name = task.name
        self._work = task.work
        self._state = task.state
        self._relay = _relay()

    def run(self) -> None:
        try:
            result = self._work(self._state)
        except Exception as exc:  # handed to the GUI, which shows it; never lost
            if not isinstance(exc, _EXPECTED):
                logger.exception("Background task %s failed", self._name)
            self._report(False, exc)
        else:
            self._report(True, result)

    def _report(self, ok: bool, value: object) -> None:
        try:
            self._relay.outcome.emit(self._key, ok, value)
        except RuntimeError:
            # Only when the interpreter is shutting down (module globals and the relay
            # torn down while this thread still ran): no window is left to tell.
            logger.debug("Background task %s finished after the application quit", self._name)


class BackgroundTask(QObject):
    """One call of `work(state)` on the worker thread, reported by signals on the GUI thread.

    `succeeded(result)` or `failed(exception)`, then `finished()`, always exactly once, unless
    the task was deleted (with its parent) before it finished: then the result is dropped.
    """

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()

    def __init__(self, work: Callable[[TaskState], Any], name: str = "task",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.work = work
        self.name = name
        self.key = next(_keys)
        self.state = TaskState(self.key)
        self.running = False
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None

    def start(self) -> BackgroundTask:
        self.running = True
        _running[self.key] = self
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
