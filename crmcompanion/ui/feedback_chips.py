"""Feedback type chips: praise, feedback, complaint, idea, question as toggle buttons.

Used by the Add feedback dialog (one type required) and meant for the Log conversation
dialog's "add feedback" row (optional: no chip checked means the conversation carried no
feedback; `FeedbackCapture.save` records the chosen type with the conversation's text and a
link to its history entry).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLineEdit, QPushButton, QWidget

from crmcompanion.core.feedback import FeedbackType, Source
from crmcompanion.services.container import Services
from crmcompanion.services.feedback import Saved

logger = logging.getLogger(__name__)


class FeedbackTypeChips(QWidget):
    """One chip per feedback type; `required` keeps one checked, else a checked chip can be
    clicked off again."""

    changed = Signal()

    def __init__(self, required: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.group.setExclusive(required)
        self.required = required
        self.buttons: dict[FeedbackType, QPushButton] = {}
        for kind in FeedbackType:
            chip = QPushButton(kind.title)
            chip.setCheckable(True)
            chip.setObjectName("chip")
            self.group.addButton(chip)
            self.buttons[kind] = chip
            row.addWidget(chip)
            chip.toggled.connect(lambda on, k=kind: self._toggled(k, on))
        row.addStretch(1)

    def _toggled(self, kind: FeedbackType, on: bool) -> None:
        if on and not self.required:  # one type at most, but none is fine
            for other, chip in self.buttons.items():
                if other is not kind and chip.isChecked():
                    chip.setChecked(False)
        self.changed.emit()

    def kind(self) -> FeedbackType | None:
        return next((k for k, b in self.buttons.items() if b.isChecked()), None)

    def set_kind(self, kind: FeedbackType | None) -> None:
        if kind is None:
            for chip in self.buttons.values():
                chip.setChecked(False)
        else:
            self.buttons[kind].setChecked(True)


class FeedbackCapture(QWidget):
    """The Log conversation dialog's "add feedback" row: optional type chips and themes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.chips = FeedbackTypeChips(required=False)
        self.themes = QLineEdit()
        self.themes.setPlaceholderText("Themes (e.g. delivery, price)")
        self.themes.setEnabled(False)
        self.chips.changed.connect(lambda: self.themes.setEnabled(self.chips.kind() is not None))
        row.addWidget(self.chips)
        row.addWidget(self.themes, 1)

    def theme_names(self) -> Sequence[str]:
        return [t for t in self.themes.text().split(",") if t.strip()]

    def save(self, services: Services, customer_id: int, text: str,
             interaction_id: int | None) -> Saved | None:
        """Record the conversation's text as feedback of the chosen type (None: no chip)."""
        kind = self.chips.kind()
        if kind is None:
            return None
        return services.feedback.add(customer_id, kind, text, themes=self.theme_names(),
                                     source=Source.CONVERSATION,
                                     interaction_id=interaction_id)
