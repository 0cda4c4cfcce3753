"""What the user sees when something unexpected goes wrong, and where to look then.

An exception raised in a Qt slot does not unwind to `app.exec()`: PySide hands it to
`sys.excepthook` and carries on, so without a hook of ours it goes to a terminal the user never
sees (or nowhere). `install` sets a hook that writes the exception to the log file and shows a
friendly, non-modal dialog: what happened in one line, the log file's path and "Open data
folder". `app.run_gui` installs it once it knows the paths; in tests nothing is configured
unless a test does it, and messages then leave the path out.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

logger = logging.getLogger(__name__)

MAX_LINE = 300  # the one line of "what happened"; the whole traceback is in the log


@dataclass(frozen=True)
class Places:
    data_folder: Path
    log_file: Path


_places: Places | None = None
_dialog: CrashDialog | None = None


def configure(places: Places | None) -> None:
    global _places
    _places = places


def places() -> Places | None:
    return _places


def log_hint() -> str:
    """" (/path/to/the.log)" when the log file is known, else ""."""
    return f" ({_places.log_file})" if _places is not None else ""


def open_folder(folder: Path) -> bool:
    """Show a folder in the desktop's file manager."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def one_line(exc: BaseException) -> str:
    """The exception's kind and the first line of its message, cut to one short line."""
    text = str(exc).strip().splitlines()
    line = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


class CrashDialog(QMessageBox):
    """Non-modal: the app keeps running, and a second failure updates this one dialog."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.count = 0
        self.setIcon(QMessageBox.Icon.Critical)
        self.setWindowTitle("Something went wrong")
        self.setTextFormat(Qt.TextFormat.PlainText)  # exception texts may hold user data
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.open_button = self.addButton("Open data folder", QMessageBox.ButtonRole.ActionRole)
        self.close_button = self.addButton(QMessageBox.StandardButton.Close)
        self.setDefaultButton(self.close_button)
        self.open_button.setEnabled(_places is not None)
        self.open_button.clicked.connect(self._open_folder)

    def _open_folder(self) -> None:
        if _places is not None:
            open_folder(_places.data_folder)

    def report(self, exc: BaseException) -> None:
        self.count += 1
        again = f" (it happened {self.count} times)" if self.count > 1 else ""
        self.setText(f"Something went wrong{again}: {one_line(exc)}")
        where = (f"The details were written to the log file:\n{_places.log_file}"
                 if _places is not None else "The details were written to the app's log.")
        self.setInformativeText(
            f"{where}\n\nYour saved data is safe. If this keeps happening, send that file "
            "with a note of what you were doing."
        )


def current_dialog() -> CrashDialog | None:
    return _dialog


def show_crash_dialog(exc: BaseException) -> CrashDialog:
    global _dialog
    if _dialog is None:
        parent = QApplication.activeWindow()
        _dialog = CrashDialog(parent)
        _dialog.destroyed.connect(_forget_dialog)
    _dialog.report(exc)
    _dialog.show()
    _dialog.raise_()
    return _dialog


def _forget_dialog() -> None:
    global _dialog
    _dialog = None


def handle_exception(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    """sys.excepthook: log the whole traceback, show one friendly line."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    logger.error("Unexpected error: %s", one_line(exc), exc_info=(exc_type, exc, tb))
    if QApplication.instance() is None:  # no window to show it in: the terminal, as before
        sys.__excepthook__(exc_type, exc, tb)
        return
    try:
        show_crash_dialog(exc)
    except Exception:  # the dialog itself failed: the log already has the first error
        logger.exception("Could not show the error dialog")


def install(places: Places | None) -> Callable[[], None]:
    """Point messages at these places and route every uncaught exception to the dialog;
    returns what puts the previous hook (and places) back."""
    previous_hook, previous_places = sys.excepthook, _places
    configure(places)
    sys.excepthook = handle_exception

    def uninstall() -> None:
        sys.excepthook = previous_hook
        configure(previous_places)

    return uninstall
