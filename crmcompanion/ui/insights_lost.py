""""Why did they leave?": the dialog that asks for the reason when a customer is marked lost.

Issue 16 counts lost customers by reason, so the reason is asked every time a customer
becomes lost in the window (the customer editor's status set to Lost, see
`CustomersView._editor_saved`): one of the fixed reasons, a note (needed for "Other"), and
optionally a day for a win-back follow-up. Cancelling keeps the customer lost with the reason
unknown, as customers marked lost before reasons were asked.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import DomainError
from crmcompanion.core.lost import CHOOSABLE_REASONS, LOST_REASON_TITLES
from crmcompanion.services.container import Services
from crmcompanion.services.insights import MarkedLost
from crmcompanion.ui.formatting import date_edit_format
from crmcompanion.ui.widgets import DialogButtons, FieldLabel

logger = logging.getLogger(__name__)

WIN_BACK_AFTER_DAYS = 90


class LostReasonDialog(QDialog):
    def __init__(self, services: Services, customer_id: int, name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.customer_id = customer_id
        self.result_value: MarkedLost | None = None
        self.setWindowTitle("Why did they leave?")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        intro = QLabel(f"{name} is now a lost customer. Why did they leave? The reasons are "
                       "counted in Insights, so you can work on the most common one.")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)  # a name is never markup
        layout.addWidget(intro)
        form = QFormLayout()
        # The fields take the dialog's width (the note's hint was cut off in half of it).
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.reason = QComboBox()
        for reason in CHOOSABLE_REASONS:
            self.reason.addItem(LOST_REASON_TITLES[reason], reason.value)
        form.addRow(FieldLabel("Reason", self.reason), self.reason)
        self.note = QLineEdit()
        self.note.setPlaceholderText("In your words (needed for “Other”)")
        form.addRow(FieldLabel("Note", self.note), self.note)
        self.win_back = QCheckBox("Remind me to try to win them back on")
        today = services.clock.today()
        self.win_back_on = QDateEdit(QDate(today + timedelta(days=WIN_BACK_AFTER_DAYS)))
        self.win_back_on.setCalendarPopup(True)
        self.win_back_on.setDisplayFormat(date_edit_format())
        self.win_back_on.setMinimumDate(QDate(today + timedelta(days=1)))
        self.win_back_on.setEnabled(False)
        self.win_back.toggled.connect(self.win_back_on.setEnabled)
        layout.addLayout(form)
        # On a line of its own: as a form row the long check box set the width of the label
        # column and squeezed Reason and Note into what was left.
        win_back_row = QHBoxLayout()
        win_back_row.addWidget(self.win_back)
        win_back_row.addWidget(self.win_back_on)
        win_back_row.addStretch(1)
        layout.addLayout(win_back_row)
        self.error = QLabel("")
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = DialogButtons(self, self.save, "Save reason")
        layout.addLayout(self.buttons)

    def save(self) -> None:
        day = self.win_back_on.date().toPython() if self.win_back.isChecked() else None
        try:
            self.result_value = self.services.insights.mark_lost(
                self.customer_id, self.reason.currentData(), self.note.text(), day)
        except DomainError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()
