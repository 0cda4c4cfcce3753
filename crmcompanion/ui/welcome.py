"""The first-start welcome: who you are, then where your customers come from.

Why this module exists: a new owner used to land on an empty Today and a Settings dialog
full of terms; greeting drafts then opened with a red "No value for $signature". The welcome
asks for the five things the app needs to speak for them (their name, the business name, the
country phone numbers are read in, how they usually send greetings, when reminders arrive),
stores them as the ordinary settings, and then offers the three ways to start: import
contacts, add sample customers to look around, or start empty.

It shows only on a first start (`SettingsService.welcome_needed`: no customers and the
welcome never completed); choosing how to start completes it. Closing it early leaves it to
show again next time, with nothing lost that was saved.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QLocale, QTime, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import ValidationError
from crmcompanion.core.reminders import parse_reminder_time
from crmcompanion.core.settings import (
    BUSINESS_NAME,
    DEFAULT_GREETING_CHANNEL,
    DEFAULT_REGION,
    OWNER_NAME,
    WELCOME_COMPLETED,
)
from crmcompanion.services.changes import Changed
from crmcompanion.services.reminders import REMINDER_TIME
from crmcompanion.services.settings import SettingsService
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.customer_editor import error_label, set_invalid
from crmcompanion.ui.formatting import time_edit_format
from crmcompanion.ui.icons import icon
from crmcompanion.ui.style import current_theme
from crmcompanion.ui.text_display import plain_label
from crmcompanion.ui.widgets import CountryPicker, fit_on_screen, name_controls

logger = logging.getLogger(__name__)

IMPORT, SAMPLE, EMPTY = "import", "sample", "empty"


def system_country() -> str:
    """The country of the computer's locale ("DE"), or "" when it names none."""
    code = QLocale.territoryToCode(QLocale.system().territory())
    return code if len(code) == 2 else ""


def _step(title: str, text: str) -> tuple[QWidget, QVBoxLayout]:
    """A step's page: its title and a line that says what it is for."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    heading = QLabel(title)
    heading.setObjectName("pageTitle")
    layout.addWidget(heading)
    layout.addWidget(plain_label(text, "muted"))
    layout.addSpacing(8)
    return page, layout


class WelcomeDialog(QDialog):
    """Two steps: "About you" (stored as settings), then "Add your customers".

    `chosen` carries IMPORT, SAMPLE or EMPTY once the owner picked how to start."""

    chosen = Signal(str)

    def __init__(
        self, settings: SettingsService, bus: AppState, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._bus = bus
        self.choice: str | None = None
        self.setWindowTitle("Welcome to CRM Companion")
        self.resize(600, 520)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(28, 22, 28, 18)
        self.steps = QStackedWidget()
        outer.addWidget(self.steps, 1)
        self.steps.addWidget(self._about_you())
        self.steps.addWidget(self._start_with())
        fit_on_screen(self)
        name_controls(self)

    # --- step 1 ---------------------------------------------------------------------------
    def _about_you(self) -> QWidget:
        page, layout = _step("Welcome! A few details first",
                             "They sign your greetings and read your customers' phone "
                             "numbers. You can change each of them later in Settings.")
        form = QFormLayout()
        form.setVerticalSpacing(10)
        values = self._settings.all()
        self.name_edit = QLineEdit(str(values[OWNER_NAME.key]))
        self.name_edit.setPlaceholderText("e.g. Maria Lopez")
        form.addRow("Your name", self.name_edit)
        self.business_edit = QLineEdit(str(values[BUSINESS_NAME.key]))
        self.business_edit.setPlaceholderText("e.g. Lopez Flowers")
        form.addRow("Business name", self.business_edit)
        self.country = CountryPicker()
        stored = str(values[DEFAULT_REGION.key])
        self.country.set_code(system_country() if stored == DEFAULT_REGION.default
                              and system_country() else stored)
        form.addRow("Country", self.country)
        self.country_error = error_label()
        form.addRow("", self.country_error)
        self.channel = QComboBox()
        spec = DEFAULT_GREETING_CHANNEL
        for choice in spec.choices or ():
            self.channel.addItem(spec.title_of(choice), choice)
        self.channel.setCurrentIndex(max(0, self.channel.findData(
            values[DEFAULT_GREETING_CHANNEL.key])))
        form.addRow("I usually send greetings by", self.channel)
        self.reminder_time = QTimeEdit()
        self.reminder_time.setDisplayFormat(time_edit_format())
        chosen = parse_reminder_time(str(values[REMINDER_TIME.key]))
        self.reminder_time.setTime(QTime(chosen.hour, chosen.minute))
        form.addRow("Remind me each day at", self.reminder_time)
        layout.addLayout(form)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        self.later_button = QPushButton("Later")
        self.later_button.setToolTip("Close the welcome; it shows again next time")
        self.later_button.clicked.connect(self.reject)
        buttons.addWidget(self.later_button)
        buttons.addStretch(1)
        self.continue_button = QPushButton("Continue")
        self.continue_button.setObjectName("primary")
        self.continue_button.setDefault(True)
        self.continue_button.clicked.connect(self.save_details)
        buttons.addWidget(self.continue_button)
        layout.addLayout(buttons)
        return page

    def save_details(self) -> bool:
        """Store the details as settings and go on to step 2; False (said inline) if the
        country is not one the list knows."""
        code = self.country.code()
        set_invalid(self.country, code is None)
        self.country_error.setVisible(code is None)
        if code is None:
            self.country_error.setText(
                "Choose your country from the list (start typing its name).")
            self.country.setFocus()
            return False
        try:
            changed = self._settings.update({
                OWNER_NAME.key: self.name_edit.text().strip(),
                BUSINESS_NAME.key: self.business_edit.text().strip(),
                DEFAULT_REGION.key: code,
                DEFAULT_GREETING_CHANNEL.key: self.channel.currentData(),
                REMINDER_TIME.key: self.reminder_time.time().toString("HH:mm"),
            })
        except ValidationError as exc:
            self.country_error.setText(" ".join(exc.field_errors.values()))
            self.country_error.setVisible(True)
            return False
        self._bus.publish(changed)
        self.steps.setCurrentIndex(1)
        self.sample_button.setFocus()
        return True

    # --- step 2 ---------------------------------------------------------------------------
    def _start_with(self) -> QWidget:
        page, layout = _step("Add your customers",
                             "Bring in the people you already know, look around with sample "
                             "customers first, or start with an empty list.")
        choices = (
            self._choice("upload", "Import contacts…", "From a CSV file (a spreadsheet, Google "
                         "or Outlook contacts) or vCards.", IMPORT),
            self._choice("sparkles", "Add sample customers", "About 200 made-up customers "
                         "with birthdays this week, to try things out.", SAMPLE),
            self._choice("user-plus", "Start empty", "Add your first customer yourself.",
                         EMPTY),
        )
        self.import_button, self.sample_button, self.empty_button = (b for b, _ in choices)
        for button, hint in choices:
            layout.addWidget(button)
            layout.addWidget(hint)
            layout.addSpacing(6)
        layout.addStretch(1)
        back = QHBoxLayout()
        self.back_button = QPushButton("Back")
        self.back_button.clicked.connect(lambda: self.steps.setCurrentIndex(0))
        back.addWidget(self.back_button)
        back.addStretch(1)
        layout.addLayout(back)
        return page

    def _choice(self, icon_name: str, text: str, hint: str, choice: str
                ) -> tuple[QPushButton, QLabel]:
        button = QPushButton(icon(icon_name), f"  {text}")
        button.setAccessibleName(text.rstrip("…"))
        button.setAccessibleDescription(hint)
        button.setMinimumHeight(40)
        if choice == SAMPLE:
            button.setObjectName("primary")
            button.setIcon(icon(icon_name, colour=current_theme().accent_text))
        button.clicked.connect(lambda: self.choose(choice))
        return button, plain_label(hint, "muted")

    def choose(self, choice: str) -> Changed:
        """Complete the welcome with `choice`; the window acts on `chosen`."""
        changed = self._settings.update({WELCOME_COMPLETED.key: True})
        self._bus.publish(changed)
        self.choice = choice
        self.accept()
        self.chosen.emit(choice)
        return changed
