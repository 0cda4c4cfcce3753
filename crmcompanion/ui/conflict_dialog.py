"""Two people edited one customer at once: pick theirs or mine for each field both changed.

Opened by the customer editor when its save meets an `EditConflict` (services.customers):
someone else saved the customer while this form was open, and some fields were changed on
both sides, differently. Each such field is one row, their value and mine side by side, one
radio button each (mine chosen at first: it is what this user just typed); "Keep all theirs"
and "Keep all mine" set every row at once. Fields only one side changed are already merged
by the service and listed above the rows, so the user sees everything that happens. Cancel
goes back to the form, unchanged: nothing is saved and nothing typed is lost.
"""

from __future__ import annotations

import logging
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.customer import (
    Channel,
    CustomerDraft,
    EmailAddress,
    Kind,
    PhoneNumber,
    SpecialDate,
    Status,
)
from crmcompanion.core.validation import format_phone
from crmcompanion.services.customers import EditConflict, FieldConflict
from crmcompanion.ui import formatting
from crmcompanion.ui.customer_detail import describe_special_date
from crmcompanion.ui.style import CHANNEL_TITLES, STATUS_TITLES
from crmcompanion.ui.text_display import embedded, fit_to_screen, plain_label
from crmcompanion.ui.widgets import DialogButtons

logger = logging.getLogger(__name__)

EMPTY = "(empty)"
KIND_TITLES = {Kind.EXTERNAL: "External customer", Kind.INTERNAL: "Internal customer"}
SIDES = ("theirs", "mine")


def value_text(value: object) -> str:
    """A field's value as a person reads it: titles for choices, local dates, one line per
    email, phone or special date; "(empty)" for nothing."""
    if value is None or value == "" or value == ():
        return EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Status):
        return STATUS_TITLES[value]
    if isinstance(value, Kind):
        return KIND_TITLES[value]
    if isinstance(value, Channel):
        return CHANNEL_TITLES[value]
    if isinstance(value, date):
        return formatting.weekday_date(value)
    if isinstance(value, tuple):
        return "\n".join(_item_text(item) for item in value)
    return str(value)


def _item_text(item: object) -> str:
    if isinstance(item, EmailAddress):
        return f"{item.address} ({item.label})"
    if isinstance(item, PhoneNumber):
        return f"{format_phone(item.number)} ({item.label})"
    if isinstance(item, SpecialDate):
        return describe_special_date(item)
    return str(item)  # a tag


class ConflictDialog(QDialog):
    """Theirs vs mine for each conflicting field; `resolved()` is the draft to save."""

    def __init__(self, conflict: EditConflict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.conflict = conflict
        self._groups: dict[str, QButtonGroup] = {}
        theirs = conflict.theirs
        who = theirs.updated_by_name or "Someone else"
        self.setWindowTitle("Changed by someone else")
        self.setModal(True)
        # As tall as the rows need (a scroll area beyond), so one field is no empty page.
        self.resize(720, min(600, 250 + 56 * len(conflict.conflicts)))
        fit_to_screen(self)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 16)
        outer.setSpacing(10)
        outer.addWidget(plain_label(f"{who} saved {theirs.display_name} while you were editing",
                                    "pageTitle"))
        fields = ", ".join(f.label.lower() for f in conflict.conflicts)
        intro = (f"You both changed {fields}. Choose which version to keep for each; "
                 "nothing is saved until you do.")
        if conflict.kept_theirs:
            intro += (" Their other changes are kept ("
                      + ", ".join(x.lower() for x in conflict.kept_theirs)
                      + ") and the rest of yours applied.")
        self.intro = plain_label(intro)
        outer.addWidget(self.intro)

        all_row = QHBoxLayout()
        self.all_theirs = QPushButton("Keep all theirs")
        self.all_mine = QPushButton("Keep all mine")
        for button, side in ((self.all_theirs, "theirs"), (self.all_mine, "mine")):
            button.setObjectName("link")
            button.clicked.connect(lambda _=False, s=side: self.take_all(s))
            all_row.addWidget(button)
        all_row.addStretch(1)
        outer.addLayout(all_row)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        scroll.setWidget(body)
        self.grid = QGridLayout(body)
        self.grid.setHorizontalSpacing(16)
        self.grid.setVerticalSpacing(10)
        for column, text in enumerate(("", f"Theirs ({who})", "Yours")):
            header = plain_label(text, "sectionLabel")
            self.grid.addWidget(header, 0, column)
        for row, field in enumerate(conflict.conflicts, 1):
            self._add_row(row, field)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(2, 1)
        self.grid.setRowStretch(len(conflict.conflicts) + 1, 1)
        outer.addWidget(scroll, 1)

        bar = DialogButtons(self, self.accept, accept_text="Save merged")
        self.cancel_button, self.save_button = bar.cancel_button, bar.accept_button
        self.cancel_button.setText("Back to my form")
        outer.addLayout(bar)

    def _add_row(self, row: int, field: FieldConflict) -> None:
        name = QLabel(field.label)
        name.setStyleSheet("font-weight: 600;")
        name.setContentsMargins(0, 2, 0, 0)  # on the radio buttons' text line
        self.grid.addWidget(name, row, 0, Qt.AlignmentFlag.AlignTop)
        group = QButtonGroup(self)
        for column, (side, value) in enumerate((("theirs", field.theirs),
                                                ("mine", field.mine)), 1):
            # "&" would become a keyboard mnemonic in a button's text: double it.
            text = value_text(value)
            if field.key == "display_name" and text == EMPTY:
                text = "(made from the name)"  # the editor's empty display name field
            radio = QRadioButton(embedded(text).replace("&", "&&"))
            radio.setObjectName(f"{field.key}:{side}")
            radio.setProperty("side", side)
            group.addButton(radio)
            self.grid.addWidget(radio, row, column, Qt.AlignmentFlag.AlignTop)
            radio.setChecked(side == "mine")
        self._groups[field.key] = group

    # --- choosing ---------------------------------------------------------------------
    def choice_button(self, key: str, side: str) -> QRadioButton:
        button = self.findChild(QRadioButton, f"{key}:{side}")
        if button is None:
            raise KeyError(f"{key}:{side}")
        return button

    def take_all(self, side: str) -> None:
        for key in self._groups:
            self.choice_button(key, side).setChecked(True)

    def choices(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, group in self._groups.items():
            checked = group.checkedButton()
            out[key] = str(checked.property("side")) if checked is not None else "mine"
        return out

    def resolved(self) -> CustomerDraft:
        """The merge with each conflicting field from the side chosen."""
        return self.conflict.resolved(self.choices())  # type: ignore[arg-type]
