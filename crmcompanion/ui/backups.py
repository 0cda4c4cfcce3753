"""Backups in the app: the Backups window (list, "Back up now", "Restore from backup…", the
backup folder and how many to keep) and the offer to restore when the database is bad at start.

Writing a backup reads the whole database, so "Back up now" runs on a worker thread. Restoring
closes the database and swaps the file; the app then restarts (`restart`, given by the main
window), since every open view holds data of the replaced database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from crmcompanion import APP_NAME
from crmcompanion.core.clock import SystemClock
from crmcompanion.core.errors import DomainError
from crmcompanion.services.backups import (
    BACKUP_FOLDER,
    BACKUPS_KEPT,
    SERVER_BACKUP_ADVICE,
    BackupFile,
    newest_good_backup_in,
    restorable,
    restore_database,
)
from crmcompanion.services.container import Services
from crmcompanion.ui.feedback_common import list_table
from crmcompanion.ui.formatting import number, short_datetime
from crmcompanion.ui.text_display import ask, plain_label, tell
from crmcompanion.ui.widgets import FieldLabel
from crmcompanion.ui.workers import BackgroundTask

logger = logging.getLogger(__name__)

COLUMNS = ("Made", "Size", "File")


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{number(size / (1024 * 1024), 1)} MB"
    return f"{number(max(1, round(size / 1024)))} KB"


class BackupsDialog(QDialog):
    """The backups of the open database and their settings."""

    def __init__(
        self, services: Services, parent: QWidget | None = None,
        restart: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Backups")
        self.resize(720, 440)
        self.services = services
        self.restart = restart or (lambda: None)
        self.task: BackgroundTask | None = None
        self.shown: list[BackupFile] = []

        layout = QVBoxLayout(self)
        # What the window is and what fills its list, above the list (it opened on a bare
        # table header, and an empty list said nothing).
        title = QLabel("Backups")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        # In team mode the server's administrator makes the backups: say so, and offer
        # nothing the app cannot do there (it used to promise a daily copy).
        on_server = services.backups.on_server
        layout.addWidget(plain_label(
            SERVER_BACKUP_ADVICE if on_server else
            f"{APP_NAME} copies your customer book to the backup folder once a day while it "
            "runs. Restore one to go back to that day."))
        # Columns fitted to the width, the long file name elided (whole on hover).
        self.table = list_table(COLUMNS)
        self.table.set_empty_text(
            "No backups here: the server's administrator keeps them." if on_server else
            f"No backups yet. {APP_NAME} makes one every day while it runs; press "
            "“Back up now” to make one now.")
        layout.addWidget(self.table, 1)

        form = QFormLayout()
        folder_row = QHBoxLayout()
        self.folder = QLineEdit()
        default = services.backups.default_folder
        self.folder.setPlaceholderText(str(default) if default else "")
        self.folder.setText(str(services.settings.get(BACKUP_FOLDER)))
        self.choose_folder_button = QPushButton("Choose…")
        self.choose_folder_button.clicked.connect(self.choose_folder)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.choose_folder_button)
        form.addRow(FieldLabel("Backup folder", self.folder), folder_row)
        self.keep = QSpinBox()
        self.keep.setRange(1, 1000)
        self.keep.setValue(int(services.settings.get(BACKUPS_KEPT)))
        self.keep.setSuffix(" backups")
        # A number box as wide as its number ("1000 backups"), not the window's width.
        self.keep.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        form.addRow(FieldLabel("Keep the newest", self.keep), self.keep)
        layout.addLayout(form)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)

        buttons = QHBoxLayout()
        self.back_up_button = QPushButton("Back up now")
        self.back_up_button.clicked.connect(self.back_up_now)
        self.restore_button = QPushButton("Restore from backup…")
        self.restore_button.clicked.connect(self.restore)
        self.save_button = QPushButton("Save settings")
        self.save_button.clicked.connect(self.save_settings)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        for button in (self.back_up_button, self.restore_button, self.save_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        if on_server:
            for control in (self.folder, self.choose_folder_button, self.keep,
                            self.back_up_button, self.restore_button, self.save_button):
                control.setEnabled(False)
            return
        # "Save settings" is offered when there is something to save (it looked ready with
        # nothing changed, and a change left unsaved looked no different).
        self.folder.textChanged.connect(self._settings_edited)
        self.keep.valueChanged.connect(self._settings_edited)
        self._settings_edited()
        self.refresh()

    # --- the list ------------------------------------------------------------------------
    def refresh(self) -> None:
        try:
            self.shown = self.services.backups.list()
        except DomainError as exc:
            self.shown = []
            self.status.setText(str(exc))
        self.table.setRowCount(len(self.shown))
        for row, backup in enumerate(self.shown):
            cells = (short_datetime(backup.made_at), size_text(backup.size), str(backup.path))
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.measure()

    def selected(self) -> BackupFile | None:
        rows = self.table.selectionModel().selectedRows()
        return self.shown[rows[0].row()] if rows else None

    # --- settings --------------------------------------------------------------------------
    def choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Backup folder", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def _stored(self) -> tuple[str, int]:
        settings = self.services.settings
        return str(settings.get(BACKUP_FOLDER)).strip(), int(settings.get(BACKUPS_KEPT))

    def _settings_edited(self) -> None:
        edited = (self.folder.text().strip(), self.keep.value()) != self._stored()
        self.save_button.setEnabled(edited)
        self.save_button.setToolTip("" if edited else "Nothing changed to save")

    def save_settings(self) -> bool:
        try:
            self.services.settings.update(
                {BACKUP_FOLDER.key: self.folder.text().strip(), BACKUPS_KEPT.key: self.keep.value()}
            )
        except DomainError as exc:
            self.status.setText(str(exc))
            return False
        self.status.setText("Backup settings saved.")
        self._settings_edited()
        self.refresh()
        return True

    # --- back up now -----------------------------------------------------------------------
    def back_up_now(self) -> None:
        if self.task is not None and self.task.running:
            return
        self.back_up_button.setEnabled(False)
        self.status.setText("Backing up…")
        self.task = BackgroundTask(lambda _state: self.services.backups.back_up(), "backup", self)
        self.task.succeeded.connect(self._backed_up)
        self.task.failed.connect(lambda exc: self.status.setText(f"Backup failed: {exc}"))
        self.task.finished.connect(lambda: self.back_up_button.setEnabled(True))
        self.task.start()

    def _backed_up(self, made: BackupFile) -> None:
        self.status.setText(f"Backed up to {made.path} ({size_text(made.size)}).")
        self.refresh()

    # --- restore ---------------------------------------------------------------------------
    def restore(self) -> None:
        """Restore the selected backup, or one chosen from a file dialog."""
        chosen = self.selected()
        if chosen is not None:
            path = chosen.path
        else:
            start = str(self.services.backups.folder())
            name, _ = QFileDialog.getOpenFileName(
                self, "Restore from backup", start, "CRM Companion backups (*.sqlite3)"
            )
            if not name:
                return
            path = Path(name)
        self.restore_file(path)

    def restore_file(self, path: Path) -> bool:
        try:
            self.services.backups.verify(path)
        except DomainError as exc:
            tell(self, "Not a good backup", str(exc))
            return False
        # Plain-text boxes (ui.text_display): file names and messages may hold anything.
        if not ask(
            self, "Restore from backup",
            f"Replace the database with the backup {path.name}?\n\nThe current database is "
            f"kept as a copy beside it, and {APP_NAME} restarts.",
        ):
            return False
        try:
            kept = self.services.backups.restore(path)
        except DomainError as exc:
            tell(self, "Could not restore", str(exc))
            return False
        logger.info("Restored %s from the app; the replaced database was kept as %s", path, kept)
        self.status.setText(f"Restored {path.name}; restarting.")
        self.accept()
        self.restart()
        return True


def offer_restore_at_start(
    problem: DomainError, database_url: str, backups_dir: Path, parent: QWidget | None = None
) -> bool:
    """The database could not be opened: say why and, when a backup would help and a good
    one exists, offer to restore it. True when it was restored (open the database again)."""
    newest = newest_good_backup_in([backups_dir]) if restorable(problem) else None
    box = QMessageBox(parent)
    box.setTextFormat(Qt.TextFormat.PlainText)  # the message quotes paths, which may hold anything
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(f"{APP_NAME}: cannot open the database")
    text = str(problem)
    restore_button = None
    if newest is not None:
        text += (
            f"\n\nThe newest good backup is {newest.path.name}, made "
            f"{short_datetime(newest.made_at)}. Restore it? The damaged file is kept beside it."
        )
        restore_button = box.addButton("Restore this backup", QMessageBox.ButtonRole.AcceptRole)
    elif restorable(problem):
        text += f"\n\nNo good backup was found in {backups_dir}."
    box.setText(text)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if restore_button is None or box.clickedButton() is not restore_button:
        return False
    assert newest is not None
    try:
        kept = restore_database(database_url, newest.path, SystemClock())
    except DomainError as exc:
        tell(parent, f"{APP_NAME}: could not restore", str(exc), QMessageBox.Icon.Critical)
        return False
    logger.info("Restored %s at start; the damaged database was kept as %s", newest.path, kept)
    return True
