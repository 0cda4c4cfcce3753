"""The "Why did they leave?" dialog as the owner sees it: Reason and Note take the dialog's
width (the note's hint was cut off when the win-back check box, a form row, set the label
column's width), and a customer's name in its sentence is plain text."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.ui.insights_lost import LostReasonDialog


def test_reason_and_note_use_the_width_and_the_hint_is_whole(qtbot, services):
    name = "<b>Ada</b> Lovelace"
    ada = services.customers.create(CustomerDraft(first_name="Ada")).customer
    dialog = LostReasonDialog(services, ada.id, name)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    QApplication.processEvents()
    note = dialog.note
    hint = note.placeholderText()
    # The whole hint shows, with the field's own padding around it.
    assert note.width() > note.fontMetrics().horizontalAdvance(hint) + 16, note.width()
    for field in (dialog.reason, note):
        right = field.mapTo(dialog, field.rect().topRight()).x()
        assert dialog.width() - right < 30, (field, right, dialog.width())
    # The check box and its date share a line below the form, the date to its right.
    box, day = dialog.win_back, dialog.win_back_on
    assert day.mapTo(dialog, day.rect().topLeft()).x() > box.mapTo(
        dialog, box.rect().topRight()).x()
    intro = next(label for label in dialog.findChildren(QLabel) if name in label.text())
    assert intro.textFormat().name == "PlainText"
