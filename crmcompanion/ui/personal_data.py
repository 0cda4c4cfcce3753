"""Personal-data requests from the customer page: export everything, or erase on request.

An erase cannot be undone, so it asks the user to type the customer's name; the dialog says
plainly what is deleted and what is kept anonymised for statistics.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QLabel, QLineEdit, QVBoxLayout, QWidget

from crmcompanion.core.errors import DomainError
from crmcompanion.core.text import sort_key
from crmcompanion.services.container import Services
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.text_display import embedded, headline, plain_label
from crmcompanion.ui.widgets import DialogButtons

logger = logging.getLogger(__name__)


class EraseConfirmDialog(QDialog):
    """Erase only once the user has typed the customer's name (accents and case ignored)."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Erase personal data")
        self.setMinimumWidth(460)
        self._name = name
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        title = plain_label(f"Erase {headline(name)}?")
        title.setObjectName("detailName")
        layout.addWidget(title)
        explanation = QLabel(
            "Use this when the customer asks to be forgotten. Their profile, contact details, "
            "special dates, notes and reminders are deleted. Conversations stay in your "
            "statistics (date and channel only) without their text or name.\n\n"
            "This cannot be undone. Export their data first if they asked for a copy."
        )
        explanation.setWordWrap(True)
        layout.addWidget(explanation)
        # Rich text for the bold name: the name itself is escaped and isolated.
        confirm = QLabel(f"Type <b>{_html(embedded(name))}</b> to confirm:")
        confirm.setTextFormat(Qt.TextFormat.RichText)
        confirm.setWordWrap(True)
        layout.addWidget(confirm)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText(name)
        layout.addWidget(self.name_edit)
        buttons = DialogButtons(self, self.accept, "Erase")
        self.erase_button = buttons.accept_button
        self.erase_button.setObjectName("danger")
        self.erase_button.setDefault(False)
        self.erase_button.setEnabled(False)
        layout.addLayout(buttons)
        self.name_edit.textChanged.connect(self._check)

    def _check(self, text: str) -> None:
        self.erase_button.setEnabled(sort_key(text) == sort_key(self._name))


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class PersonalDataActions(QObject):
    """Runs the customer page's "Export personal data…" and "Erase personal data…"."""

    def __init__(self, services: Services, bus: AppState, parent: QWidget) -> None:
        super().__init__(parent)
        self._services = services
        self._bus = bus
        self._parent = parent
        self.dialog: EraseConfirmDialog | None = None
        self.last_message = ""

    def export(self, customer_id: int, path: str | None = None) -> Path | None:
        """Write the zip to `path` (asked with a file dialog when None)."""
        try:
            name = self._services.customers.get(customer_id).display_name
        except DomainError as exc:
            return self._say(str(exc))
        if path is None:
            folder = QStandardPaths.writableLocation(
                QStandardPaths.StandardLocation.DocumentsLocation
            )
            suggested = str(Path(folder) / f"{name} - personal data.zip")
            path, _ = QFileDialog.getSaveFileName(
                self._parent, "Export personal data", suggested, "Zip archives (*.zip)"
            )
            if not path:
                return None
        try:
            result = self._services.personal_data.export_personal_data(customer_id, path)
        except (DomainError, OSError) as exc:
            return self._say(f"Could not export {name}'s data: {exc}")
        self._say(f"Exported {name}'s personal data to {result.path}.")
        return result.path

    def erase(self, customer_id: int) -> EraseConfirmDialog | None:
        """Ask for the typed confirmation; erase when the dialog is accepted."""
        try:
            name = self._services.customers.get(customer_id).display_name
        except DomainError as exc:
            self._say(str(exc))
            return None
        dialog = EraseConfirmDialog(name, self._parent)
        dialog.accepted.connect(lambda: self._erase_confirmed(customer_id, name))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _erase_confirmed(self, customer_id: int, name: str) -> None:
        try:
            erased = self._services.personal_data.erase_customer(customer_id)
        except DomainError as exc:
            self._say(f"Could not erase {name}: {exc}")
            return
        self._bus.publish(erased.changed)
        self._say(f"Erased {name}'s personal data.")

    def _say(self, text: str) -> None:
        self.last_message = text
        message = getattr(self._parent, "message", None)
        if message is not None:
            message.emit(text)
        logger.info("%s", text if "Erased" not in text else "Erased a customer on request")
