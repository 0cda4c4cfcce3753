"""The Settings dialog: a list of pages on the left, each page a few declared settings.

Settings are declared once in `core.settings` (type, default, meaning, the words a choice
reads as); a page here only says which of them it shows and how to label them, so a later
feature adds its page with one `add_settings_page(...)` call. Values are stored through
`SettingsService`, and the returned `Changed` is published so views that depend on a setting
refresh.

Each kind of value gets the control an owner expects: a country picker for the phone region
(typing "Germany" stores DE), a time picker for the reminder time, a list of words for a
choice ("Email", not "email"), a number of days with its unit. Pages that are more than a few
fields (the per-tag keep-in-touch rhythm, where the data lives) are `SettingsSection`s that
save through their own service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import DomainError, ValidationError
from crmcompanion.core.feedback import ASK_RHYTHM_MONTHS
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.reminders import parse_reminder_time
from crmcompanion.core.settings import (
    APPEARANCE,
    CHECKBACK_DAYS,
    CHECKBACK_DAYS_RANGE,
    CONFIRM_DELETE,
    DEFAULT_REGION,
    MAP_SERVICE,
    OWNER_NAME,
    TOUCHPOINT_SETTINGS,
    SettingSpec,
)
from crmcompanion.core.touchpoints import MAX_CADENCE_DAYS
from crmcompanion.services.changes import Changed
from crmcompanion.services.reminders import (
    AUTOSTART,
    DAILY_DIGEST,
    KEEP_RUNNING_IN_TRAY,
    REMINDER_TIME,
)
from crmcompanion.services.settings import SettingsService
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.customer_editor import error_label, set_invalid
from crmcompanion.ui.text_display import embedded, fit_to_screen, plain_label
from crmcompanion.ui.widgets import CountryPicker, DialogButtons, FieldLabel, name_controls

if TYPE_CHECKING:
    from crmcompanion.services.container import Services

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SettingField:
    """How one setting appears: its label and optional input tidying and checking."""

    spec: SettingSpec
    label: str
    normalise: Callable[[Any], Any] | None = None
    check: Callable[[Any], str | None] | None = None  # a sentence when the value is wrong
    unit: str = ""  # shown after a number ("days")
    minimum: int = 0
    maximum: int = 1_000_000


class SettingsSection(QWidget):
    """A part of a page that is more than declared fields: it reads and saves itself."""

    def problem(self) -> str | None:
        return None

    def save(self) -> Changed | None:
        return None


@dataclass(frozen=True)
class SettingsPageSpec:
    title: str
    fields: tuple[SettingField, ...]
    order: int = 50
    intro: str = ""
    sections: tuple[Callable[[Services | None], SettingsSection], ...] = field(default=())


SETTINGS_PAGES: list[SettingsPageSpec] = []


def add_settings_page(
    title: str,
    *fields: SettingField,
    order: int = 50,
    intro: str = "",
    sections: tuple[Callable[[Services | None], SettingsSection], ...] = (),
) -> SettingsPageSpec:
    """Declare a Settings page: `add_settings_page("Reminders", SettingField(SPEC, "Label"))`.
    Pages are listed by `order`, then in the order they were declared."""
    page = SettingsPageSpec(title, fields, order, intro, sections)
    SETTINGS_PAGES.append(page)
    SETTINGS_PAGES.sort(key=lambda p: p.order)  # stable: equal orders keep their order
    return page


def region_problem(value: Any) -> str | None:
    import phonenumbers  # imported when a region is checked, not at every start

    if value not in phonenumbers.SUPPORTED_REGIONS:
        return "Choose a country from the list (for example Germany, United States)."
    return None


def current_staff_name(services: Services | None) -> str | None:
    """The person this copy of the app acts as, when a service knows one.

    The OS login or CRMCOMPANION_STAFF (core.staff), made a staff row on first use."""
    if services is None:
        return None
    try:
        return services.staff.current().name or None
    except DomainError:
        return None


add_settings_page(
    "General",
    SettingField(OWNER_NAME, "Your name", normalise=lambda text: str(text).strip()),
    SettingField(DEFAULT_REGION, "Country", check=region_problem),
    SettingField(CONFIRM_DELETE, "Confirm before deleting a customer"),
    order=0,
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
    order=10,
)


def _touchpoint(key: str) -> SettingSpec:
    return TOUCHPOINT_SETTINGS[f"touchpoints.{key}"]


class TagRhythmSection(SettingsSection):
    """Per-tag rhythms: each tag, how many carry it, keep in touch every how many days (0:
    the default for the customer's kind) and ask for feedback every how many months (0:
    never; issue 15). The shortest rhythm of a customer's tags wins; a customer's own
    keep-in-touch rhythm, set on their page, wins over all."""

    def __init__(self, services: Services | None) -> None:
        super().__init__()
        self._services = services
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        heading = plain_label("Rhythm by tag", "sectionLabel")
        layout.addWidget(heading)
        hint = plain_label(
            "Everyone with a tag is kept in touch with at least this often (the shortest "
            "rhythm of their tags wins; a customer's own rhythm wins over all). 0 uses the "
            "defaults above. Ask for feedback: Today reminds you to ask everyone with the tag "
            "this many months after you last asked them or heard their feedback.", "muted")
        layout.addWidget(hint)
        self.table = QTableWidget(0, 4)
        self.table.setAccessibleName("Keep-in-touch rhythm by tag")
        self.table.setHorizontalHeaderLabels(["Tag", "Customers", "Keep in touch every",
                                              "Ask for feedback every"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        # Left like the tag names below them; the count right like its figures.
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.horizontalHeaderItem(1).setTextAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # Every tag's row in view, the page's one scroll bar scrolling them: a table with a
        # scroll bar of its own inside the scrolling page showed five of twelve tags.
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.table)
        self.empty = plain_label("No tags yet: tag customers on their page or when importing.",
                                 "muted")
        layout.addWidget(self.empty)
        self.spins: dict[str, QSpinBox] = {}
        self.feedback_spins: dict[str, QSpinBox] = {}
        self._stored: dict[str, int] = {}
        self._stored_feedback: dict[str, int] = {}
        self._load()

    def _load(self) -> None:
        from crmcompanion.ui.formatting import number

        tags: list[tuple[str, int]] = []
        if self._services is not None:
            tags = self._services.customers.tags()
            self._stored = self._services.touchpoints.tag_cadences()
            self._stored_feedback = self._services.touchpoints.tag_feedback_rhythms()
        self.table.setRowCount(len(tags))
        for row, (tag, count) in enumerate(tags):
            name = QTableWidgetItem(tag)
            name.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.table.setItem(row, 0, name)
            customers = QTableWidgetItem(number(count))
            customers.setFlags(Qt.ItemFlag.ItemIsEnabled)
            customers.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 1, customers)
            self.spins[tag] = self._spin(
                row, 2, MAX_CADENCE_DAYS, "Default", " days", self._stored.get(tag, 0),
                f"Keep in touch with “{tag}” every")
            self.feedback_spins[tag] = self._spin(
                row, 3, ASK_RHYTHM_MONTHS.stop - 1, "Never", " months",
                self._stored_feedback.get(tag, 0), f"Ask “{tag}” for feedback every")
        self.empty.setVisible(not tags)
        self.table.setVisible(bool(tags))
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height()
                                  + self.table.verticalHeader().length()
                                  + 2 * self.table.frameWidth())

    def save(self) -> Changed | None:
        if self._services is None:
            return None
        changed = Changed()
        touchpoints = self._services.touchpoints
        for spins, stored, setter in (
                (self.spins, self._stored, touchpoints.set_tag_cadence),
                (self.feedback_spins, self._stored_feedback,
                 touchpoints.set_tag_feedback_rhythm)):
            for tag, spin in spins.items():
                value = spin.value() or None  # 0 is the special value: default / never
                if value != stored.get(tag):
                    changed = changed | setter(tag, value)
        return changed

    def _spin(self, row: int, column: int, maximum: int, special: str, suffix: str,
              value: int, name: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(0, maximum)
        spin.setSpecialValueText(special)
        spin.setSuffix(suffix)
        spin.setValue(value)
        spin.setAccessibleName(name)
        self.table.setCellWidget(row, column, spin)
        return spin


add_settings_page(
    "Keep in touch",
    *(SettingField(_touchpoint(f"cadence.{name}"), label, unit="days", minimum=1,
                   maximum=MAX_CADENCE_DAYS)
      for name, label in (("key_account", "Key accounts"), ("active", "Active customers"),
                          ("lead", "Leads"), ("internal", "Internal contacts"))),
    order=20,
    intro="How often Today reminds you to get in touch with someone you have not talked to.",
    sections=(TagRhythmSection,),
)

add_settings_page(
    "Special dates",
    SettingField(_touchpoint("leap_day_policy"), "29 February"),
    *(SettingField(_touchpoint(f"lead_days.{occasion.value}"), f"{occasion.title}: remind",
                   unit="days before", maximum=365)
      for occasion in Occasion if occasion is not Occasion.KEEP_IN_TOUCH),
    SettingField(_touchpoint("overdue_lookback_days"), "Missed dates stay listed", unit="days",
                 maximum=366),
    order=30,
)

add_settings_page(
    "Appearance",
    SettingField(APPEARANCE, "Colours"),
    SettingField(MAP_SERVICE, "Open addresses in"),
    order=60,
)


class DataPlacesSection(SettingsSection):
    """Where the database, its backups and the log are, each with a button to show it."""

    def __init__(self, services: Services | None) -> None:
        super().__init__()
        from crmcompanion.ui import crash

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(10)
        places: list[tuple[str, object]] = []
        if services is not None:
            try:
                places.append(("Database", services.backups.database))
                places.append(("Backups", services.backups.folder()))
            except DomainError:
                logger.info("No database file to show (not a file database)")
        known = crash.places()
        if known is not None:
            places.append(("Log file", known.log_file))
        self.paths: dict[str, str] = {}
        for title, path in places:
            line = QHBoxLayout()
            text = QLineEdit(str(path))
            text.setReadOnly(True)
            text.setAccessibleName(f"{title} location")
            text.setCursorPosition(0)
            line.addWidget(text, 1)
            show = QPushButton("Show")
            show.setAccessibleName(f"Show the {title.lower()} folder")
            folder = path.parent if title != "Backups" else path  # type: ignore[attr-defined]
            show.clicked.connect(lambda _c=False, f=folder: crash.open_folder(f))
            line.addWidget(show)
            form.addRow(FieldLabel(title, text), line)
            self.paths[title] = str(path)
        note = plain_label(
            "Everything stays on this computer. To move it, set CRMCOMPANION_HOME to another "
            "folder before starting the app.", "muted")
        form.addRow("", note)


add_settings_page(
    "Your data",
    order=90,
    intro="Where CRM Companion keeps your customers.",
    sections=(DataPlacesSection,),
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
    """One page built from its declared fields: checkbox, list, number, time, country or text."""

    def __init__(
        self, page: SettingsPageSpec, values: dict[str, Any], services: Services | None = None
    ) -> None:
        super().__init__()
        self.page = page
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.sections: list[SettingsSection] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel(page.title)
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        if page.intro:
            layout.addWidget(plain_label(page.intro, "muted"))
        form = QFormLayout()
        form.setVerticalSpacing(10)
        form.setHorizontalSpacing(14)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.addLayout(form)
        self.form = form
        for item in page.fields:
            spec = item.spec
            value = values.get(spec.key, spec.default)
            editor = self._editor_for(item, value)
            editor.setAccessibleName(item.label)
            editor.setAccessibleDescription(spec.description)
            box = QVBoxLayout()
            box.setSpacing(2)
            line = QHBoxLayout()
            line.addWidget(editor)
            if editor.maximumWidth() < 1000 or isinstance(
                    editor, (QComboBox, QSpinBox, QTimeEdit, QCheckBox)):
                line.addStretch(1)  # a short field (a time, a number) stays short
            box.addLayout(line)
            if spec.type is not bool:  # a checkbox's own text already says it
                hint = plain_label(spec.description, "muted")
                box.addWidget(hint)
            error = error_label()
            box.addWidget(error)
            self.editors[spec.key] = editor
            self.errors[spec.key] = error
            if spec.type is bool:
                form.addRow("", box)
            else:
                form.addRow(FieldLabel(item.label, editor), box)
        if page.title == "General":
            self.staff_label = plain_label("", "muted")
            self.staff_label.setVisible(False)
            form.addRow("", self.staff_label)
        for make in page.sections:
            section = make(services)
            self.sections.append(section)
            layout.addWidget(section, 1)
        if not page.sections:
            layout.addStretch(1)

    def _editor_for(self, item: SettingField, value: Any) -> QWidget:
        spec = item.spec
        if spec.type is bool:
            box = QCheckBox(item.label)
            box.setChecked(bool(value))
            return box
        if spec is DEFAULT_REGION:
            picker = CountryPicker()
            picker.set_code(str(value))
            return picker
        if spec is REMINDER_TIME:
            edit = QTimeEdit()
            edit.setDisplayFormat(_time_format())
            try:
                chosen = parse_reminder_time(str(value))
            except ValueError:
                chosen = parse_reminder_time(str(spec.default))
            edit.setTime(QTime(chosen.hour, chosen.minute))
            edit.setMinimumWidth(110)
            return edit
        if spec.choices is not None:
            combo = QComboBox()
            for choice in spec.choices:
                combo.addItem(spec.title_of(choice), choice)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            return combo
        if spec.type is int:
            spin = QSpinBox()
            spin.setRange(item.minimum, item.maximum)
            if item.unit:
                unit = item.unit
                # "1 day before", "3 days before": the unit follows the number.
                spin.valueChanged.connect(lambda days, s=spin, u=unit: s.setSuffix(
                    " " + (u.replace("days", "day", 1) if days == 1 else u)))
                spin.setSuffix(f" {unit}")
                if unit == "days before" and item.minimum == 0:
                    spin.setSpecialValueText("On the day")  # not "0 days before"
            spin.setValue(max(item.minimum, min(item.maximum, int(value))))
            spin.valueChanged.emit(spin.value())
            spin.setMinimumWidth(140)
            return spin
        return QLineEdit(str(value))

    def values(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for item in self.page.fields:
            editor = self.editors[item.spec.key]
            value: Any
            if isinstance(editor, QCheckBox):
                value = editor.isChecked()
            elif isinstance(editor, CountryPicker):
                value = editor.code() or editor.currentText().strip()
            elif isinstance(editor, QTimeEdit):
                value = editor.time().toString("HH:mm")
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


def _time_format() -> str:
    """The locale's short time format ("HH:mm" or "h:mm AP") for the time picker."""
    from crmcompanion.ui.formatting import time_edit_format

    return time_edit_format()


class SettingsDialog(QDialog):
    def __init__(
        self,
        settings: SettingsService,
        bus: AppState,
        parent: QWidget | None = None,
        services: Services | None = None,
    ) -> None:
        super().__init__(parent)
        # The Greetings page is declared by the template library module: make sure it is
        # there even when Settings opens before anything drafted a greeting.
        import crmcompanion.ui.template_library  # noqa: F401

        self._settings = settings
        self._bus = bus
        self.setWindowTitle("Settings")
        self.resize(780, 560)
        fit_to_screen(self)
        values = settings.all()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        body = QHBoxLayout()
        body.setSpacing(0)
        self.page_list = QListWidget()
        self.page_list.setObjectName("sidebar")
        self.page_list.setAccessibleName("Settings pages")
        self.page_list.setFixedWidth(180)
        self.stack = QStackedWidget()
        self.pages: list[SettingsPage] = []
        for spec in SETTINGS_PAGES:
            page = SettingsPage(spec, values, services)
            self.pages.append(page)
            self.page_list.addItem(spec.title)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setWidget(page)
            self.stack.addWidget(scroll)
        staff = current_staff_name(services)
        general = next((p for p in self.pages if p.page.title == "General"), None)
        if staff and general is not None:
            general.staff_label.setText(f"Working as {embedded(staff)} on this computer.")
            general.staff_label.setVisible(True)
        self.staff_label = general.staff_label if general is not None else None
        self.page_list.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.page_list.setCurrentRow(0)
        body.addWidget(self.page_list)
        holder = QWidget()
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(24, 18, 12, 10)
        holder_layout.addWidget(self.stack)
        body.addWidget(holder, 1)
        outer.addLayout(body, 1)
        buttons = DialogButtons(self, self.save, margins=(24, 10, 24, 16))
        self.cancel_button, self.save_button = buttons.cancel_button, buttons.accept_button
        outer.addLayout(buttons)
        name_controls(self)

    def page(self, title: str) -> SettingsPage:
        return next(p for p in self.pages if p.page.title == title)

    def show_page(self, title: str) -> SettingsPage:
        page = self.page(title)
        self.page_list.setCurrentRow(self.pages.index(page))
        return page

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
                for page in self.pages:
                    for section in page.sections:
                        changed = changed | (section.save() or Changed())
            except ValidationError as exc:
                problems = exc.field_errors
            except DomainError as exc:
                problems = {"": str(exc)}
            else:
                self._bus.publish(changed)
                self.accept()
                return True
        for index, page in enumerate(self.pages):
            if page.show_errors(problems):
                self.page_list.setCurrentRow(index)
        return False


# The Insights page (segment thresholds) is declared with the insights screens; imported here
# so it is listed whenever the dialog is.
import crmcompanion.ui.insights_settings  # noqa: E402, F401
