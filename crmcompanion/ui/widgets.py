"""Small building blocks shared by every page: page header, empty state, status pill, the
country picker, and two helpers every window uses: `fit_on_screen` (a dialog never opens
larger than the screen it is on) and `name_controls` (every control has an accessible name).

Every section of the app looks the same because it is built from these, and a later feature
gets a friendly empty state with one line instead of a blank page.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPainter, QShowEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.customer import Status
from crmcompanion.ui.style import STATUS_COLOURS, STATUS_TITLES, current_theme
from crmcompanion.ui.text_display import fit_to_screen, plain

logger = logging.getLogger(__name__)


def _line_middle(field: QWidget, line: QWidget) -> int:
    """How far below `field`'s top the middle of its first line of text (in `line`) is."""
    line.ensurePolished()
    above = line.mapTo(field, QPoint(0, 0)).y() if line is not field else 0
    if isinstance(line, QPlainTextEdit | QTextEdit):
        margin = line.document().documentMargin()
        # The viewport sits inside the contents margins (frame and padding, set on polish);
        # its own geometry is not laid out yet when the label is shown.
        top = line.contentsRect().top() + round(margin)
        return above + top + line.fontMetrics().lineSpacing() // 2
    return above + line.sizeHint().height() // 2


def _levels(event: QEvent) -> bool:
    # On polish (the stylesheet sets the field's padding) and on show (laid out by then).
    return event.type() in (QEvent.Type.Polish, QEvent.Type.Show)


class FieldLabel(QLabel):
    """A form row's label, level with its field's text. QFormLayout sets a label at the top
    of its row at its own height, so beside a 30-pixel field its text sat ~3 pixels above
    the field's; it takes the height that puts its centred text level with the field's
    first line: a one-line field's middle, a text box's first line (not its middle), or
    `line`, a part of a larger field (the chips above a feedback row's themes)."""

    def __init__(self, text: str, field: QWidget, line: QWidget | None = None) -> None:
        super().__init__(text)
        self.setBuddy(field)
        self._field = field
        self._line = line or field
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    def event(self, event: QEvent) -> bool:
        if _levels(event):
            self.setFixedHeight(max(2 * _line_middle(self._field, self._line),
                                    self.fontMetrics().lineSpacing()))
        return super().event(event)


class FieldCheckBox(QCheckBox):
    """A check box in a form row's label place (its row's field counts when it is ticked:
    Log conversation's "Next step"), level with the field's text as a `FieldLabel` is: at
    its own height it sat ~6 pixels above it."""

    def __init__(self, text: str, field: QWidget) -> None:
        super().__init__(text)
        self._field = field

    def event(self, event: QEvent) -> bool:
        if _levels(event):
            self.setFixedHeight(max(2 * _line_middle(self._field, self._field),
                                    super().sizeHint().height()))
        return super().event(event)


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


class FewLinesEdit(QPlainTextEdit):
    """A text box a few lines high that keeps that height. A fixed height alone does not
    hold: polishing (on show, on a theme change) applies the stylesheet's min-height for
    fields over it, and a small dialog then squeezed the box to one line; an expanding box
    instead spread its dialog's rows apart."""

    def __init__(self, text: str, height: int) -> None:
        super().__init__(text)
        self._height = height
        self.setFixedHeight(height)

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.Polish:  # after the style has polished it
            self.setFixedHeight(self._height)
        return handled


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
        # In a narrow window the subtitle wraps: the action buttons keep their whole text.
        self.subtitle.setWordWrap(True)
        texts.addWidget(self.subtitle)
        layout.addLayout(texts, 1)
        self.actions = QHBoxLayout()
        self.actions.setSpacing(8)
        layout.addLayout(self.actions)

    def set_subtitle(self, text: str) -> None:
        self.subtitle.setText(text)
        self.subtitle.setVisible(bool(text))

    def add_action(self, button: QWidget) -> None:
        # Never narrower than its text ("Ask for feedback…" cut to "for feedbac" at 900 px).
        # Minimum: its size hint (text, icon and style padding, whenever they change) is the
        # least it gets.
        button.setSizePolicy(QSizePolicy.Policy.Minimum, button.sizePolicy().verticalPolicy())
        self.actions.addWidget(button)


class EmptyState(QWidget):
    """A centred, friendly explanation with optional buttons, instead of a blank page."""

    def __init__(
        self, symbol: str, title: str, text: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        # A real icon (see ui/icons.py) for the symbols the app knows, drawn in the muted
        # colour of the current theme when first shown (not at start-up: hidden pages would
        # render theirs before the first paint); any other symbol is shown as text.
        from crmcompanion.ui.icons import icon_for_symbol

        self.symbol = QLabel()
        self.icon_name = icon_for_symbol(symbol) or (
            symbol if symbol.isascii() and symbol else None)
        self._drawn_for: str | None = None
        if self.icon_name is None:
            self.symbol.setText(symbol)
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 3 if font.pointSizeF() > 0 else 30)
            self.symbol.setFont(font)
        else:
            self.symbol.setMinimumSize(48, 48)
        self.symbol.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.symbol.setAccessibleName(title)
        outer.addWidget(self.symbol)
        self.title = QLabel(title)
        self.title.setObjectName("emptyTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.title)
        self.text = QLabel(text)
        self.text.setObjectName("emptyText")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setMaximumWidth(440)
        self.text.setMinimumWidth(340)
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

    def showEvent(self, event: QShowEvent) -> None:
        colour = current_theme().placeholder
        if self.icon_name is not None and self._drawn_for != colour:
            from crmcompanion.ui.icons import pixmap

            self.symbol.setPixmap(pixmap(self.icon_name, colour, 48, self.devicePixelRatioF()))
            self._drawn_for = colour
        super().showEvent(event)

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


# --- the country picker -----------------------------------------------------------------------

# What people type that is not the country's name in the list.
COUNTRY_ALIASES: dict[str, str] = {
    "uk": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "great britain": "GB",
    "britain": "GB", "usa": "US", "america": "US", "united states of america": "US",
    "holland": "NL", "deutschland": "DE", "espana": "ES", "españa": "ES", "italia": "IT",
    "schweiz": "CH", "suisse": "CH", "osterreich": "AT", "österreich": "AT",
}


def _folded(text: str) -> str:
    """Lower case without accents or punctuation: "Côte d’Ivoire" ~ "cote divoire"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() or ch == " ").strip()


@lru_cache(maxsize=1)
def countries() -> tuple[tuple[str, str], ...]:
    """(English country name, ISO 3166 code) for every country phone numbers know, by name.

    Names come from Qt's locale data; the codes are the ones `phonenumbers` reads numbers
    for, so every choice is a region a phone number can be read in."""
    import phonenumbers  # ~20 ms: only when a picker is built (Settings, the welcome)
    from PySide6.QtCore import QLocale

    found: dict[str, str] = {}
    for territory in QLocale.Country:
        code = QLocale.territoryToCode(territory)
        if code in phonenumbers.SUPPORTED_REGIONS and code not in found:
            found[code] = QLocale.territoryToString(territory)
    return tuple(sorted(((name, code) for code, name in found.items()),
                        key=lambda pair: _folded(pair[0])))


def country_code(text: str) -> str | None:
    """The ISO code for what was typed: a country's name (any case, accents optional), a
    known alias ("UK"), "Name (CODE)", or the two-letter code itself; None if none fits."""
    typed = text.strip()
    if not typed:
        return None
    if typed.endswith(")") and "(" in typed:
        inner = typed[typed.rfind("(") + 1:-1].strip().upper()
        if any(code == inner for _name, code in countries()):
            return inner
        typed = typed[:typed.rfind("(")].strip()
    folded = _folded(typed)
    for name, code in countries():
        if _folded(name) == folded:
            return code
    if folded in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[folded]
    if len(typed) == 2 and typed.isalpha():
        upper = typed.upper()
        if any(code == upper for _name, code in countries()):
            return upper
    starts = [code for name, code in countries() if _folded(name).startswith(folded)]
    return starts[0] if len(starts) == 1 else None


def country_name(code: str) -> str:
    """The English name of an ISO code ("DE" -> "Germany"); the code when it is unknown."""
    return next((name for name, known in countries() if known == code.upper()), code)


class CountryPicker(QComboBox):
    """Choose a country by typing its name (completion matches any part of it) or from the
    list; `code()` is the ISO code the app stores. Typing "Germany" gives DE, never "GE"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMaxVisibleItems(14)
        for name, code in countries():
            self.addItem(name, code)
        self.setMinimumContentsLength(22)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        completer = QCompleter(self)
        completer.setModel(self.model())
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setCompleter(completer)
        self.lineEdit().setPlaceholderText("Type a country, e.g. Germany")
        self.setAccessibleName("Country")

    def set_code(self, code: str) -> None:
        index = self.findData(code.upper())
        if index >= 0:
            self.setCurrentIndex(index)
        else:
            self.setEditText(code)

    def code(self) -> str | None:
        """The chosen country's ISO code, or None when what was typed names no country."""
        return country_code(self.currentText())


# --- windows that fit and controls that have names ------------------------------------------


class _FitOnShow(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and isinstance(watched, QWidget):
            fit_now(watched)
        return False


def fit_now(window: QWidget) -> None:
    """Shrink `window` to the available area of the screen it is on and move it inside."""
    fit_to_screen(window)  # the maximum size
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return
    area = screen.availableGeometry()
    width, height = min(window.width(), area.width()), min(window.height(), area.height())
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)
    frame = window.frameGeometry()
    x = min(max(frame.x(), area.x()), area.right() - frame.width() + 1)
    y = min(max(frame.y(), area.y()), area.bottom() - frame.height() + 1)
    if (x, y) != (frame.x(), frame.y()) and window.isWindow():
        window.move(x, y)


def fit_on_screen(window: QWidget) -> None:
    """Keep `window` within the screen it opens on: now, and each time it is shown (it may
    open on another screen than the one it was built on)."""
    fit_now(window)
    watcher = _FitOnShow(window)
    window.installEventFilter(watcher)


# Controls a person operates: each needs a name a screen reader can say.
CONTROL_TYPES: tuple[type[QWidget], ...] = (
    QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QPlainTextEdit, QTextEdit,
    QListView, QTableView,
)


def _plain_words(text: str) -> str:
    return " ".join(text.replace("&", "").split()).strip(" :")


def name_controls(root: QWidget) -> None:
    """Give every control under `root` that has no accessible name one from what a sighted
    user reads: its text, the label whose buddy it is (a form layout's row label), its
    placeholder or its tool tip."""
    buddies: dict[int, str] = {}
    for label in root.findChildren(QLabel):
        buddy = label.buddy()
        if buddy is not None and label.text():
            buddies[id(buddy)] = label.text()
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, CONTROL_TYPES) or widget.accessibleName():
            continue
        candidates: list[str] = []
        if isinstance(widget, QAbstractButton):
            candidates.append(widget.text())
        candidates.append(buddies.get(id(widget), ""))
        if isinstance(widget, (QLineEdit, QPlainTextEdit, QTextEdit)):
            candidates.append(widget.placeholderText())
        if isinstance(widget, QComboBox) and widget.lineEdit() is not None:
            candidates.append(widget.lineEdit().placeholderText())
        candidates.append(widget.toolTip())
        name = next((_plain_words(c) for c in candidates if c and _plain_words(c)), "")
        if name:
            widget.setAccessibleName(name)
