"""Backups: "Save settings" is offered when the folder or the number kept was changed
(issue: it looked ready to press with nothing changed, so an edit left unsaved looked no
different); typing a change enables it, saving or typing the stored value back disables it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from crmcompanion.services.backups import BACKUPS_KEPT
from tests.ui.test_backups_ui import open_dialog


def test_save_settings_waits_for_a_change(qtbot, services, tmp_path: Path) -> None:
    dialog = open_dialog(qtbot, services)
    save = dialog.save_button
    assert not save.isEnabled() and save.toolTip() == "Nothing changed to save"
    kept = dialog.keep.value()
    dialog.keep.selectAll()
    qtbot.keyClicks(dialog.keep, str(kept + 2))
    assert save.isEnabled() and save.toolTip() == ""
    dialog.keep.selectAll()
    qtbot.keyClicks(dialog.keep, str(kept))  # back to what is stored: nothing to save
    assert not save.isEnabled()
    qtbot.keyClicks(dialog.folder, str(tmp_path / "usb"))
    assert save.isEnabled()
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert services.settings.get(BACKUPS_KEPT) == kept
    assert dialog.status.text() == "Backup settings saved."
    assert not save.isEnabled()
