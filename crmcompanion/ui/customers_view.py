"""The Customers section: instant search, filters, the lazy list, the profile panel, undo.

Every change goes through a service call whose `Changed` is published on the bus; this view
(like every other) refreshes from the bus, so edits made anywhere show up here.

The list selects like any desktop contact list: click, Ctrl+click, Shift+click or
Shift+arrows, Ctrl+A. A selection is read as row ranges (`ListSelection`), never row by row,
so selecting all of 100,000 customers costs nothing; "everything selected" stands for the
list's query, and ids are resolved through the services only when an action needs them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.customer import Kind, Status
from crmcompanion.core.errors import DomainError, NotFoundError
from crmcompanion.core.segments import SEGMENT_ORDER, SEGMENT_TITLES
from crmcompanion.core.settings import CONFIRM_DELETE, MAP_SERVICE, SettingSpec, register
from crmcompanion.services.changes import Changed
from crmcompanion.services.container import Services
from crmcompanion.services.customers import (
    ArchivedCustomers,
    DeletedCustomer,
    DeletedCustomers,
    ListQuery,
    SortColumn,
    TaggedCustomers,
    same_list,
)
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.customer_activity import CustomerActivity
from crmcompanion.ui.customer_cells import CustomerCellDelegate
from crmcompanion.ui.customer_detail import CustomerDetail
from crmcompanion.ui.customer_editor import CustomerEditor
from crmcompanion.ui.customer_model import (
    COLUMN_BY_SORT,
    COLUMNS,
    COMPANY,
    EMAIL,
    ID_ROLE,
    KIND,
    LAST_CONTACT,
    NAME,
    NEXT_OCCASION,
    PHONE,
    SEGMENT,
    SEGMENT_REASONS,
    SORT_BY_COLUMN,
    STATUS,
    TAGS,
    UPDATED,
    CustomerTableModel,
    ListSelection,
)
from crmcompanion.ui.formatting import number
from crmcompanion.ui.personal_data import PersonalDataActions
from crmcompanion.ui.style import STATUS_TITLES
from crmcompanion.ui.text_display import ask, embedded, tell
from crmcompanion.ui.widgets import EmptyState, PageHeader, StatusPillDelegate
from crmcompanion.ui.workers import BackgroundTask, TaskProgressDialog

if TYPE_CHECKING:
    # Import/export and the sample customers are imported on first use: their modules (the
    # CSV, vCard and iCalendar codecs, the demo data; ~190 ms of a cold import) are no part
    # of the list's first rows, which an app started on Customers waits for.
    from crmcompanion.services.import_export import (
        ImportExportService,
        ImportResult,
        UndoneImport,
    )

logger = logging.getLogger(__name__)

SAMPLE_CUSTOMERS = 200
UNDO_SECONDS = 20
COLUMN_WIDTHS = {
    NAME: 180, COMPANY: 140, PHONE: 130, EMAIL: 190, TAGS: 160, LAST_CONTACT: 100,
    NEXT_OCCASION: 160, STATUS: 90, KIND: 80, UPDATED: 100,
    SEGMENT: 90, SEGMENT_REASONS: 320,
}
# Shown from the header's menu by who wants them.
HIDDEN_AT_FIRST = (KIND, UPDATED, SEGMENT, SEGMENT_REASONS)
# Shown in the profile panel anyway: hidden while it is open, so the list needs no scrolling.
HIDDEN_WITH_DETAIL = (PHONE, NEXT_OCCASION, KIND, UPDATED, SEGMENT, SEGMENT_REASONS)
# Beside the profile the rest must fit the list's width (no sideways scrolling at 1366x768):
# the least useful columns there go first (the profile shows the customer's last contact,
# tags and company), while the chosen widths are more than a little too wide...
HIDE_TO_FIT = (LAST_CONTACT, TAGS, COMPANY, STATUS)
ELIDE_AT_MOST = 80  # px of eliding accepted before a column is hidden
# ...and then these columns give up width (their text elided) down to their floor.
SHRINK_TO_FIT = {NAME: 120, COMPANY: 90, EMAIL: 120}
# The list's columns as the owner arranged them (order, widths, hidden ones), by column title
# so a column added later takes its default place. Stored with the data, like every setting.
COLUMNS_SETTING = register(SettingSpec(
    "ui.customer_list.columns", str, "",
    "The customer list's column order, widths and hidden columns (set from its header).",
))
SAVE_COLUMNS_AFTER_MS = 400  # a drag resizes a column many times: save once it settles
ARCHIVED_CHOICES = (("Hide archived", False), ("Only archived", True), ("Include archived", None))
LIST_PAGE, NO_MATCH_PAGE, EMPTY_PAGE = range(3)
# Several selected: a selection up to this size is kept across a refresh of the list (found
# again by id in one pass); a bigger one, unless it is everything, falls back to the current row.
KEEP_SELECTION_UP_TO = 2000
# Bulk actions on up to this many customers run at once (~0.1 s); more run on the worker
# thread behind a progress window, so the window keeps painting.
INLINE_UP_TO = 200
# Undo keeps every deleted row in memory (~6 kB a customer); past this, deleting is refused
# with a way out rather than holding hundreds of megabytes.
MAX_DELETE_AT_ONCE = 10_000


class UndoBar(QFrame):
    """A non-modal "Deleted X. Undo" bar; Ctrl+Z works while it is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("undoBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 6, 8, 6)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Undo (Ctrl+Z)")
        self.dismiss_button = QPushButton("✕")
        layout.addWidget(self.label, 1)
        layout.addWidget(self.undo_button)
        layout.addWidget(self.dismiss_button)
        self.setVisible(False)


class ListHeader(QHeaderView):
    """The list's column header. A new search or filter resets the model's rows, never its
    columns (COLUMNS is fixed): the header keeps its sections and paints nothing then. Qt's
    reset re-laid and repainted the whole header on every keystroke (~1-1.5 ms of CPU)."""

    def reset(self) -> None:
        model = self.model()
        if model is not None and 0 < self.count() == model.columnCount():
            return  # the same sections: nothing of the header changed
        super().reset()


class CustomerTable(QTableView):
    """The list's table: Qt's extended selection, except Ctrl+Home / Ctrl+End, which select the
    first / last customer (as they did before several could be selected) instead of only moving
    the focus there the way Ctrl+arrows do.

    Ctrl+A and End mean the whole list: while its count is still on its way (the rows read so
    far listed), they take it first, so "all" and "the last" are never just the rows read."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        header = ListHeader(Qt.Orientation.Horizontal, self)
        header.setSectionsClickable(True)  # as QTableView's own header
        self.setHorizontalHeader(header)

    resized = Signal()  # its columns are fitted to its width beside the profile

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def selectAll(self) -> None:
        self._count_the_list()
        super().selectAll()

    def moveCursor(self, cursorAction: QAbstractItemView.CursorAction,
                   modifiers: Qt.KeyboardModifier) -> QModelIndex:
        if cursorAction == QAbstractItemView.CursorAction.MoveEnd:
            self._count_the_list()
        return super().moveCursor(cursorAction, modifiers)

    def _count_the_list(self) -> None:
        model = self.model()
        if isinstance(model, CustomerTableModel):
            model.count()

    def selectionCommand(
        self, index: QModelIndex | QPersistentModelIndex, event: QEvent | None = None
    ) -> QItemSelectionModel.SelectionFlag:
        if (isinstance(event, QKeyEvent) and event.key() in (Qt.Key.Key_Home, Qt.Key.Key_End)
                and event.modifiers() == Qt.KeyboardModifier.ControlModifier):
            flags = QItemSelectionModel.SelectionFlag
            return flags.ClearAndSelect | flags.Rows
        return super().selectionCommand(index, event)


class FilterBar(QWidget):
    """The search box and the filters: one row where they fit, else the search above the
    filters. At 900x600 one row asked 280 px for the search plus the four filters' widths,
    more than the page had, and Qt laid the filters over the search box."""

    SPACING = 8

    def __init__(self, search: QWidget, filters: list[QWidget],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._search = search
        self._filters = filters
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(self.SPACING)
        self.one_row: bool | None = None
        self._place(one_row=True)

    def _needed(self) -> int:
        widths = [self._search.minimumWidth()] + [f.sizeHint().width() for f in self._filters]
        return sum(widths) + self.SPACING * len(self._filters)

    def _place(self, one_row: bool) -> None:
        if one_row == self.one_row:
            return
        self.one_row = one_row
        for widget in (self._search, *self._filters):
            self._grid.removeWidget(widget)
        count = len(self._filters)
        for column in range(count + 1):
            self._grid.setColumnStretch(column, 0)
        if one_row:
            self._grid.addWidget(self._search, 0, 0)
            self._grid.setColumnStretch(0, 1)
            for column, widget in enumerate(self._filters, start=1):
                self._grid.addWidget(widget, 0, column)
        else:
            self._grid.addWidget(self._search, 0, 0, 1, count)
            for column, widget in enumerate(self._filters):
                self._grid.addWidget(widget, 1, column)
                self._grid.setColumnStretch(column, 1)

    def minimumSizeHint(self) -> QSize:
        # Two rows at the narrowest: as wide as the widest of the search and the filters.
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), max(self._search.minimumWidth(), 1)), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._place(one_row=event.size().width() >= self._needed())
        super().resizeEvent(event)


class CustomersView(QWidget):
    message = Signal(str)  # a short status line for the main window

    def __init__(
        self, services: Services, bus: AppState, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._customers = services.customers
        self._bus = bus
        self._deleted: DeletedCustomer | None = None
        self._undo_action: Callable[[], object] | None = None
        self.bulk_task: BackgroundTask | None = None  # a bulk action on the worker thread
        self.editor: CustomerEditor | None = None
        self._total = self._customers.total()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(14)
        self.header = PageHeader("Customers")
        self.add_button = QPushButton("Add customer")
        self.add_button.setObjectName("primary")
        self.add_button.setToolTip("Add a customer (Ctrl+N)")
        self.add_button.clicked.connect(self.new_customer)
        # Import/export (issue 6): buttons beside "Add customer", the rest in the More menu.
        self.import_wizard: QWidget | None = None
        self.export_dialog: QWidget | None = None
        self.merge_dialog: QWidget | None = None
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("Import customers from a CSV or vCard file")
        self.import_button.clicked.connect(self.open_import)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Export the customers listed (or selected) as CSV, "
                                      "vCard or calendar")
        self.export_button.clicked.connect(self.open_export)
        self.more_button = QPushButton("More")
        self.more_button.setToolTip("Undo last import, find duplicates, …")
        self.more_menu = QMenu(self.more_button)
        self.import_action = self.more_menu.addAction("Import…", self.open_import)
        self.export_action = self.more_menu.addAction("Export…", self.open_export)
        self.undo_import_action: QAction = self.more_menu.addAction(
            "Undo last import", self.undo_last_import)
        self.more_menu.addSeparator()
        self.duplicates_action: QAction = self.more_menu.addAction(
            "Find duplicates…", self.find_duplicates)
        self.more_button.setMenu(self.more_menu)
        for button in (self.import_button, self.export_button, self.more_button):
            self.header.add_action(button)
        self.header.add_action(self.add_button)
        layout.addWidget(self.header)

        # --- search and filters ---
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search names, companies, emails, phones, tags, notes…")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(280)
        self.tag_filter = QComboBox()
        self.tag_filter.setMinimumWidth(150)
        self.tag_filter.setMaxVisibleItems(20)
        self.status_filter = QComboBox()
        self.status_filter.addItem("All statuses", "")
        for status in Status:
            self.status_filter.addItem(STATUS_TITLES[status], status.value)
        self.kind_filter = QComboBox()
        self.kind_filter.addItem("All kinds", "")
        self.kind_filter.addItem("External", Kind.EXTERNAL.value)
        self.kind_filter.addItem("Internal", Kind.INTERNAL.value)
        self.archived_filter = QComboBox()
        for title, _ in ARCHIVED_CHOICES:
            self.archived_filter.addItem(title)
        # Health segments (issue 16): the stored segments, brought up to date off the GUI
        # thread when one is chosen (segment_filter_changed), then queried like any filter.
        self.segment_filter = QComboBox()
        self.segment_filter.addItem("All segments", "")
        for segment in SEGMENT_ORDER:
            self.segment_filter.addItem(SEGMENT_TITLES[segment], segment.value)
        self.filter_bar = FilterBar(self.search, [self.tag_filter, self.status_filter,
                                                  self.kind_filter, self.segment_filter,
                                                  self.archived_filter])
        layout.addWidget(self.filter_bar)

        # --- list, no-match and empty pages ---
        self.stack = QStackedWidget()
        self.model = CustomerTableModel(self._customers, ListQuery())
        self.table = CustomerTable()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        # Text cells painted without Qt's style-sheet item path (half the CPU of a keystroke's
        # repaint, the same pixels: ui.customer_cells); Status keeps its pill.
        self.cells = CustomerCellDelegate(self.table)
        self.table.setItemDelegate(self.cells)
        self.table.setItemDelegateForColumn(STATUS, StatusPillDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(NAME, Qt.SortOrder.AscendingOrder)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, width in COLUMN_WIDTHS.items():
            header.resizeSection(column, width)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(TAGS, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        # Not movable by dragging: with movable sections a click no longer sorts under QTest
        # (pressed, never clicked), so moving is in the header's menu (Move left / right).
        header.sortIndicatorChanged.connect(self._sort_changed)
        # Columns: right-click the header to choose them; order, widths and choices are kept.
        self._hidden_columns: set[int] = set(HIDDEN_AT_FIRST)
        self.column_menu: QMenu | None = None
        self._restore_columns()
        # The widths the owner chose (or the defaults), kept apart from the narrower ones the
        # list gets beside the profile: those are never saved as the owner's.
        self._chosen_widths = {c: header.sectionSize(c) for c in range(len(COLUMNS)) if c != TAGS}
        self._fitting = False
        header.sectionResized.connect(self._section_resized)
        self.table.resized.connect(self._fit_columns)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._show_column_menu)
        self._save_columns_timer = QTimer(self)
        self._save_columns_timer.setSingleShot(True)
        self._save_columns_timer.setInterval(SAVE_COLUMNS_AFTER_MS)
        self._save_columns_timer.timeout.connect(self._save_columns)
        header.sectionResized.connect(lambda *_: self._save_columns_timer.start())
        header.sectionMoved.connect(lambda *_: self._save_columns_timer.start())
        # The header shares the table's selection model by default, and paints each section
        # asking whether its whole column is selected: Qt then checks every row's flags, 800,000
        # calls into Python (2.3 s) on each header repaint once Ctrl+A selected 100,000 rows.
        # Its sections are never highlighted (rows are selected, not columns), so give it a
        # selection model of its own that nothing selects in.
        header.setSelectionModel(QItemSelectionModel(self.model, header))

        self.detail = CustomerDetail()
        self.detail.map_service = lambda: str(services.settings.get(MAP_SERVICE))
        self.detail.set_activity(CustomerActivity(services, bus))
        self.detail.setVisible(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.stack.addWidget(self.splitter)

        self.no_match = EmptyState(
            "⌕", "No customers match",
            "Nobody matches this search and these filters. Try fewer words or clear the filters.",
        )
        self.clear_filters_button = self.no_match.add_button("Clear search and filters")
        self.clear_filters_button.clicked.connect(self.clear_filters)
        self.stack.addWidget(self.no_match)

        self.empty = EmptyState(
            "☺", "No customers yet",
            "Add your first customer, or add some sample customers to look around: you can "
            "delete them all later.",
        )
        self.empty_add_button = self.empty.add_button("Add customer", primary=True)
        self.empty_add_button.clicked.connect(self.new_customer)
        self.sample_button = self.empty.add_button("Add sample customers")
        self.sample_button.clicked.connect(self.add_sample_customers)
        self.stack.addWidget(self.empty)
        layout.addWidget(self.stack, 1)

        self.undo_bar = UndoBar()
        self.undo_bar.undo_button.clicked.connect(self._undo_clicked)
        self.undo_bar.dismiss_button.clicked.connect(self._hide_undo)
        layout.addWidget(self.undo_bar)
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.timeout.connect(self._hide_undo)

        # --- keyboard ---
        self.undo_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Undo), self)
        self.undo_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.undo_shortcut.setEnabled(False)
        self.undo_shortcut.activated.connect(self._undo_clicked)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.delete_selected)
        close = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        close.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        close.activated.connect(self.escape)

        # --- wiring ---
        self.table.activated.connect(self._row_activated)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self._kept_id: int | None = None  # selected before a query, its row not read yet
        self.model.page_fetched.connect(self._page_fetched)
        self.model.count_known.connect(self._show_subtitle)
        self.search.textChanged.connect(self._search_changed)
        for combo in (self.tag_filter, self.status_filter, self.kind_filter,
                      self.archived_filter):
            combo.currentIndexChanged.connect(lambda _index: self._apply_query())
        self.segment_filter.currentIndexChanged.connect(self._segment_filter_changed)
        self.detail.edit_requested.connect(self.edit_customer)
        self.detail.archive_requested.connect(self.set_archived)
        self.detail.delete_requested.connect(self.delete_customer)
        self.personal_data = PersonalDataActions(services, bus, self)
        self.detail.export_data_requested.connect(self.personal_data.export)
        self.detail.erase_requested.connect(self.personal_data.erase)
        self.detail.close_requested.connect(self.close_detail)
        self.detail.export_selected_requested.connect(self.open_export)
        self.detail.archive_selected_requested.connect(self.archive_selected)
        self.detail.tag_selected_requested.connect(self.tag_selected)
        self.detail.delete_selected_requested.connect(self.delete_selected)
        bus.changed.connect(self._on_changed)

        self._show_columns()
        self._reload_tags()
        self._show_state()

    # --- the query ----------------------------------------------------------------------
    @property
    def transfer(self) -> ImportExportService:
        """Import/export (issue 6), built by the services on first use (not with the page)."""
        return self._services.import_export

    def current_query(self) -> ListQuery:
        status = self.status_filter.currentData()
        kind = self.kind_filter.currentData()
        header = self.table.horizontalHeader()
        sort = SORT_BY_COLUMN.get(header.sortIndicatorSection(), SortColumn.NAME)
        return ListQuery(
            search=self.search.text(),
            tag=self.tag_filter.currentData() or None,
            status=Status(status) if status else None,
            kind=Kind(kind) if kind else None,
            segment=self.segment_filter.currentData() or None,
            archived=ARCHIVED_CHOICES[max(0, self.archived_filter.currentIndex())][1],
            sort=sort,
            descending=header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder,
        )

    def _search_changed(self) -> None:
        """A keystroke in the search box: the list is queried again unless the new text
        searches the same words (a space or a full stop after a word): then the rows, the
        selection and the scroll position all stay as they are, and nothing is read."""
        if same_list(self.current_query(), self.model.query):
            return
        self._apply_query(count_later=True)

    def _apply_query(self, count_later: bool = False) -> None:
        """Show the list the search box and filters describe, keeping the selection.
        `count_later`: a keystroke, whose list is shown before it is counted (the count comes
        from the model's counting thread, issue 13)."""
        before = self.selection()
        current = self.selected_id()
        if current is None and before.count == 0:
            current = self._kept_id  # still kept from an earlier keystroke
        query = self.current_query()
        keep_all = before.everything and before.count > 1 and _same_rows(before.query, query)
        keep_ids = (self.model.ids_of(before)
                    if 1 < before.count <= KEEP_SELECTION_UP_TO and not keep_all else None)
        self.model.set_query(query, count_later=count_later)
        if query.search != before.query.search:
            # New words: their matches from the top (the kept customer is looked for there),
            # not rows deep in the new list at the old scroll offset (a far page of a search
            # costs a walk through its matches).
            self.table.scrollToTop()
        self._show_state()
        if keep_all:
            self.table.selectAll()
            self._set_current(current)
        elif keep_ids:
            self.select_customers(keep_ids, current)
        elif current is not None:
            self._keep_selected(current)
        self._selection_changed()  # a reset clears the selection without telling

    def _sort_changed(self, column: int, order: Qt.SortOrder) -> None:
        if column not in SORT_BY_COLUMN:
            # Phone and Tags have no index to sort by: put the indicator back.
            query = self.model.query
            header = self.table.horizontalHeader()
            header.blockSignals(True)
            previous = (
                Qt.SortOrder.DescendingOrder if query.descending else Qt.SortOrder.AscendingOrder
            )
            header.setSortIndicator(COLUMN_BY_SORT.get(query.sort, NAME), previous)
            header.blockSignals(False)
            self.message.emit(f"The {self.model.headerData(column, Qt.Orientation.Horizontal)} "
                              "column cannot be sorted.")
            return
        self._apply_query()

    def _segment_filter_changed(self) -> None:
        if not self.segment_filter.currentData():
            self._apply_query()
            return
        self._refresh_segments()

    def show_segment(self, segment: str) -> None:
        """Exactly the customers of one health segment: other filters and the search off."""
        for combo in (self.tag_filter, self.status_filter, self.kind_filter,
                      self.archived_filter, self.search):
            combo.blockSignals(True)
        for combo in (self.tag_filter, self.status_filter, self.kind_filter,
                      self.archived_filter):
            combo.setCurrentIndex(0)
        self.search.clear()
        for combo in (self.tag_filter, self.status_filter, self.kind_filter,
                      self.archived_filter, self.search):
            combo.blockSignals(False)
        index = max(0, self.segment_filter.findData(segment))
        if self.segment_filter.currentIndex() == index:
            self._segment_filter_changed()
        else:
            self.segment_filter.setCurrentIndex(index)

    def clear_filters(self) -> None:
        for combo in (self.tag_filter, self.status_filter, self.kind_filter,
                      self.segment_filter, self.archived_filter):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.search.clear()  # re-queries through textChanged
        self._apply_query()

    def _show_state(self) -> None:
        shown = self.model.rowCount()
        self.filter_bar.setVisible(self._total > 0)  # nothing to search in an empty database
        self.export_button.setEnabled(self._total > 0)  # nor to export
        self.export_action.setEnabled(self._total > 0)
        if self._total == 0:
            self.stack.setCurrentIndex(EMPTY_PAGE)
        elif shown == 0:
            self.stack.setCurrentIndex(NO_MATCH_PAGE)
        else:
            self.stack.setCurrentIndex(LIST_PAGE)
        self._show_subtitle()

    def _show_subtitle(self) -> None:
        shown = self.model.rowCount()
        if self._total == 0:
            text = ""
        elif not self.model.counted:
            # The count is still on its way (a few ms): what is known, never a wrong number.
            text = f"{number(shown)}+ of {number(self._total)} customers"
        elif shown == self._total:
            text = f"{number(self._total)} customers"
        else:
            text = f"{number(shown)} of {number(self._total)} customers"
        selected = self.selection().count if text else 0
        if selected > 1:
            text += f" · {number(selected)} selected"
        if text != self.header.subtitle.text():  # each change lays the page header out again
            self.header.set_subtitle(text)

    def _reload_tags(self) -> None:
        current = self.tag_filter.currentData()
        self.tag_filter.blockSignals(True)
        self.tag_filter.clear()
        self.tag_filter.addItem("All tags", "")
        for name, count in self._customers.tags():
            self.tag_filter.addItem(f"{name} ({number(count)})", name)
        index = self.tag_filter.findData(current) if current else 0
        self.tag_filter.setCurrentIndex(max(0, index))
        self.tag_filter.blockSignals(False)
        if current and index < 0:
            self._apply_query()  # the chosen tag no longer exists

    # --- selection ----------------------------------------------------------------------
    def selection(self) -> ListSelection:
        """The selected rows as ranges (cheap at any size: Ctrl+A is one range)."""
        ranges = [(r.top(), r.bottom()) for r in self.table.selectionModel().selection()]
        return self.model.selection_of(ranges)

    def selected_id(self) -> int | None:
        """The current customer: the current row, when it is selected."""
        index = self.table.currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row()):
            return None
        value = index.siblingAtColumn(NAME).data(ID_ROLE)
        return int(value) if value is not None else None

    def select_customer(self, customer_id: int, scroll: bool = True) -> bool:
        # A page already read knows the row: no count of the rows before it in the list
        # (~11 ms of CPU at 100,000 customers, on every open_customer; issue 13's timeline).
        row = self.model.loaded_row_of(customer_id)
        if row is None:
            row = self.model.position_of(customer_id)
        if row is None:
            return False
        self.table.selectRow(row)
        if scroll:
            # position_of may have just taken the list's count (rows inserted): the scroll
            # bar's range follows on the next layout pass, so bring it up to date first, or
            # the scroll stops at the end of the rows listed before the count.
            self.table.updateGeometries()
            self.table.scrollTo(
                self.model.index(row, NAME), QAbstractItemView.ScrollHint.PositionAtCenter
            )
        return True

    def _keep_selected(self, customer_id: int) -> None:
        """Keep one customer selected across a new query without numbering the list.

        Its row is looked up only in the pages read so far, after reading the first one (the
        view paints it next anyway). When it is further down, it stays kept by id and is
        selected when the page holding it is read (the user scrolls there); until then the
        list shows no selection and the profile panel keeps showing it. position_of here
        cost a count over every match: 71 ms for "a" at 100,000 customers, per keystroke.
        """
        self._kept_id = None
        if self.model.rowCount():
            self.model.row_at(0)
        row = self.model.loaded_row_of(customer_id)
        if row is not None:
            self.table.selectRow(row)
        else:
            self._kept_id = customer_id

    def _page_fetched(self, first_row: int, ids: list[int]) -> None:
        kept = self._kept_id
        if kept is not None and kept in ids:
            row = first_row + ids.index(kept)
            # Read while painting: select once the paint is over.
            QTimer.singleShot(0, self, lambda: self._select_kept(kept, row))

    def _select_kept(self, customer_id: int, row: int) -> None:
        if self._kept_id == customer_id and self.model.loaded_row_of(customer_id) == row:
            self._kept_id = None
            self.table.selectRow(row)

    def select_customers(self, ids: list[int], current: int | None = None) -> int:
        """Select these customers (those listed), `current` as the current row; how many."""
        rows = sorted(self.model.positions_of(ids).values())
        selection = QItemSelection()
        last_column = self.model.columnCount() - 1
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or rows[i] != rows[i - 1] + 1:  # the end of a run of rows
                selection.select(self.model.index(rows[start], 0),
                                 self.model.index(rows[i - 1], last_column))
                start = i
        flags = QItemSelectionModel.SelectionFlag
        self.table.selectionModel().select(selection, flags.ClearAndSelect | flags.Rows)
        self._set_current(current if current in ids else (ids[0] if ids else None))
        return len(rows)

    def _set_current(self, customer_id: int | None) -> None:
        row = self.model.position_of(customer_id) if customer_id is not None else None
        if row is not None:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, NAME), QItemSelectionModel.SelectionFlag.NoUpdate)

    def _selection_changed(self) -> None:
        """One customer: its profile (if the panel is open); several: the summary."""
        selection = self.selection()
        if selection.count:
            self._kept_id = None  # something else was selected since
        self._show_subtitle()
        if selection.count > 1:
            self.detail.show_summary(selection.count, archive=selection.query.archived is not True)
            self._show_detail_panel()
            return
        customer_id = self._single_selected_id(selection)
        if customer_id is None:
            if self.detail.summary_count:
                self.close_detail()
        elif self.detail.isVisible():
            shown = self.detail.customer
            if self.detail.summary_count or shown is None or shown.id != customer_id:
                self.open_customer(customer_id)

    def _single_selected_id(self, selection: ListSelection) -> int | None:
        if selection.count != 1:
            return None
        value = self.model.index(selection.ranges[0][0], NAME).data(ID_ROLE)
        return int(value) if value is not None else None

    def escape(self) -> None:
        """Esc: clears a selection of several, else closes the profile, else deselects."""
        self._kept_id = None
        if self.selection().count > 1 or not self.detail.isVisible():
            self.table.clearSelection()
        else:
            self.close_detail()

    def _row_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            if self.selection().count > 1:  # Enter opens the current row, on its own
                self.table.selectRow(index.row())
            self.open_customer(int(index.siblingAtColumn(NAME).data(ID_ROLE)))

    def open_selected(self) -> None:
        customer_id = self.selected_id()
        if customer_id is not None:
            self.open_customer(customer_id)

    def open_customer(self, customer_id: int) -> None:
        try:
            customer = self._customers.get(customer_id)
        except NotFoundError as exc:
            self.message.emit(str(exc))
            self.close_detail()
            return
        self.detail.show_customer(customer)
        self._show_detail_panel()

    def _show_detail_panel(self) -> None:
        if not self.detail.isVisible():
            self.detail.setVisible(True)
            self._show_columns()
            # The profile tells a story (a timeline, not a few lines): it gets room, about
            # half the page, never less than its minimum width.
            width = max(self.splitter.width(), self.detail.minimumWidth() + 240)
            panel = max(self.detail.minimumWidth(), min(620, width * 9 // 20))
            self.splitter.setSizes([width - panel, panel])

    def close_detail(self) -> None:
        self.detail.setVisible(False)
        self.detail.customer = None
        self.detail.summary_count = 0
        self._show_columns()
        self.table.setFocus()

    # --- columns ------------------------------------------------------------------------
    def column_shown(self, column: int) -> bool:
        """Whether the owner chose to show this column (the profile panel may hide it)."""
        return column not in self._hidden_columns

    def set_column_shown(self, column: int, shown: bool) -> None:
        if column == NAME:
            return  # the list always says who
        if shown:
            self._hidden_columns.discard(column)
        else:
            self._hidden_columns.add(column)
        self._show_columns()
        self._save_columns()
        if shown and column in (SEGMENT, SEGMENT_REASONS):
            self._refresh_segments()  # the stored segments, brought up to date first

    def _refresh_segments(self) -> None:
        from crmcompanion.ui.workers import BackgroundTask

        insights = self._services.insights
        task = BackgroundTask(lambda _state: insights.refresh(), "segments")
        task.finished.connect(self._apply_query)
        task.start()

    def _show_columns(self) -> None:
        panel = self.detail.isVisible()
        hidden_now = {c for c in range(len(COLUMNS))
                      if c in self._hidden_columns or (panel and c in HIDDEN_WITH_DETAIL)}
        widths = {c: w for c, w in self._chosen_widths.items() if c not in hidden_now}
        if panel:
            hidden_now |= self._fit(widths, hidden_now)
        self._fitting = True  # these widths are the list's, not the owner's
        try:
            for column in range(len(COLUMNS)):
                hidden = column in hidden_now
                if self.table.isColumnHidden(column) != hidden:
                    self.table.setColumnHidden(column, hidden)
            header = self.table.horizontalHeader()
            for column, width in widths.items():
                if column not in hidden_now and header.sectionSize(column) != width:
                    header.resizeSection(column, width)
        finally:
            self._fitting = False

    def _fit(self, widths: dict[int, int], hidden: set[int]) -> set[int]:
        """Fit the shown columns beside the profile into the list's width: hide the least
        useful while the chosen widths are more than ELIDE_AT_MOST too wide, then narrow the
        SHRINK_TO_FIT columns (elided) to fit. Changes `widths`; returns the columns hidden."""
        room = self.table.viewport().width()
        tags = self.table.horizontalHeader().minimumSectionSize() if TAGS not in hidden else 0
        also_hidden: set[int] = set()

        def needed() -> int:
            return sum(widths.values()) + (tags if TAGS not in also_hidden else 0)

        def floors() -> int:
            return needed() - sum(max(0, widths[c] - floor)
                                  for c, floor in SHRINK_TO_FIT.items() if c in widths)

        for column in HIDE_TO_FIT:
            if needed() <= room + ELIDE_AT_MOST and floors() <= room:
                break
            if column == TAGS and tags:
                also_hidden.add(TAGS)
            elif column in widths:
                also_hidden.add(column)
                del widths[column]
        excess = needed() - room
        if excess > 0:
            minimum = self.table.horizontalHeader().minimumSectionSize()
            # Down to each floor in proportion to what it can give, then below it if the list
            # is narrower still (a very small window), never under Qt's minimum section.
            for floor_of in (lambda c: SHRINK_TO_FIT[c], lambda _c: minimum):
                slack = {c: max(0, widths[c] - floor_of(c)) for c in SHRINK_TO_FIT if c in widths}
                total = sum(slack.values())
                if total <= 0 or excess <= 0:
                    continue
                for column, give in slack.items():
                    cut = min(give, -(-excess * give // total))
                    widths[column] -= cut
                excess = needed() - room
        return also_hidden

    def _fit_columns(self) -> None:
        if self.detail.isVisible():
            self._show_columns()

    def _section_resized(self, column: int, _old: int, new: int) -> None:
        """The owner dragged a column's edge (the list's own fitting is not the owner's)."""
        if not self._fitting and new > 0 and column != TAGS:
            self._chosen_widths[column] = new

    def _show_column_menu(self, position: QPoint) -> None:
        """The header's menu: a tick per column, and a way back to the first arrangement."""
        menu = QMenu(self)
        for column, title in enumerate(COLUMNS):
            action = menu.addAction(title)
            action.setCheckable(True)
            action.setChecked(self.column_shown(column))
            action.setEnabled(column != NAME)
            action.toggled.connect(
                lambda shown, column=column: self.set_column_shown(column, shown))
        header = self.table.horizontalHeader()
        clicked = header.logicalIndexAt(position)
        if clicked >= 0:
            menu.addSeparator()
            visual = header.visualIndex(clicked)
            title = COLUMNS[clicked]
            left = menu.addAction(f"Move “{title}” left",
                                  lambda: self.move_column(clicked, -1))
            left.setEnabled(self._shown_neighbour(visual, -1) is not None)
            right = menu.addAction(f"Move “{title}” right",
                                   lambda: self.move_column(clicked, 1))
            right.setEnabled(self._shown_neighbour(visual, 1) is not None)
        menu.addSeparator()
        menu.addAction("Reset columns", self.reset_columns)
        self.column_menu = menu
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(self.table.horizontalHeader().mapToGlobal(position))

    def _shown_neighbour(self, visual: int, step: int) -> int | None:
        """The visual index of the next column on screen left (-1) or right (1) of `visual`."""
        header = self.table.horizontalHeader()
        visual += step
        while 0 <= visual < header.count():
            if not header.isSectionHidden(header.logicalIndex(visual)):
                return visual
            visual += step
        return None

    def move_column(self, column: int, step: int) -> None:
        """Swap the column with its shown neighbour on the left (-1) or right (1)."""
        header = self.table.horizontalHeader()
        target = self._shown_neighbour(header.visualIndex(column), step)
        if target is not None:
            header.moveSection(header.visualIndex(column), target)
            self._save_columns()

    def reset_columns(self) -> None:
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.moveSection(header.visualIndex(column), column)
            if column != TAGS:
                header.resizeSection(column, COLUMN_WIDTHS[column])
        self._chosen_widths = {c: w for c, w in COLUMN_WIDTHS.items() if c != TAGS}
        self._hidden_columns = set(HIDDEN_AT_FIRST)
        self._show_columns()
        self._save_columns()

    def _save_columns(self) -> None:
        self._save_columns_timer.stop()
        header = self.table.horizontalHeader()
        arrangement = {
            "order": [COLUMNS[header.logicalIndex(v)] for v in range(len(COLUMNS))],
            "hidden": sorted(COLUMNS[c] for c in self._hidden_columns),
            # Widths of the columns on screen (a hidden one reports 0); Tags takes the rest.
            "widths": {COLUMNS[c]: self._chosen_widths[c] for c in range(len(COLUMNS))
                       if c != TAGS and not self.table.isColumnHidden(c)},
        }
        text = json.dumps(arrangement, sort_keys=True)
        if text == self._saved_columns:
            return
        try:
            self._services.settings.update({COLUMNS_SETTING.key: text})
        except DomainError as exc:  # a layout not saved is no reason to interrupt the owner
            logger.warning("Could not keep the list's columns: %s", exc)
            return
        self._saved_columns = text

    def _restore_columns(self) -> None:
        """Apply the arrangement saved last time; anything unreadable keeps the defaults."""
        self._saved_columns = text = str(self._services.settings.get(COLUMNS_SETTING) or "")
        if not text:
            return
        try:
            saved = json.loads(text)
            order = [COLUMNS.index(title) for title in saved.get("order", [])
                     if title in COLUMNS]
            hidden = {COLUMNS.index(title) for title in saved.get("hidden", [])
                      if title in COLUMNS and title != COLUMNS[NAME]}
            # Columns added since the arrangement was saved start hidden if they are extras.
            known = set(saved.get("order", [])) | set(saved.get("hidden", []))
            hidden |= {c for c in HIDDEN_AT_FIRST if COLUMNS[c] not in known}
            widths = {COLUMNS.index(title): int(width)
                      for title, width in dict(saved.get("widths", {})).items()
                      if title in COLUMNS}
        except (ValueError, TypeError, AttributeError):
            logger.warning("Ignoring an unreadable column arrangement: %r", text[:200])
            return
        header = self.table.horizontalHeader()
        for visual, column in enumerate(dict.fromkeys(order)):
            header.moveSection(header.visualIndex(column), visual)
        for column, width in widths.items():
            if column != TAGS and 20 <= width <= 2000:
                header.resizeSection(column, width)
        self._hidden_columns = hidden

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # --- editing ------------------------------------------------------------------------
    def new_customer(self) -> CustomerEditor:
        return self._open_editor(None)

    def edit_customer(self, customer_id: int) -> CustomerEditor | None:
        try:
            customer = self._customers.get(customer_id)
        except NotFoundError as exc:
            self.message.emit(str(exc))
            return None
        return self._open_editor(customer)

    def edit_selected(self) -> None:
        customer_id = self.selected_id()
        if customer_id is not None:
            self.edit_customer(customer_id)

    def _open_editor(self, customer: object) -> CustomerEditor:
        tags = [name for name, _ in self._customers.tags()]
        editor = CustomerEditor(
            self._customers, self._services.clock.today(), customer,  # type: ignore[arg-type]
            tags, self.window(),
        )
        editor.accepted.connect(lambda: self._editor_saved(editor))
        editor.finished.connect(lambda _result: self._editor_closed(editor))
        self.editor = editor
        editor.open()  # window-modal, non-blocking: the event loop keeps running
        return editor

    def _editor_saved(self, editor: CustomerEditor) -> None:
        saved = editor.saved
        if saved is None:
            return
        self._bus.publish(saved.changed)
        before = editor._customer.status if editor._customer is not None else None
        if saved.customer.status is Status.LOST and before is not Status.LOST:
            self.ask_lost_reason(saved.customer.id, saved.customer.display_name)
        if not self.select_customer(saved.customer.id):
            self.message.emit(
                f"Saved {saved.customer.display_name} (hidden by the current search or filters)."
            )
        else:
            self.message.emit(f"Saved {saved.customer.display_name}.")
        if self.detail.isVisible() or editor.windowTitle() == "New customer":
            self.open_customer(saved.customer.id)

    def ask_lost_reason(self, customer_id: int, name: str) -> None:
        """Issue 16: why a customer became lost (window-modal; Cancel leaves it unknown)."""
        from crmcompanion.ui.insights_lost import LostReasonDialog

        dialog = LostReasonDialog(self._services, customer_id, name, self)
        self.lost_dialog = dialog
        dialog.accepted.connect(lambda: dialog.result_value and self._bus.publish(
            dialog.result_value.changed))
        dialog.open()

    def _editor_closed(self, editor: CustomerEditor) -> None:
        if self.editor is editor:
            self.editor = None
        editor.deleteLater()

    def set_archived(self, customer_id: int, archived: bool) -> None:
        try:
            saved = self._customers.set_archived(customer_id, archived)
        except DomainError as exc:
            tell(self, "Could not archive", str(exc))
            return
        self._bus.publish(saved.changed)
        verb = "Archived" if archived else "Unarchived"
        self.message.emit(f"{verb} {saved.customer.display_name}.")

    def delete_selected(self) -> None:
        """Delete (the Del key, the panel's Delete): the current customer, or all selected."""
        selection = self.selection()
        if selection.count > 1:
            self.delete_several(selection)
            return
        customer_id = self._single_selected_id(selection) or self.selected_id()
        if customer_id is not None:
            self.delete_customer(customer_id)

    def delete_customer(self, customer_id: int) -> None:
        try:
            name = self._customers.get(customer_id).display_name
        except NotFoundError as exc:
            self.message.emit(str(exc))
            return
        question = f"Delete {embedded(name)}? You can undo this right afterwards."
        if self._services.settings.get(CONFIRM_DELETE) and not ask(self, "Delete customer",
                                                                   question):
            return
        next_row = self.table.currentIndex().row()
        try:
            deleted = self._customers.delete(customer_id)
        except DomainError as exc:
            tell(self, "Could not delete", str(exc))
            return
        if self.detail.customer is not None and self.detail.customer.id == customer_id:
            self.close_detail()
        self._bus.publish(deleted.changed)
        if self.model.rowCount() and next_row >= 0:
            self.table.selectRow(min(next_row, self.model.rowCount() - 1))
        self._offer_undo(deleted)

    def _offer_undo(self, deleted: DeletedCustomer) -> None:
        self._offer(f"Deleted {deleted.display_name}.", self.undo_delete)
        self._deleted = deleted

    def _offer(self, text: str, undo: Callable[[], object], seconds: int = UNDO_SECONDS) -> None:
        """Show the Undo bar (and Ctrl+Z) for `seconds`; `undo` runs if the user asks."""
        self._hide_undo()
        self._undo_action = undo
        self.undo_bar.label.setText(text)
        self.undo_bar.setVisible(True)
        self.undo_shortcut.setEnabled(True)
        self._undo_timer.start(seconds * 1000)

    def _hide_undo(self) -> None:
        self._deleted = None
        self._undo_action = None
        self.undo_bar.setVisible(False)
        self.undo_shortcut.setEnabled(False)
        self._undo_timer.stop()

    @property
    def undo_offered(self) -> bool:
        return self._undo_action is not None

    def _undo_clicked(self) -> None:
        if self._undo_action is not None:
            self._undo_action()

    def undo_delete(self) -> None:
        deleted = self._deleted
        if deleted is None:
            return
        self._hide_undo()
        try:
            saved = self._customers.undo_delete(deleted)
        except DomainError as exc:
            self.message.emit(str(exc))
            return
        self._bus.publish(saved.changed)
        self.select_customer(saved.customer.id)
        self.message.emit(f"Restored {saved.customer.display_name}.")

    def add_sample_customers(self) -> None:
        from crmcompanion.services.demo import fill_demo

        try:
            changed = fill_demo(
                self._services.db, self._services.clock, SAMPLE_CUSTOMERS,
                staff_id=self._services.staff_id,
            )
        except DomainError as exc:
            tell(self, "Sample customers", str(exc))
            return
        self._bus.publish(changed)
        self.message.emit(f"Added {SAMPLE_CUSTOMERS} sample customers.")

    # --- several customers at once ------------------------------------------------------
    def selected_ids(self) -> list[int]:
        """The selected customers, in list order (resolved through the services when the
        selection reaches rows the list never fetched)."""
        selection = self.selection()
        return self.model.ids_of(selection) if selection.count else []

    def _ids_work(self, selection: ListSelection) -> Callable[[], list[int]]:
        """The selection's ids, read where the action runs: from the list's pages for a small
        selection, from the services (safe on the worker thread) for a big one."""
        if selection.count <= INLINE_UP_TO:
            ids = self.model.ids_of(selection)
            return lambda: ids
        customers = self._customers
        return lambda: customers.ids_in_rows(selection.query, list(selection.ranges),
                                             selection.total)

    def _run_bulk(self, count: int, title: str, label: str, work: Callable[[], Any],
                  done: Callable[[Any], None]) -> None:
        """Run `work` now for a few customers, else on the worker thread behind a progress
        window; `done(result)` on the GUI thread either way, a clear message on failure."""
        def failed(exc: object) -> None:
            text = str(exc) if isinstance(exc, DomainError) else (
                f"Something went wrong ({exc}). Details are in the log.")
            tell(self, f"Could not {title.lower()}", text)

        if count <= INLINE_UP_TO:
            try:
                result = work()
            except DomainError as exc:
                failed(exc)
                return
            done(result)
            return
        task = BackgroundTask(lambda _state: work(), title.lower(), self)
        progress = TaskProgressDialog(task, title, label, self, cancellable=False)
        task.succeeded.connect(done)
        task.failed.connect(failed)
        self.bulk_task = task
        task.start()
        progress.show()

    def delete_several(self, selection: ListSelection) -> None:
        count = selection.count
        if count > MAX_DELETE_AT_ONCE:
            tell(
                self, "Too many to delete at once",
                f"{number(count)} customers are selected. Delete at most "
                f"{number(MAX_DELETE_AT_ONCE)} at once (Undo keeps each of them until you move on):"
                " narrow the list with a "
                "search or filter. To take back an import, use More → Undo last import.",
                QMessageBox.Icon.Information)
            return
        question = (f"Delete these {number(count)} customers, with their conversations and dates? "
                    "You can undo this right afterwards.")
        if self._services.settings.get(CONFIRM_DELETE) and not ask(self, "Delete customers",
                                                                   question):
            return
        ids = self._ids_work(selection)
        first_row = selection.ranges[0][0]
        customers = self._customers

        def done(deleted: DeletedCustomers) -> None:
            self.table.clearSelection()
            self.close_detail()
            self._bus.publish(deleted.changed)
            if self.model.rowCount():
                self.table.selectRow(min(first_row, self.model.rowCount() - 1))
            self._offer(f"Deleted {number(deleted.count)} customers.",
                        lambda: self.undo_delete_several(deleted))
            self.message.emit(f"Deleted {number(deleted.count)} customers.")

        self._run_bulk(count, "Delete", f"Deleting {number(count)} customers…",
                       lambda: customers.delete_many(ids()), done)

    def undo_delete_several(self, deleted: DeletedCustomers) -> None:
        self._hide_undo()

        def done(changed: Changed) -> None:
            self._bus.publish(changed)
            self.select_customers(list(deleted.customer_ids))
            self.message.emit(f"Restored {number(deleted.count)} customers.")

        customers = self._customers
        self._run_bulk(deleted.count, "Undo", f"Restoring {number(deleted.count)} customers…",
                       lambda: customers.undo_delete_many(deleted), done)

    def _done_with_undo(self, changed: Changed, count: int, text: str,
                        undo: Callable[[], Changed], undone_text: str) -> None:
        """A bulk change is done: refresh, say so, and offer Undo if anything changed."""
        self._bus.publish(changed)
        self.message.emit(text)
        if count:
            self._offer(text, lambda: self._undo_bulk(count, undo, undone_text))

    def _undo_bulk(self, count: int, work: Callable[[], Changed], done_text: str) -> None:
        self._hide_undo()

        def done(changed: Changed) -> None:
            self._bus.publish(changed)
            self.message.emit(done_text)

        self._run_bulk(count, "Undo", "Undoing…", work, done)

    def archive_selected(self, archive: bool = True) -> None:
        """Archive (or unarchive) every selected customer, with Undo."""
        selection = self.selection()
        if selection.count == 0:
            return
        if selection.count == 1:
            customer_id = self._single_selected_id(selection)
            if customer_id is not None:
                self.set_archived(customer_id, archive)
            return
        ids = self._ids_work(selection)
        customers = self._customers
        verb = "Archived" if archive else "Unarchived"

        def done(result: ArchivedCustomers) -> None:
            noun = "customer" if result.count == 1 else "customers"
            self._done_with_undo(
                result.changed, result.count, f"{verb} {number(result.count)} {noun}.",
                lambda: customers.undo_archive_many(result),
                f"Undid: {number(result.count)} {noun} as they were.")

        self._run_bulk(selection.count, verb[:-1], f"{verb[:-1]}ing {number(selection.count)} "
                       "customers…", lambda: customers.set_archived_many(ids(), archive), done)

    def tag_selected(self) -> None:
        """Give every selected customer a tag (typed, or picked from those in use), with Undo."""
        selection = self.selection()
        if selection.count == 0:
            return
        names = [name for name, _ in self._customers.tags()]
        noun = "customer" if selection.count == 1 else f"{number(selection.count)} customers"
        tag, ok = QInputDialog.getItem(self, "Add tag", f"Tag for the selected {noun}:",
                                       names, -1, True)
        if not ok or not tag.strip():
            return
        ids = self._ids_work(selection)
        customers = self._customers

        def done(tagged: TaggedCustomers) -> None:
            plural = "customer" if tagged.count == 1 else "customers"
            self._done_with_undo(
                tagged.changed, tagged.count,
                f"Tagged {number(tagged.count)} {plural} “{tagged.tag}”.",
                lambda: customers.undo_add_tag_many(tagged),
                f"Took the tag “{tagged.tag}” back from {number(tagged.count)} {plural}.")

        self._run_bulk(selection.count, "Add tag", f"Tagging {number(selection.count)} customers…",
                       lambda: customers.add_tag_many(ids(), tag), done)

    # --- import, export, duplicates (issue 6) ------------------------------------------------

    def open_import(self) -> QWidget:
        from crmcompanion.ui.import_wizard import ImportWizard

        wizard = ImportWizard(self.transfer, self._bus, self.window())
        wizard.imported.connect(self._offer_import_undo)
        wizard.undone.connect(lambda _undone: self._hide_undo())
        wizard.finished.connect(wizard.deleteLater)
        self.import_wizard = wizard
        wizard.open()
        return wizard

    def open_export(self) -> QWidget:
        from crmcompanion.ui.export_dialog import ExportDialog

        listed = self.model.count()  # the whole list, counted (it may still be on its way)
        selection = self.selection()
        everything = selection.everything
        selected = [] if everything else self.selected_ids()
        dialog = ExportDialog(self.transfer, self.model.query, listed,
                              selected, self._services.clock, self.window(),
                              all_selected=everything)
        dialog.exported.connect(lambda result: self.message.emit(
            f"Exported {number(result.count)} to {result.path}."))
        dialog.finished.connect(dialog.deleteLater)
        self.export_dialog = dialog
        dialog.open()
        return dialog

    def _offer_import_undo(self, result: ImportResult) -> None:
        if not result.created:
            return
        noun = "customer" if result.created == 1 else "customers"
        self._offer(f"Imported {number(result.created)} {noun}.", self.undo_last_import,
                    UNDO_SECONDS * 3)
        self.message.emit(
            f"Imported {number(result.created)} {noun}. Undo: More → Undo last import.")

    def undo_last_import(self) -> UndoneImport | None:
        self._hide_undo()
        try:
            undone = self.transfer.undo_last_import()
        except DomainError as exc:
            self.message.emit(str(exc))
            return None
        self._bus.publish(undone.changed)
        self.message.emit(f"Undid the last import: removed {number(undone.removed)} customers.")
        return undone

    def find_duplicates(self) -> QWidget | None:
        try:
            from crmcompanion.ui.merge_dialog import MergeDialog
        except ImportError:  # the duplicates service is not there yet
            self.message.emit("Finding duplicates is not available yet.")
            return None
        dialog = MergeDialog(self._services, self._bus, self.window())
        dialog.finished.connect(dialog.deleteLater)
        self.merge_dialog = dialog
        dialog.open()
        return dialog

    # --- refreshing from the bus --------------------------------------------------------
    def _on_changed(self, changed: Changed) -> None:
        if changed.tags:
            self._reload_tags()
        if changed.customer_list or changed.customers:
            self._total = self._customers.total()
            self._apply_query()
        shown = self.detail.customer
        if shown is not None and shown.id in changed.customers and self.detail.isVisible():
            self.open_customer(shown.id)


def _same_rows(a: ListQuery, b: ListQuery) -> bool:
    """Whether two list queries list the same customers (in any order)."""
    return replace(a, sort=b.sort, descending=b.descending) == b
