"""How the customer list paints its text cells: cheaply, and looking as Qt's own path did.

Every keystroke in the search box repaints the ~80-100 visible cells of the list (issue 13).
Qt's stock path for a cell (QStyledItemDelegate under the app's style sheet) asks the model
for seven roles through Qt, runs the style sheet's rules for the item, and lays its text out
two or three times (the text rectangle, the size, the drawing) with QTextLayout: ~60-80 µs a
cell, 6-10 ms of CPU a keystroke, more than the page's SQL. This delegate asks the model once
per cell (`CustomerTableModel.cell`), fills the selection, and draws the elided text at the
place the style did (same padding, same baseline: tests/ui/test_customer_list_cells.py
compares the pixels), in about half the time. A cell it does not know how to draw exactly
(the focused one, a model it does not know) goes through Qt's path as before.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from crmcompanion.ui.customer_model import CustomerTableModel, key_account_font, muted_colour

logger = logging.getLogger(__name__)

# The text's inset from each side of its cell: the style sheet's `QTableView::item { padding:
# 0 6px; }` (ui/style.py) plus the margin Qt's item drawing keeps (PM_FocusFrameHMargin + 1).
TEXT_INSET = 6 + 3
# Elided cell texts kept (a few screenfuls of cells per column width; ~100 bytes each).
ELIDED_KEPT = 4096

# The state bits tested, as plain ints: PySide6's flags are Python enums, whose `&` builds a
# new enum member each time (~4 us a test, four tests a cell: ~1 ms of a keystroke's repaint).
_HAS_FOCUS = QStyle.StateFlag.State_HasFocus.value
_ENABLED = QStyle.StateFlag.State_Enabled.value
_ACTIVE = QStyle.StateFlag.State_Active.value
_SELECTED = QStyle.StateFlag.State_Selected.value
# Enum members read once: each `QPalette.ColorGroup.Active` is a descriptor call in Python
# (five to seven of them a cell).
_DISABLED = QPalette.ColorGroup.Disabled
_ACTIVE_GROUP = QPalette.ColorGroup.Active
_INACTIVE = QPalette.ColorGroup.Inactive
_HIGHLIGHT = QPalette.ColorRole.Highlight
_HIGHLIGHTED_TEXT = QPalette.ColorRole.HighlightedText
_TEXT = QPalette.ColorRole.Text
_ELIDE = Qt.TextElideMode.ElideRight


class CustomerCellDelegate(QStyledItemDelegate):
    """Paints the list's plain text cells (every column but Status, which has its pill)."""

    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.painted = 0  # cells painted here, not through Qt's path (tests)
        self.measured = 0  # texts measured to elide them (tests: a repaint measures none)
        self._bold_metrics: dict[str, QFontMetrics] = {}
        # By the list's font (its key) and bold or not: (font, metrics, baseline offset).
        self._looks: dict[tuple[str, bool], tuple[QFont, QFontMetrics, int]] = {}
        # Elided texts by font, bold, width and text (see paint), at most ELIDED_KEPT.
        self._elided: dict[tuple[str, bool, int, str], str] = {}

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        state = option.state.value
        model = index.model()
        if state & _HAS_FOCUS or not isinstance(model, CustomerTableModel):
            super().paint(painter, option, index)  # the focus frame is the style's to draw
            return
        cell = model.cell(index.row(), index.column())
        if cell is None:
            return
        text, muted, bold = cell
        self.painted += 1
        rect = option.rect
        palette = option.palette
        if not state & _ENABLED:
            group = _DISABLED
        elif state & _ACTIVE:
            group = _ACTIVE_GROUP
        else:
            group = _INACTIVE
        selected = bool(state & _SELECTED)
        if selected:
            painter.fillRect(rect, palette.brush(group, _HIGHLIGHT))
        if not text:
            return
        if selected:
            colour = palette.color(group, _HIGHLIGHTED_TEXT)
        elif muted:
            colour = muted_colour()
        else:
            colour = palette.color(group, _TEXT)
        width = rect.width() - 2 * TEXT_INSET
        if width <= 0:
            return
        font_key = option.font.key()
        look = self._looks.get((font_key, bold))
        if look is None:
            look = self._look_of(option, font_key, bold)
        font, metrics, top = look
        # The elided text of each cell, kept: the same customers come back on the next
        # keystroke and on every repaint, and eliding measures the text (~5-50 us a cell).
        key = (font_key, bold, width, text)
        shown = self._elided.get(key)
        if shown is None:
            if len(self._elided) >= ELIDED_KEPT:
                self._elided.clear()
            shown = self._elided[key] = metrics.elidedText(text, _ELIDE, width)
            self.measured += 1
        painter.save()
        painter.setFont(font)
        painter.setPen(colour)
        # Vertically centred as the style centres one line: its height, then its ascent.
        baseline = rect.y() + (rect.height() + top) // 2
        painter.drawText(rect.x() + TEXT_INSET, baseline, shown)
        painter.restore()

    def _look_of(self, option: QStyleOptionViewItem, font_key: str, bold: bool
                 ) -> tuple[QFont, QFontMetrics, int]:
        """The font a cell is written in, its metrics, and what centres its baseline (twice
        the ascent less the height: the baseline is (cell height + this) // 2 below the top,
        as rect.y() + (h - height) // 2 + ascent was)."""
        if bold:
            font = key_account_font().resolve(option.font)
            metrics = self._metrics_of(font)
        else:
            # Copies: the option's own are gone once this paint returns.
            font = QFont(option.font)
            metrics = QFontMetrics(option.fontMetrics)
        look = (font, metrics, 2 * metrics.ascent() - metrics.height())
        self._looks[(font_key, bold)] = look
        return look

    def _metrics_of(self, font: object) -> QFontMetrics:
        key = font.key()  # type: ignore[attr-defined]
        metrics = self._bold_metrics.get(key)
        if metrics is None:
            metrics = self._bold_metrics[key] = QFontMetrics(font)  # type: ignore[arg-type]
        return metrics
