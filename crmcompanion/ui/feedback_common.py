"""Small pieces the Feedback & ideas screens share: dates (through ui.formatting), status
words for people, running a service call off the GUI thread with one clear message on
failure, and the similar-complaints look-up that follows the text being typed
(`SimilarLookup`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QHelpEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QToolTip,
)

from crmcompanion.core.feedback import ComplaintStatus
from crmcompanion.ui import formatting
from crmcompanion.ui.style import MUTED, themed
from crmcompanion.ui.workers import BackgroundTask

if TYPE_CHECKING:
    from crmcompanion.services.feedback import FeedbackRecord, FeedbackService, SimilarItem

    # What one look-up finds: the similar complaints, then the themes to offer.
    SimilarFound = tuple[list[SimilarItem], list[str]]

logger = logging.getLogger(__name__)

# The button that moves a complaint to each status: what the owner does, not the state name.
ACTION_TITLES: dict[ComplaintStatus, str] = {
    ComplaintStatus.ACKNOWLEDGED: "Acknowledge",
    ComplaintStatus.PLANNED: "Agree a plan",
    ComplaintStatus.IN_PROGRESS: "Start work",
    ComplaintStatus.RESOLVED: "Resolve",
    ComplaintStatus.SATISFIED: "Customer is satisfied",
    ComplaintStatus.NOT_SATISFIED: "Customer is not satisfied",
    ComplaintStatus.REOPENED: "Reopen",
}


def _day(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def short_date(value: date | datetime | None) -> str:
    """A date in a list, in the user's locale (never ISO), through ui.formatting."""
    return formatting.short_date(_day(value))


def long_date(value: date | datetime | None) -> str:
    """A date where it is read, with its weekday ("Monday, 23 November 2026")."""
    return formatting.weekday_date(_day(value))


def section_label(text: str) -> QLabel:
    """A small capitalised heading over a part of a panel."""
    label = QLabel(text)
    label.setObjectName("sectionLabel")
    return label


def form_banner() -> QLabel:
    """A dialog's one-line error banner, hidden until a message is shown in it."""
    label = QLabel()
    label.setObjectName("formBanner")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setVisible(False)
    return label


ID_ROLE = Qt.ItemDataRole.UserRole

# A column this narrow (in average characters of the table's font) at its widest is kept
# whole: dates, statuses and counts are never elided. A wider one may be narrowed, never under
# MIN_ELIDED_CHARS: a name or a theme still says what it is ("Jordan K. (…"); a column that
# would need to be narrower is hidden instead (`ListTable.drop_first`; the panel beside the
# list or the tooltip shows its text).
SHORT_COLUMN_CHARS = 18
EMPTY_TEXT_CHARS = 80  # the widest line of the sentence an empty list shows
MIN_ELIDED_CHARS = 10


class ListTable(QTableWidget):
    """A read-only table whose columns always fit its width: no sideways scrolling.

    Each column gets the width of its contents while they all fit; the last one takes what is
    left. When they do not, the widest are narrowed alike (their text elided, whole in the
    tooltip) down to a floor, and if even the floors do not fit, the columns in `drop_first`
    are hidden in that order. Fitted again whenever the table's width changes, so a wider
    window gives the long columns the room (the old fixed 240-pixel cap wasted it at 1600
    px) and a 900-pixel one never scrolls sideways."""

    def __init__(self, columns: tuple[str, ...] | list[str],
                 drop_first: tuple[int, ...] = ()) -> None:
        super().__init__(0, len(columns))
        self.setHorizontalHeaderLabels(list(columns))
        self.drop_first = drop_first
        self._natural: list[int] = []  # each column's content width, taken by `measure`
        # Said in the empty list itself (a bare header over a blank area said nothing).
        self.empty_text = ""

    def set_empty_text(self, text: str) -> None:
        """What the list says while it has no rows: what fills it and how."""
        self.empty_text = text
        self.viewport().update()

    def showing_empty_text(self) -> bool:
        return self.rowCount() == 0 and bool(self.empty_text)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.showing_empty_text():
            painter = QPainter(self.viewport())
            painter.setPen(themed(MUTED))
            area = self.viewport().rect().adjusted(24, 20, -24, -20)
            # A readable line, not one running across a 1600-pixel window.
            width = min(area.width(), self.fontMetrics().averageCharWidth() * EMPTY_TEXT_CHARS)
            area.setLeft(area.center().x() - width // 2)
            area.setWidth(width)
            painter.drawText(area, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                             | Qt.TextFlag.TextWordWrap, self.empty_text)
            painter.end()

    def measure(self) -> None:
        """Take each column's content width (after its rows changed) and fit them."""
        header = self.horizontalHeader()
        self._natural = [max(self.sizeHintForColumn(c), header.sectionSizeHint(c))
                         for c in range(self.columnCount())]
        # Fitted here, the last column included: a stretched last section keeps Qt's default
        # section size (100 px) at the least, which overflowed a narrow list.
        header.setStretchLastSection(False)
        self.fit_columns()

    def resizeEvent(self, event: QResizeEvent) -> None:
        # Also called when the viewport's width changes (a vertical scroll bar appears).
        super().resizeEvent(event)
        self.fit_columns()

    def _floor(self, column: int) -> int:
        natural = self._natural[column]
        char = self.fontMetrics().averageCharWidth()
        if natural <= char * SHORT_COLUMN_CHARS:
            return natural
        return min(natural, max(self.horizontalHeader().sectionSizeHint(column),
                                char * MIN_ELIDED_CHARS))

    def fit_columns(self) -> None:
        if len(self._natural) != self.columnCount():
            return
        room = self.viewport().width()
        shown = list(range(self.columnCount()))
        hidden: list[int] = []
        for column in self.drop_first:
            if sum(self._floor(c) for c in shown) <= room or len(shown) <= 1:
                break
            shown.remove(column)
            hidden.append(column)
        for column in range(self.columnCount()):
            self.setColumnHidden(column, column in hidden)
        widths = _water_fill([self._natural[c] for c in shown],
                             [self._floor(c) for c in shown], room)
        # The last shown column takes what is left.
        widths[-1] = max(widths[-1], room - sum(widths[:-1]))
        for column, width in zip(shown, widths, strict=True):
            self.setColumnWidth(column, width)

    def viewportEvent(self, event: QEvent) -> bool:
        # An elided cell without a tooltip of its own shows its whole text on hover.
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            cell = self.itemAt(event.pos())
            if cell is not None and not cell.toolTip():
                text = cell.text()
                wanted = self.fontMetrics().horizontalAdvance(text) + 2 * _CELL_PADDING
                if wanted > self.columnWidth(cell.column()):
                    QToolTip.showText(event.globalPos(), text, self.viewport())
                    return True
        return super().viewportEvent(event)


_CELL_PADDING = 6


def _water_fill(natural: list[int], floors: list[int], room: int) -> list[int]:
    """Widths that fit `room`: each column its natural width up to a common level, never
    under its floor; the highest level that fits (all natural when they fit)."""
    def total(level: int) -> int:
        return sum(max(f, min(n, level)) for n, f in zip(natural, floors, strict=True))

    low, high = 0, max(natural, default=0)
    while low < high:  # the largest level whose total fits
        middle = (low + high + 1) // 2
        if total(middle) <= room:
            low = middle
        else:
            high = middle - 1
    return [max(f, min(n, low)) for n, f in zip(natural, floors, strict=True)]


def list_table(columns: tuple[str, ...] | list[str],
               selection: QAbstractItemView.SelectionMode =
               QAbstractItemView.SelectionMode.SingleSelection,
               drop_first: tuple[int, ...] = ()) -> ListTable:
    """A read-only table of whole rows whose columns fit its width (`ListTable`), the last
    column taking the spare width."""
    table = ListTable(columns, drop_first)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(selection)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setStretchLastSection(True)
    # Over its column's text, not centred over a wide column (counts: right, by fill_rows).
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    table.setWordWrap(False)  # one line a row; the text is elided, the panel shows it all
    return table


_LONG_TEXT = 30


def fill_rows(table: ListTable, rows: list[tuple[int | None, tuple[str, ...]]]) -> None:
    """Rows of plain text, each cell carrying its row's item id under ID_ROLE; counts are
    right-aligned, long texts carry their whole text as a tooltip. The columns are then
    fitted to the table's width (`ListTable`)."""
    table.setRowCount(len(rows))
    for row, (item_id, cells) in enumerate(rows):
        for column, text in enumerate(cells):
            cell = QTableWidgetItem(text)
            cell.setData(ID_ROLE, item_id)
            if text.isdigit():
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
            elif len(text) > _LONG_TEXT:
                cell.setToolTip(text)
            table.setItem(row, column, cell)
    for column in range(table.columnCount()):
        title = table.horizontalHeaderItem(column)
        counts = bool(rows) and all(cells[column].isdigit() for _, cells in rows)
        if title is not None:
            title.setTextAlignment((Qt.AlignmentFlag.AlignRight if counts
                                    else Qt.AlignmentFlag.AlignLeft)
                                   | Qt.AlignmentFlag.AlignVCenter)
    table.measure()


def who_said(record: FeedbackRecord) -> str:
    """The customer, or for a public review linked to no customer its author, said as such
    (the author's name alone would read as a customer's)."""
    if record.customer_id is None and record.customer:
        return f"{record.customer} (not a customer)"
    return record.customer or "Unknown customer"


def status_word(name: str | None) -> str:
    """"in_progress" -> "In progress" (a status as people read it)."""
    return "" if not name else name.replace("_", " ").capitalize()


def run_off_thread(owner: QObject, work: Callable[[], Any], done: Callable[[Any], None],
                   failed: Callable[[str], None], name: str) -> BackgroundTask:
    """`work()` on the worker thread; `done(result)` or `failed(message)` on the GUI thread."""
    task = BackgroundTask(lambda _state: work(), name, owner)
    task.succeeded.connect(done)
    task.failed.connect(lambda error: failed(_message(error)))
    task.start()
    return task


def _message(error: object) -> str:
    text = str(error).strip()
    if not text or not isinstance(error, Exception) or type(error).__module__.startswith(
            ("builtins", "sqlalchemy")):
        logger.error("Feedback task failed: %r", error)
        return "Something went wrong; the details are in the log file."
    return text


def find_similar(feedback: FeedbackService, text: str, limit: int, exclude: int | None,
                 ) -> SimilarFound:
    """The look-up itself, run off the GUI thread: similar complaints, then themes."""
    hits = feedback.similar(text, limit, exclude_customer_id=exclude)
    return hits, feedback.suggest_themes(text, 3, exclude_customer_id=exclude)


class SimilarLookup(QObject):
    """Similar complaints for the text being typed, looked up off the GUI thread (where the
    meaning model loads on first use, seconds on a slow machine) after a pause in typing.

    One look-up runs at a time (they share the one worker thread with saves). Text typed
    while one runs is looked up as soon as it returns, and that result, being for older
    text, is dropped: what is shown is always for the newest text, never older text's
    suggestions over newer text. The owner says what the text is (`set_text`, on every
    change) and whether suggestions are wanted at all (`set_active`: a complaint is being
    typed); `look_up(text)` builds the work on the GUI thread (reading widgets there) and
    returns the callable the worker runs; `show(found)` gets each kept result."""

    def __init__(self, parent: QObject, look_up: Callable[[str], Callable[[], SimilarFound]],
                 show: Callable[[SimilarFound], None], delay_ms: int) -> None:
        super().__init__(parent)
        self._look_up = look_up
        self._show = show
        self.text = ""
        self.active = False
        self.running: str | None = None  # the text of the look-up on the worker thread
        self.shown_text: str | None = None  # the text whose result is on screen
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.look_up_now)

    def set_text(self, text: str) -> None:
        self.text = text
        self._schedule()

    def set_active(self, active: bool) -> None:
        self.active = active
        if active:
            self._schedule()
        else:
            self.timer.stop()

    def _schedule(self) -> None:
        if self.active and self.text.strip() and self.text != self.shown_text:
            self.timer.start()
        else:
            self.timer.stop()

    def look_up_now(self) -> None:
        """Look the current text up now, or right after the running look-up returns."""
        text = self.text
        if self.running is not None or not self.active or not text.strip():
            return  # a running look-up checks the text again when it returns
        self.running = text
        run_off_thread(self, self._look_up(text), self._found, self._failed,
                       "similar complaints")

    def _found(self, found: SimilarFound) -> None:
        text, self.running = self.running, None
        if text != self.text:
            self._newer()  # typed more while it ran: this result is for older text
            return
        self.shown_text = text
        self._show(found)

    def _failed(self, message: str) -> None:
        # Suggestions are a help, not the task: the owner can still save; the log keeps why.
        text, self.running = self.running, None
        logger.info("Similar complaints: %s", message)
        if text != self.text:
            self._newer()

    def _newer(self) -> None:
        # The pause in typing passed while the old look-up ran (else the timer, still
        # counting, starts the look-up when it fires).
        if not self.timer.isActive():
            self.look_up_now()
