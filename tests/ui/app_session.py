"""A scripted user session in the real app, run as its own process by test_app_reminders.

`python tests/ui/app_session.py SCENARIO [app args...]` builds the QApplication, starts a
driver timer, then calls `crmcompanion.app.run_gui` exactly as `python -m crmcompanion` does,
and prints one JSON line: what the session saw, the failures, and run_gui's exit code.
A process of its own because a QApplication whose exec() has returned paints no more
windows, which would break every later test in a shared pytest process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[2]
# Set by test_app_reminders to a folder under the test's tmp_path.
SHOTS = Path(os.environ["CRMCOMPANION_SHOTS"])
Step = Callable[[], bool] | None


def main_window():
    from crmcompanion.ui.main_window import MainWindow

    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)), None)


def full(seen: dict[str, object]) -> Iterator[Step]:
    from crmcompanion.reminders.notifier import Notification
    from crmcompanion.ui.main_window import CUSTOMERS, TODAY
    from crmcompanion.ui.tray import ReminderTray

    yield lambda: main_window() is not None
    window = main_window()
    glue = window.findChild(ReminderTray)
    seen["in_tray"] = glue.in_tray
    # Delivered on start: in the list and on the Today badge.
    yield lambda: window.today.reminders.count == 2 and window.today_badge() == "2"
    seen["list"] = sorted(window.today.reminders.list.item(i).text() for i in range(2))
    seen["runner_running"] = glue.runner is not None and glue.runner.running
    yield lambda: window.today.ready
    window.resize(1280, 800)
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(SHOTS / "today-with-reminders.png"))
    # The tray menu's actions, triggered directly (offscreen has no tray).
    window.show_section(CUSTOMERS)
    glue.tray.reminders_action.trigger()
    seen["reminders_action_page"] = window.nav.currentRow() == TODAY
    customer = int(os.environ["SESSION_CUSTOMER"])
    glue.tray.show_message(Notification("Birthday: Bob Example", "turns 36", customer))
    glue.tray.icon.messageClicked.emit()  # the user clicks that tray message
    seen["message_opens_customer"] = (
        window.nav.currentRow() == CUSTOMERS and window.customers.selected_id() == customer
    )
    window.showMinimized()
    glue.tray.open_action.trigger()
    seen["open_action_restores"] = not window.isMinimized() and window.isVisible()
    window.show_section(TODAY)
    window.today.reminders.mark_seen.click()
    yield lambda: window.today_badge() == ""
    # A second launch on the same database: exits 0 and brings this window to the front.
    window.showMinimized()
    second = subprocess.Popen(
        [sys.executable, "-m", "crmcompanion"], cwd=REPO, env=dict(os.environ),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    yield lambda: second.poll() is not None and not window.isMinimized()
    seen["second_exit"] = second.returncode
    seen["second_activated"] = not window.isMinimized()
    # Closing with no tray quits (run_gui returns); the runner must stop first.
    seen["closed"] = window.close()
    seen["runner_after_close"] = glue.runner.running


def minimized(seen: dict[str, object]) -> Iterator[Step]:
    yield lambda: main_window() is not None
    window = main_window()
    seen["visible_minimized"] = window.isVisible() and window.isMinimized()
    yield lambda: window.today_badge() == "1"
    seen["closed"] = window.close()


def run(scenario: Callable[[dict[str, object]], Iterator[Step]], args: list[str]) -> None:
    app = QApplication(sys.argv[:1])
    seen: dict[str, object] = {}
    failures: list[str] = []
    steps = scenario(seen)
    deadline = time.monotonic() + 60
    waiting: list[Step] = [None]
    timer = QTimer()
    timer.setInterval(50)

    def tick() -> None:
        try:
            if waiting[0] is not None and not waiting[0]():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"stuck waiting; seen so far: {seen}")
                return
            waiting[0] = next(steps)
        except StopIteration:
            timer.stop()
        except BaseException:
            failures.append(traceback.format_exc())
            timer.stop()
            app.quit()

    timer.timeout.connect(tick)
    timer.start()
    from crmcompanion.app import run_gui
    from crmcompanion.cli import parse

    code = run_gui(parse(args))
    print(json.dumps({"exit": code, "seen": seen, "failures": failures}), flush=True)


if __name__ == "__main__":
    run({"full": full, "minimized": minimized}[sys.argv[1]], sys.argv[2:])
