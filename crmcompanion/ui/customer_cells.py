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
from PySide6.QtGui import QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from crmcompanion.ui.customer_model import CustomerTableModel, key_account_font, muted_colour

logger = logging.getLogger(__name__)

# The text's inset from each side of its cell: the style sheet's `QTableView::item { padding:
# 0 6px; }` (ui/style.py) plus the margin Qt's item drawing keeps (PM_FocusFrameHMargin + 1).
TEXT_INSET = 6 + 3

_STATE = QStyle.StateFlag
_GROUP = QPalette.ColorGroup
_ROLE = QPalette.ColorRole
_ELIDE = Qt.TextElideMode.ElideRight


class CustomerCellDelegate(QStyledItemDelegate):
    """Paints the list's plain text cells (every column but Status, which has its pill)."""

    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.painted = 0  # cells painted here, not through Qt's path (tests)
        self._bold_metrics: dict[str, QFontMetrics] = {}

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        state = option.state
        model = index.model()
        if state & _STATE.State_HasFocus or not isinstance(model, CustomerTableModel):
            super().paint(painter, option, index)  # the focus frame is the style's to draw
            return
        cell = model.cell(index.row(), index.column())
        if cell is None:
            return
        text, muted, bold = cell
        self.painted += 1
        rect = option.rect
        palette = option.palette
        if not state & _STATE.State_Enabled:
            group = _GROUP.Disabled
        elif state & _STATE.State_Active:
            group = _GROUP.Active
        else:
            group = _GROUP.Inactive
        selected = bool(state & _STATE.State_Selected)
        if selected:
            painter.fillRect(rect, palette.brush(group, _ROLE.Highlight))
        if not text:
            return
        if selected:
            colour = palette.color(group, _ROLE.HighlightedText)
        elif muted:
            colour = muted_colour()
        else:
            colour = palette.color(group, _ROLE.Text)
        width = rect.width() - 2 * TEXT_INSET
        if width <= 0:
            return
        painter.save()
        if bold:
            font = key_account_font().resolve(option.font)
            painter.setFont(font)
            metrics = self._metrics_of(font)
        else:
            painter.setFont(option.font)
            metrics = option.fontMetrics
        painter.setPen(colour)
        shown = metrics.elidedText(text, _ELIDE, width)
        # Vertically centred as the style centres one line: its height, then its ascent.
        baseline = rect.y() + (rect.height() - metrics.height()) // 2 + metrics.ascent()
        painter.drawText(rect.x() + TEXT_INSET, baseline, shown)
        painter.restore()

    def _metrics_of(self, font: object) -> QFontMetrics:
        key = font.key()  # type: ignore[attr-defined]
        metrics = self._bold_metrics.get(key)
        if metrics is None:
            metrics = self._bold_metrics[key] = QFontMetrics(font)  # type: ignore[arg-type]
        return metrics
