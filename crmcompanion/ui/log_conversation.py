"""The "Log conversation" dialog: when (default now), channel, a short summary, and an
optional next step with a date.

Used from the Today view and from the customer's profile. The channel starts at the one the
customer prefers. Saving calls `InteractionService.log` (which also resets the customer's
keep-in-touch clock and records the author, the staff member the app runs as); a next step
becomes a follow-up on Today through `TouchpointService.add_follow_up`. Opened from a row of
Today for an occasion (a birthday, a follow-up), it offers to mark that occasion done with
the same history entry, so a birthday call does not leave the birthday overdue. The caller
publishes `changed` on the bus. Errors from the services are shown in the dialog, nothing is
lost. Given the feedback service, "Feedback" chips also record the summary as praise,
feedback, a complaint (with similar complaints and theme suggestions while it is typed), an
idea or a question, linked to the history entry (`ui.feedback_chips.FeedbackCapture`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from PySide6.QtCore import QDate, QDateTime, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.clock import Clock
from crmcompanion.core.customer import Channel
from crmcompanion.core.errors import DomainError, ValidationError
from crmcompanion.services.changes import Changed
from crmcompanion.services.feedback import FeedbackService, Saved
from crmcompanion.services.interactions import InteractionService, Logged
from crmcompanion.services.touchpoints import Touchpoint, TouchpointService
from crmcompanion.ui.feedback_chips import FeedbackCapture
from crmcompanion.ui.feedback_common import form_banner, run_off_thread
from crmcompanion.ui.formatting import date_edit_format
from crmcompanion.ui.style import CHANNEL_TITLES
from crmcompanion.ui.text_display import embedded
from crmcompanion.ui.widgets import DialogButtons, FewLinesEdit, FieldCheckBox, FieldLabel

logger = logging.getLogger(__name__)

NEXT_STEP_DEFAULT_DAYS = 7
SUMMARY_HEIGHT = 96  # a few lines of summary


class SummaryEdit(FewLinesEdit):
    """The summary field, a few lines high."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text, SUMMARY_HEIGHT)


class LogConversationDialog(QDialog):
    """Collects one conversation; after Save, `logged` holds the history entry and `changed`
    everything that changed (the entry, a touchpoint marked done, a follow-up)."""

    def __init__(
        self,
        interactions: InteractionService,
        clock: Clock,
        customer_id: int,
        customer_name: str,
        parent: QWidget | None = None,
        summary: str = "",
        channel: Channel | None = None,
        touchpoints: TouchpointService | None = None,
        touchpoint: Touchpoint | None = None,
        reason: str = "",
        feedback: FeedbackService | None = None,
    ) -> None:
        super().__init__(parent)
        self._interactions = interactions
        self._touchpoints = touchpoints
        self._clock = clock
        self.customer_id = customer_id
        self.touchpoint = touchpoint
        self._occasion_text = reason or (touchpoint.label if touchpoint is not None else "")
        self.logged: Logged | None = None
        self.changed = Changed()
        self.follow_up_key: str | None = None
        self.feedback_saved: Saved | None = None
        self.saving = False
        self.setWindowTitle(f"Log conversation with {customer_name}")
        # No minimum width of its own: the layout's minimum is the width that shows every
        # field and every feedback chip whole (a fixed 440 px let the dialog be narrower than
        # that, cutting "Feedback" and "Complaint" to "edba" and "mpla").

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(10)
        title = QLabel(f"Conversation with {embedded(customer_name)}")
        title.setTextFormat(Qt.TextFormat.PlainText)
        title.setObjectName("emptyTitle")
        layout.addWidget(title)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(12)
        now = clock.now()
        self.when = QDateTimeEdit(QDateTime(now.date(), now.time().replace(microsecond=0)))
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        # A conversation is logged after it happened: the future is not offered.
        self.when.setMaximumDateTime(QDateTime(now.date(), now.time()).addSecs(60))
        form.addRow(FieldLabel("When", self.when), self.when)
        self.channel = QComboBox()
        self.channel.addItem("—", "")
        for value, title_text in CHANNEL_TITLES.items():
            self.channel.addItem(title_text, value.value)
        if channel is not None:
            self.channel.setCurrentIndex(max(0, self.channel.findData(channel.value)))
        self.channel.setAccessibleName("Channel")
        form.addRow(FieldLabel("Channel", self.channel), self.channel)
        self.summary = SummaryEdit(summary)
        self.summary.setPlaceholderText("What did you talk about? (optional)")
        self.summary.setTabChangesFocus(True)
        self.summary.setAccessibleName("Summary")
        form.addRow(FieldLabel("Summary", self.summary), self.summary)

        # The next step: a follow-up on Today on the chosen day.
        self.next_note = QLineEdit()
        self.next_step = FieldCheckBox("Next step", self.next_note)
        self.next_step.setToolTip("Add a follow-up to Today on the chosen day")
        step_row = QHBoxLayout()
        step_row.setSpacing(8)
        self.next_note.setPlaceholderText("e.g. send the quote, call back")
        self.next_note.setMaxLength(500)
        self.next_note.setAccessibleName("Next step")
        self.next_date = QDateEdit(QDate(now.date() + timedelta(days=NEXT_STEP_DEFAULT_DAYS)))
        self.next_date.setCalendarPopup(True)
        self.next_date.setDisplayFormat(date_edit_format())  # not "13 12 2026" in C
        self.next_date.setMinimumDate(QDate(now.date()))
        self.next_date.setAccessibleName("Next step on")
        step_row.addWidget(self.next_note, 1)
        step_row.addWidget(QLabel("on"))
        step_row.addWidget(self.next_date)
        form.addRow(self.next_step, step_row)
        for part in (self.next_step, self.next_note, self.next_date):
            part.setEnabled(touchpoints is not None)
        # Typing a next step is asking for one.
        self.next_note.textEdited.connect(lambda text: self.next_step.setChecked(bool(text)))

        # "Add feedback": the summary is also the customer's feedback of the chosen type.
        self.capture = FeedbackCapture(feedback, customer_id)
        self.capture.setVisible(feedback is not None)
        self.capture.watch(self.summary)
        feedback_label = FieldLabel("Feedback", self.capture, line=self.capture.chips)
        feedback_label.setToolTip("Also record what they said as feedback: pick its type")
        feedback_label.setVisible(feedback is not None)
        form.addRow(feedback_label, self.capture)
        layout.addLayout(form)

        self.mark_done = QCheckBox()
        self.mark_done.setVisible(False)
        if touchpoint is not None and touchpoints is not None:
            self.mark_done.setText(f"Also mark “{embedded(self._occasion_text)}” done")
            self.mark_done.setToolTip("Recorded with this conversation, so it leaves Today")
            self.mark_done.setChecked(True)
            self.mark_done.setVisible(True)
        layout.addWidget(self.mark_done)

        self.error = form_banner()
        layout.addWidget(self.error)
        # A taller window keeps the rows under the heading; the room goes above the buttons
        # (at 1366x768 When, Channel and Summary had spread 100 px apart down the height).
        layout.addStretch(1)

        buttons = DialogButtons(self, self.save)
        self.cancel_button, self.save_button = buttons.cancel_button, buttons.accept_button
        layout.addLayout(buttons)
        self.summary.setFocus()

    def save(self) -> None:
        if self.saving:
            return
        summary = self.summary.toPlainText()
        kind = self.capture.kind()
        if kind is not None and not summary.strip():
            self._show_error(f"Write what they said to save it as {kind.title.lower()}.")
            return
        moment = self.when.dateTime().toPython()
        if moment.tzinfo is None:
            moment = moment.astimezone()
        channel = self.channel.currentData() or None
        try:
            if self.logged is None:
                if self.mark_done.isChecked() and self.touchpoint is not None \
                        and self._touchpoints is not None:
                    # One history entry that is both the conversation and the occasion done.
                    recorded = self._touchpoints.mark_done(
                        self.touchpoint.key, summary or self._occasion_text, channel, moment)
                    assert recorded.interaction is not None
                    self.logged = Logged(recorded.interaction, recorded.changed)
                else:
                    self.logged = self._interactions.log(self.customer_id, summary, channel,
                                                         moment)
                self.changed |= self.logged.changed
            if self.next_step.isChecked() and self._touchpoints is not None \
                    and self.follow_up_key is None:
                note = self.next_note.text().strip() or "Follow up"
                follow = self._touchpoints.add_follow_up(
                    self.customer_id, self.next_date.date().toPython(), note)
                self.follow_up_key = follow.key
                self.changed |= follow.changed
        except ValidationError as exc:
            self._show_error(" ".join(exc.field_errors.values()) or str(exc))
            return
        except DomainError as exc:
            self._show_error(str(exc))
            return
        if self.capture.kind() is None or self.feedback_saved is not None:
            self.accept()
            return
        # The feedback is saved off the GUI thread (a complaint's meaning vector is computed
        # on saving); the conversation is already in the history, so a failure loses nothing.
        capture, customer_id = self.capture, self.customer_id
        interaction_id = self.logged.interaction.id if self.logged is not None else None

        def work() -> Saved | None:
            return capture.save(customer_id, summary, interaction_id)

        self.saving = True
        self.save_button.setEnabled(False)
        run_off_thread(self, work, self._feedback_done, self._feedback_failed,
                       "save feedback")

    def _feedback_done(self, saved: Saved | None) -> None:
        self.saving = False
        self.save_button.setEnabled(True)
        if saved is not None:
            self.feedback_saved = saved
            self.changed |= saved.changed
        self.accept()

    def _feedback_failed(self, text: str) -> None:
        self.saving = False
        self.save_button.setEnabled(True)
        self._show_error(f"The conversation is saved; the feedback is not: {text}")

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)
