"""The reminder runner starts once Today shows its rows, not at the first paint: its first
pass reads the database on its thread and competed with Today's own read and row building
while the page said "Loading…" (issue 13, first_useful_paint_ms)."""

from __future__ import annotations

from crmcompanion.app import _start_reminders_after_today
from crmcompanion.services.demo import fill_demo
from crmcompanion.ui.main_window import app_icon
from crmcompanion.ui.tray import ReminderTray


def test_the_runner_waits_for_today_then_starts(qtbot, make_window, services):
    fill_demo(services.db, services.clock, 50, staff_id=services.staff_id)
    window = make_window()
    window.hide()  # make_window shows it; start as the app does, before the first paint
    reminders = ReminderTray(services, window, app_icon(), window.bus.publish, notifiers=[])
    at_first_paint: list[object] = []
    window.painted = False
    reminders.start()
    window.first_painted.connect(lambda: at_first_paint.append(reminders.runner))
    _start_reminders_after_today(window, reminders)
    try:
        qtbot.waitUntil(lambda: bool(at_first_paint))
        assert at_first_paint == [None]  # nothing competing with Today's load
        qtbot.waitUntil(lambda: window.today.ready)
        qtbot.waitUntil(lambda: reminders.runner is not None)
        assert reminders.runner.running
    finally:
        reminders.stop()
