"""The greeting draft's line under its heading ("Last contact … · email · mobile …"), opened
from a profile's "Write greeting…" (issue: in a narrow window the line wrapped inside the
mobile number, "mobile +34 916 25" over "84 77"): the number is always on one line."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextLayout, QTextOption
from PySide6.QtWidgets import QApplication, QLabel

from crmcompanion.core.customer import CustomerDraft, EmailAddress, PhoneNumber
from crmcompanion.ui.draft_dialog import DraftDialog
from crmcompanion.ui.formatting import phone
from tests.ui.helpers import save_shot

LONG_EMAIL = "maximiliane.schwarzenberg@blumen.example.de"


def _lines(label: QLabel) -> list[str]:
    """The label's text as it wraps at the label's width, line by line."""
    text = label.text()
    layout = QTextLayout(text, label.font())
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    layout.beginLayout()
    lines = []
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(label.contentsRect().width())
        lines.append(text[line.textStart():line.textStart() + line.textLength()])
    layout.endLayout()
    return lines


def test_the_mobile_number_is_never_broken(qtbot, services, window, tmp_path: Path) -> None:
    maxi = services.customers.create(CustomerDraft(
        first_name="Maximiliane", last_name="Schwarzenberg",
        emails=(EmailAddress(LONG_EMAIL),),
        phones=(PhoneNumber("+34916258477", "mobile"),))).customer
    window.resize(900, 600)
    window.open_customer(maxi.id)
    activity = window.customers.detail.activity
    qtbot.waitUntil(activity.draft_button.isEnabled)
    qtbot.mouseClick(activity.draft_button, Qt.MouseButton.LeftButton)
    dialog = window.greetings.dialog
    assert isinstance(dialog, DraftDialog)
    qtbot.waitExposed(dialog)
    label = dialog.editor.context_label
    number = phone("+34916258477")
    broken = 0
    for width in range(dialog.minimumSizeHint().width(), 901, 4):  # as the owner resizes it
        dialog.resize(width, dialog.height())
        QApplication.processEvents()
        lines = [" ".join(line.replace("\u00a0", " ").split()) for line in _lines(label)]
        assert any(number in line for line in lines), (width, lines)
        broken += len(lines) > 1
    assert broken  # the line did wrap: the number was kept whole through it
    save_shot(dialog, tmp_path, "draft_phone_whole.png")
