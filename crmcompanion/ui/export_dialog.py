"""The Export dialog: the customers listed (or selected) as CSV, vCard or iCalendar.

Why it takes the Customers page's current `ListQuery`: owners export "what I see" (a search,
a tag, a status filter) for a mail merge or printing, so the dialog exports exactly the query
the list shows, or exactly the selected rows in list order (everyone selected with Ctrl+A is
exported through the query, never as 100,000 ids). The options are those the services offer:
CSV columns (the documented defaults pre-ticked), UTF-8 with BOM for Excel or without, comma or
semicolon; vCard 4.0 or 3.0; an iCalendar of birthdays and anniversaries, optionally with the
upcoming touchpoints. Writing runs on the worker thread with progress; a cancelled CSV export
leaves no file behind (the service writes to a temporary file and renames it).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.clock import Clock
from crmcompanion.core.csv_export import COLUMNS, DEFAULT_COLUMNS, ExportOptions
from crmcompanion.core.errors import DomainError
from crmcompanion.core.vcard import VCardVersion
from crmcompanion.services.customers import ListQuery
from crmcompanion.services.import_export import (
    ExportResult,
    ImportCancelled,
    ImportExportService,
)
from crmcompanion.ui.formatting import number
from crmcompanion.ui.widgets import FieldLabel, fit_on_screen
from crmcompanion.ui.workers import BackgroundTask, TaskProgressDialog

logger = logging.getLogger(__name__)

CSV, VCARD, ICS = "csv", "vcard", "ics"
FORMATS = ((CSV, "CSV spreadsheet (.csv)"), (VCARD, "vCard contacts (.vcf)"),
           (ICS, "Calendar of birthdays and anniversaries (.ics)"))
SUFFIXES = {CSV: ".csv", VCARD: ".vcf", ICS: ".ics"}
FILTERS = {CSV: "CSV files (*.csv)", VCARD: "vCard files (*.vcf)", ICS: "iCalendar files (*.ics)"}
DEFAULT_DAYS = 30
COLUMNS_ACROSS = 4  # the 25 columns in 7 rows: all in view on a 600 px high screen
CHECK_ROOM = 44  # a column's check box, its gap and the item's padding
DIALOG_SIDES = 2 * 22 + 8  # the dialog's margins and the list's frame


class ExportDialog(QDialog):
    exported = Signal(object)  # ExportResult

    def __init__(self, service: ImportExportService, query: ListQuery, listed: int,
                 selected_ids: list[int], clock: Clock, parent: QWidget | None = None,
                 all_selected: bool = False) -> None:
        super().__init__(parent)
        self._service = service
        self._query = query
        self._selected = list(selected_ids)
        self._all_selected = all_selected and listed > 0  # everyone listed: the query
        self._clock = clock
        self._path_chosen = False  # typed or picked by the user: keep it when the format changes
        self.task: BackgroundTask | None = None
        self.progress_dialog: TaskProgressDialog | None = None
        self.result: ExportResult | None = None
        self.setWindowTitle("Export customers")
        self._listed = listed
        self.resize(620, 640)
        # 640 px is more than a 600 px high screen has: shrink to the screen it opens on
        # (the column list gives up its height first; tests/ui/test_fit_900x600.py).
        fit_on_screen(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(12)
        title = QLabel("Export customers")
        title.setObjectName("pageTitle")
        layout.addWidget(title)

        which = QGroupBox("Which customers")
        which_layout = QVBoxLayout(which)
        self.listed_radio = QRadioButton(self._listed_text(query, listed))
        selected = listed if self._all_selected else len(self._selected)
        if self._all_selected:
            text = f"The {number(selected)} selected customers (everyone listed)"
        elif selected:
            text = f"The {number(selected)} selected customer" + ("" if selected == 1 else "s")
        else:
            text = "Only the selected customer (none selected)"
        self.selected_radio = QRadioButton(text)
        self.selected_radio.setEnabled(selected > 0)
        # Several selected and then Export…: those are what the user means.
        (self.selected_radio if selected > 1 else self.listed_radio).setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.listed_radio)
        group.addButton(self.selected_radio)
        which_layout.addWidget(self.listed_radio)
        which_layout.addWidget(self.selected_radio)
        layout.addWidget(which)

        form = QFormLayout()
        self.format_combo = QComboBox()
        for key, text in FORMATS:
            self.format_combo.addItem(text, key)
        form.addRow(FieldLabel("Format", self.format_combo), self.format_combo)
        layout.addLayout(form)

        self.options = QStackedWidget()
        self.options.addWidget(self._build_csv_options())
        self.options.addWidget(self._build_vcard_options())
        self.options.addWidget(self._build_ics_options())
        layout.addWidget(self.options, 1)

        target = QHBoxLayout()
        target.addWidget(QLabel("Save to"))
        self.path_edit = QLineEdit(str(self._default_folder() / "customers.csv"))
        self.path_edit.textEdited.connect(self._path_typed)
        target.addWidget(self.path_edit, 1)
        self.browse_button = QPushButton("Choose…")
        self.browse_button.clicked.connect(self.browse)
        target.addWidget(self.browse_button)
        layout.addLayout(target)

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setVisible(False)
        layout.addWidget(self.banner)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.close_button = QPushButton("Cancel")
        self.close_button.clicked.connect(self.reject)
        self.export_button = QPushButton("Export")
        self.export_button.setObjectName("primary")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.export_button)
        layout.addLayout(buttons)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self.columns_list.itemChanged.connect(lambda _item: self._update_button())
        self._update_button()

    @staticmethod
    def _listed_text(query: ListQuery, listed: int) -> str:
        filtered = bool(query.search.strip() or query.tag or query.status or query.kind
                        or query.archived is not False)
        if listed == 0:
            return ("No customers listed now (with the current search and filters)"
                    if filtered else "No customers yet: nothing to export")
        noun = "customer" if listed == 1 else "customers"
        where = "listed now (with the current search and filters)" if filtered else "listed"
        return f"The {number(listed)} {noun} {where}"

    @staticmethod
    def _default_folder() -> Path:
        documents = Path.home() / "Documents"
        return documents if documents.is_dir() else Path.home()

    # --- option pages -------------------------------------------------------------------
    def _build_csv_options(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        columns_label = QLabel("COLUMNS")
        columns_label.setObjectName("sectionLabel")
        row.addWidget(columns_label)
        row.addStretch(1)
        self.defaults_button = QPushButton("Default columns")
        self.defaults_button.setObjectName("link")
        self.defaults_button.clicked.connect(self.reset_columns)
        self.none_button = QPushButton("None")
        self.none_button.setObjectName("link")
        self.none_button.clicked.connect(lambda: self.set_columns(()))
        row.addWidget(self.defaults_button)
        row.addWidget(self.none_button)
        layout.addLayout(row)
        self.columns_list = QListWidget()
        # Columns side by side (wrapping top to bottom), so all 25 fit without scrolling.
        self.columns_list.setFlow(QListWidget.Flow.TopToBottom)
        self.columns_list.setWrapping(True)
        self.columns_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        # Each column as wide as the longest name with its check box, and the dialog wide
        # enough for COLUMNS_ACROSS of them: four columns of a fixed 180 px did not fit its
        # 620 px, and a 600 px high screen scrolled the list sideways over cut names.
        metrics = self.columns_list.fontMetrics()
        cell = max(metrics.horizontalAdvance(c.header) for c in COLUMNS.values()) + CHECK_ROOM
        self.columns_list.setGridSize(QSize(cell, 24))
        self.columns_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.resize(max(self.width(), COLUMNS_ACROSS * cell + DIALOG_SIDES), self.height())
        for key, column in COLUMNS.items():
            item = QListWidgetItem(column.header)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            self.columns_list.addItem(item)
        layout.addWidget(self.columns_list, 1)
        self.reset_columns()
        form = QFormLayout()
        self.encoding_combo = QComboBox()
        self.encoding_combo.addItem("UTF-8 with BOM (opens correctly in Excel)", True)
        self.encoding_combo.addItem("UTF-8 without BOM", False)
        self.delimiter_combo = QComboBox()
        self.delimiter_combo.addItem("Comma ( , )", ",")
        self.delimiter_combo.addItem("Semicolon ( ; ) — for Excel in many European languages",
                                     ";")
        form.addRow(FieldLabel("Encoding", self.encoding_combo), self.encoding_combo)
        form.addRow(FieldLabel("Separator", self.delimiter_combo), self.delimiter_combo)
        layout.addLayout(form)
        return page

    def _build_vcard_options(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.version_combo = QComboBox()
        self.version_combo.addItem("vCard 4.0 (current standard)", VCardVersion.V4_0.value)
        self.version_combo.addItem("vCard 3.0 (older phones and address books)",
                                   VCardVersion.V3_0.value)
        form.addRow("Version", self.version_combo)
        note = QLabel("One card per customer, with names, emails, phones, address, birthday, "
                      "anniversary, tags and notes.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        form.addRow(note)
        return page

    def _build_ics_options(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        note = QLabel("Birthdays and anniversaries become yearly all-day events your calendar "
                      "app repeats by itself (29 February follows the app's setting).")
        note.setObjectName("muted")
        note.setWordWrap(True)
        layout.addWidget(note)
        row = QHBoxLayout()
        self.touchpoints_check = QCheckBox("Also upcoming touchpoints for the next")
        self.days_spin = QSpinBox()
        self.days_spin.setRange(1, 366)
        self.days_spin.setValue(DEFAULT_DAYS)
        self.days_spin.setSuffix(" days")
        self.days_spin.setEnabled(False)
        self.touchpoints_check.toggled.connect(self.days_spin.setEnabled)
        row.addWidget(self.touchpoints_check)
        row.addWidget(self.days_spin)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)
        return page

    # --- choices ------------------------------------------------------------------------
    @property
    def format(self) -> str:
        return str(self.format_combo.currentData())

    def set_format(self, key: str) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(key))

    def _format_changed(self) -> None:
        key = self.format
        self.options.setCurrentIndex([k for k, _ in FORMATS].index(key))
        if not self._path_chosen:
            current = Path(self.path_edit.text() or "customers")
            self.path_edit.setText(str(current.with_suffix(SUFFIXES[key])))
        self._update_button()

    def _path_typed(self) -> None:
        self._path_chosen = True

    def set_path(self, path: str | Path) -> None:
        self.path_edit.setText(str(path))
        self._path_chosen = True

    def browse(self) -> None:
        key = self.format
        path, _ = QFileDialog.getSaveFileName(self, "Export customers", self.path_edit.text(),
                                              FILTERS[key])
        if path:
            if not Path(path).suffix:
                path += SUFFIXES[key]
            self.set_path(path)

    def columns(self) -> list[str]:
        out = []
        for row in range(self.columns_list.count()):
            item = self.columns_list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def set_columns(self, keys: tuple[str, ...] | list[str]) -> None:
        wanted = set(keys)
        for row in range(self.columns_list.count()):
            item = self.columns_list.item(row)
            key = item.data(Qt.ItemDataRole.UserRole)
            item.setCheckState(Qt.CheckState.Checked if key in wanted
                               else Qt.CheckState.Unchecked)

    def reset_columns(self) -> None:
        self.set_columns(DEFAULT_COLUMNS)

    def csv_options(self) -> ExportOptions:
        return ExportOptions(columns=tuple(self.columns()),
                             delimiter=str(self.delimiter_combo.currentData()),
                             bom=bool(self.encoding_combo.currentData()))

    def _update_button(self) -> None:
        ok = not (self.task is not None and self.task.running)
        if self.format == CSV and not self.columns():
            ok = False
        if self._listed == 0 and self.result is None:  # a file of no one
            ok = False
        self.export_button.setEnabled(ok)
        self.export_button.setToolTip(
            "No customers are listed: nothing to export" if self._listed == 0 else "")

    # --- exporting ----------------------------------------------------------------------
    def start_export(self) -> BackgroundTask | None:
        if self.result is not None:  # the button reads "Close" after a success
            self.accept()
            return None
        text = self.path_edit.text().strip()
        if not text:
            self._show_banner("Choose where to save the file.", error=True)
            return None
        path = Path(text).expanduser()
        if not path.parent.is_dir():
            self._show_banner(f"The folder {path.parent} does not exist.", error=True)
            return None
        key = self.format
        ids = self._selected if self.selected_radio.isChecked() and not self._all_selected \
            else None
        query, service = self._query, self._service
        if key == CSV:
            options = self.csv_options()

            def work(state: object) -> ExportResult:
                return service.export_csv(path, query, options,
                                          progress=state.progress,  # type: ignore[attr-defined]
                                          cancel=state.cancel_token,  # type: ignore[attr-defined]
                                          ids=ids)
        elif key == VCARD:
            version = str(self.version_combo.currentData())

            def work(state: object) -> ExportResult:
                return service.export_vcard(path, query, version, ids=ids,
                                            progress=state.progress,  # type: ignore[attr-defined]
                                            cancel=state.cancel_token)  # type: ignore[attr-defined]
        else:
            days = self.days_spin.value() if self.touchpoints_check.isChecked() else None
            now = self._clock.now()
            now = now if now.tzinfo is not None else now.astimezone()

            def work(state: object) -> ExportResult:
                return service.export_ics(path, query, now=now, days=days, ids=ids,
                                          progress=state.progress,  # type: ignore[attr-defined]
                                          cancel=state.cancel_token)  # type: ignore[attr-defined]

        task = BackgroundTask(work, f"export {key}", self)
        self.task = task
        # Every format reports progress and checks the cancel token (no file on Cancel).
        self.progress_dialog = TaskProgressDialog(task, "Exporting", f"Writing {path.name}…",
                                                  self)
        task.succeeded.connect(self._export_done)
        task.failed.connect(self._export_failed)
        task.finished.connect(self._update_button)
        self.banner.setVisible(False)
        task.start()
        self.progress_dialog.show()
        self._update_button()
        return task

    def _show_banner(self, text: str, error: bool) -> None:
        self.banner.setText(text)
        self.banner.setObjectName("formBanner" if error else "")
        self.banner.setStyleSheet(
            "" if error else "background: #dcf5e3; color: #1d6b35; border: 1px solid #b7e4c4;"
                             "border-radius: 6px; padding: 8px;")
        self.style().unpolish(self.banner)
        self.style().polish(self.banner)
        self.banner.setVisible(True)

    def _export_done(self, result: ExportResult) -> None:
        self.result = result
        noun = {CSV: "customers", VCARD: "contacts", ICS: "calendar events"}[self.format]
        self._show_banner(f"✓ Exported {number(result.count)} {noun} to {result.path}", error=False)
        self.export_button.setText("Close")
        self.close_button.setVisible(False)
        self.exported.emit(result)

    def _export_failed(self, exc: object) -> None:
        if isinstance(exc, ImportCancelled):
            self._show_banner("Export cancelled. No file was written.", error=True)
        elif isinstance(exc, DomainError | OSError):
            self._show_banner(f"Could not export: {exc}", error=True)
        else:
            self._show_banner(f"Something went wrong ({exc}). Details are in the log.",
                              error=True)

    def reject(self) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()
        super().reject()
