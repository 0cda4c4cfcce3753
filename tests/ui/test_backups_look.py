"""The Backups window as an owner first sees it, opened from the File menu in a 900x600
window, light and dark: a heading and a sentence say what the window is; the empty list says
what fills it (the daily backup and "Back up now") in the list itself; after "Back up now"
the sentence gives way to the backup's row, its columns within the list's width."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from crmcompanion.ui import style
from crmcompanion.ui.backups import BackupsDialog
from tests.ui.helpers import painted_pixels, save_shot


@pytest.mark.parametrize("look", ["light", "dark"])
def test_heading_and_an_empty_list_that_says_what_fills_it(
        qtbot, qapp, make_window, tmp_path: Path, look: str) -> None:
    window = make_window()
    style.apply_look(qapp, look)
    window.resize(900, 600)
    window.backups_action.trigger()
    dialog = window.findChild(BackupsDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    QApplication.processEvents()

    heading = dialog.findChild(QLabel, "pageTitle")
    assert heading is not None and heading.isVisible() and heading.text() == "Backups"
    # Above the list: the first thing read says what this is.
    assert heading.mapTo(dialog, heading.rect().bottomLeft()).y() \
        < dialog.table.mapTo(dialog, dialog.table.rect().topLeft()).y()
    assert dialog.table.rowCount() == 0 and dialog.table.showing_empty_text()
    said = dialog.table.empty_text
    assert said.startswith("No backups yet") and "every day" in said and "Back up now" in said
    empty_pixels = painted_pixels(dialog.table)
    assert empty_pixels > 50  # the sentence is on screen
    save_shot(dialog, tmp_path, f"backups_empty_{look}.png")

    qtbot.mouseClick(dialog.back_up_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=30_000)
    QApplication.processEvents()
    assert not dialog.table.showing_empty_text()
    columns = sum(dialog.table.columnWidth(c) for c in range(dialog.table.columnCount()))
    assert columns <= dialog.table.viewport().width()  # no sideways scrolling
    save_shot(dialog, tmp_path, f"backups_one_{look}.png")
    dialog.close()
    style.apply_look(qapp, "light")


def test_the_number_box_is_as_wide_as_its_number(qtbot, qapp, make_window) -> None:
    """"Keep the newest" stretched across the whole window at 1366x768 (1,237 px for
    "10 backups"): it is as wide as its widest value, "1000 backups", and no wider."""
    window = make_window()
    window.backups_action.trigger()
    dialog = window.findChild(BackupsDialog)
    assert dialog is not None
    dialog.resize(1366, 768)
    qtbot.waitExposed(dialog)
    QApplication.processEvents()
    assert dialog.keep.width() == dialog.keep.sizeHint().width()
    widest = dialog.keep.fontMetrics().horizontalAdvance("1000 backups")
    assert widest <= dialog.keep.width() < 2 * widest  # the text, the arrows, the padding
    dialog.close()
