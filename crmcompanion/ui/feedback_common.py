"""Small pieces the Feedback & ideas screens share: dates through QLocale, status words for
people, and running a service call off the GUI thread with one clear message on failure."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QLocale, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTableWidget, QTableWidgetItem

from crmcompanion.core.feedback import ComplaintStatus
from crmcompanion.ui.workers import BackgroundTask

if TYPE_CHECKING:
    from crmcompanion.services.feedback import FeedbackRecord

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


def short_date(value: date | datetime | None,
               form: QLocale.FormatType = QLocale.FormatType.ShortFormat) -> str:
    """A date in the user's locale (never ISO): short in lists, long where it is read."""
    if value is None:
        return ""
    day = value.date() if isinstance(value, datetime) else value
    return QLocale().toString(QDate(day.year, day.month, day.day), form)


def long_date(value: date | datetime | None) -> str:
    return short_date(value, QLocale.FormatType.LongFormat)


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


def list_table(columns: tuple[str, ...] | list[str],
               selection: QAbstractItemView.SelectionMode =
               QAbstractItemView.SelectionMode.SingleSelection) -> QTableWidget:
    """A read-only table of whole rows, the last column taking the spare width."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(selection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(False)  # one line a row; the text is elided, the panel shows it all
    return table


# The widest a column may grow to its contents: one long idea or
# complaint must not push the columns after it out of a 900-pixel window (its text is elided
# and shown whole in its tooltip).
MAX_COLUMN_WIDTH = 240
_LONG_TEXT = 30


def fill_rows(table: QTableWidget, rows: list[tuple[int | None, tuple[str, ...]]]) -> None:
    """Rows of plain text, each cell carrying its row's item id under ID_ROLE; counts are
    right-aligned, long texts carry their whole text as a tooltip."""
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
    table.resizeColumnsToContents()
    last = table.columnCount() - 1
    for column in range(last):
        if table.columnWidth(column) > MAX_COLUMN_WIDTH:
            table.setColumnWidth(column, MAX_COLUMN_WIDTH)
    header = table.horizontalHeader()
    if header.stretchLastSection() and last >= 0:
        # Sized to its contents the last column scrolled sideways; left small, it stretches
        # over exactly the room there is and elides the rest (whole in the tooltip).
        table.setColumnWidth(last, header.minimumSectionSize())


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
