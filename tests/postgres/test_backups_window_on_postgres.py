"""The Backups window in team mode (a real PostgreSQL server): the server's administrator makes
the backups, so the window says so and offers nothing the app cannot do there. It used to
promise a daily copy and leave "Back up now" pressable, which then failed."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel

from crmcompanion.services.backups import SERVER_BACKUP_ADVICE
from crmcompanion.services.container import Services
from crmcompanion.ui.backups import BackupsDialog


@pytest.fixture
def engine() -> str:
    return "postgresql"


def test_team_mode_says_who_backs_up_and_offers_no_file_backup(qtbot, services: Services) -> None:
    dialog = BackupsDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)

    said = [label.text() for label in dialog.findChildren(QLabel)]
    assert SERVER_BACKUP_ADVICE in said
    assert not any("once a day" in text for text in said)
    for control in (dialog.back_up_button, dialog.restore_button, dialog.save_button,
                    dialog.folder, dialog.choose_folder_button, dialog.keep):
        assert not control.isEnabled()
    assert dialog.table.rowCount() == 0
    assert dialog.status.text() == ""  # no "No backup folder is set." error on opening
