"""Form labels level with their fields in the dialogs outside Settings: Feedback (Add
feedback), Log conversation, Team database, Why did they leave? and Backups, light and dark.
Each visible label's middle is within 2 pixels of the middle of its field's first line of
text: a one-line field's middle, a text box's first line (where the cursor starts, not the
box's middle), and for Log conversation's "Feedback" row the type chips above its themes;
Log conversation's "Next step" check box, in a label's place, level with its note field.
QFormLayout put a plain label ~3 pixels above a 30-pixel field's text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QPlainTextEdit, QWidget

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.services.container import Services
from crmcompanion.ui import style
from crmcompanion.ui.backups import BackupsDialog
from crmcompanion.ui.feedback_chips import FeedbackCapture
from crmcompanion.ui.feedback_dialog import FeedbackDialog
from crmcompanion.ui.insights_lost import LostReasonDialog
from crmcompanion.ui.log_conversation import LogConversationDialog
from crmcompanion.ui.team_database import TeamDatabaseDialog
from tests.ui.helpers import save_shot


def _middle(widget: QWidget, root: QWidget) -> int:
    return widget.mapTo(root, widget.rect().center()).y()


def _first_line_middle(field: QWidget, root: QWidget) -> int:
    if isinstance(field, QPlainTextEdit):
        cursor = QTextCursor(field.document())
        cursor.movePosition(QTextCursor.MoveOperation.Start)
        line = field.cursorRect(cursor)  # in the viewport
        return field.viewport().mapTo(root, line.center()).y()
    if isinstance(field, FeedbackCapture):  # its type chips, above the themes field
        return _middle(field.chips, root)
    return _middle(field, root)


def _customer(services: Services) -> int:
    return services.customers.create(CustomerDraft(first_name="Ada",
                                                   last_name="Lovelace")).customer.id


DIALOGS: dict[str, Callable[[Services], QDialog]] = {
    "feedback": lambda services: FeedbackDialog(services),
    "log": lambda services: LogConversationDialog(
        services.interactions, services.clock, _customer(services), "Ada Lovelace",
        touchpoints=services.touchpoints, feedback=services.feedback),
    "team": lambda _services: TeamDatabaseDialog(),
    "lost": lambda services: LostReasonDialog(services, _customer(services), "Ada Lovelace"),
    "backups": lambda services: BackupsDialog(services),
}


@pytest.mark.parametrize("look", ["light", "dark"])
@pytest.mark.parametrize("name", list(DIALOGS))
def test_labels_are_level_with_their_fields(qtbot, qapp, services: Services, tmp_path: Path,
                                            name: str, look: str) -> None:
    style.apply_look(qapp, look)
    try:
        dialog = DIALOGS[name](services)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        QApplication.processEvents()
        checked = []
        for label in dialog.findChildren(QLabel):
            field = label.buddy()
            if field is None or not label.isVisible() or not field.isVisible():
                continue
            gap = abs(_middle(label, dialog) - _first_line_middle(field, dialog))
            assert gap <= 2, (name, label.text(), gap)
            checked.append(label.text())
        if name == "log":  # its "Next step" check box stands in a label's place
            step = dialog.next_step  # type: ignore[attr-defined]
            gap = abs(_middle(step, dialog) - _middle(dialog.next_note, dialog))  # type: ignore[attr-defined]
            assert gap <= 2, ("log", step.text(), gap)
            checked.append(step.text())
        wanted = {"feedback": {"Customer", "Type", "Said", "Themes", "Satisfaction"},
                  "log": {"When", "Channel", "Summary", "Next step", "Feedback"},
                  "team": {"Server", "Port", "Database", "User", "Encryption (TLS)"},
                  "lost": {"Reason", "Note"},
                  "backups": {"Backup folder", "Keep the newest"}}[name]
        assert wanted <= set(checked), checked  # every form label was measured
        save_shot(dialog, tmp_path, f"labels_{name}_{look}.png")
    finally:
        style.apply_look(qapp, "light")
