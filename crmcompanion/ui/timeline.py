"""The customer's timeline in the profile: newest first, an icon per kind, who wrote it, and a
filter by kind.

Model/view over `services.timeline.TimelineService`: `TimelineModel` holds the pages read so
far ("Show older" reads the next one), `TimelineDelegate` paints each entry (a heading line of
date, kind and author, then the text, wrapped), and `TimelineView` puts the filter, the list
and the button together. New kinds of entry (feedback, complaints) come from new providers in
the service; they are shown here with their kind's title and a generic icon unless
`KIND_ICONS` names one.

The list does not scroll on its own: it is as tall as its entries, inside the profile's
scroll area, so the profile scrolls as one page. Its height is the sum of the entries'
heights, which the list's own layout asks for again: each entry's heading (a locale date) and
its wrapped height at a width are measured once and kept (issue 15: opening a profile measured
every entry several times), with the heading's own height, so a paint wraps nothing again
(issue 13); a font or style change measures them again.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.customer import Channel
from crmcompanion.core.errors import DomainError
from crmcompanion.services.feedback_timeline import FEEDBACK, FEEDBACK_STEP
from crmcompanion.services.timeline import (
    CONVERSATION,
    NEXT_STEP,
    OCCASION,
    SKIPPED,
    TimelineEntry,
    TimelineService,
)
from crmcompanion.ui import formatting
from crmcompanion.ui.style import ACCENT, CHANNEL_TITLES, MUTED
from crmcompanion.ui.text_display import shown

logger = logging.getLogger(__name__)

PAGE = 30
ICON = 26
CHANNEL_ICONS = {Channel.EMAIL: "✉", Channel.PHONE: "✆", Channel.SMS: "✉",
                 Channel.IN_PERSON: "☺", Channel.LETTER: "✉", Channel.OTHER: "•"}
# Feedback (a quotation mark: the customer's words) and the steps of a complaint or idea
# (a turn: where it went next) come from services.feedback_timeline.
KIND_ICONS = {OCCASION: "★", NEXT_STEP: "→", SKIPPED: "⤼", CONVERSATION: "•",
              FEEDBACK: "“", FEEDBACK_STEP: "↻"}
ICON_COLOURS = {OCCASION: "#fde2c8", NEXT_STEP: "#d5f0e3", SKIPPED: "#eceff3",
                FEEDBACK: "#ece0fb", FEEDBACK_STEP: "#fbe0e6"}


def long_date_time(moment: datetime) -> str:
    """The profile's dates: the locale's long date, then the time."""
    return f"{formatting.long_date(moment.date())}, {formatting.short_time(moment)}"


def long_date(day: date) -> str:
    """A date in the profile: the locale's long format ("6 December 2026")."""
    return formatting.long_date(day)


def icon_for(entry: TimelineEntry) -> str:
    if entry.kind == CONVERSATION and entry.channel is not None:
        return CHANNEL_ICONS[entry.channel]
    return KIND_ICONS.get(entry.kind, "•")


def what(entry: TimelineEntry, titles: dict[str, str]) -> str:
    """The kind in words: "Phone call", "Birthday done", "Next step for 9 March 2026"."""
    if entry.kind == CONVERSATION:
        return CHANNEL_TITLES[entry.channel] if entry.channel is not None else "Conversation"
    if entry.kind == OCCASION:
        done = f"{entry.occasion.title} done" if entry.occasion is not None else "Done"
        if entry.channel is not None:
            done += f" ({CHANNEL_TITLES[entry.channel].lower()})"
        return done
    if entry.kind == NEXT_STEP:
        return f"Next step for {long_date(entry.on)}" if entry.on else "Next step"
    if entry.kind == SKIPPED:
        return f"Skipped: {entry.occasion.title}" if entry.occasion is not None else "Skipped"
    if entry.kind == FEEDBACK_STEP:
        return "Progress"  # the text says what moved: "Complaint planned: …"
    return titles.get(entry.kind, entry.kind.replace("_", " ").capitalize())


def heading(entry: TimelineEntry, titles: dict[str, str]) -> str:
    parts = [long_date_time(entry.at), what(entry, titles)]
    if entry.author:
        parts.append(f"by {entry.author}")
    return "  ·  ".join(parts)


class EntryListModel(QAbstractListModel):
    """A flat list of plain entries for a delegate to paint: the entry itself under
    `EntryRole`, and `text_of(entry)` as the display and accessible text."""

    EntryRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list = []

    def text_of(self, entry: object) -> str:
        return str(entry)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        entry = self.entries[index.row()]
        if role == self.EntryRole:
            return entry
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.text_of(entry)
        return None


class TimelineModel(EntryListModel):
    """The entries read so far, newest first."""

    def __init__(self, service: TimelineService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self.entries: list[TimelineEntry] = []
        self.more = False
        self.total = 0
        self.customer_id: int | None = None
        self.kinds: frozenset[str] | None = None
        self.titles = dict(service.kinds())
        self._headings: dict[TimelineEntry, str] = {}

    def text_of(self, entry: object) -> str:
        assert isinstance(entry, TimelineEntry)
        return f"{self.heading_of(entry)}\n{entry.text}"

    def heading_of(self, entry: TimelineEntry) -> str:
        """The entry's heading line, made once per entry shown (sizing and painting ask)."""
        made = self._headings.get(entry)
        if made is None:
            made = self._headings[entry] = heading(entry, self.titles)
        return made

    def load(self, customer_id: int, kinds: frozenset[str] | None = None) -> None:
        """The customer's newest page (raises DomainError when it cannot be read)."""
        page = self._service.page(customer_id, PAGE, None, kinds)
        self.beginResetModel()
        self._headings.clear()
        self.customer_id, self.kinds = customer_id, kinds
        self.entries = list(page.entries)
        self.more = page.more
        self.total = page.total
        self.endResetModel()

    def load_older(self) -> int:
        """Append the next page; returns how many entries came."""
        if self.customer_id is None or not self.entries or not self.more:
            return 0
        page = self._service.page(self.customer_id, PAGE, self.entries[-1], self.kinds)
        if page.entries:
            first = len(self.entries)
            self.beginInsertRows(QModelIndex(), first, first + len(page.entries) - 1)
            self.entries.extend(page.entries)
            self.endInsertRows()
        self.more = page.more and bool(page.entries)
        self.total = max(page.total, len(self.entries))
        return len(page.entries)


class TimelineDelegate(QStyledItemDelegate):
    """An icon in a circle, a muted heading, then the text wrapped to the list's width."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view
        # Measured (size, heading height) by (entry, text width): the list's height
        # (fit_height), its layout and each paint ask again for the same entries. The list
        # forgets them when its font or style changes (_TimelineList.changeEvent).
        self._sizes: dict[tuple[TimelineEntry, int], tuple[QSize, int]] = {}
        self.measured = 0  # entries measured (wrapped and sized) since the start

    def forget_sizes(self) -> None:
        self._sizes.clear()

    def _text_width(self) -> int:
        return max(80, self._view.viewport().width() - ICON - 14)

    def _body(self, entry: TimelineEntry) -> str:
        return shown(entry.text).strip()

    def _heading(self, index: QModelIndex | QPersistentModelIndex,
                 entry: TimelineEntry) -> str:
        model = index.model()
        if isinstance(model, TimelineModel):
            return model.heading_of(entry)
        return heading(entry, {})

    def _measure(self, index: QModelIndex | QPersistentModelIndex, entry: TimelineEntry,
                 width: int) -> tuple[QSize, int]:
        """The entry's size and its heading's height at `width`, wrapped once per entry."""
        key = (entry, width)
        known = self._sizes.get(key)
        if known is not None:
            return known
        fm = QFontMetrics(self._view.font())
        head = fm.boundingRect(QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap,
                               self._heading(index, entry)).height()
        body = self._body(entry)
        text = fm.boundingRect(QRect(0, 0, width, 100_000), Qt.TextFlag.TextWordWrap,
                               body).height() if body else 0
        size = QSize(width, max(ICON, head + (text + 2 if body else 0)) + 12)
        if len(self._sizes) > 4 * PAGE * 20:  # a long session of "Show older": start again
            self._sizes.clear()
        self.measured += 1
        self._sizes[key] = known = (size, head)
        return known

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        entry: TimelineEntry | None = index.data(TimelineModel.EntryRole)
        if entry is None:
            return QSize(0, 0)
        return QSize(self._measure(index, entry, self._text_width())[0])

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        entry: TimelineEntry | None = index.data(TimelineModel.EntryRole)
        if entry is None:
            return
        rect: QRect = option.rect  # type: ignore[attr-defined]
        palette = option.palette  # type: ignore[attr-defined]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self._view.font())
        circle = QRect(rect.left() + 1, rect.top() + 5, ICON, ICON)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(ICON_COLOURS.get(entry.kind, "#dbe7fb")))
        painter.drawEllipse(circle)
        painter.setPen(QColor(ACCENT if entry.kind == CONVERSATION else "#344054"))
        painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, icon_for(entry))
        left = circle.right() + 12
        width = self._text_width()
        head_height = self._measure(index, entry, width)[1]
        painter.setPen(QColor(MUTED))
        painter.setFont(font)
        top = rect.top() + 6
        painter.drawText(QRect(left, top, width, head_height),
                         int(Qt.TextFlag.TextWordWrap), self._heading(index, entry))
        body = self._body(entry)
        if body:
            painter.setPen(palette.text().color())
            painter.drawText(QRect(left, top + head_height + 2, width,
                                   rect.bottom() - top - head_height),
                             int(Qt.TextFlag.TextWordWrap), body)
        painter.restore()


class _TimelineList(QListView):
    """A list as tall as its entries (the profile scrolls, not the list)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._width = -1
        self.setObjectName("timelineList")
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setWordWrap(True)
        self.setStyleSheet("QListView#timelineList { background: transparent; border: none; }")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            # Wrapped at another font, the entries take other heights.
            delegate = self.itemDelegate()
            if isinstance(delegate, TimelineDelegate):
                delegate.forget_sizes()
                self.scheduleDelayedItemsLayout()
                self.fit_height()

    def fit_height(self) -> None:
        model = self.model()
        rows = model.rowCount() if model is not None else 0
        total = sum(self.sizeHintForRow(row) for row in range(rows))
        self.setFixedHeight(max(0, total) + 2 * self.frameWidth())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != self._width:
            self._width = event.size().width()
            # Wrapped texts take another height at another width.
            self.scheduleDelayedItemsLayout()
            self.fit_height()


class TimelineView(QWidget):
    """The TIMELINE section: heading and kind filter, the entries, "Show older"."""

    changed = Signal()  # entries shown changed (the profile re-lays itself out)

    def __init__(self, service: TimelineService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelineSection")
        self.model = TimelineModel(service, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        head = QHBoxLayout()
        title = QLabel("TIMELINE")
        title.setObjectName("sectionLabel")
        head.addWidget(title)
        head.addStretch(1)
        self.filter = QComboBox()
        self.filter.setAccessibleName("Show in the timeline")
        self.filter.setToolTip("Show only one kind of entry")
        self.filter.addItem("Everything", None)
        for kind, kind_title in service.kinds():
            self.filter.addItem(kind_title, kind)
        self.filter.currentIndexChanged.connect(self._filter_changed)
        head.addWidget(self.filter)
        layout.addLayout(head)
        self.list = _TimelineList()
        self.list.setModel(self.model)
        self.delegate = TimelineDelegate(self.list)
        self.list.setItemDelegate(self.delegate)
        self.model.modelReset.connect(self.delegate.forget_sizes)
        layout.addWidget(self.list)
        self.empty = QLabel("No conversations logged yet.")
        self.empty.setObjectName("muted")
        layout.addWidget(self.empty)
        self.older_button = QPushButton("Show older")
        self.older_button.setObjectName("link")
        self.older_button.clicked.connect(self.show_older)
        layout.addWidget(self.older_button, 0, Qt.AlignmentFlag.AlignLeft)
        self._update()

    @property
    def kinds(self) -> frozenset[str] | None:
        kind = self.filter.currentData()
        return None if kind is None else frozenset({kind})

    def load(self, customer_id: int) -> None:
        try:
            self.model.load(customer_id, self.kinds)
        except DomainError as exc:
            logger.warning("Cannot load the timeline of #%s: %s", customer_id, exc)
        self._update()

    def show_older(self) -> None:
        try:
            self.model.load_older()
        except DomainError as exc:
            logger.warning("Cannot load older entries: %s", exc)
        self._update()

    def _filter_changed(self) -> None:
        if self.model.customer_id is not None:
            self.load(self.model.customer_id)

    def _update(self) -> None:
        self.list.fit_height()
        self.list.setVisible(bool(self.model.entries))
        self.empty.setText("No conversations logged yet." if self.kinds is None
                           else "Nothing of this kind yet.")
        self.empty.setVisible(not self.model.entries)
        left = self.model.total - len(self.model.entries)
        self.older_button.setText(
            f"Show older ({formatting.number(left)} more)" if left > 0 else "Show older")
        self.older_button.setVisible(self.model.more)
        self.updateGeometry()
        self.changed.emit()
