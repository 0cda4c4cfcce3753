"""Objects deleted while work for them is still on its way: a background task whose owner
(a dialog, a view) is closed before the worker thread is done, and a view whose timers are
still pending when it is deleted. Each race is made deterministic here (the work waits on an
event the test sets after the delete; the test processes events past the timer's delay), and
each once raised from the worker thread or the event loop ("Signal source has been deleted",
"Internal C++ object already deleted"), which pytest-qt turns into a failure."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import delete, isValid

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.services.customers import ListQuery
from crmcompanion.services.demo import fill_demo
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.customer_model import PAGE_SIZE, CustomerTableModel, count_pool
from crmcompanion.ui.today_view import ROWS_SHOWN_FALLBACK_MS, TodayView
from crmcompanion.ui.workers import BackgroundTask, TaskState, task_pool
from tests.ui.test_customer_list_speed import GatedCount


def _blocked_task(release: threading.Event, parent: QObject | None = None,
                  progress: bool = False) -> BackgroundTask:
    def work(state: TaskState) -> str:
        release.wait(10)
        if progress:
            state.progress(1, 2)
        return "done"

    return BackgroundTask(work, "blocked", parent)


def _finish(release: threading.Event) -> None:
    release.set()
    assert task_pool().waitForDone(10_000)
    QApplication.processEvents()  # the queued outcome, delivered on the GUI thread
    QApplication.processEvents()


def test_a_task_deleted_with_its_parent_before_it_finishes_drops_its_result_quietly(qtbot
                                                                                     ) -> None:
    owner = QObject()
    release = threading.Event()
    seen: list[str] = []
    task = _blocked_task(release, owner, progress=True)
    task.progressed.connect(lambda done, total: seen.append("progress"))
    task.finished.connect(lambda: seen.append("finished"))
    task.start()

    delete(owner)  # the dialog closed while the work runs: its child task goes with it
    assert not isValid(task)
    _finish(release)

    assert seen == []  # nothing delivered to a deleted task, and nothing raised


def test_a_task_whose_receiver_was_deleted_delivers_to_nobody(qtbot) -> None:
    class Receiver(QWidget):
        def __init__(self) -> None:
            super().__init__()
            self.results: list[object] = []

        def take(self, result: object) -> None:
            self.results.append(result)
            self.setWindowTitle(str(result))  # touches the C++ object: raises if deleted

    receiver = Receiver()
    release = threading.Event()
    task = _blocked_task(release)  # no parent: lives on until it has reported
    task.succeeded.connect(receiver.take)
    task.start()

    delete(receiver)
    _finish(release)

    assert task.done and task.result == "done"


def test_a_task_still_reports_progress_and_its_result(qtbot) -> None:
    owner = QObject()
    release = threading.Event()
    seen: list[object] = []
    task = _blocked_task(release, owner, progress=True)
    task.progressed.connect(lambda done, total: seen.append((done, total)))
    task.succeeded.connect(seen.append)
    task.start()
    with qtbot.waitSignal(task.finished, timeout=10_000):
        release.set()

    assert seen == [(1, 2), "done"]
    delete(owner)


def test_today_deleted_before_its_rows_shown_fallback_fires(qtbot, services) -> None:
    draft = CustomerDraft(first_name="Ada", last_name="Lovelace", special_dates=(
        SpecialDate(SpecialDateKind.BIRTHDAY, 3, 1, 1986),))  # the fixed day: a row today
    services.customers.create(draft)
    view = TodayView(services, AppState())  # never shown: only the fallback timer reports
    view.load()
    qtbot.waitUntil(lambda: view.ready)
    assert view._rows_pending  # the fallback timer is pending

    delete(view)
    qtbot.wait(ROWS_SHOWN_FALLBACK_MS + 300)  # past the timer: it must have died with the view


def test_today_relay_outlives_its_view_so_a_late_worker_emits_safely(qtbot, services) -> None:
    """Today's load and phone-formatting threads emit on the view's relay. Deleted with the
    view (as its child) the relay could be emitted on mid-deletion from the worker thread, a
    SIGSEGV seen in the suite; it must outlive the view, and a late emit reach nobody."""
    view = TodayView(services, AppState())
    relay = view._relay
    delete(view)
    QApplication.processEvents()
    assert isValid(relay)
    done = threading.Event()

    def late_worker() -> None:
        relay.phones.emit(1, {"+4930123": "+49 30 123"})
        relay.done.emit(1, False, RuntimeError("late"))
        done.set()

    threading.Thread(target=late_worker).start()
    assert done.wait(5)
    qtbot.wait(50)  # the queued deliveries, to nobody


def test_a_customer_list_deleted_while_its_count_runs(qtbot, services, monkeypatch) -> None:
    """The counting thread's last reference to the list's counter must not be dropped on
    that thread (its pool would be destroyed from inside itself, waiting for itself): the
    list closed mid-count drops the count, and the next list still counts."""
    fill_demo(services.db, services.clock, 3 * PAGE_SIZE, staff_id=services.staff_id)
    model = CustomerTableModel(services.customers)
    gated = GatedCount(services, monkeypatch)
    model.set_query(ListQuery(search="a"), count_later=True)
    assert not model.counted  # more than a page matched: the count is left to the thread
    qtbot.waitUntil(lambda: gated.counted == [] and count_pool().activeThreadCount() == 1)
    freed_on: list[str] = []
    weakref.finalize(model._counter, lambda: freed_on.append(threading.current_thread().name))

    delete(model)  # the list closed while its count waits at the gate
    del model
    gc.collect()
    gated.release()
    assert count_pool().waitForDone(10_000)  # the count ended: no thread stuck in teardown
    QApplication.processEvents()  # its queued result: to nobody
    gc.collect()
    # Freed on the GUI thread (it was freed on the counting thread, with its pool and relay).
    assert freed_on == [threading.main_thread().name]
    assert gated.counted == ["a"]

    again = CustomerTableModel(services.customers)
    again.set_query(ListQuery(search="a"), count_later=True)
    qtbot.waitUntil(lambda: again.counted)
    assert again.rowCount() == services.customers.count(ListQuery(search="a"))
