"""Feedback type chips: praise, feedback, complaint, idea, question as toggle buttons.

Used by the Add feedback dialog (one type required) and meant for the Log conversation
dialog's "add feedback" row (optional: no chip checked means the conversation carried no
feedback; `FeedbackCapture.save` records the chosen type with the conversation's text and a
link to its history entry).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.feedback import FeedbackType, Source
from crmcompanion.services.feedback import FeedbackService, Saved, SimilarItem
from crmcompanion.ui.feedback_common import (
    SimilarLookup,
    find_similar,
    section_label,
)
from crmcompanion.ui.style import LIGHT

if TYPE_CHECKING:
    from crmcompanion.ui.feedback_common import SimilarFound

logger = logging.getLogger(__name__)

SIMILAR_DELAY_MS = 350  # a pause in typing before similar complaints are looked up
SIMILAR_SHOWN = 3  # few lines: the Log conversation dialog still fits a 600 px screen
CHIP_SHEET = (f"QPushButton#chip:checked {{ background: {LIGHT.accent}; "
              f"color: {LIGHT.accent_text}; border: 1px solid {LIGHT.accent}; }}")


def show_similar(similar: QListWidget, row: QHBoxLayout, old: Sequence[QPushButton],
                 items: Sequence[SimilarItem], themes: Sequence[str],
                 add_theme: Callable[[str], None]) -> list[QPushButton]:
    """List similar complaints ("customer: text [themes]") and replace the old suggestion
    buttons in `row` (before its final stretch) with one "Add to “theme”" per theme, long
    theme names shortened so the buttons share the list's width (the whole name in the
    tooltip)."""
    similar.clear()
    for hit in items:
        shown = f"  [{', '.join(hit.themes)}]" if hit.themes else ""
        line = f"{hit.customer}: {' '.join(hit.text.split())}{shown}"
        similar.addItem(line)
        similar.item(similar.count() - 1).setToolTip(line)  # whole, when elided
    fit_rows(similar)
    for button in old:
        row.removeWidget(button)
        button.deleteLater()
    buttons = []
    # Each button gets its share of the row (a third button was cut off mid-word in the Log
    # conversation dialog). The row spans its window's layout (the list above it may still
    # be hidden, its width unknown).
    holder = row.parentWidget()
    outer = holder.layout() if holder is not None else None
    width = outer.contentsRect().width() if outer is not None else similar.width()
    for theme in themes:
        button = QPushButton(f"Add to “{theme}”")
        button.setToolTip(f"Attach this complaint to the theme “{theme}”")
        button.clicked.connect(lambda _=False, t=theme: add_theme(t))
        row.insertWidget(row.count() - 1, button)
        buttons.append(button)
    room = width - row.spacing() * max(len(buttons) - 1, 0)
    for button, share in zip(buttons, fair_shares([b.sizeHint().width() for b in buttons],
                                                   room), strict=True):
        if share < button.sizeHint().width():
            _shorten(button, share)
    return buttons


def fit_rows(similar: QListWidget) -> None:
    """Make the list exactly as tall as its rows (few: SIMILAR_SHOWN at most) and elide long
    ones: every similar complaint in view, with no scroll bar either way."""
    similar.setTextElideMode(Qt.TextElideMode.ElideRight)
    similar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    similar.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    rows = sum(similar.sizeHintForRow(row) for row in range(similar.count()))
    similar.setFixedHeight(rows + 2 * similar.frameWidth())


def fair_shares(wanted: Sequence[int], room: int) -> list[int]:
    """Widths for items wanting `wanted` within `room`: each gets what it wants when all
    fit; else the narrow ones keep theirs and the wide ones share what is left equally."""
    shares = list(wanted)
    if sum(wanted) <= room:
        return shares
    left, count = room, len(wanted)
    for index in sorted(range(len(wanted)), key=lambda i: wanted[i]):
        fair = left // count
        shares[index] = min(wanted[index], fair)
        left -= shares[index]
        count -= 1
    return shares


def _shorten(button: QPushButton, width: int) -> None:
    """"Add to “theme”" with the theme's name cut short ("…") to fit `width`."""
    theme = button.text().removeprefix("Add to “").removesuffix("”")
    metrics = button.fontMetrics()
    room = width - (button.sizeHint().width() - metrics.horizontalAdvance(theme))
    shortened = metrics.elidedText(theme, Qt.TextElideMode.ElideRight,
                                   max(room, metrics.horizontalAdvance("Abc…")))
    button.setText(f"Add to “{shortened}”")


def with_theme(themes_text: str, theme: str) -> str:
    """The comma-separated themes with `theme` added (once, ignoring case)."""
    current = [t.strip() for t in themes_text.split(",") if t.strip()]
    if theme.casefold() not in {t.casefold() for t in current}:
        current.append(theme)
    return ", ".join(current)


class FeedbackTypeChips(QWidget):
    """One chip per feedback type; `required` keeps one checked, else a checked chip can be
    clicked off again."""

    changed = Signal()

    def __init__(self, required: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        # The app's stylesheet gives a checked button no look of its own: the chosen type
        # must read as chosen. Light colours; ui.style swaps them in the dark theme.
        self.setStyleSheet(CHIP_SHEET)
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
    """The Log conversation dialog's "add feedback" row: optional type chips and themes; for
    a complaint, similar complaints of other customers and their themes as one-click
    suggestions, looked up off the GUI thread while the conversation's text is typed (the
    meaning model loads there, never on the GUI thread)."""

    def __init__(self, feedback: FeedbackService | None = None,
                 exclude_customer_id: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._feedback = feedback
        self._exclude = exclude_customer_id
        self.similar_items: list[SimilarItem] = []
        self.suggested: list[str] = []
        self.suggestion_buttons: list[QPushButton] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.chips = FeedbackTypeChips(required=False)
        layout.addWidget(self.chips)
        self.themes = QLineEdit()
        self.themes.setPlaceholderText("Themes (e.g. delivery, price)")
        self.themes.setAccessibleName("Themes")
        self.themes.setEnabled(False)
        layout.addWidget(self.themes)
        self.similar_label = section_label("Similar complaints from other customers")
        layout.addWidget(self.similar_label)
        self.similar = QListWidget()
        self.similar.setAccessibleName("Similar complaints")
        layout.addWidget(self.similar)
        self.suggestions_row = QHBoxLayout()
        self.suggestions_row.setSpacing(6)
        self.suggestions_row.addStretch(1)
        layout.addLayout(self.suggestions_row)
        self.lookup = SimilarLookup(self, self._similar_work, self._found, SIMILAR_DELAY_MS)
        self.chips.changed.connect(self._type_changed)
        self._type_changed()

    def watch(self, editor: QPlainTextEdit) -> None:
        """Follow the text typed in `editor` (the conversation's summary)."""
        self.lookup.set_text(editor.toPlainText())
        editor.textChanged.connect(lambda: self.lookup.set_text(editor.toPlainText()))

    def kind(self) -> FeedbackType | None:
        return self.chips.kind()

    def _is_complaint(self) -> bool:
        return self.chips.kind() is FeedbackType.COMPLAINT

    def _type_changed(self) -> None:
        self.themes.setEnabled(self.chips.kind() is not None)
        self._show_suggestions()
        self.lookup.set_active(self._is_complaint() and self._feedback is not None)

    def _show_suggestions(self) -> None:
        shown = self._is_complaint() and bool(self.similar_items)
        self.similar_label.setVisible(shown)
        self.similar.setVisible(shown)
        for button in self.suggestion_buttons:
            button.setVisible(self._is_complaint())

    # --- similar complaints ------------------------------------------------------------
    def _similar_work(self, text: str) -> Callable[[], SimilarFound]:
        feedback, exclude = self._feedback, self._exclude
        assert feedback is not None  # the look-up is active only with a feedback service
        return lambda: find_similar(feedback, text, SIMILAR_SHOWN, exclude)

    def _found(self, found: SimilarFound) -> None:
        self.similar_items, self.suggested = found
        self.suggestion_buttons = show_similar(self.similar, self.suggestions_row,
                                               self.suggestion_buttons, self.similar_items,
                                               self.suggested, self.add_theme)
        self._show_suggestions()

    def add_theme(self, theme: str) -> None:
        self.themes.setText(with_theme(self.themes.text(), theme))

    # --- saving ------------------------------------------------------------------------
    def theme_names(self) -> Sequence[str]:
        return [t for t in self.themes.text().split(",") if t.strip()]

    def save(self, customer_id: int, text: str, interaction_id: int | None) -> Saved | None:
        """Record the conversation's text as feedback of the chosen type (None: no chip).
        Call it off the GUI thread: a complaint's meaning vector is computed on saving."""
        kind = self.chips.kind()
        if kind is None or self._feedback is None:
            return None
        return self._feedback.add(customer_id, kind, text, themes=self.theme_names(),
                                  source=Source.CONVERSATION, interaction_id=interaction_id)
