"""The customer list as a lazily fetched Qt table model.

Rows arrive in pages of `PAGE_SIZE` through `CustomerService.page_at`, and an LRU of
`MAX_PAGES` pages bounds memory. Sorting and filtering are part of the `ListQuery` and run in
SQLite through indexes, never in Python, so jumping to the end of 100,000 customers or
re-sorting costs one small query.

A new query (a keystroke in the search box) reads only its first page and shows it; its
exact count, which costs as much again for a big search (every match read), is taken on a
thread of its own (`_Counter`) and taken in when it arrives (issue 13). Until then the model
lists the pages read so far and fetches the next one when the view scrolls to the end
(`canFetchMore` / `fetchMore`, Qt's incremental model), so rows, selection and keyboard
navigation all work meanwhile; a count for an older query is dropped (a generation number).
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRunnable,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont

from crmcompanion.core.customer import CustomerRow, Kind
from crmcompanion.core.segments import SEGMENT_TITLES, Segment, reasons_without_title
from crmcompanion.core.validation import format_phone
from crmcompanion.services.customers import CustomerService, ListQuery, SortColumn
from crmcompanion.ui.formatting import short_date
from crmcompanion.ui.style import MUTED, STATUS_TITLES
from crmcompanion.ui.text_display import plain_tooltip, shown
from crmcompanion.ui.widgets import STATUS_ROLE
from crmcompanion.ui.workers import single_thread_pool

logger = logging.getLogger(__name__)

# A page is about two screenfuls: a keystroke reads one page, and each page also reads its
# customers' last contact and next occasion (~1.7 ms per 200 rows for each of the two reads:
# 200 rows read ~170 rows nobody saw).
PAGE_SIZE = 50
MAX_PAGES = 160  # 8,000 rows kept, as before with 40 pages of 200

# A keystroke's count starts when no other keystroke came for this long (typing at 5-8 keys
# a second leaves 120-200 ms between keys): the subtitle says "50+ of N" meanwhile.
COUNT_AFTER_MS = 120

ROW_ROLE = Qt.ItemDataRole.UserRole
ID_ROLE = Qt.ItemDataRole.UserRole + 2

# The columns an owner uses, in their first order; Kind and Updated are there for who wants
# them (hidden at first, shown from the header's menu: customers_view.ColumnChooser), and so
# are Segment and Reasons (issue 16: the health segment and its reasons in words).
COLUMNS: tuple[str, ...] = (
    "Name", "Company", "Phone", "Email", "Tags", "Last contact", "Next occasion", "Status",
    "Kind", "Updated", "Segment", "Reasons",
)
(NAME, COMPANY, PHONE, EMAIL, TAGS, LAST_CONTACT, NEXT_OCCASION, STATUS, KIND,
 UPDATED, SEGMENT, SEGMENT_REASONS) = range(len(COLUMNS))

# Which list column sorts by which indexed database column; Phone and Tags have no index.
SORT_BY_COLUMN: dict[int, str] = {
    NAME: SortColumn.NAME,
    COMPANY: SortColumn.COMPANY,
    EMAIL: SortColumn.EMAIL,
    STATUS: SortColumn.STATUS,
    KIND: SortColumn.KIND,
    UPDATED: SortColumn.UPDATED,
}
COLUMN_BY_SORT: dict[str, int] = {sort: column for column, sort in SORT_BY_COLUMN.items()}

KIND_TITLES = {Kind.EXTERNAL: "External", Kind.INTERNAL: "Internal"}


@dataclass(frozen=True)
class ListSelection:
    """The selected rows of the list as merged [first, last] ranges, never one object per row:
    Ctrl+A over 100,000 customers is one range, and `everything` then stands for "all the
    customers matching the list's query" without reading a single id."""

    query: ListQuery
    ranges: tuple[tuple[int, int], ...]
    total: int | None  # rows listed; None while the list is still being counted


    @classmethod
    def of_rows(cls, query: ListQuery, ranges: Iterable[tuple[int, int]],
                total: int | None) -> ListSelection:
        merged: list[tuple[int, int]] = []
        for first, last in sorted(ranges):
            if merged and first <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], last))
            else:
                merged.append((first, last))
        return cls(query, tuple(merged), total)

    @property
    def count(self) -> int:
        return sum(last - first + 1 for first, last in self.ranges)

    @property
    def everything(self) -> bool:
        # Not while the list is being counted: the rows selected are then only those read.
        return bool(self.total) and self.ranges == ((0, (self.total or 0) - 1),)


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_STATUS = int(STATUS_ROLE)
_ROW = int(ROW_ROLE)
_ID = int(ID_ROLE)
_ANSWERED_ROLES = frozenset((_DISPLAY, _TOOLTIP, _FOREGROUND, _FONT, _STATUS, _ROW, _ID))
_MUTED_COLOR = QColor(MUTED)
_SEGMENT_VALUES = frozenset(s.value for s in Segment)
_MUTED_COLUMNS = frozenset((LAST_CONTACT, NEXT_OCCASION, UPDATED))
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_NO_FLAGS = Qt.ItemFlag.NoItemFlags


@functools.cache
def key_account_font() -> QFont:
    """A key account's name is written a little bolder (only the weight: the rest is the
    list's font)."""
    font = QFont()
    font.setWeight(QFont.Weight.DemiBold)
    return font


def muted_colour() -> QColor:
    """The text colour of the quieter columns (dates) and of archived customers."""
    return _MUTED_COLOR


def _short_date(day: date) -> str:
    """A date as the user's locale writes it in lists (QLocale's short format, through
    ui.formatting so every screen writes dates alike; cached there per locale: a cache
    here of the date alone kept an earlier locale's text)."""
    return short_date(day)


def _segment_title(value: str) -> str:
    return SEGMENT_TITLES[Segment(value)] if value in _SEGMENT_VALUES else ""


@functools.lru_cache(maxsize=4096)
def _phone_text(number: str) -> str:
    return format_phone(number) if number else ""


class _CountRelay(QObject):
    """Carries a count from the counting thread to the GUI thread (a queued signal)."""

    counted = Signal(int, int)  # generation, count (-1: the count failed)


# The counting thread's pool and relay: one each for every list, made on the GUI thread and
# never deleted. Were they a list's own, a count running when its list closed would hold
# their last reference and drop it on the counting thread: the relay deleted off its thread,
# the pool destroyed from inside itself (its destructor waits for its own thread). A count's
# generation is unique across lists (`_generations`), so each list takes only its own.
_generations = itertools.count(1)


@functools.cache
def count_pool() -> QThreadPool:
    """The one thread lists are counted on (tests and closing wait on it)."""
    return single_thread_pool()


@functools.cache
def _relay() -> _CountRelay:
    return _CountRelay()


class _Latest:
    """The generation a list still wants counted; shared by a list's counter and its counts
    (a plain object: whichever thread drops it last, nothing of Qt goes with it)."""

    def __init__(self) -> None:
        self.generation = 0


class _Count(QRunnable):
    """One count of a list query on the counting thread; skipped if a newer query came."""

    def __init__(self, customers: CustomerService, latest: _Latest, generation: int,
                 query: ListQuery) -> None:
        super().__init__()
        self.setAutoDelete(True)
        # Never the counter (see _count_pool): what the count needs, and the relay, which
        # lives for the whole run.
        self._customers = customers
        self._latest = latest
        self._relay = _relay()
        self._generation = generation
        self._query = query

    def run(self) -> None:
        if self._latest.generation != self._generation:
            return  # typed over before its turn came: nobody waits for this count
        try:
            total = self._customers.count(self._query)
        except Exception:  # logged; the list keeps its rows and pages on without a count
            logger.exception("Could not count the customer list")
            total = -1
        self._relay.counted.emit(self._generation, total)


class _Counter:
    """Counts list queries on one thread of its own, newest first in effect: a query typed
    over before its count started is never counted. Not the shared worker pool
    (ui.workers.task_pool), where a count would wait behind an import or a bulk action."""

    def __init__(self, customers: CustomerService) -> None:
        self.customers = customers
        self.relay = _relay()
        self.pool = count_pool()
        self._latest = _Latest()

    @property
    def latest(self) -> int:
        return self._latest.generation

    def start(self, generation: int, query: ListQuery) -> None:
        self._latest.generation = generation
        self.pool.start(_Count(self.customers, self._latest, generation, query))

    def forget(self) -> None:
        """No count is wanted (the last query's came with its page, or was taken in
        place): one still queued is skipped."""
        self._latest.generation = -1

    def wait(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)


class CustomerTableModel(QAbstractTableModel):
    # A page of rows was read (its first row, its customer ids): lets the view find a
    # customer it keeps selected once its row is fetched, without numbering the list.
    page_fetched = Signal(int, object)
    # The list's exact count was taken in (after a new query, from the counting thread):
    # the view's "N customers" line follows it.
    count_known = Signal()

    def __init__(self, customers: CustomerService, query: ListQuery | None = None) -> None:
        super().__init__()
        self._customers = customers
        self._query = query or ListQuery()
        self._pages: OrderedDict[int, list[CustomerRow]] = OrderedDict()
        self.fetches = 0  # pages read from the database, for tests and diagnostics
        self.counts_taken = 0  # counts taken in from the counting thread, for tests
        # Rows listed. While not `counted`: the rows read so far (whole pages from the top),
        # `_more` telling whether the last of them came back full (more may follow).
        self._total = self._customers.count(self._query)
        self._counted = True
        self._more = False
        self._generation = 0
        self._counter = _Counter(customers)
        self._counter.relay.counted.connect(self._count_arrived,
                                            Qt.ConnectionType.QueuedConnection)

    # --- what is shown ------------------------------------------------------------------
    @property
    def query(self) -> ListQuery:
        return self._query

    @property
    def counted(self) -> bool:
        """Whether rowCount() is the list's exact count (else the rows read so far)."""
        return self._counted

    def set_query(self, query: ListQuery, count_later: bool = False) -> None:
        """Show a new search/filter/sort: its first page (one read), and its count when
        reading the page told it. Else `count_later` (a keystroke in the search box) lists
        the page at once and takes the count from the counting thread when it comes; without
        it, the count is taken here, after the page (a filter, a sort, a refresh after a
        change: the list is numbered when the call returns, as callers expect)."""
        page, total = self._customers.first_page(query, PAGE_SIZE)
        if total is None and not count_later:
            total = self._customers.count(query)
        self._generation = next(_generations)  # unique across lists: they share a relay
        self.beginResetModel()
        self._query = query
        self._pages.clear()
        if page.rows:
            self._pages[0] = page.rows
            self.fetches += 1
        self._counted = total is not None
        self._total = total if total is not None else len(page.rows)
        self._more = total is None and len(page.rows) == PAGE_SIZE
        self.endResetModel()
        if total is None:
            # Started once typing pauses (COUNT_AFTER_MS): a count for each of a burst of
            # keystrokes would be dropped unread, yet each would take a core and the GIL from
            # the GUI thread while it reads and paints the next keystroke's rows.
            generation = self._generation
            QTimer.singleShot(COUNT_AFTER_MS, self, lambda: self._start_count(generation))
        else:
            self._counter.forget()
        if page.rows:
            self.page_fetched.emit(0, [row.id for row in page.rows])

    def refresh(self) -> None:
        self.set_query(self._query)

    def _start_count(self, generation: int) -> None:
        if generation == self._generation and not self._counted:
            self._counter.start(generation, self._query)

    def count(self) -> int:
        """The list's exact count, taken now if it has not arrived yet (for what needs the
        whole list numbered: a position, an export's size; never on a keystroke)."""
        if not self._counted:
            self._counter.forget()  # the queued count is not needed
            self._take_count(self._customers.count(self._query))
        return self._total

    def wait_for_count(self, msecs: int = -1) -> bool:
        """Block until the counting thread is idle (tests, benchmarks, closing)."""
        return self._counter.wait(msecs)

    def _count_arrived(self, generation: int, total: int) -> None:
        if generation != self._generation or self._counted:
            return  # an older query's count, or one taken in place meanwhile
        if total < 0:
            self._more = False  # the count failed: what is listed stays listed
            return
        self._take_count(total)

    def _take_count(self, total: int) -> None:
        self.counts_taken += 1
        listed = self._total
        self._counted = True
        self._more = False
        if total > listed:
            self.beginInsertRows(QModelIndex(), listed, total - 1)
            self._total = total
            self.endInsertRows()
        elif total < listed:  # rows went meanwhile (a change elsewhere): list what is there
            self.beginRemoveRows(QModelIndex(), total, listed - 1)
            self._total = total
            self.endRemoveRows()
        self.count_known.emit()

    def row_at(self, row: int) -> CustomerRow | None:
        if not 0 <= row < self._total:
            return None
        page_number = row // PAGE_SIZE
        page = self._pages.get(page_number)
        if page is None:
            page = self._fetch(page_number)
        else:
            self._pages.move_to_end(page_number)
        offset = row - page_number * PAGE_SIZE
        return page[offset] if offset < len(page) else None

    def position_of(self, customer_id: int) -> int | None:
        self.count()  # a position beyond the rows read must be a row of the model
        return self._customers.position_of(self._query, customer_id)

    def loaded_row_of(self, customer_id: int) -> int | None:
        """The customer's row if one of the pages already read holds it, else None. No
        query: restoring a selection after a keystroke must not number a 100,000-row list
        (position_of with a search is a count over its matches)."""
        for number, page in self._pages.items():
            for offset, row in enumerate(page):
                if row.id == customer_id:
                    return number * PAGE_SIZE + offset
        return None

    def positions_of(self, ids: list[int]) -> dict[int, int]:
        self.count()
        return self._customers.positions_of(self._query, ids)

    def selection_of(self, ranges: Iterable[tuple[int, int]]) -> ListSelection:
        return ListSelection.of_rows(self._query, ranges,
                                     self._total if self._counted else None)

    def ids_of(self, selection: ListSelection) -> list[int]:
        """The customer ids of the selected rows, in list order.

        From the pages already fetched when they cover the selection (a few clicked rows);
        otherwise one service call reads the ids from the sort index, without fetching rows
        into the model (a Shift+click range over rows never painted).
        """
        ids: list[int] = []
        for first, last in selection.ranges:
            for row in range(first, last + 1):
                page = self._pages.get(row // PAGE_SIZE)
                offset = row % PAGE_SIZE
                if page is None or offset >= len(page):
                    return self._customers.ids_in_rows(
                        self._query, list(selection.ranges), selection.total)
                ids.append(page[offset].id)
        return ids

    def _fetch(self, page_number: int) -> list[CustomerRow]:
        total = self._total if self._counted else None
        page = self._customers.page_at(
            self._query, page_number * PAGE_SIZE, PAGE_SIZE, total).rows
        self._keep(page_number, page)
        return page

    def _keep(self, page_number: int, page: list[CustomerRow]) -> None:
        self.fetches += 1
        self._pages[page_number] = page
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        self.page_fetched.emit(page_number * PAGE_SIZE, [row.id for row in page])

    # --- incremental fetching while the count is on its way -------------------------------
    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._counted and self._more

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        """The view reached the last row read before the count came: the next page."""
        if parent.isValid() or not self.canFetchMore():
            return
        listed = self._total
        page, total = self._customers.page_uncounted(self._query, listed, PAGE_SIZE)
        if total is None and not page.rows:
            total = listed  # after a full page, an empty one: the list ends there
        if total is not None:
            self._more = False
            self._counter.forget()  # the page told the count
        else:
            self._more = len(page.rows) == PAGE_SIZE
        if page.rows:
            self.beginInsertRows(QModelIndex(), listed, listed + len(page.rows) - 1)
            self._total = listed + len(page.rows)
            self._keep(listed // PAGE_SIZE, page.rows)
            self.endInsertRows()
        if total is not None:
            self._take_count(total)

    # --- QAbstractTableModel ------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._total

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.InitialSortOrderRole:
            # Most recently updated first is what someone clicking "Updated" wants.
            descending = section == UPDATED
            return Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        if role == Qt.ItemDataRole.ToolTipRole and section not in SORT_BY_COLUMN:
            return "This column cannot be sorted"
        return None

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        # Painting one cell asks for seven roles, four of which this model never sets: they
        # are answered before the row is looked up (a keystroke repaints ~100 cells, ~700
        # calls; the roles are compared as plain ints, not through Qt's enum attributes).
        if role not in _ANSWERED_ROLES or not index.isValid():
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        column = index.column()
        if role == _DISPLAY:
            return self._display(row, column)
        if role == _TOOLTIP:
            if column in (NAME, COMPANY, EMAIL, TAGS, SEGMENT_REASONS):
                # A tooltip that looks like HTML is rendered (a company `<img src=file:...>`
                # would load that file): shown literally, long runs breakable.
                return plain_tooltip(shown(self._display(row, column))) or None
            return None
        if role == _STATUS and column == STATUS:
            return row.status
        if role == _ROW:
            return row
        if role == _ID:
            return row.id
        if role == _FOREGROUND and (row.archived or column in _MUTED_COLUMNS):
            return _MUTED_COLOR
        if role == _FONT and column == NAME and row.key_account:
            return key_account_font()
        return None

    def cell(self, row: int, column: int) -> tuple[str, bool, bool] | None:
        """What the list's delegate paints in a cell (ui.customer_cells): its text, whether
        it is muted, whether bold; the display, foreground and font roles of data() in one
        Python call instead of three round trips through Qt. None: no such row."""
        found = self.row_at(row)
        if found is None:
            return None
        return (self._display(found, column), found.archived or column in _MUTED_COLUMNS,
                column == NAME and found.key_account)

    def _display(self, row: CustomerRow, column: int) -> str:
        if column == NAME:
            name = row.display_name
            if row.key_account:
                name = f"★ {name}"
            return f"{name} (archived)" if row.archived else name
        if column == COMPANY:
            return row.company
        if column == EMAIL:
            return row.email
        if column == PHONE:
            return _phone_text(row.phone)
        if column == TAGS:
            return row.tags
        if column == STATUS:
            return STATUS_TITLES[row.status]
        if column == KIND:
            return KIND_TITLES[row.kind]
        if column == LAST_CONTACT:
            return _short_date(row.last_contact) if row.last_contact else "Never"
        if column == NEXT_OCCASION:
            if row.next_occasion_on is None:
                return ""
            return f"{row.next_occasion} · {_short_date(row.next_occasion_on)}"
        if column == SEGMENT:
            return _segment_title(row.segment)
        if column == SEGMENT_REASONS:
            return reasons_without_title(row.segment_reasons)
        if column == UPDATED:
            return _short_date(row.updated_at.replace(tzinfo=UTC).astimezone().date())
        return ""

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        # Asked for every cell painted: the flags built once (a Python enum `|` each call).
        return _ROW_FLAGS if index.isValid() else _NO_FLAGS
