"""Small building blocks shared by every page: page header, empty state, status pill.

Every section of the app looks the same because it is built from these, and a later feature
gets a friendly empty state with one line instead of a blank page.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.customer import Status
from crmcompanion.ui.style import STATUS_COLOURS, STATUS_TITLES
from crmcompanion.ui.text_display import plain


class DialogButtons(QHBoxLayout):
    """The Cancel / primary-action row every form dialog ends with, right-aligned.

    One definition so every dialog has the same order, default button and look.
    """

    def __init__(
        self,
        dialog: QDialog,
        on_accept: Callable[[], object],
        accept_text: str = "Save",
        margins: tuple[int, int, int, int] | None = None,
    ) -> None:
        super().__init__()
        if margins is not None:
            self.setContentsMargins(*margins)
        self.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(dialog.reject)
        self.accept_button = QPushButton(accept_text)
        self.accept_button.setObjectName("primary")
        self.accept_button.setDefault(True)
        self.accept_button.clicked.connect(on_accept)
        self.addWidget(self.cancel_button)
        self.addWidget(self.accept_button)


class PageHeader(QWidget):
    """The section title (and an optional subtitle) with room for actions on the right."""

    def __init__(self, title: str, subtitle: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        texts = QVBoxLayout()
        texts.setSpacing(2)
        self.title = plain(QLabel(title))
        self.title.setObjectName("pageTitle")
        texts.addWidget(self.title)
        self.subtitle = plain(QLabel(subtitle))  # may quote a file's or a customer's name
        self.subtitle.setObjectName("pageSubtitle")
        self.subtitle.setVisible(bool(subtitle))
        texts.addWidget(self.subtitle)
        layout.addLayout(texts, 1)
        self.actions = QHBoxLayout()
        self.actions.setSpacing(8)
        layout.addLayout(self.actions)

    def set_subtitle(self, text: str) -> None:
        self.subtitle.setText(text)
        self.subtitle.setVisible(bool(text))

    def add_action(self, button: QWidget) -> None:
        self.actions.addWidget(button)


class EmptyState(QWidget):
    """A centred, friendly explanation with optional buttons, instead of a blank page."""

    def __init__(
        self, symbol: str, title: str, text: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        self.symbol = QLabel(symbol)
        font = QFont(self.font())
        font.setPointSize(34)
        self.symbol.setFont(font)
        self.symbol.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.symbol.setStyleSheet("color: #98a2b3;")
        outer.addWidget(self.symbol)
        self.title = QLabel(title)
        self.title.setObjectName("emptyTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.title)
        self.text = QLabel(text)
        self.text.setObjectName("emptyText")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setFixedWidth(440)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.text)
        row.addStretch(1)
        outer.addLayout(row)
        self.buttons = QHBoxLayout()
        self.buttons.setSpacing(10)
        self.buttons.addStretch(1)
        self.buttons.addStretch(1)
        outer.addSpacing(10)
        outer.addLayout(self.buttons)
        outer.addStretch(2)

    def add_button(self, text: str, primary: bool = False) -> QPushButton:
        button = QPushButton(text)
        if primary:
            button.setObjectName("primary")
        self.buttons.insertWidget(self.buttons.count() - 1, button)
        return button


STATUS_ROLE = Qt.ItemDataRole.UserRole + 1


class StatusPillDelegate(QStyledItemDelegate):
    """Paints a status as a coloured rounded pill carrying the status word."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        # Qt hands a StrEnum back as a plain str, so map it back to the enum.
        value = index.data(STATUS_ROLE)
        if value not in {s.value for s in Status}:
            super().paint(painter, option, index)
            return
        status = Status(value)
        # Draw the selection/hover background the style would, but not the text.
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        background, foreground = STATUS_COLOURS[status]
        text = STATUS_TITLES[status]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(option.font)
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 18
        height = metrics.height() + 4
        rect = QRect(
            option.rect.x() + 8,
            option.rect.y() + (option.rect.height() - height) // 2,
            width,
            height,
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(background))
        painter.drawRoundedRect(rect, height / 2, height / 2)
        painter.setPen(QColor(foreground))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), 80), hint.height())
