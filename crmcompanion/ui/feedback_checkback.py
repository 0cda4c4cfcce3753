"""The complaint check-back asked from Today: "Is the customer satisfied now?".

Resolving a complaint leaves a `complaint_checkback` touchpoint on Today. Its answer is what
closes the loop (satisfied closes the complaint, not satisfied reopens it for another plan),
so Today's row does not offer a plain "Mark done" for it: its main action and its menu open
this dialog, which answers through `FeedbackService.answer_checkback` (that also records the
check-back on the customer's history, so it leaves Today).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import DomainError
from crmcompanion.services.changes import Changed
from crmcompanion.services.container import Services
from crmcompanion.services.feedback import Saved
from crmcompanion.ui.feedback_common import form_banner
from crmcompanion.ui.text_display import embedded

logger = logging.getLogger(__name__)

QUESTION = "Is the customer satisfied now?"


class CheckbackDialog(QDialog):
    """Asks the check-back question about complaint `item_id`; after an answer, `saved` holds
    the complaint as it is now and `changed` what changed (the caller publishes it)."""

    def __init__(self, services: Services, item_id: int, customer: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.item_id = item_id
        self.saved: Saved | None = None
        self.changed = Changed()
        self.setWindowTitle(f"Check back with {customer}")
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(10)
        question = QLabel(QUESTION)
        question.setObjectName("emptyTitle")
        layout.addWidget(question)
        try:
            text = services.feedback.get(item_id).item.text
        except DomainError:
            text = ""
        self.complaint = QLabel(f"Their complaint: “{embedded(' '.join(text.split()))}”"
                                if text else "")
        self.complaint.setTextFormat(Qt.TextFormat.PlainText)
        self.complaint.setWordWrap(True)
        layout.addWidget(self.complaint)
        self.note = QLineEdit()
        self.note.setPlaceholderText("What did they say? (optional)")
        self.note.setMaxLength(500)
        self.note.setAccessibleName("Note")
        layout.addWidget(self.note)
        self.error = form_banner()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.not_satisfied_button = QPushButton("Not satisfied")
        self.not_satisfied_button.setToolTip("Reopens the complaint for another plan")
        self.not_satisfied_button.clicked.connect(lambda: self.answer(False))
        self.satisfied_button = QPushButton("Satisfied")
        self.satisfied_button.setObjectName("primary")
        self.satisfied_button.setToolTip("Closes the complaint")
        self.satisfied_button.clicked.connect(lambda: self.answer(True))
        for button in (self.cancel_button, self.not_satisfied_button, self.satisfied_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.note.setFocus()

    def answer(self, satisfied: bool) -> None:
        try:
            self.saved = self._services.feedback.answer_checkback(
                self.item_id, satisfied, self.note.text())
        except DomainError as exc:
            self.error.setText(str(exc))
            self.error.setVisible(True)
            return
        self.changed |= self.saved.changed
        self.accept()
