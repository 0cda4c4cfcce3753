"""Add feedback: who said it, what kind (chips), the text, themes, satisfaction, severity.

While a complaint is typed, similar complaints of other customers are looked up off the GUI
thread (the meaning model loads there, never here) and their themes are offered as buttons:
one click attaches the typed complaint to that theme. Saving also runs off the GUI thread,
since a complaint's meaning vector is written when it is saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import DomainError
from crmcompanion.core.feedback import FeedbackType, Severity
from crmcompanion.services.container import Services
from crmcompanion.services.feedback import Saved, SimilarItem
from crmcompanion.ui.feedback_chips import FeedbackTypeChips, show_similar, with_theme
from crmcompanion.ui.feedback_common import (
    SimilarLookup,
    find_similar,
    run_off_thread,
    section_label,
)
from crmcompanion.ui.widgets import FewLinesEdit, FieldLabel, fit_on_screen

if TYPE_CHECKING:
    from crmcompanion.ui.feedback_common import SimilarFound

logger = logging.getLogger(__name__)

SIMILAR_DELAY_MS = 300  # a pause in typing before similar complaints are looked up
SIMILAR_SHOWN = 5
SAID_HEIGHT = 110  # five lines or so: room to write, without pushing the buttons away
DIALOG_WIDTH = 620


class FeedbackDialog(QDialog):
    saved = Signal(object)  # the Changed of the saved item
    item_saved = Signal(int)  # its id, so the page can show it

    def __init__(self, services: Services, parent: QWidget | None = None,
                 customer: str = "") -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Add feedback")
        self.similar_items: list[SimilarItem] = []
        self.suggested: list[str] = []
        self.saving = False
        self._customer_id: int | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.customer = QLineEdit(customer)
        self.customer.setPlaceholderText("Name, email, phone or #number")
        form.addRow(FieldLabel("Customer", self.customer), self.customer)
        self.chips = FeedbackTypeChips(required=True)
        self.type_buttons = self.chips.buttons
        self.chips.set_kind(FeedbackType.FEEDBACK)
        self.chips.changed.connect(self._type_changed)
        form.addRow(FieldLabel("Type", self.chips), self.chips)
        self.text = FewLinesEdit("", SAID_HEIGHT)
        self.text.setTabChangesFocus(True)
        self.text.setPlaceholderText("What the customer said")
        self.lookup = SimilarLookup(self, self._similar_work, self._show_similar,
                                    SIMILAR_DELAY_MS)
        self.text.textChanged.connect(lambda: self.lookup.set_text(self.text.toPlainText()))
        form.addRow(FieldLabel("Said", self.text), self.text)
        self.themes = QLineEdit()
        self.themes.setPlaceholderText("Themes, separated by commas (e.g. delivery, price)")
        form.addRow(FieldLabel("Themes", self.themes), self.themes)
        self.satisfaction = QComboBox()
        self.satisfaction.addItem("Not given", None)
        for n in range(1, 6):
            self.satisfaction.addItem("★" * n, n)
        form.addRow(FieldLabel("Satisfaction", self.satisfaction), self.satisfaction)
        self.severity = QComboBox()
        for level in Severity:
            self.severity.addItem(level.title, level.value)
        self.severity.setCurrentIndex(1)
        self.severity_label = FieldLabel("Severity", self.severity)
        form.addRow(self.severity_label, self.severity)
        layout.addLayout(form)

        self.similar_label = section_label("Similar complaints from other customers")
        layout.addWidget(self.similar_label)
        self.similar = QListWidget()
        layout.addWidget(self.similar)
        self.suggestions_row = QHBoxLayout()
        self.suggestions_row.addStretch(1)
        layout.addLayout(self.suggestions_row)
        self.suggestion_buttons: list[QPushButton] = []

        # Spare height goes below the fields, not between them (the rows spread apart).
        layout.addStretch(1)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

        self._type_changed()
        # As tall as its fields: a complaint's similar complaints and suggestions, when
        # found, grow it by their height (at most ~170 px: it still fits a 600 px screen).
        self.resize(DIALOG_WIDTH, self.sizeHint().height())
        fit_on_screen(self)
        # The first field is the one to fill: the customer, or what they said when the
        # customer is already known.
        (self.text if customer else self.customer).setFocus()

    # --- type --------------------------------------------------------------------------
    def kind(self) -> FeedbackType:
        return self.chips.kind() or FeedbackType.FEEDBACK

    def set_kind(self, kind: FeedbackType) -> None:
        self.chips.set_kind(kind)

    def _type_changed(self) -> None:
        complaint = self.kind() is FeedbackType.COMPLAINT
        for widget in (self.severity, self.severity_label):
            widget.setVisible(complaint)
        self._show_suggestions()
        self.lookup.set_active(complaint)

    def _show_suggestions(self) -> None:
        # Only when there is something similar: a first complaint showed an empty box.
        complaint = self.kind() is FeedbackType.COMPLAINT
        for widget in (self.similar_label, self.similar):
            widget.setVisible(complaint and bool(self.similar_items))
        for button in self.suggestion_buttons:
            button.setVisible(complaint)

    # --- similar complaints ----------------------------------------------------------------
    def _similar_work(self, text: str) -> Callable[[], SimilarFound]:
        feedback, customers, typed = (self.services.feedback, self.services.customers,
                                      self.customer.text())

        def work() -> SimilarFound:
            try:  # the customer's own complaints are not "similar complaints"
                exclude: int | None = customers.resolve(typed).id
            except DomainError:  # an unfinished name is no reason to stop suggesting
                exclude = None
            return find_similar(feedback, text, SIMILAR_SHOWN, exclude)

        return work

    def _show_similar(self, found: SimilarFound) -> None:
        self.similar_items, self.suggested = found
        self.suggestion_buttons = show_similar(self.similar, self.suggestions_row,
                                               self.suggestion_buttons, self.similar_items,
                                               self.suggested, self.add_theme)
        self._show_suggestions()

    def add_theme(self, theme: str) -> None:
        self.themes.setText(with_theme(self.themes.text(), theme))

    # --- saving ------------------------------------------------------------------------
    def save(self) -> None:
        if self.saving:
            return
        try:
            customer = self.services.customers.resolve(self.customer.text())
        except DomainError as exc:
            self.error.setText(str(exc) or "Choose a customer.")
            return
        kind = self.kind()
        text = self.text.toPlainText()
        themes = [t for t in self.themes.text().split(",") if t.strip()]
        satisfaction = self.satisfaction.currentData()
        severity = self.severity.currentData() if kind is FeedbackType.COMPLAINT else None
        feedback = self.services.feedback

        def work() -> Saved:
            return feedback.add(customer.id, kind, text, themes=themes,
                                satisfaction=satisfaction, severity=severity)

        self.saving = True
        self.save_button.setEnabled(False)
        run_off_thread(self, work, self._saved, self._failed, "save feedback")

    def _saved(self, saved: Saved) -> None:
        self.saving = False
        self.item_saved.emit(saved.item.id)
        self.saved.emit(saved.changed)
        self.accept()

    def _failed(self, text: str) -> None:
        self.saving = False
        self.save_button.setEnabled(True)
        self.error.setText(text)
