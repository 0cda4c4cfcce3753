"""The greeting template library dialog, and the "Greetings" page of the Settings dialog.

Why this module exists: the owner's own words make a greeting personal, so every template is
editable. Saving goes through `GreetingService.save_template`, which validates with
`check_greeting`; a problem is shown inline under the field it is in, naming the exact
fragment, its line and column and, when there is one, the fix.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import DomainError, ValidationError
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.settings import BUSINESS_NAME, DEFAULT_GREETING_CHANNEL, SIGNATURE
from crmcompanion.core.templates import TemplateError, Tone, iter_placeholder_help
from crmcompanion.services.container import Services
from crmcompanion.services.greetings import StoredTemplate
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.customer_editor import error_label, set_invalid
from crmcompanion.ui.settings_dialog import SettingField, add_settings_page
from crmcompanion.ui.text_display import embedded, plain_label
from crmcompanion.ui.widgets import fit_on_screen, name_controls

logger = logging.getLogger(__name__)

add_settings_page(
    "Greetings",
    SettingField(BUSINESS_NAME, "Business name", normalise=lambda text: str(text).strip()),
    SettingField(SIGNATURE, "Signature", normalise=lambda text: str(text).strip()),
    SettingField(DEFAULT_GREETING_CHANNEL, "Send greetings by"),
    order=40,
)


def describe_problem(error: TemplateError) -> str:
    """One line per problem: where, the exact fragment, why, and the fix if there is one."""
    lines = []
    for problem in error.problems[:4]:
        fix = f" Write {problem.suggestion} instead." if problem.suggestion else ""
        lines.append(f"Line {problem.line}, column {problem.column}: “{problem.fragment}”: "
                     f"{problem.message}.{fix}".replace("..", ".").replace("?.", "?"))
    if len(error.problems) > 4:
        lines.append(f"… and {len(error.problems) - 4} more.")
    return "\n".join(lines)


class TemplateLibraryDialog(QDialog):
    """Templates per occasion on the left, the selected one's editor on the right."""

    def __init__(
        self,
        services: Services,
        bus: AppState,
        occasion: Occasion | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._bus = bus
        self.current: StoredTemplate | None = None
        self.setWindowTitle("Greeting templates")
        self.resize(980, 640)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(18, 16, 18, 14)
        left = QVBoxLayout()
        self.occasion_combo = QComboBox()
        for item in Occasion:
            self.occasion_combo.addItem(item.title, item)
        left.addWidget(self.occasion_combo)
        self.list = QListWidget()
        self.list.setObjectName("sidebar")
        self.list.setMinimumWidth(180)
        self.list.setMaximumWidth(280)
        self.list.setAccessibleName("Templates")
        left.addWidget(self.list, 1)
        self.new_button = QPushButton("New template")
        left.addWidget(self.new_button)
        outer.addLayout(left)

        right = QVBoxLayout()
        form = QFormLayout()
        self.name_edit = QLineEdit()
        self.tone_combo = QComboBox()
        for tone in Tone:
            self.tone_combo.addItem(tone.value.title(), tone)
        self.default_box = QCheckBox("Start new drafts for this occasion with this template")
        form.addRow("Name", self.name_edit)
        self.name_error = error_label()
        form.addRow("", self.name_error)
        form.addRow("Tone", self.tone_combo)
        form.addRow("", self.default_box)
        self.subject_edit = QLineEdit()
        form.addRow("Subject", self.subject_edit)
        self.subject_error = error_label()
        form.addRow("", self.subject_error)
        right.addLayout(form)
        right.addWidget(QLabel("Message"))
        self.body_edit = QPlainTextEdit()
        right.addWidget(self.body_edit, 1)
        self.body_error = error_label()
        right.addWidget(self.body_error)
        names = "  ".join(name for name, _ in iter_placeholder_help())
        hint = QLabel(f"Placeholders: {names}   ($$ for a dollar sign)")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        right.addWidget(hint)
        self.status = plain_label("", wrap=False)
        self.status.setObjectName("muted")
        buttons = QHBoxLayout()
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("danger")
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.status, 1)
        self.close_button = QPushButton("Close")
        self.save_button = QPushButton("Save template")
        self.save_button.setObjectName("primary")
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.save_button)
        right.addLayout(buttons)
        outer.addLayout(right, 1)

        self.occasion_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.list.currentRowChanged.connect(self._selected)
        self.new_button.clicked.connect(self.new_template)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        self.close_button.clicked.connect(self.accept)
        if occasion is not None:
            self.occasion_combo.setCurrentIndex(self.occasion_combo.findData(occasion))
        self.reload()
        self.occasion_combo.setAccessibleName("Occasion")
        self.body_edit.setAccessibleName("Message")
        fit_on_screen(self)
        name_controls(self)

    def occasion(self) -> Occasion:
        return Occasion(self.occasion_combo.currentData())

    def reload(self, select_key: str | None = None) -> None:
        self.templates = self._services.greetings.templates(self.occasion())
        self.list.blockSignals(True)
        self.list.clear()
        for template in self.templates:
            star = "  ★" if template.is_default else ""
            self.list.addItem(QListWidgetItem(
                f"{embedded(template.name)}{star}\n{template.tone.value.title()}"))
        self.list.blockSignals(False)
        keys = [t.key for t in self.templates]
        row = keys.index(select_key) if select_key in keys else 0
        if self.templates:
            self.list.setCurrentRow(row)
            self._selected(row)

    def _selected(self, row: int) -> None:
        if not 0 <= row < len(self.templates):
            return
        self._show(self.templates[row])

    def _show(self, template: StoredTemplate | None) -> None:
        self.current = template
        self.name_edit.setText(template.name if template else "")
        tone = template.tone if template else Tone.WARM
        self.tone_combo.setCurrentIndex(self.tone_combo.findData(tone))
        self.default_box.setChecked(bool(template and template.is_default))
        self.subject_edit.setText(template.subject if template else "")
        self.body_edit.setPlainText(template.body if template else "")
        self.delete_button.setEnabled(template is not None and len(self.templates) > 1)
        self._clear_errors()
        self.status.setText("" if template else "New template: write it, then save.")

    def new_template(self) -> None:
        self.list.clearSelection()
        self._show(None)
        self.name_edit.setFocus()

    def _clear_errors(self) -> None:
        for label, widget in ((self.name_error, self.name_edit),
                              (self.subject_error, self.subject_edit),
                              (self.body_error, self.body_edit)):
            label.setVisible(False)
            set_invalid(widget, False)

    def _error(self, field: str, text: str) -> None:
        label, widget = {
            "name": (self.name_error, self.name_edit),
            "subject": (self.subject_error, self.subject_edit),
        }.get(field, (self.body_error, self.body_edit))
        label.setText(text)
        label.setVisible(True)
        set_invalid(widget, True)

    def save(self) -> bool:
        self._clear_errors()
        try:
            saved = self._services.greetings.save_template(
                key=self.current.key if self.current else None,
                occasion=self.occasion(),
                name=self.name_edit.text(),
                tone=self.tone_combo.currentData(),
                subject=self.subject_edit.text(),
                body=self.body_edit.toPlainText(),
                is_default=self.default_box.isChecked() or None,
            )
        except TemplateError as exc:
            self._error(exc.field_name, describe_problem(exc))
            self.status.setText("Not saved: fix the part marked in red.")
            return False
        except ValidationError as exc:
            for field, message in exc.field_errors.items():
                self._error(field, message)
            self.status.setText("Not saved: fix the part marked in red.")
            return False
        self._bus.publish(saved.changed)
        self.reload(saved.template.key)
        self.status.setText(f"Saved “{embedded(saved.template.name)}”.")
        return True

    def delete(self) -> None:
        if self.current is None:
            return
        try:
            changed = self._services.greetings.delete_template(self.current.key)
        except DomainError as exc:
            self.status.setText(str(exc))
            return
        self._bus.publish(changed)
        self.reload()
