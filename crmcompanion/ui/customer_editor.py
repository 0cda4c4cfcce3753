"""The dialog that creates or edits one customer profile.

The form only collects what was typed into a `CustomerDraft`; the service validates it. A
`ValidationError` comes back with field keys ("emails.0", "special_dates.1", "name", ...) and
each message is shown in red under the field it names, the field highlighted, nothing saved.
Rows are sent in on-screen order (empty ones included) so those indexes match the rows.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Sequence
from datetime import date

from PySide6.QtCore import (
    QDate,
    QModelIndex,
    QPersistentModelIndex,
    QRegularExpression,
    QStringListModel,
    Qt,
)
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.customer import (
    Channel,
    Customer,
    CustomerDraft,
    EmailAddress,
    Kind,
    PhoneNumber,
    PostalAddress,
    SpecialDate,
    SpecialDateKind,
    Status,
)
from crmcompanion.core.errors import DomainError, ValidationError
from crmcompanion.core.validation import format_phone
from crmcompanion.services.customers import (
    CustomerService,
    DeletedMeanwhile,
    EditConflict,
    Saved,
)
from crmcompanion.ui.crash import log_hint
from crmcompanion.ui.formatting import contact_label
from crmcompanion.ui.style import CHANNEL_TITLES, STATUS_TITLES, repolish
from crmcompanion.ui.text_display import headline, plain, plain_label, shown
from crmcompanion.ui.widgets import DialogButtons, fit_on_screen, name_controls

logger = logging.getLogger(__name__)

LABEL_WIDTH = 104  # one label column width, so every section lines up
EMAIL_LABELS = ("home", "work", "other")
PHONE_LABELS = ("mobile", "home", "work", "other")
SPECIAL_DATE_TITLES: dict[SpecialDateKind, str] = {
    SpecialDateKind.BIRTHDAY: "Birthday",
    SpecialDateKind.WEDDING_ANNIVERSARY: "Wedding anniversary",
    SpecialDateKind.CUSTOM: "Other date",
}
# The "name" error means no name at all: any of these fields would fix it.
NAME_FIELDS = ("first_name", "last_name", "company")


def error_label() -> QLabel:
    label = plain(QLabel())  # messages may quote what was typed
    label.setObjectName("fieldError")
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def set_invalid(widget: QWidget, invalid: bool) -> None:
    widget.setProperty("invalid", invalid)
    repolish(widget)


class TagCompleter(QCompleter):
    """Completes the tag being typed after the last comma, keeping the earlier tags."""

    def __init__(self, tags: Sequence[str], line_edit: QLineEdit) -> None:
        super().__init__(list(tags), line_edit)
        self._line_edit = line_edit
        self.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterMode(Qt.MatchFlag.MatchStartsWith)

    def splitPath(self, path: str) -> list[str]:
        return [path.split(",")[-1].strip()]

    def pathFromIndex(self, index: QModelIndex | QPersistentModelIndex) -> str:
        chosen = str(index.data())
        earlier = [t.strip() for t in self._line_edit.text().split(",")[:-1] if t.strip()]
        return ", ".join([*earlier, chosen]) + ", "

    def set_tags(self, tags: Sequence[str]) -> None:
        model = self.model()
        if isinstance(model, QStringListModel):
            model.setStringList(list(tags))


class ContactRow(QWidget):
    """One email address or phone number with its label and a remove button."""

    def __init__(self, labels: Sequence[str], placeholder: str) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        row = QHBoxLayout()
        row.setSpacing(6)
        # The owner reads "Mobile", the customer keeps the stored "mobile": each item shows
        # its word and carries the stored value; a typed label is stored as typed.
        self.label = QComboBox()
        self.label.setEditable(True)
        for stored in labels:
            self.label.addItem(contact_label(stored), stored)
        self.label.setFixedWidth(110)
        self._loaded_label: str | None = None
        self.value = QLineEdit()
        self.value.setPlaceholderText(placeholder)
        self.remove = QPushButton("✕")
        self.remove.setObjectName("iconButton")
        self.remove.setToolTip("Remove")
        row.addWidget(self.label)
        row.addWidget(self.value, 1)
        row.addWidget(self.remove)
        outer.addLayout(row)
        self.error = error_label()
        outer.addWidget(self.error)

    def set_label(self, stored: str) -> None:
        """Show the stored label `stored` as its word (kept as stored when saved back)."""
        self._loaded_label = stored
        self.label.setCurrentText(contact_label(stored))

    def stored_label(self) -> str:
        """The label to store: the loaded one if the owner left it, the offered item's
        stored value if one is chosen (or typed as shown), else the typed text."""
        text = self.label.currentText()
        if self._loaded_label is not None and text == contact_label(self._loaded_label):
            return self._loaded_label
        index = self.label.findText(text)
        if index >= 0:
            return str(self.label.itemData(index))
        return text


class SpecialDateRow(QWidget):
    """Kind, day, month, optional year and (for custom dates) a label."""

    def __init__(self) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.kind = QComboBox()
        for kind, title in SPECIAL_DATE_TITLES.items():
            self.kind.addItem(title, kind)
        self.kind.setFixedWidth(160)
        self.day = QComboBox()
        for number in range(1, 32):
            self.day.addItem(str(number), number)
        self.day.setToolTip("Day")
        self.day.setFixedWidth(64)
        self.month = QComboBox()
        for number in range(1, 13):
            self.month.addItem(calendar.month_name[number], number)
        self.month.setFixedWidth(118)
        self.year = QLineEdit()
        self.year.setPlaceholderText("Year?")
        self.year.setToolTip("Year (optional): leave empty if you do not know it")
        self.year.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,4}")))
        self.year.setFixedWidth(70)
        self.label = QLineEdit()
        self.label.setPlaceholderText("Label (custom dates)")
        self.label.setMinimumWidth(110)
        self.remove = QPushButton("✕")
        self.remove.setObjectName("iconButton")
        self.remove.setToolTip("Remove")
        for widget in (self.kind, self.day, self.month, self.year):
            row.addWidget(widget)
        row.addWidget(self.label, 1)
        row.addWidget(self.remove)
        outer.addLayout(row)
        self.error = error_label()
        outer.addWidget(self.error)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()

    def _kind_changed(self) -> None:
        self.label.setEnabled(self.kind.currentData() == SpecialDateKind.CUSTOM)

    def set_value(self, special: SpecialDate) -> None:
        self.kind.setCurrentIndex(self.kind.findData(special.kind))
        self.day.setCurrentIndex(special.day - 1)
        self.month.setCurrentIndex(special.month - 1)
        self.year.setText(str(special.year) if special.year is not None else "")
        self.label.setText(special.label)

    def value(self) -> SpecialDate:
        year_text = self.year.text().strip()
        kind = SpecialDateKind(self.kind.currentData())
        return SpecialDate(
            kind=kind,
            month=int(self.month.currentData()),
            day=int(self.day.currentData()),
            year=int(year_text) if year_text else None,
            label=self.label.text().strip() if kind is SpecialDateKind.CUSTOM else "",
        )


class RowList(QWidget):
    """A growing list of editor rows with an "Add" link under them."""

    def __init__(self, add_text: str, make_row: type[QWidget] | object) -> None:
        super().__init__()
        self._make_row = make_row
        self.rows: list[QWidget] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self._rows_layout = QVBoxLayout()
        self._rows_layout.setSpacing(4)
        layout.addLayout(self._rows_layout)
        self.add_button = QPushButton(add_text)
        self.add_button.setObjectName("link")
        self.add_button.clicked.connect(lambda: self.add_row())
        link_row = QHBoxLayout()
        link_row.addWidget(self.add_button)
        link_row.addStretch(1)
        layout.addLayout(link_row)

    def add_row(self) -> QWidget:
        row = self._make_row()  # type: ignore[operator]
        row.remove.clicked.connect(lambda: self.remove_row(row))
        self.rows.append(row)
        self._rows_layout.addWidget(row)
        row.show()  # at once, not on the next event loop pass (the layout would queue it)
        return row

    def remove_row(self, row: QWidget) -> None:
        self.rows.remove(row)
        self._rows_layout.removeWidget(row)
        row.deleteLater()


class CustomerEditor(QDialog):
    """Create (customer=None) or edit a customer; `saved` holds the result after Save."""

    def __init__(
        self,
        customers: CustomerService,
        today: date,
        customer: Customer | None = None,
        known_tags: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._customers = customers
        self._customer = customer
        # Optimistic locking: the version this form edits and the form as it was opened
        # (the base of a three-way merge when someone else saves meanwhile).
        self._version = customer.version if customer else 0
        self._base: CustomerDraft | None = None
        self._source_uid = customer.source_uid if customer else ""
        self.conflict_dialog: QDialog | None = None
        self.saved: Saved | None = None
        self.field_widgets: dict[str, list[QWidget]] = {}
        self.error_labels: dict[str, QLabel] = {}
        self.setWindowTitle(f"Edit {customer.display_name}" if customer else "New customer")
        self.setModal(True)
        # At most the screen it opens on (a 1366x768 laptop, a 900x600 window): the form
        # scrolls inside, the buttons stay in view (ui.widgets.fit_on_screen, at the end).
        self.resize(760, 780)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        content = QVBoxLayout(body)
        content.setContentsMargins(24, 20, 24, 12)
        content.setSpacing(6)

        heading = plain_label(
            f"Edit {headline(customer.display_name)}" if customer else "New customer",
            "pageTitle")
        content.addWidget(heading)
        self.banner = plain(QLabel())
        self.banner.setObjectName("formBanner")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        content.addWidget(self.banner)

        # --- name ---
        form = self._section(content, "NAME")
        self.first_name = QLineEdit()
        self.last_name = QLineEdit()
        names = QHBoxLayout()
        names.setSpacing(8)
        self.first_name.setPlaceholderText("First name")
        self.last_name.setPlaceholderText("Last name")
        names.addWidget(self.first_name)
        names.addWidget(self.last_name)
        name_box = QVBoxLayout()
        name_box.setSpacing(2)
        name_box.addLayout(names)
        for key, widget in (("first_name", self.first_name), ("last_name", self.last_name)):
            self._register(key, widget, name_box)
        self._register("name", None, name_box)
        self._add_row(form, "Name", name_box)
        self.display_name = QLineEdit()
        self.display_name.setPlaceholderText("Shown in lists; defaults to the name")
        self._add_row(form, "Display name", self._boxed("display_name", self.display_name))
        self.company = QLineEdit()
        self._add_row(form, "Company", self._boxed("company", self.company))
        self.field_widgets["name"] = [self.first_name, self.last_name, self.company]

        # --- contact ---
        form = self._section(content, "CONTACT")
        self.emails = RowList(
            "+ Add email", lambda: ContactRow(EMAIL_LABELS, "name@example.com")
        )
        self._add_row(form, "Email", self.emails)
        self.phones = RowList("+ Add phone", lambda: ContactRow(PHONE_LABELS, "+1 555 0100"))
        self._add_row(form, "Phone", self.phones)
        self.preferred_channel = QComboBox()
        self.preferred_channel.addItem("No preference", None)
        for channel, title in CHANNEL_TITLES.items():
            self.preferred_channel.addItem(title, channel)
        self._add_row(form, "Prefers", self.preferred_channel)

        self.street = QLineEdit()
        self.street.setPlaceholderText("Street and number")
        self.postcode = QLineEdit()
        self.postcode.setPlaceholderText("Postcode")
        self.postcode.setMaximumWidth(120)
        self.city = QLineEdit()
        self.city.setPlaceholderText("City")
        self.region = QLineEdit()
        self.region.setPlaceholderText("State / region")
        self.country = QLineEdit()
        self.country.setPlaceholderText("Country")
        address = QVBoxLayout()
        address.setSpacing(6)
        address.addWidget(self.street)
        line = QHBoxLayout()
        line.addWidget(self.postcode)
        line.addWidget(self.city, 1)
        address.addLayout(line)
        line = QHBoxLayout()
        line.addWidget(self.region)
        line.addWidget(self.country)
        address.addLayout(line)
        self._add_row(form, "Address", address)

        # --- relationship ---
        form = self._section(content, "RELATIONSHIP")
        self.status = QComboBox()
        for status in Status:
            self.status.addItem(STATUS_TITLES[status], status)
        self.status.setCurrentIndex(self.status.findData(CustomerDraft().status))
        self.kind = QComboBox()
        self.kind.addItem("External customer", Kind.EXTERNAL)
        self.kind.addItem("Internal (colleague or department)", Kind.INTERNAL)
        self.key_account = QCheckBox("Key account")
        line = QHBoxLayout()
        line.addWidget(self.status)
        line.addWidget(self.kind, 1)
        line.addWidget(self.key_account)
        self._add_row(form, "Status", line)
        self.tags = QLineEdit()
        self.tags.setPlaceholderText("Comma separated, e.g. VIP, Newsletter")
        self.tag_completer = TagCompleter(known_tags, self.tags)
        self.tags.setCompleter(self.tag_completer)
        self._add_row(form, "Tags", self._boxed("tags", self.tags))
        self.since_known = QCheckBox("Known")
        self.customer_since = QDateEdit()
        self.customer_since.setCalendarPopup(True)
        self.customer_since.setDisplayFormat("d MMM yyyy")
        self.customer_since.setDate(QDate(today.year, today.month, today.day))
        self.customer_since.setEnabled(False)
        self.since_known.toggled.connect(self.customer_since.setEnabled)
        line = QHBoxLayout()
        line.addWidget(self.since_known)
        line.addWidget(self.customer_since)
        line.addStretch(1)
        since_box = QVBoxLayout()
        since_box.setSpacing(2)
        since_box.addLayout(line)
        self._register("customer_since", self.customer_since, since_box)
        self._add_row(form, "Customer since", since_box)

        # --- special dates ---
        form = self._section(content, "SPECIAL DATES")
        self.special_dates = RowList("+ Add special date", SpecialDateRow)
        self._add_row(form, "Dates", self.special_dates)

        # --- notes ---
        form = self._section(content, "NOTES")
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Anything worth remembering")
        self.notes.setMinimumHeight(90)
        self._add_row(form, "Notes", self._boxed("notes", self.notes))
        content.addStretch(1)

        # --- buttons ---
        bar = DialogButtons(self, self.save, margins=(24, 10, 24, 16))
        self.cancel_button, self.save_button = bar.cancel_button, bar.accept_button
        outer.addLayout(bar)

        if customer is not None:
            self._load(customer)
            self._base = self.draft()
        else:
            self.emails.add_row()
            self.phones.add_row()
        self.first_name.setFocus()
        fit_on_screen(self)
        name_controls(self)

    # --- building ---------------------------------------------------------------------
    def _section(self, content: QVBoxLayout, title: str) -> QFormLayout:
        label = QLabel(title)
        label.setObjectName("sectionLabel")
        content.addWidget(label)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(8)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        content.addLayout(form)
        return form

    def _add_row(self, form: QFormLayout, text: str, field: QWidget | QLayout) -> None:
        label = QLabel(text)
        label.setFixedWidth(LABEL_WIDTH)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        label.setContentsMargins(0, 6, 0, 0)
        form.addRow(label, field)

    def _register(self, key: str, widget: QWidget | None, box: QVBoxLayout) -> None:
        label = error_label()
        box.addWidget(label)
        self.error_labels[key] = label
        if widget is not None:
            self.field_widgets[key] = [widget]

    def _boxed(self, key: str, widget: QWidget) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(2)
        box.addWidget(widget)
        self._register(key, widget, box)
        return box

    def _load(self, customer: Customer) -> None:
        self.first_name.setText(customer.first_name)
        self.last_name.setText(customer.last_name)
        person = " ".join(p for p in (customer.first_name, customer.last_name) if p)
        if customer.display_name not in (person, customer.company):
            self.display_name.setText(customer.display_name)
        self.company.setText(customer.company)
        for email in customer.emails or (EmailAddress("", "home"),):
            row = self.emails.add_row()
            row.set_label(email.label)
            row.value.setText(email.address)
        for phone in customer.phones or (PhoneNumber("", "mobile"),):
            row = self.phones.add_row()
            row.set_label(phone.label)
            row.value.setText(format_phone(phone.number) if phone.number else "")
        self.preferred_channel.setCurrentIndex(
            self.preferred_channel.findData(customer.preferred_channel)
            if customer.preferred_channel
            else 0
        )
        self.street.setText(customer.address.street)
        self.postcode.setText(customer.address.postcode)
        self.city.setText(customer.address.city)
        self.region.setText(customer.address.region)
        self.country.setText(customer.address.country)
        self.status.setCurrentIndex(self.status.findData(customer.status))
        self.kind.setCurrentIndex(self.kind.findData(customer.kind))
        self.key_account.setChecked(customer.key_account)
        self.tags.setText(", ".join(customer.tags))
        if customer.customer_since is not None:
            since = customer.customer_since
            self.since_known.setChecked(True)
            self.customer_since.setDate(QDate(since.year, since.month, since.day))
        for special in customer.special_dates:
            self.special_dates.add_row().set_value(special)
        self.notes.setPlainText(customer.notes)

    # --- reading the form -------------------------------------------------------------
    def draft(self) -> CustomerDraft:
        since: date | None = None
        if self.since_known.isChecked():
            qdate = self.customer_since.date()
            since = date(qdate.year(), qdate.month(), qdate.day())
        return CustomerDraft(
            first_name=self.first_name.text(),
            last_name=self.last_name.text(),
            display_name=self.display_name.text(),
            company=self.company.text(),
            emails=tuple(
                EmailAddress(row.value.text(), row.stored_label())
                for row in self.emails.rows
            ),
            phones=tuple(
                PhoneNumber(row.value.text(), row.stored_label()) for row in self.phones.rows
            ),
            address=PostalAddress(
                street=self.street.text().strip(),
                city=self.city.text().strip(),
                region=self.region.text().strip(),
                postcode=self.postcode.text().strip(),
                country=self.country.text().strip(),
            ),
            tags=tuple(t.strip() for t in self.tags.text().split(",") if t.strip()),
            status=Status(self.status.currentData()),
            kind=Kind(self.kind.currentData()),
            key_account=self.key_account.isChecked(),
            preferred_channel=self._channel(),
            customer_since=since,
            notes=self.notes.toPlainText(),
            special_dates=tuple(row.value() for row in self.special_dates.rows),
            source_uid=self._source_uid,
        )

    def _channel(self) -> Channel | None:
        # Qt hands a StrEnum item's data back as a plain str: turn it back into the member.
        data = self.preferred_channel.currentData()
        return Channel(data) if data else None

    # --- saving -----------------------------------------------------------------------
    def save(self) -> None:
        self._save(self.draft())

    def _save(self, draft: CustomerDraft) -> None:
        self.clear_errors()
        try:
            if self._customer is None:
                self.saved = self._customers.create(draft)
            else:
                self.saved = self._customers.update(
                    self._customer.id, draft, self._version, self._base
                )
        except ValidationError as exc:
            self.show_errors(exc.field_errors)
            return
        except EditConflict as exc:
            self._choose_over_conflict(exc)
            return
        except DeletedMeanwhile as exc:
            # Gone while the form was open: what was typed stays, and Save makes it anew.
            self._customer = None
            self.save_button.setText("Save as new customer")
            self._show_banner(str(exc))
            return
        except DomainError as exc:
            self._show_banner(str(exc))
            return
        except Exception as exc:  # never a silent failure: what was typed stays on screen
            logger.exception("Saving customer %s failed",
                             f"#{self._customer.id}" if self._customer else "(new)")
            self._show_banner(
                f"The customer could not be saved ({type(exc).__name__}: {exc}); nothing was "
                f"changed. Details are in the log file{log_hint()}."
            )
            return
        logger.info("Saved customer #%s%s", self.saved.customer.id,
                    f" (kept from a save meanwhile: {', '.join(self.saved.kept_theirs)})"
                    if self.saved.kept_theirs else "")
        self.accept()

    def _choose_over_conflict(self, conflict: EditConflict) -> None:
        """Someone saved this customer meanwhile and we both changed some fields: theirs vs
        mine in the conflict dialog; its choice is saved over their version. Backing out
        leaves this form as it is (the next Save asks again)."""
        from crmcompanion.ui.conflict_dialog import ConflictDialog  # only when it happens

        dialog = ConflictDialog(conflict, self)
        self.conflict_dialog = dialog

        def finished(result: int) -> None:
            self.conflict_dialog = None
            dialog.deleteLater()
            if result != QDialog.DialogCode.Accepted:
                self._show_banner(f"{conflict} Your changes are still here.")
                return
            self._version = conflict.theirs.version
            self._base = conflict.theirs.to_draft()
            self._save(dialog.resolved())

        dialog.finished.connect(finished)
        dialog.open()  # window-modal, non-blocking, like this editor itself

    def clear_errors(self) -> None:
        self.banner.setVisible(False)
        for label in self._all_error_labels():
            label.clear()
            label.setVisible(False)
        for widget in self._all_field_widgets():
            if widget.property("invalid"):
                set_invalid(widget, False)

    def show_errors(self, errors: dict[str, str]) -> None:
        """Each message under its field, the field highlighted; the rest in the banner."""
        unplaced: list[str] = []
        first_widget: QWidget | None = None
        for key, message in errors.items():
            label, widgets = self._error_target(key)
            if label is None:
                unplaced.append(message)
                continue
            label.setText(shown(message))
            label.setVisible(True)
            for widget in widgets:
                set_invalid(widget, True)
            if first_widget is None and widgets:
                first_widget = widgets[0]
        if unplaced:
            self._show_banner(" ".join(unplaced))
        elif errors:
            self._show_banner("Please fix the highlighted fields; nothing was saved.")
        if first_widget is not None:
            first_widget.setFocus()

    def _error_target(self, key: str) -> tuple[QLabel | None, list[QWidget]]:
        group, _, number = key.partition(".")
        lists = {"emails": self.emails, "phones": self.phones, "special_dates": self.special_dates}
        if group in lists and number.isdigit():
            rows = lists[group].rows
            index = int(number)
            if index < len(rows):
                row = rows[index]
                if isinstance(row, SpecialDateRow):
                    return row.error, [row.day, row.month, row.year, row.label]
                return row.error, [row.value]  # type: ignore[attr-defined]
            return None, []
        return self.error_labels.get(key), self.field_widgets.get(key, [])

    def _all_error_labels(self) -> list[QLabel]:
        labels = list(self.error_labels.values())
        for rows in (self.emails.rows, self.phones.rows, self.special_dates.rows):
            labels.extend(row.error for row in rows)  # type: ignore[attr-defined]
        return labels

    def _all_field_widgets(self) -> list[QWidget]:
        widgets = [w for group in self.field_widgets.values() for w in group]
        for rows in (self.emails.rows, self.phones.rows):
            widgets.extend(row.value for row in rows)  # type: ignore[attr-defined]
        for row in self.special_dates.rows:
            widgets.extend([row.day, row.month, row.year, row.label])  # type: ignore[attr-defined]
        return widgets

    def _show_banner(self, text: str) -> None:
        self.banner.setText(shown(text))
        self.banner.setVisible(True)
