"""One complaint, worked with the customer: its plan (goal, target date), the workflow buttons
the complaint may take next, progress notes and its history.

Only the moves the workflow allows from the current status are offered (the service checks
them again); a resolved complaint offers the customer's answer to the check-back.
"""

from __future__ import annotations

import logging
from datetime import date

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import DomainError
from crmcompanion.core.feedback import COMPLAINT_TRANSITIONS, ComplaintStatus, Severity
from crmcompanion.services.changes import Changed
from crmcompanion.services.container import Services
from crmcompanion.services.feedback import FeedbackDetail
from crmcompanion.ui.feedback_common import (
    ACTION_TITLES,
    long_date,
    section_label,
    short_date,
    status_word,
    who_said,
)
from crmcompanion.ui.formatting import date_edit_format

logger = logging.getLogger(__name__)


class ComplaintPanel(QWidget):
    """The right-hand side of the Complaints tab."""

    changed = Signal(object)  # a Changed to publish on the bus
    message = Signal(str)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.detail: FeedbackDetail | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 0, 0)
        self.title = QLabel()
        self.title.setObjectName("emptyTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        # Wrapping labels: an unwrapped one is as wide as its text at the least, which
        # pushed the plan's fields past the panel's edge in a 900-pixel window.
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.meta = QLabel()
        self.meta.setObjectName("muted")
        self.meta.setTextFormat(Qt.TextFormat.PlainText)
        self.meta.setWordWrap(True)
        layout.addWidget(self.meta)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text)

        layout.addWidget(section_label("PLAN"))
        form = QFormLayout()
        self.goal = QLineEdit()
        self.goal.setPlaceholderText("What you agreed with the customer")
        form.addRow("Goal", self.goal)
        target_row = QHBoxLayout()
        self.has_target = QCheckBox("Target date")
        # Today, not Qt's 1 January 2000, until a complaint's own date is shown.
        self.target = QDateEdit(QDate(services.clock.today()))
        self.target.setCalendarPopup(True)
        self.target.setDisplayFormat(date_edit_format())  # Qt's default reads "1 03 2026" in C
        self.target.setEnabled(False)
        self.has_target.toggled.connect(self.target.setEnabled)
        target_row.addWidget(self.has_target)
        target_row.addWidget(self.target, 1)
        form.addRow("", target_row)
        layout.addLayout(form)
        self.save_plan_button = QPushButton("Save plan")
        self.save_plan_button.clicked.connect(self.save_plan)
        layout.addWidget(self.save_plan_button, 0, Qt.AlignmentFlag.AlignLeft)

        layout.addWidget(section_label("NEXT STEP"))
        self.actions_row = QHBoxLayout()
        self.actions_row.addStretch(1)
        layout.addLayout(self.actions_row)
        self.action_buttons: dict[ComplaintStatus, QPushButton] = {}

        layout.addWidget(section_label("PROGRESS"))
        note_row = QHBoxLayout()
        self.note = QLineEdit()
        self.note.setPlaceholderText("Add a progress note")
        self.note.returnPressed.connect(self.add_note)
        self.note_button = QPushButton("Add note")
        self.note_button.clicked.connect(self.add_note)
        note_row.addWidget(self.note, 1)
        note_row.addWidget(self.note_button)
        layout.addLayout(note_row)
        self.history = QListWidget()
        self.history.setMinimumHeight(90)  # a few notes even when the panel scrolls
        # A note is read whole: wrapped to the panel's width (at 900 px a note ran off the
        # list's edge mid-sentence), never scrolled sideways.
        self.history.setWordWrap(True)
        self.history.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.history.setResizeMode(QListWidget.ResizeMode.Adjust)
        layout.addWidget(self.history, 1)
        self.setEnabled(False)

    # --- showing -----------------------------------------------------------------------
    def show_item(self, item_id: int | None) -> None:
        if item_id is None:
            self.detail = None
            self.setEnabled(False)
            self.title.setText("")
            return
        try:
            self.detail = self.services.feedback.get(item_id)
        except DomainError as exc:
            self.message.emit(str(exc))
            return
        self.setEnabled(True)
        item = self.detail.item
        self.title.setText(f"{who_said(item)}: {item.status_title}")
        severity = item.severity.title if item.severity else Severity.NORMAL.title
        themes = ", ".join(item.themes) or "no theme"
        self.meta.setText(f"{short_date(item.created_at)} · {item.source.title} · "
                          f"{severity} severity · {themes}")
        self.text.setText(item.text)
        self.goal.setText(item.goal)
        self.has_target.setChecked(item.target_date is not None)
        day = item.target_date or self.services.clock.today()
        self.target.setDate(QDate(day.year, day.month, day.day))
        self._show_actions(ComplaintStatus(item.status or "new"))
        self.history.clear()
        for event in reversed(self.detail.events):
            if event.to_status and event.from_status != event.to_status:
                what = status_word(event.to_status)
            else:
                what = "Note"
            text = f"{short_date(event.at)}  {what}"
            if event.note:
                text += f": {event.note}"
            if event.staff:
                text += f"  ({event.staff})"
            self.history.addItem(text)
        if item.checkback_on is not None and item.status == ComplaintStatus.RESOLVED.value:
            self.history.insertItem(0, f"Check back with the customer on "
                                       f"{long_date(item.checkback_on)}")

    def _show_actions(self, status: ComplaintStatus) -> None:
        for button in self.action_buttons.values():
            self.actions_row.removeWidget(button)
            button.deleteLater()
        self.action_buttons = {}
        for target in COMPLAINT_TRANSITIONS[status]:
            button = QPushButton(ACTION_TITLES[target])
            if target in (ComplaintStatus.RESOLVED, ComplaintStatus.SATISFIED):
                button.setObjectName("primary")
            button.clicked.connect(lambda _=False, t=target: self.move(t))
            self.actions_row.insertWidget(self.actions_row.count() - 1, button)
            self.action_buttons[target] = button

    # --- acting ------------------------------------------------------------------------
    def _target_date(self) -> date | None:
        if not self.has_target.isChecked():
            return None
        picked = self.target.date()
        return date(picked.year(), picked.month(), picked.day())

    def _run(self, call: object) -> None:
        assert self.detail is not None
        item_id = self.detail.item.id
        try:
            changed: Changed = call()  # type: ignore[operator]
        except DomainError as exc:
            self.message.emit(str(exc))
            return
        self.show_item(item_id)
        self.changed.emit(changed)

    def move(self, target: ComplaintStatus) -> None:
        if self.detail is None:
            return
        item_id = self.detail.item.id
        note = self.note.text().strip()
        feedback = self.services.feedback

        def call() -> Changed:
            if target in (ComplaintStatus.SATISFIED, ComplaintStatus.NOT_SATISFIED) and \
                    self.detail is not None and self.detail.item.checkback_on is not None:
                # The customer's answer to the check-back: completes that touchpoint too.
                saved = feedback.answer_checkback(item_id, target is ComplaintStatus.SATISFIED,
                                                  note)
            else:
                goal = self.goal.text() if target is ComplaintStatus.PLANNED else None
                saved = feedback.move(item_id, target.value, note=note, goal=goal,
                                      target_date=self._target_date())
            self.note.clear()
            self.message.emit(f"Complaint is now {saved.item.status_title.lower()}.")
            return saved.changed

        self._run(call)

    def save_plan(self) -> None:
        if self.detail is None:
            return
        item_id = self.detail.item.id
        target = self._target_date()

        def call() -> Changed:
            saved = self.services.feedback.set_plan(
                item_id, goal=self.goal.text(), target_date=target,
                clear_target=target is None)
            self.message.emit("Plan saved.")
            return saved.changed

        self._run(call)

    def add_note(self) -> None:
        if self.detail is None or not self.note.text().strip():
            return
        item_id = self.detail.item.id
        text = self.note.text()

        def call() -> Changed:
            saved = self.services.feedback.add_note(item_id, text)
            self.note.clear()
            return saved.changed

        self._run(call)
