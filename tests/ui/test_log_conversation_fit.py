"""Log conversation, opened from a profile in a 900x600 window: the dialog fits the screen and
shows every feedback chip and button whole, at the size it opens at and at the smallest size
it lets the user drag it to, with "Complaint" chosen (its theme field shown), the summary
keeping its few lines. A fixed minimum
width of 440 px once let it be narrower than its contents, cutting "Feedback" to "edba"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.feedback import FeedbackType
from crmcompanion.ui.log_conversation import LogConversationDialog
from tests.ui.helpers import save_shot


def _cut_buttons(dialog: LogConversationDialog) -> list[str]:
    """Visible buttons narrower than their text needs, or sticking out of the dialog."""
    cut = []
    for button in dialog.findChildren(QAbstractButton):
        if not button.isVisible() or not button.text():
            continue
        right = button.mapTo(dialog, button.rect().topRight()).x()
        if button.width() < button.sizeHint().width() or right >= dialog.width():
            cut.append(f"{button.text()}: {button.width()} of {button.sizeHint().width()} px")
    return cut


def _open_from_a_profile(qtbot, window, services) -> LogConversationDialog:
    ada = services.customers.create(CustomerDraft(first_name="Ada", last_name="Lovelace"))
    window.open_customer(ada.customer.id)
    activity = window.customers.detail.activity
    qtbot.mouseClick(activity.log_button, Qt.MouseButton.LeftButton)
    dialog = activity.dialog
    assert isinstance(dialog, LogConversationDialog)
    qtbot.waitExposed(dialog)
    return dialog


def test_the_dialog_fits_and_shows_every_button_at_900x600(
        qtbot, window, services, tmp_path: Path) -> None:
    window.resize(900, 600)
    dialog = _open_from_a_profile(qtbot, window, services)
    complaint = next(b for b in dialog.capture.findChildren(QAbstractButton)
                     if b.text() == FeedbackType.COMPLAINT.title)
    qtbot.mouseClick(complaint, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    assert dialog.capture.kind() is FeedbackType.COMPLAINT
    assert dialog.width() <= 900 and dialog.height() <= 600
    assert _cut_buttons(dialog) == []
    save_shot(dialog, tmp_path, "log_conversation_opened.png")

    dialog.resize(1, 1)  # as narrow and short as the user can drag it
    QApplication.processEvents()
    assert dialog.width() <= 900 and dialog.height() <= 600
    assert _cut_buttons(dialog) == []
    assert dialog.summary.height() == 96  # room for a few lines, not squeezed to one
    save_shot(dialog, tmp_path, "log_conversation_smallest.png")


def test_rows_stay_under_the_heading_when_tall(qtbot, window, services) -> None:
    """Made tall (1366x768), the dialog spread its rows down the height: When, Channel and
    the summary 100 px apart. They keep their spacing; the room goes above the buttons."""
    dialog = _open_from_a_profile(qtbot, window, services)
    dialog.resize(1366, 768)
    QApplication.processEvents()
    assert dialog.height() == 768

    def top(widget) -> int:
        return widget.mapTo(dialog, widget.rect().topLeft()).y()

    line = dialog.fontMetrics().lineSpacing()
    assert top(dialog.channel) - (top(dialog.when) + dialog.when.height()) < line
    assert top(dialog.summary) - (top(dialog.channel) + dialog.channel.height()) < line
    assert top(dialog.next_note) - (top(dialog.summary) + dialog.summary.height()) < line
