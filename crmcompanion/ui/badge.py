"""The sidebar's count badge: its text and the delegate that paints it.

Apart from the reminder list (`ui/reminder_list.py`, which keeps the count) so that the main
window and the tray can show a badge without loading that list's module: the list is built
once Today's rows are on screen, the sidebar is painted before them (issue 13).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

logger = logging.getLogger(__name__)

BADGE_MAX = 99
BadgeRole = Qt.ItemDataRole.UserRole + 2  # on a sidebar item: the badge text ("" for none)
BADGE_COLOUR = "#d92d20"


def badge_text(count: int) -> str:
    """"" for none, "7", or "99+" so the badge never grows wider than three characters."""
    if count <= 0:
        return ""
    return f"{BADGE_MAX}+" if count > BADGE_MAX else str(count)


class BadgeDelegate(QStyledItemDelegate):
    """Paints an item as usual plus a small red count pill at its right edge (the sidebar's
    Today entry). The count is the item's `BadgeRole` text; nothing is drawn for ""."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().paint(painter, option, index)
        text = index.data(BadgeRole)
        if not text:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = painter.font()
        font.setBold(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        height = metrics.height() + 2
        width = max(height, metrics.horizontalAdvance(str(text)) + 12)
        rect = option.rect  # type: ignore[attr-defined]
        pill = QRectF(
            rect.right() - width - 10, rect.center().y() - height / 2 + 0.5, width, height
        )
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("white") if selected else QColor(BADGE_COLOUR))
        painter.drawRoundedRect(pill, height / 2, height / 2)
        painter.setPen(QColor(BADGE_COLOUR) if selected else QColor("white"))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, str(text))
        painter.restore()
