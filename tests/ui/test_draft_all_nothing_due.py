""""Draft all for today" with no greeting due (issue: an empty list beside a blank, disabled
composer under "Nothing to send today."): it shows one empty state that says why the list is
empty and when greetings appear, and no composer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from crmcompanion.ui.bus import AppState
from crmcompanion.ui.draft_dialog import BatchDraftWindow
from tests.ui.helpers import save_shot
from tests.ui.test_fit_900x600 import at_900x600


def test_nothing_due_shows_an_empty_state(qtbot, services, tmp_path: Path) -> None:
    window = at_900x600(qtbot, BatchDraftWindow(services, AppState()))
    QApplication.processEvents()
    save_shot(window, tmp_path, "draft_all_nothing_due.png")
    assert window.drafts == []
    assert window.empty.isVisible()
    assert window.empty.title.text() == "No greetings to write today"
    assert "on their day" in window.empty.text.text()
    for part in (window.list, window.editor, window.editor.body_edit, window.summary):
        assert not part.isVisible()
    assert window.close_button.isVisible() and window.close_button.isEnabled()
