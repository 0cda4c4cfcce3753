"""The Settings dialog: a list of pages on the left, each page a few declared settings.

Settings are declared once in `core.settings` (type, default, meaning); a page here only says
which of them it shows and how to label them, so a later feature adds its page with one
`add_settings_page(...)` call. Values are stored through `SettingsService`, and the returned
`Changed` is published so views that depend on a setting refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import ValidationError
from crmcompanion.core.reminders import parse_reminder_time
from crmcompanion.core.settings import (
    CHECKBACK_DAYS,
    CHECKBACK_DAYS_RANGE,
    CONFIRM_DELETE,
    DEFAULT_REGION,
    OWNER_NAME,
    SettingSpec,
)
from crmcompanion.services.reminders import (
    AUTOSTART,
    DAILY_DIGEST,
    KEEP_RUNNING_IN_TRAY,
    REMINDER_TIME,
)
from crmcompanion.services.settings import SettingsService
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.customer_editor import error_label, set_invalid
from crmcompanion.ui.widgets import DialogButtons

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SettingField:
    """How one setting appears: its label and optional input tidying and checking."""

    spec: SettingSpec
    label: str
    normalise: Callable[[Any], Any] | None = None
    check: Callable[[Any], str | None] | None = None  # a sentence when the value is wrong


@dataclass(frozen=True)
class SettingsPageSpec:
    title: str
    fields: tuple[SettingField, ...]


SETTINGS_PAGES: list[SettingsPageSpec] = []


def add_settings_page(title: str, *fields: SettingField) -> SettingsPageSpec:
    """Declare a Settings page: `add_settings_page("Reminders", SettingField(SPEC, "Label"))`."""
    page = SettingsPageSpec(title, fields)
    SETTINGS_PAGES.append(page)
    return page


def region_problem(value: Any) -> str | None:
    import phonenumbers  # imported when a region is checked, not at every start

    if value not in phonenumbers.SUPPORTED_REGIONS:
        return f"“{value}” is not a country code phone numbers know (e.g. US, GB, DE, FR)."
    return None


add_settings_page(
    "General",
    SettingField(
        DEFAULT_REGION,
        "Default phone region",
        normalise=lambda text: str(text).strip().upper(),
        check=region_problem,
    ),
    SettingField(OWNER_NAME, "Your name", normalise=lambda text: str(text).strip()),
    SettingField(CONFIRM_DELETE, "Confirm before deleting a customer"),
)


def reminder_time_text(value: Any) -> str:
    """Typed "9:00" or " 09:00 " stored as "09:00"; left as typed when it cannot be read
    (then `reminder_time_problem` says why)."""
    try:
        return parse_reminder_time(str(value)).strftime("%H:%M")
    except ValueError:
        return str(value).strip()


def reminder_time_problem(value: Any) -> str | None:
    try:
        parse_reminder_time(str(value))
    except ValueError as exc:
        return str(exc)
    return None


add_settings_page(
    "Reminders",
    SettingField(REMINDER_TIME, "Reminder time", normalise=reminder_time_text,
                 check=reminder_time_problem),
    SettingField(DAILY_DIGEST, "One daily digest instead of one notification per reminder"),
    SettingField(KEEP_RUNNING_IN_TRAY, "Keep reminders running in the tray when the window "
                 "is closed"),
    SettingField(AUTOSTART, "Start at login (minimised), so reminders arrive on time"),
)


def checkback_days_problem(value: Any) -> str | None:
    low, high = CHECKBACK_DAYS_RANGE
    if not isinstance(value, int) or not low <= value <= high:
        return f"Check back after {low} to {high} days."
    return None


add_settings_page(
    "Feedback",
    SettingField(CHECKBACK_DAYS, "Check back after (days)", check=checkback_days_problem),
)


class SettingsPage(QWidget):
    """One page built from its declared fields: checkbox, combo, spin box or text."""

    def __init__(self, page: SettingsPageSpec, values: dict[str, Any]) -> None:
        super().__init__()
        self.page = page
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel(page.title)
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        form = QFormLayout()
        form.setVerticalSpacing(10)
        form.setHorizontalSpacing(14)
        layout.addLayout(form)
        layout.addStretch(1)
        for item in page.fields:
            spec = item.spec
            value = values.get(spec.key, spec.default)
            editor = self._editor_for(item, value)
            box = QVBoxLayout()
            box.setSpacing(2)
            line = QHBoxLayout()
            line.addWidget(editor)
            if editor.maximumWidth() < 1000:
                line.addStretch(1)  # a short field (a country code) stays short
            box.addLayout(line)
            if spec.type is not bool:  # a checkbox's own text already says it
                hint = QLabel(spec.description)
                hint.setObjectName("muted")
                hint.setWordWrap(True)
                box.addWidget(hint)
            error = error_label()
            box.addWidget(error)
            self.editors[spec.key] = editor
            self.errors[spec.key] = error
            form.addRow("" if spec.type is bool else item.label, box)

    def _editor_for(self, item: SettingField, value: Any) -> QWidget:
        spec = item.spec
        if spec.type is bool:
            box = QCheckBox(item.label)
            box.setChecked(bool(value))
            return box
        if spec.choices is not None:
            combo = QComboBox()
            for choice in spec.choices:
                combo.addItem(str(choice), choice)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            return combo
        if spec.type is int:
            spin = QSpinBox()
            spin.setRange(-1_000_000, 1_000_000)
            spin.setValue(int(value))
            return spin
        line = QLineEdit(str(value))
        if spec is REMINDER_TIME:
            line.setMaxLength(5)
            line.setMaximumWidth(80)
            line.setPlaceholderText("09:00")
        if spec is DEFAULT_REGION:
            line.setMaxLength(2)
            line.setMaximumWidth(80)
            line.setValidator(
                QRegularExpressionValidator(QRegularExpression("[A-Za-z]{0,2}"), line)
            )
        return line

    def values(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for item in self.page.fields:
            editor = self.editors[item.spec.key]
            value: Any
            if isinstance(editor, QCheckBox):
                value = editor.isChecked()
            elif isinstance(editor, QComboBox):
                value = editor.currentData()
            elif isinstance(editor, QSpinBox):
                value = editor.value()
            else:
                value = editor.text()  # type: ignore[attr-defined]
            if item.normalise is not None:
                value = item.normalise(value)
            result[item.spec.key] = value
        return result

    def problems(self, values: dict[str, Any]) -> dict[str, str]:
        found: dict[str, str] = {}
        for item in self.page.fields:
            if item.check is not None:
                problem = item.check(values[item.spec.key])
                if problem:
                    found[item.spec.key] = problem
        return found

    def show_errors(self, errors: dict[str, str]) -> bool:
        shown = False
        for key, label in self.errors.items():
            message = errors.get(key, "")
            label.setText(message)
            label.setVisible(bool(message))
            set_invalid(self.editors[key], bool(message))
            shown = shown or bool(message)
        return shown


class SettingsDialog(QDialog):
    def __init__(
        self, settings: SettingsService, bus: AppState, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._bus = bus
        self.setWindowTitle("Settings")
        self.resize(720, 460)
        values = settings.all()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        body = QHBoxLayout()
        body.setSpacing(0)
        self.page_list = QListWidget()
        self.page_list.setObjectName("sidebar")
        self.page_list.setFixedWidth(180)
        self.stack = QStackedWidget()
        self.pages: list[SettingsPage] = []
        for spec in SETTINGS_PAGES:
            page = SettingsPage(spec, values)
            self.pages.append(page)
            self.page_list.addItem(spec.title)
            self.stack.addWidget(page)
        self.page_list.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.page_list.setCurrentRow(0)
        body.addWidget(self.page_list)
        holder = QWidget()
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(28, 22, 28, 10)
        holder_layout.addWidget(self.stack)
        body.addWidget(holder, 1)
        outer.addLayout(body, 1)
        buttons = DialogButtons(self, self.save, margins=(24, 10, 24, 16))
        self.cancel_button, self.save_button = buttons.cancel_button, buttons.accept_button
        outer.addLayout(buttons)

    def page(self, title: str) -> SettingsPage:
        return next(p for p in self.pages if p.page.title == title)

    def save(self) -> bool:
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for page in self.pages:
            page_values = page.values()
            values.update(page_values)
            problems.update(page.problems(page_values))
        if not problems:
            try:
                changed = self._settings.update(values)
            except ValidationError as exc:
                problems = exc.field_errors
            else:
                self._bus.publish(changed)
                self.accept()
                return True
        for index, page in enumerate(self.pages):
            if page.show_errors(problems):
                self.page_list.setCurrentRow(index)
        return False
