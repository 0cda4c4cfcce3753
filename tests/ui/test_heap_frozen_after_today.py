"""Once Today's first rows are painted, the app freezes what start-up built out of later
garbage collections: a full collection walks every object not frozen, and over the ~21,000
left after the first paint's freeze it cost 12-18 ms of CPU, landing on a search keystroke
now and then (issue 13)."""

from __future__ import annotations

import gc

from crmcompanion.app import _freeze_once_today_is_shown
from crmcompanion.services.demo import fill_demo
from crmcompanion.ui.main_window import MainWindow
from crmcompanion.ui.style import apply_look


def test_todays_rows_shown_freeze_the_start_up_objects(qtbot, qapp, services):
    fill_demo(services.db, services.clock, 30, staff_id=services.staff_id)
    apply_look(qapp)
    window = MainWindow(services)  # wired before it is shown, as the app does
    qtbot.addWidget(window)
    built = window.today.__dict__  # an object start-up made, tracked by the collector
    assert gc.is_tracked(built)
    shown: list[bool] = []
    window.today.rows_shown.connect(lambda: shown.append(True))
    _freeze_once_today_is_shown(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: bool(shown))
        # Frozen objects are in no generation: get_objects() no longer lists them.
        assert gc.get_freeze_count() > 0
        assert not any(found is built for found in gc.get_objects())
    finally:
        gc.unfreeze()  # the rest of the test session collects as before
