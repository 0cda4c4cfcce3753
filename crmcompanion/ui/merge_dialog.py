"""The duplicates window: likely duplicate customers with the reasons, and a field-by-field
merge of a pair that can be undone.

Why field by field: two records of the same person rarely agree, and only the owner knows
which phone or company is current. So the dialog shows the pair side by side, only the fields
that differ, each with a radio per side (lists default to "both", the union), and the
`DuplicateService` does the merge in one unit of work that follows every table pointing to
customers. The last merge can be undone from the same window.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.customer import Customer
from crmcompanion.core.errors import ConflictError, DomainError, NotFoundError
from crmcompanion.services.container import Services
from crmcompanion.services.duplicates import (
    LIST_FIELDS,
    MERGE_FIELDS,
    DuplicateGroup,
    MergeChoice,
    MergePreview,
    MergeResult,
)
from crmcompanion.ui import formatting
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.customer_detail import describe_special_date
from crmcompanion.ui.formatting import phone as phone_text
from crmcompanion.ui.formatting import short_date
from crmcompanion.ui.style import STATUS_TITLES
from crmcompanion.ui.text_display import embedded, plain_tooltip
from crmcompanion.ui.widgets import EmptyState, fit_on_screen, name_controls

logger = logging.getLogger(__name__)

REASON_TITLES = {"email": "same email", "phone": "same phone", "same_name": "same name",
                 "similar_name": "similar name"}
FIELD_TITLES = {
    "first_name": "First name", "last_name": "Last name", "display_name": "Display name",
    "company": "Company", "address": "Address", "status": "Status", "kind": "Kind",
    "key_account": "Key account", "preferred_channel": "Preferred channel",
    "customer_since": "Customer since", "notes": "Notes",
    "do_not_contact": "Do not contact", "cadence_days": "Reach out every",
    "emails": "Emails", "phones": "Phones", "tags": "Tags", "special_dates": "Special dates",
}


HIDDEN_FIELDS = ("source_uid",)
CHANNEL_WORDS = {"email": "Email", "phone": "Phone call", "sms": "SMS", "in_person": "In person",
                 "letter": "Letter", "other": "Other"}
KIND_WORDS = {"external": "Customer", "internal": "Internal contact"}
# A value wider than this is cut with "…" (the whole of it in the tool tip), so the three
# columns (kept, other, Both) fit beside the list of groups at 900 px.
VALUE_WIDTH = 140


def group_text(group: DuplicateGroup) -> str:
    shown = [embedded(c.display_name) for c in group.customers]
    # "João Silva (2 records)", not the same name over and over ("João Silva · João Silva").
    names = (f"{shown[0]} ({len(shown)} records)" if len(set(shown)) == 1
             else " · ".join(shown))
    reasons = ", ".join(dict.fromkeys(
        f"{REASON_TITLES.get(r.kind, r.kind)} {r.value}".strip()
        if r.kind in ("email", "phone") else REASON_TITLES.get(r.kind, r.kind)
        for p in group.pairs for r in p.reasons))
    return f"{names}\n{reasons}"


def pair_details(keep: Customer, other: Customer) -> tuple[str, str]:
    """What tells two customers of one name apart, as the owner knows them (never the
    record's number): the first of email, phone and town that differs, else when each was
    added. Nothing ("", "") when their names already differ."""
    if keep.display_name.casefold() != other.display_name.casefold():
        return "", ""
    for word, detail in (("email", _first_email), ("phone", _first_phone),
                         ("town", _city)):
        mine, theirs = detail(keep), detail(other)
        if mine.casefold() != theirs.casefold():
            return (embedded(mine) if mine else f"no {word}",
                    embedded(theirs) if theirs else f"no {word}")
    mine, theirs = short_date(keep.created_at), short_date(other.created_at)
    if mine != theirs:
        return f"added {mine}", f"added {theirs}"
    keep_first = (keep.created_at, keep.id) < (other.created_at, other.id)
    return (f"added {'first' if keep_first else 'later'}",
            f"added {'later' if keep_first else 'first'}")


def _named(customer: Customer, detail: str) -> str:
    name = embedded(customer.display_name)
    return f"{name} ({detail})" if detail else name


def _first_email(customer: Customer) -> str:
    return customer.emails[0].address if customer.emails else ""


def _first_phone(customer: Customer) -> str:
    return phone_text(customer.phones[0].number) if customer.phones else ""


def _city(customer: Customer) -> str:
    return customer.address.city


# The service's words name the record's number ("Customer #12 does not exist"); the owner
# knows no numbers, so a customer gone since the list was made is said in words.
GONE_TEXT = ("One of these customers is no longer in the book (deleted or merged since "
             "this list was made). Close and open Find duplicates again.")


def _problem_text(exc: DomainError) -> str:
    return GONE_TEXT if isinstance(exc, NotFoundError) else str(exc)


def field_value(preview: MergePreview, field: str, side: str) -> str:
    """A field's value of one side ("keep" or "other") as the user reads it."""
    customer: Customer = preview.keep if side == "keep" else preview.other
    if field == "do_not_contact":
        flag = preview.keep_do_not_contact if side == "keep" else preview.other_do_not_contact
        return "Yes" if flag else "No"
    if field == "cadence_days":
        days = preview.keep_cadence_days if side == "keep" else preview.other_cadence_days
        return f"{days} days" if days else "(default)"
    value = getattr(customer, field, "")
    if field == "address":
        return "" if customer.address.is_empty() else customer.address.one_line()
    if field == "emails":
        return "\n".join(e.address for e in customer.emails)
    if field == "phones":
        return "\n".join(phone_text(p.number) for p in customer.phones)
    if field == "customer_since":
        return short_date(customer.customer_since)
    if field == "preferred_channel":
        return CHANNEL_WORDS.get(str(getattr(value, "value", value or "")), "")
    if field == "status":
        return STATUS_TITLES.get(customer.status, str(customer.status))
    if field == "kind":
        raw = str(getattr(value, "value", value))
        return KIND_WORDS.get(raw, raw.capitalize())
    if field == "tags":
        return ", ".join(customer.tags)
    if field == "special_dates":
        return "\n".join(describe_special_date(s) for s in customer.special_dates)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def _fitted(metrics: QFontMetrics, text: str) -> str:
    """Each line of `text` cut to VALUE_WIDTH pixels with "…"."""
    return "\n".join(metrics.elidedText(line, Qt.TextElideMode.ElideRight, VALUE_WIDTH)
                     for line in text.split("\n"))


EMPTY_TEXT = (
    "This window finds customers who may have been entered twice (the same email address "
    "or phone number, or nearly the same name) and merges each pair into one. None look "
    "alike now: open it again after adding or importing customers.")


class MergeDialog(QDialog):
    merged = Signal(object)  # MergeResult
    undone = Signal(object)  # Changed

    def __init__(self, services: Services, bus: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._duplicates = services.duplicates
        self._bus = bus
        self.groups: list[DuplicateGroup] = []
        self.preview: MergePreview | None = None
        self.last_merge: MergeResult | None = None
        self._choices: dict[str, QButtonGroup] = {}
        self.setWindowTitle("Duplicate customers")
        self.resize(1000, 640)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        title = QLabel("Duplicate customers")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("pageSubtitle")
        layout.addWidget(self.subtitle)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.group_list = QListWidget()
        # Two lines a group (the names, the reasons), each cut with "…" to the list's width
        # and whole in the tooltip. Wrapped, a long email pushed the text out of a list
        # that then scrolled sideways, and rows measured for one width and painted at
        # another lost their last line ("Émilie Nowak (2 records)…" over an empty line).
        self.group_list.setWordWrap(False)
        self.group_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.group_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.group_list.setSpacing(4)
        self.group_list.currentRowChanged.connect(self._group_chosen)
        split.addWidget(self.group_list)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(12, 0, 0, 0)
        pair_row = QHBoxLayout()
        self.pair_label = QLabel()
        self.pair_label.setTextFormat(Qt.TextFormat.PlainText)
        self.pair_label.setWordWrap(True)
        pair_row.addWidget(self.pair_label, 1)
        self.swap_button = QPushButton("⇄ Keep the other")
        self.swap_button.setToolTip("Keep the other customer's record and merge this one into it")
        self.swap_button.clicked.connect(self.swap)
        pair_row.addWidget(self.swap_button)
        right_layout.addLayout(pair_row)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        self.fields = QFrame()
        self.fields.setObjectName("card")
        self.grid = QGridLayout(self.fields)
        self.grid.setContentsMargins(14, 10, 14, 10)
        self.grid.setHorizontalSpacing(14)
        scroll.setWidget(self.fields)
        right_layout.addWidget(scroll, 1)
        split.addWidget(right)
        self.group_list.setMinimumWidth(170)
        split.setSizes([230, 770])
        split.setChildrenCollapsible(False)
        # Nothing alike (an empty book, or every customer different): instead of a bare
        # panel, what this window finds and when to come back, as the app's other empty pages.
        self.pages = QStackedWidget()
        self.pages.addWidget(split)
        self.empty = EmptyState("☺", "No duplicates found", EMPTY_TEXT)
        self.pages.addWidget(self.empty)
        layout.addWidget(self.pages, 1)

        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        self.undo_button = QPushButton("Undo merge")
        self.undo_button.setVisible(False)
        self.undo_button.clicked.connect(self.undo)
        buttons.addWidget(self.undo_button)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.accept)
        buttons.addWidget(self.close_button)
        self.merge_button = QPushButton("Merge")
        self.merge_button.setObjectName("primary")
        self.merge_button.clicked.connect(self.merge)
        buttons.addWidget(self.merge_button)
        layout.addLayout(buttons)
        self._pair: tuple[int, int] | None = None
        self.reload()
        fit_on_screen(self)
        name_controls(self)

    # --- groups -------------------------------------------------------------------------
    def reload(self) -> None:
        try:
            self.groups = self._duplicates.find_duplicates()
        except DomainError as exc:
            self.groups = []
            self.status.setText(str(exc))
        self.group_list.blockSignals(True)
        self.group_list.clear()
        for group in self.groups:
            item = QListWidgetItem(group_text(group))
            item.setToolTip(plain_tooltip(item.text()))
            self.group_list.addItem(item)
        self.group_list.blockSignals(False)
        count = len(self.groups)
        self.subtitle.setText(
            f"{formatting.number(count)} group{'s' if count != 1 else ''} of customers that "
            "look like the same person. Pick the values to keep, then Merge." if count else "")
        self.subtitle.setVisible(bool(count))  # the empty page says it, once
        self.pages.setCurrentWidget(self.pages.widget(0) if count else self.empty)
        # Nothing to merge: no Merge button at all rather than a greyed one to puzzle over.
        self.merge_button.setVisible(bool(count))
        if count:
            self.group_list.setCurrentRow(0)
        else:
            self._show_pair(None)

    def _group_chosen(self, row: int) -> None:
        if 0 <= row < len(self.groups):
            pair = self.groups[row].pairs[0]
            self._show_pair((pair.first_id, pair.second_id))

    def swap(self) -> None:
        if self._pair is not None:
            self._show_pair((self._pair[1], self._pair[0]))

    # --- the pair -----------------------------------------------------------------------
    def _clear_grid(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.hide()  # deleteLater waits for the event loop; hide it now
                widget.deleteLater()
        self._choices = {}

    def _show_pair(self, pair: tuple[int, int] | None) -> None:
        self._clear_grid()
        self._pair = pair
        self.preview = None
        self.merge_button.setEnabled(False)
        self.swap_button.setEnabled(pair is not None)
        if pair is None:
            self.pair_label.setText("")  # the empty page is shown instead
            return
        try:
            preview = self._duplicates.merge_preview(*pair)
        except DomainError as exc:
            self.pair_label.setText(_problem_text(exc))
            return
        self.preview = preview
        keep_detail, other_detail = pair_details(preview.keep, preview.other)
        self.pair_label.setText(f"Keep {_named(preview.keep, keep_detail)} and merge "
                                f"{_named(preview.other, other_detail)} into it.")
        both = "Both" if any(f in LIST_FIELDS for f in preview.differing) else ""
        # Each column headed by its customer's name, and below it what tells the two apart,
        # each line cut to the column (whole in the tooltip): a long email wrapped mid-word
        # and pushed the Both column out of sight.
        headings = [f"{embedded(customer.display_name)}\n{detail}" if detail
                    else embedded(customer.display_name)
                    for customer, detail in ((preview.keep, keep_detail),
                                             (preview.other, other_detail))]
        for column, text in enumerate(("", *headings, both)):
            label = QLabel()
            label.setObjectName("sectionLabel")
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.ensurePolished()  # the heading's own (smaller, bold) font, to cut by
            label.setText(_fitted(label.fontMetrics(), text))
            label.setToolTip(plain_tooltip(text) if column in (1, 2) else "")
            self.grid.addWidget(label, 0, column)
        # Not the import's source ID: a code the owner cannot judge (the merge keeps the
        # kept record's, else the other's, so a later import still finds the customer).
        differing = [f for f in MERGE_FIELDS
                     if f in preview.differing and f not in HIDDEN_FIELDS]
        for row, field in enumerate(differing, 1):
            self._add_field_row(row, field, preview)
        if not differing:
            self.grid.addWidget(QLabel("The two records hold the same values."), 1, 0, 1, 4)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(2, 1)
        self.grid.setRowStretch(len(differing) + 1, 1)
        self.merge_button.setEnabled(True)

    def _add_field_row(self, row: int, field: str, preview: MergePreview) -> None:
        name = QLabel(FIELD_TITLES.get(field, field.replace("_", " ").capitalize()))
        name.setStyleSheet("font-weight: 600;")
        self.grid.addWidget(name, row, 0, Qt.AlignmentFlag.AlignTop)
        group = QButtonGroup(self)
        keep_value = field_value(preview, field, "keep")
        other_value = field_value(preview, field, "other")
        for column, (side, value) in enumerate((("keep", keep_value), ("other", other_value)), 1):
            # "&" would become a keyboard mnemonic in a button's text: double it.
            radio = QRadioButton(_fitted(self.fontMetrics(), embedded(value or "(empty)"))
                                 .replace("&", "&&"))
            if value:
                radio.setToolTip(plain_tooltip(embedded(value)))
            radio.setAccessibleName(f"{FIELD_TITLES.get(field, field)}: "
                                    f"{embedded(value or '(empty)')}")
            radio.setObjectName(f"{field}:{side}")
            radio.setProperty("choice", side)
            group.addButton(radio)
            self.grid.addWidget(radio, row, column, Qt.AlignmentFlag.AlignTop)
        if field in LIST_FIELDS:
            both = QRadioButton("Both")
            both.setAccessibleName(f"{FIELD_TITLES.get(field, field)}: both")
            both.setObjectName(f"{field}:union")
            both.setProperty("choice", "union")
            group.addButton(both)
            self.grid.addWidget(both, row, 3, Qt.AlignmentFlag.AlignTop)
            both.setChecked(True)
        else:
            # The service's default: the kept value, filled from the other when empty.
            default = "keep" if keep_value or not other_value else "other"
            for button in group.buttons():
                button.setChecked(button.property("choice") == default)
        self._choices[field] = group

    def choice_button(self, field: str, side: str) -> QRadioButton:
        button = self.fields.findChild(QRadioButton, f"{field}:{side}")
        if button is None:
            raise KeyError(f"{field}:{side}")
        return button

    def choices(self) -> dict[str, MergeChoice]:
        out: dict[str, MergeChoice] = {}
        for field, group in self._choices.items():
            checked = group.checkedButton()
            if checked is not None:
                out[field] = checked.property("choice")
        return out

    # --- merge and undo -----------------------------------------------------------------
    def merge(self) -> MergeResult | None:
        if self._pair is None:
            return None
        keep_id, other_id = self._pair
        try:
            result = self._duplicates.merge(keep_id, other_id, self.choices())
        except DomainError as exc:
            self.status.setText(f"Could not merge: {_problem_text(exc)}")
            return None
        self.last_merge = result
        self._bus.publish(result.changed)
        self.status.setText(f"Merged into {embedded(result.customer.display_name)}.")
        self.undo_button.setVisible(True)
        self.undo_button.setEnabled(True)
        self.merged.emit(result)
        self.reload()
        return result

    def undo(self) -> None:
        result = self.last_merge
        if result is None:
            return
        try:
            changed = self._duplicates.undo_merge(result)
        except ConflictError as exc:  # says what changed since, in words
            self.status.setText(str(exc))
            return
        except DomainError:  # the service's reason names record numbers
            self.status.setText("The merge can no longer be undone.")
            return
        self.last_merge = None
        self._bus.publish(changed)
        self.status.setText("Merge undone: both customers are back as they were.")
        self.undo_button.setVisible(False)
        self.undone.emit(changed)
        self.reload()
