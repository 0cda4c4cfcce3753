"""The Import wizard: choose a file, check the mapping and every problem, import, undo.

Why it is a wizard with a check step: owners trust an import only when they see, before
anything is written, what the file was recognised as, where each column goes, the first rows
as they will be stored, and every row that cannot be imported (line, column, reason). The
service already does all of that in `ImportExportService.preview`; this module shows it and
lets the user change what the file cannot settle by itself: a column's target, the day/month
order of an ambiguous file, and whether rows matching existing customers are skipped or merged.

Reading the file (the preview) and the import itself run on the worker thread
(`ui.workers`), so a 100,000-row file never freezes the window; Cancel rolls the import back.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.csv_import import MAPPING_FIELDS
from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.date_parsing import DateOrder
from crmcompanion.core.errors import DomainError
from crmcompanion.services.import_export import (
    PREVIEW_ROWS,
    CsvFormat,
    ImportCancelled,
    ImportExportService,
    ImportPreview,
    ImportRejected,
    ImportResult,
    UndoneImport,
)
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.formatting import number
from crmcompanion.ui.text_display import plain_tooltip
from crmcompanion.ui.widgets import fit_on_screen
from crmcompanion.ui.workers import BackgroundTask, TaskProgressDialog

logger = logging.getLogger(__name__)

FILE_PAGE, CHECK_PAGE, DONE_PAGE = range(3)
FILE_FILTER = ("Contacts (*.csv *.txt *.vcf *.vcard);;CSV files (*.csv *.txt);;"
               "vCards (*.vcf *.vcard)")

FORMAT_TITLES: dict[str, str] = {
    "crmcompanion": "CRM Companion CSV (this app's own export)",
    "google_2023": "Google Contacts CSV",
    "google_classic": "Google Contacts CSV (classic layout)",
    "outlook": "Outlook CSV",
    "sheet": "Spreadsheet (CSV): columns recognised by their names",
    "mapped": "CSV with columns this app does not know: map them in the next step",
    "vcard": "vCard (phone, Apple, Google or Outlook contacts)",
}

# The fields a column can be mapped to, in the order a user thinks of them. Keys are the
# service's mapping names (csv_import.MAPPING_FIELDS, "email:work" sets the label).
FIELD_TITLES: dict[str, str] = {
    "first_name": "First name",
    "middle_name": "Middle name",
    "last_name": "Last name",
    "display_name": "Display name",
    "full_name": "Full name (split into first and last)",
    "company": "Company",
    "email": "Email",
    "email:work": "Email (work)",
    "phone": "Phone (mobile)",
    "phone:work": "Phone (work)",
    "phone:home": "Phone (home)",
    "street": "Street",
    "city": "City",
    "region": "Region / state",
    "postcode": "Postcode",
    "country": "Country",
    "tags": "Tags",
    "birthday": "Birthday",
    "wedding_anniversary": "Wedding anniversary",
    "special_dates": "Other special dates",
    "customer_since": "Customer since",
    "last_contact": "Last contact",
    "notes": "Notes",
    "status": "Status",
    "kind": "Kind",
    "key_account": "Key account",
    "preferred_channel": "Preferred channel",
    "source_uid": "Source ID (UID)",
}
AUTO = "\x00auto"  # combo data: keep what the recognised format says
IGNORED_TITLE = "Not imported"  # a word, not the service's raw "ignore"
IGNORE = "ignore"  # the service's mapping word for "leave this column out"

_GROUP_TITLES = {"email": "Email", "phone": "Phone", "address": "Address", "event": "Date"}
_SCALAR_AUTO_TITLES = {"google_labels": "Tags (Google labels)", "categories": "Tags (categories)",
                       "full_name": "Full name"}


def mapping_fields() -> list[str]:
    """FIELD_TITLES' order, plus any field the service knows that this list does not yet."""
    known = [key for key in FIELD_TITLES if key.split(":")[0] in MAPPING_FIELDS]
    extra = sorted(f for f in MAPPING_FIELDS if f not in FIELD_TITLES)
    return known + extra


def field_title(field: str) -> str:
    return FIELD_TITLES.get(field) or field.replace("_", " ").capitalize()


def target_title(target: str) -> str:
    """A recognised column's target ("email 1 value", "address 2 city") in words."""
    parts = target.split(" ")
    if len(parts) == 3 and parts[0] in _GROUP_TITLES:
        group, slot, part = parts
        # A spreadsheet's columns are groups of their own ("g3"): no number to show.
        title = f"{_GROUP_TITLES[group]} {slot}" if slot.isdigit() else _GROUP_TITLES[group]
        return title if part == "value" else f"{title}: {part}"
    return _SCALAR_AUTO_TITLES.get(target) or field_title(target)


def format_title(recognised: str) -> str:
    return FORMAT_TITLES.get(recognised, recognised)


def contacts_warning_text(found: tuple[tuple[str, str], ...]) -> str:
    """The warning for ignored columns that hold email addresses or phone numbers."""
    parts = [f"“{header}” holds {'email addresses' if kind == 'email' else 'phone numbers'}"
             for header, kind in found]
    these = "this column" if len(found) == 1 else "these columns"
    return (f"⚠ Not imported: {'; '.join(parts)}. Choose Email or Phone for {these} under "
            "“Imports as”, or they stay behind.")


def _draft_cells(draft: CustomerDraft) -> list[str]:
    birthday = next((s for s in draft.special_dates if s.kind.value == "birthday"), None)
    return [
        draft.effective_display_name(),
        draft.company,
        ", ".join(e.address for e in draft.emails),
        ", ".join(p.number for p in draft.phones),
        draft.address.one_line() if not draft.address.is_empty() else "",
        (f"{birthday.year}-" if birthday and birthday.year else "")
        + (f"{birthday.month:02d}-{birthday.day:02d}" if birthday else ""),
        ", ".join(draft.tags),
        draft.notes.replace("\r\n", " ").replace("\n", " "),
    ]


PREVIEW_COLUMNS = ("Name", "Company", "Emails", "Phones", "Address", "Birthday", "Tags", "Notes")


def _table(headers: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.horizontalHeader().setDefaultAlignment(
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _item(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(plain_tooltip(text))
    return item


class ImportWizard(QDialog):
    """Choose a file -> check mapping, preview and problems -> import -> summary with Undo."""

    preview_ready = Signal()  # a preview (first or after a change) is shown
    imported = Signal(object)  # ImportResult, after the import was written
    undone = Signal(object)  # UndoneImport

    def __init__(self, service: ImportExportService, bus: AppState,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._bus = bus
        self.preview: ImportPreview | None = None
        self.result: ImportResult | None = None
        self.path = ""
        self._mapping: dict[str, str | None] = {}
        # header -> target the recognised format gave it, before the user changed anything
        self._recognised: dict[str, str] = {}
        self._date_order: DateOrder | None = None
        self._generation = 0
        self._preview_task: BackgroundTask | None = None
        self.import_task: BackgroundTask | None = None
        self.progress_dialog: TaskProgressDialog | None = None
        self.setWindowTitle("Import customers")
        self.resize(1040, 720)
        # 1040x720 is more than a 1366x768 laptop leaves, let alone a 600 px high screen:
        # shrink to the screen the wizard opens on (its pages' tables scroll).
        fit_on_screen(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(12)
        self.step_label = QLabel()
        self.step_label.setObjectName("pageSubtitle")
        self.title_label = QLabel()
        self.title_label.setObjectName("pageTitle")
        layout.addWidget(self.step_label)
        layout.addWidget(self.title_label)
        self.banner = QLabel()
        self.banner.setObjectName("formBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setVisible(False)
        layout.addWidget(self.banner)
        # Columns of emails or phone numbers that would stay behind: said loudly, above the
        # page, until they are mapped (not grey small print in the mapping table).
        self.contacts_warning = QLabel()
        self.contacts_warning.setObjectName("formBanner")
        self.contacts_warning.setWordWrap(True)
        self.contacts_warning.setTextFormat(Qt.TextFormat.PlainText)
        self.contacts_warning.setStyleSheet(
            "background: #fff4ce; color: #6b4b00; border: 1px solid #e0b400; "
            "border-radius: 6px; padding: 8px 10px; font-weight: 600;")
        self.contacts_warning.setAccessibleName("Columns that will not be imported")
        self.contacts_warning.setVisible(False)
        layout.addWidget(self.contacts_warning)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_file_page())
        self.pages.addWidget(self._build_check_page())
        self.pages.addWidget(self._build_done_page())
        layout.addWidget(self.pages, 1)

        buttons = QHBoxLayout()
        self.back_button = QPushButton("Back")
        self.back_button.clicked.connect(lambda: self._go(FILE_PAGE))
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        buttons.addWidget(self.cancel_button)
        self.next_button = QPushButton("Next")
        self.next_button.setObjectName("primary")
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self._next)
        buttons.addWidget(self.next_button)
        layout.addLayout(buttons)
        self._go(FILE_PAGE)

    # --- pages ------------------------------------------------------------------------
    def _build_file_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(
            "Bring in customers from Google Contacts, Outlook, your phone (a .vcf vCard file), "
            "a spreadsheet saved as CSV (Excel, Numbers, LibreOffice: columns are recognised "
            "by their names in English, German, French, Spanish, Italian, Dutch and "
            "Portuguese) or a CSV exported from this app. Nothing is saved until you have "
            "checked every row in the next step.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("The file to import (.csv or .vcf)")
        self.path_edit.editingFinished.connect(self._path_edited)
        row.addWidget(self.path_edit, 1)
        self.browse_button = QPushButton("Choose file…")
        self.browse_button.clicked.connect(self.browse)
        row.addWidget(self.browse_button)
        layout.addLayout(row)
        card = QFrame()
        card.setObjectName("card")
        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(16, 12, 16, 12)
        self.format_label = QLabel("No file chosen yet.")
        self.format_label.setObjectName("detailName")
        self.format_label.setWordWrap(True)
        self.format_label.setTextFormat(Qt.TextFormat.PlainText)
        self.file_summary = QLabel("")
        self.file_summary.setObjectName("muted")
        self.file_summary.setWordWrap(True)
        self.file_summary.setTextFormat(Qt.TextFormat.PlainText)
        card_layout.addWidget(self.format_label)
        card_layout.addWidget(self.file_summary)
        layout.addWidget(card)
        layout.addStretch(1)
        return page

    def _build_check_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.mapping_title = QLabel("COLUMNS IN THE FILE")
        self.mapping_title.setObjectName("sectionLabel")
        left_layout.addWidget(self.mapping_title)
        self.mapping_table = _table(("Column in the file", "Imports as"))
        self.mapping_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.mapping_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.mapping_table.verticalHeader().setDefaultSectionSize(32)
        self.mapping_table.horizontalHeader().resizeSection(0, 180)
        left_layout.addWidget(self.mapping_table, 1)
        self.vcard_note = QLabel("vCards need no mapping: every card's fields are read as "
                                 "they are.")
        self.vcard_note.setWordWrap(True)
        self.vcard_note.setObjectName("muted")
        left_layout.addWidget(self.vcard_note)
        split.addWidget(left)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.preview_title = QLabel("FIRST ROWS, AS THEY WILL BE IMPORTED")
        self.preview_title.setObjectName("sectionLabel")
        right_layout.addWidget(self.preview_title)
        self.preview_table = _table(PREVIEW_COLUMNS)
        self.preview_table.horizontalHeader().setStretchLastSection(False)
        for column, width in enumerate((150, 130, 190, 130, 180, 90, 110, 160)):
            self.preview_table.horizontalHeader().resizeSection(column, width)
        right_layout.addWidget(self.preview_table, 1)
        split.addWidget(right)
        split.setSizes([440, 560])
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 3)

        checks = QHBoxLayout()
        checks.setSpacing(12)
        problems_box = QVBoxLayout()
        self.problems_title = QLabel("PROBLEMS")
        self.problems_title.setObjectName("sectionLabel")
        problems_box.addWidget(self.problems_title)
        self.problems_table = _table(("Line", "Column", "Reason"))
        self.problems_table.horizontalHeader().resizeSection(0, 60)
        self.problems_table.horizontalHeader().resizeSection(1, 150)
        problems_box.addWidget(self.problems_table, 1)
        self.problems_table.horizontalHeader().setStretchLastSection(True)
        self.no_problems = QLabel("✓ Every row can be imported.")
        self.no_problems.setStyleSheet("color: #1d6b35; font-weight: 600;")
        problems_box.addWidget(self.no_problems)
        self.skip_invalid = QCheckBox("Skip the rows with problems and import the rest")
        self.skip_invalid.toggled.connect(self._update_import_button)
        problems_box.addWidget(self.skip_invalid)
        checks.addLayout(problems_box, 3)

        side = QVBoxLayout()
        self.date_box = QGroupBox("Which order are the dates in?")
        date_layout = QVBoxLayout(self.date_box)
        hint = QLabel("Every date in this file could be read both ways (like 03/04/1980). "
                      "Choose how the file writes them:")
        hint.setWordWrap(True)
        date_layout.addWidget(hint)
        self.dmy_radio = QRadioButton("Day first: 03/04/1980 is 3 April")
        self.mdy_radio = QRadioButton("Month first: 03/04/1980 is 4 March")
        self.date_group = QButtonGroup(self)
        self.date_group.addButton(self.dmy_radio)
        self.date_group.addButton(self.mdy_radio)
        date_layout.addWidget(self.dmy_radio)
        date_layout.addWidget(self.mdy_radio)
        self.dmy_radio.toggled.connect(lambda on: on and self.set_date_order(DateOrder.DMY))
        self.mdy_radio.toggled.connect(lambda on: on and self.set_date_order(DateOrder.MDY))
        side.addWidget(self.date_box)

        self.duplicates_box = QGroupBox("Already in your customers")
        dup_layout = QVBoxLayout(self.duplicates_box)
        self.duplicates_label = QLabel()
        self.duplicates_label.setWordWrap(True)
        self.duplicates_label.setTextFormat(Qt.TextFormat.PlainText)
        dup_layout.addWidget(self.duplicates_label)
        self.skip_duplicates = QRadioButton("Skip them (keep the customers as they are)")
        self.merge_duplicates = QRadioButton("Merge: add what the file has and they lack")
        self.skip_duplicates.setChecked(True)
        dup_group = QButtonGroup(self)
        dup_group.addButton(self.skip_duplicates)
        dup_group.addButton(self.merge_duplicates)
        self.merge_duplicates.toggled.connect(self._update_import_button)
        dup_layout.addWidget(self.skip_duplicates)
        dup_layout.addWidget(self.merge_duplicates)
        side.addWidget(self.duplicates_box)
        side.addStretch(1)
        checks.addLayout(side, 2)
        layout.addLayout(checks, 2)
        self._check_layout = layout
        return page

    def _build_done_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        card = QFrame()
        card.setObjectName("card")
        inner = QVBoxLayout(card)
        inner.setContentsMargins(20, 16, 20, 16)
        self.summary_title = QLabel()
        self.summary_title.setObjectName("detailName")
        self.summary_title.setTextFormat(Qt.TextFormat.PlainText)
        self.summary_title.setWordWrap(True)
        self.summary_text = QLabel()
        self.summary_text.setTextFormat(Qt.TextFormat.PlainText)
        self.summary_text.setWordWrap(True)
        inner.addWidget(self.summary_title)
        inner.addWidget(self.summary_text)
        undo_row = QHBoxLayout()
        self.undo_button = QPushButton("Undo this import")
        self.undo_button.clicked.connect(self.undo_import)
        undo_row.addWidget(self.undo_button)
        undo_row.addStretch(1)
        inner.addLayout(undo_row)
        layout.addWidget(card)
        layout.addStretch(1)
        return page

    # --- navigation ---------------------------------------------------------------------
    @property
    def page(self) -> int:
        return self.pages.currentIndex()

    def _go(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        titles = {FILE_PAGE: "Choose a file", CHECK_PAGE: "Check before importing",
                  DONE_PAGE: "Import finished"}
        self.step_label.setText(f"Step {page + 1} of 3")
        self.title_label.setText(titles[page])
        self.back_button.setVisible(page == CHECK_PAGE)
        self.cancel_button.setVisible(page != DONE_PAGE)
        if page != CHECK_PAGE:
            self.banner.setVisible(False)
        self._show_contacts_warning()
        self._update_import_button()

    def _next(self) -> None:
        if self.page == FILE_PAGE:
            if self.preview is not None and not self.busy:
                self._go(CHECK_PAGE)
        elif self.page == CHECK_PAGE:
            self.start_import()
        else:
            self.accept()

    @property
    def busy(self) -> bool:
        running = self._preview_task is not None and self._preview_task.running
        return running or (self.import_task is not None and self.import_task.running)

    # --- choosing the file and previewing -------------------------------------------------
    def browse(self) -> None:
        start = str(Path(self.path).parent) if self.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Import customers", start, FILE_FILTER)
        if path:
            self.set_path(path)

    def _path_edited(self) -> None:
        text = self.path_edit.text().strip()
        if text and text != self.path:
            self.set_path(text)

    def set_path(self, path: str | Path) -> None:
        """Choose the file: everything chosen for the previous file is forgotten."""
        self.path = str(path)
        if self.path_edit.text() != self.path:
            self.path_edit.setText(self.path)
        self._mapping = {}
        self._recognised = {}
        self._date_order = None
        self.preview = None
        self._reset_date_radios()
        self.skip_invalid.setChecked(False)
        self.skip_duplicates.setChecked(True)
        self.refresh_preview()

    def set_mapping(self, header: str, field: str | None) -> None:
        """Send a column to `field` (a MAPPING_FIELDS name), or ignore it with None."""
        self._mapping[header] = field
        self.refresh_preview()

    def set_date_order(self, order: DateOrder) -> None:
        if self._date_order != order:
            self._date_order = order
            self.refresh_preview()

    def refresh_preview(self) -> None:
        """Read the file again (off the GUI thread) with the current choices."""
        if not self.path:
            return
        self._generation += 1
        generation = self._generation
        path, mapping, order = self.path, dict(self._mapping), self._date_order
        self.format_label.setText("Reading the file…")
        self.file_summary.setText(Path(path).name)
        self.next_button.setEnabled(False)

        def work(_state: object) -> ImportPreview:
            return self._service.preview(path, mapping or None, order)

        task = BackgroundTask(work, "import preview", self)
        task.succeeded.connect(lambda preview: self._preview_done(generation, preview))
        task.failed.connect(lambda exc: self._preview_failed(generation, exc))
        self._preview_task = task
        task.start()

    def _preview_failed(self, generation: int, exc: object) -> None:
        if generation != self._generation:
            return
        self.preview = None
        self.format_label.setText("This file cannot be imported")
        self.file_summary.setText(str(exc))
        if self.page == CHECK_PAGE:
            self._go(FILE_PAGE)
        self._update_import_button()
        self.preview_ready.emit()

    def _preview_done(self, generation: int, preview: ImportPreview) -> None:
        if generation != self._generation:
            return  # a newer choice was made while this one was being read
        self.preview = preview
        self.format_label.setText(f"Recognised: {format_title(preview.recognised)}")
        self.file_summary.setText(self._file_summary(preview))
        self._fill_mapping(preview)
        self._fill_rows(preview)
        self._fill_problems(preview)
        self._fill_date_order(preview)
        self._fill_duplicates(preview)
        self._show_contacts_warning()
        self._update_import_button()
        self.preview_ready.emit()

    def _show_contacts_warning(self) -> None:
        preview = self.preview
        found = preview.unimported_contacts if preview is not None else ()
        self.contacts_warning.setVisible(bool(found) and self.page != DONE_PAGE)
        if found:
            self.contacts_warning.setText(contacts_warning_text(found))

    @staticmethod
    def _file_summary(preview: ImportPreview) -> str:
        parts = [f"{number(preview.row_count)} contacts"]
        if preview.format == CsvFormat.CSV:
            parts.append(f"{len(preview.headers)} columns, {len(preview.unknown_headers)} not "
                         "recognised (ignored unless you map them)")
        if preview.problem_count:
            parts.append(f"{number(preview.problem_count)} problems to look at")
        return " · ".join(parts)

    def _fill_mapping(self, preview: ImportPreview) -> None:
        is_csv = preview.format == CsvFormat.CSV
        self.mapping_table.setVisible(is_csv)
        self.mapping_title.setVisible(is_csv)
        self.vcard_note.setVisible(not is_csv)
        if not is_csv:
            return
        used = dict(preview.mapping)
        unknown = set(preview.unknown_headers)
        fields = mapping_fields()
        self.mapping_table.setRowCount(len(preview.headers))
        for row, header in enumerate(preview.headers):
            self.mapping_table.setItem(row, 0, _item(header))
            combo = QComboBox()
            combo.setObjectName(f"map:{header}")
            chosen = self._mapping.get(header, AUTO) if header in self._mapping else AUTO
            auto_target = self._auto_target(header, used, unknown)
            if auto_target:
                combo.addItem(f"{target_title(auto_target)} (auto)", AUTO)
            combo.addItem(IGNORED_TITLE, IGNORE)
            for field in fields:
                combo.addItem(field_title(field), field)
            if chosen is None or (chosen == AUTO and not auto_target):
                chosen = IGNORE
            combo.setCurrentIndex(max(0, combo.findData(chosen)))
            if combo.currentData() == IGNORE:
                combo.setStyleSheet("color: #98a2b3;")  # greyed: this column is left out
            combo.currentIndexChanged.connect(
                lambda _i, h=header, c=combo: self._combo_changed(h, c))
            self.mapping_table.setCellWidget(row, 1, combo)

    def _auto_target(self, header: str, used: dict[str, str], unknown: set[str]) -> str:
        """What the recognised format does with `header` (without the user's choice)."""
        if header in self._mapping:
            # Shown as the recognised target only if the format knows it; the preview's
            # mapping reflects the user's choice now, so remember the first one seen.
            return self._recognised.get(header, "")
        if header in unknown:
            return ""
        target = used.get(header, "")
        self._recognised[header] = target
        return target

    def _combo_changed(self, header: str, combo: QComboBox) -> None:
        value = combo.currentData()
        combo.setStyleSheet("color: #98a2b3;" if value == IGNORE else "")
        if value == AUTO:
            self._mapping.pop(header, None)
            self.refresh_preview()
        else:
            self.set_mapping(header, None if value == IGNORE else value)

    def mapping_combo(self, header: str) -> QComboBox:
        for row in range(self.mapping_table.rowCount()):
            if self.mapping_table.item(row, 0).text() == header:
                widget = self.mapping_table.cellWidget(row, 1)
                assert isinstance(widget, QComboBox)
                return widget
        raise KeyError(header)

    def _fill_rows(self, preview: ImportPreview) -> None:
        self.preview_table.setRowCount(len(preview.first_rows))
        for row, draft in enumerate(preview.first_rows):
            for column, text in enumerate(_draft_cells(draft)):
                self.preview_table.setItem(row, column, _item(text))
        shown = len(preview.first_rows)
        if preview.date_order_ambiguous:
            title = "THE ROWS APPEAR HERE ONCE THE ORDER OF THE DATES IS CHOSEN"
        elif shown == 0:
            title = "NO ROW CAN BE IMPORTED AS IT IS"
        elif shown >= PREVIEW_ROWS:
            title = f"FIRST {shown} OF {number(preview.row_count)} ROWS, AS THEY WILL BE IMPORTED"
        elif shown < preview.row_count:
            title = "EVERY ROW THAT CAN BE IMPORTED, AS IT WILL BE"
        else:
            title = "EVERY ROW, AS IT WILL BE IMPORTED"
        self.preview_title.setText(title)

    def _fill_problems(self, preview: ImportPreview) -> None:
        problems = preview.problems
        self.problems_table.setRowCount(len(problems))
        for row, problem in enumerate(problems):
            self.problems_table.setItem(row, 0, _item(str(problem.line)))
            self.problems_table.setItem(row, 1, _item(problem.column or "(whole row)"))
            self.problems_table.setItem(row, 2, _item(problem.reason))
        self.problems_table.setVisible(bool(problems))
        self.no_problems.setVisible(not problems)
        # Without problems (or questions) the mapping and the rows get the whole page.
        quiet = not problems and not preview.duplicate_count and not preview.date_order_ambiguous
        self._check_layout.setStretch(0, 3)
        self._check_layout.setStretch(1, 0 if quiet else 2)
        more = preview.problem_count - len(problems)
        self.problems_title.setText(
            f"PROBLEMS ({number(preview.problem_count)}"
            + (f", first {number(len(problems))} shown)" if more > 0 else ")"))
        fixable = bool(problems) and not preview.fatal
        self.skip_invalid.setVisible(fixable)
        if not fixable:
            self.skip_invalid.setChecked(False)

    def _fill_date_order(self, preview: ImportPreview) -> None:
        # Asked only when nothing in the file settles the order, and kept once answered.
        self.date_box.setVisible(preview.date_order_ambiguous or self._date_order is not None)

    def _reset_date_radios(self) -> None:
        self.date_group.setExclusive(False)
        for radio in (self.dmy_radio, self.mdy_radio):
            radio.blockSignals(True)
            radio.setChecked(False)
            radio.blockSignals(False)
        self.date_group.setExclusive(True)

    def _fill_duplicates(self, preview: ImportPreview) -> None:
        self.duplicates_box.setVisible(preview.duplicate_count > 0)
        if not preview.duplicate_count:
            return
        lines = []
        for match in preview.duplicates[:4]:
            who = match.customer_name or "an earlier row of this file"
            lines.append(f"Line {match.line}: {who} (same {match.matched_on} {match.value})")
        if preview.duplicate_count > 4:
            lines.append(f"…and {number(preview.duplicate_count - 4)} more")
        self.duplicates_label.setText(
            f"{number(preview.duplicate_count)} rows match customers you already have:\n"
            + "\n".join(lines))

    # --- importing ----------------------------------------------------------------------
    def rows_to_create(self) -> int:
        preview = self.preview
        if preview is None:
            return 0
        # File-level questions (the date order) are not rows that will be left out.
        bad_lines = len({p.line for p in preview.problems if not p.fatal})
        return max(0, preview.row_count - bad_lines - preview.duplicate_count)

    def _update_import_button(self) -> None:
        page = self.page
        self.next_button.setVisible(True)
        preview = self.preview
        if page == FILE_PAGE:
            self.next_button.setText("Next")
            self.next_button.setEnabled(preview is not None and not self.busy
                                        and preview.row_count > 0
                                        and not any(p.fatal and p.code != "ambiguous_date_order"
                                                    for p in preview.problems))
            return
        if page == DONE_PAGE:
            self.next_button.setText("Close")
            self.next_button.setEnabled(True)
            return
        if preview is None:
            self.next_button.setEnabled(False)
            return
        count = self.rows_to_create()
        text = f"Import {number(count)} customer" + ("" if count == 1 else "s")
        if self.merge_duplicates.isChecked() and preview.duplicate_count:
            text += f", merge {number(preview.duplicate_count)}"
        self.next_button.setText(text)
        blocked = (preview.fatal or self.busy
                   or (preview.problem_count > 0 and not self.skip_invalid.isChecked())
                   or (count == 0 and not (self.merge_duplicates.isChecked()
                                           and preview.duplicate_count)))
        self.next_button.setEnabled(not blocked)
        if preview.date_order_ambiguous:
            self.next_button.setToolTip("Choose the order of the dates first.")
        elif preview.problem_count and not self.skip_invalid.isChecked():
            self.next_button.setToolTip("Fix the file, or skip the rows with problems.")
        else:
            self.next_button.setToolTip("")

    def start_import(self) -> BackgroundTask | None:
        preview = self.preview
        if preview is None or not self.next_button.isEnabled():
            return None
        plan = preview.plan
        skip_invalid = self.skip_invalid.isChecked()
        merge = self.merge_duplicates.isChecked()
        service = self._service

        def work(state: object) -> ImportResult:
            return service.run(plan, skip_invalid=skip_invalid, merge_duplicates=merge,
                               progress=state.progress,  # type: ignore[attr-defined]
                               cancel=state.cancel_token)  # type: ignore[attr-defined]

        task = BackgroundTask(work, "import", self)
        self.import_task = task
        self.progress_dialog = TaskProgressDialog(
            task, "Importing", f"Importing {Path(plan.path).name}…", self)
        task.succeeded.connect(self._import_done)
        task.failed.connect(self._import_failed)
        task.finished.connect(self._update_import_button)
        self.banner.setVisible(False)
        task.start()
        self.progress_dialog.show()
        self._update_import_button()
        return task

    def _import_done(self, result: ImportResult) -> None:
        self.result = result
        self._bus.publish(result.changed)
        name = Path(self.path).name
        noun = "customer" if result.created == 1 else "customers"
        self.summary_title.setText(f"Imported {number(result.created)} {noun} from {name}.")
        lines = []
        if result.skipped_duplicates:
            lines.append(f"{number(result.skipped_duplicates)} rows matched customers you already "
                         "have and were skipped.")
        if result.merged:
            lines.append(f"{number(result.merged)} existing customers got details from the file.")
        if result.rejected_count:
            lines.append(f"{number(result.rejected_count)} rows with problems were skipped.")
        lines.append("Changed your mind? Undo removes exactly the customers this import "
                     "added (also later from the Customers page: More → Undo last import).")
        self.summary_text.setText("\n".join(lines))
        self.undo_button.setEnabled(result.created > 0)
        self.undo_button.setText("Undo this import")
        self._go(DONE_PAGE)
        self.imported.emit(result)

    def _import_failed(self, exc: object) -> None:
        if isinstance(exc, ImportCancelled):
            text = "Import cancelled. Nothing was written: your customers are as they were."
        elif isinstance(exc, ImportRejected):
            text = str(exc)
        elif isinstance(exc, DomainError):
            text = f"The import failed and nothing was written: {exc}"
        else:
            text = f"Something went wrong and nothing was written ({exc}). Details are in the log."
        self.banner.setText(text)
        self.banner.setVisible(True)

    def undo_import(self) -> None:
        self.undo_button.setEnabled(False)
        task = BackgroundTask(lambda _s: self._service.undo_last_import(), "undo import", self)
        task.succeeded.connect(self._undo_done)
        task.failed.connect(lambda exc: (self.summary_text.setText(str(exc)),
                                         self.undo_button.setEnabled(True)))
        task.start()

    def _undo_done(self, undone: UndoneImport) -> None:
        self._bus.publish(undone.changed)
        self.summary_title.setText(f"Import undone: removed {number(undone.removed)} customers.")
        self.summary_text.setText("Your customers are as they were before this import.")
        self.undo_button.setText("Undone")
        self.undone.emit(undone)

    def reject(self) -> None:
        if self.import_task is not None and self.import_task.running:
            self.import_task.cancel()  # the dialog closes; the rollback still completes
        super().reject()

