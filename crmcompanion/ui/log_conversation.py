"""The small "Log conversation" dialog: when (default now), channel and a short summary.

Used from the Today view and from the customer's page. Saving calls
`InteractionService.log`, which also resets the customer's keep-in-touch clock; the caller
publishes the returned `Changed` on the bus. Errors from the service are shown in the dialog,
nothing is lost.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.clock import Clock
from crmcompanion.core.customer import Channel
from crmcompanion.core.errors import DomainError, ValidationError
from crmcompanion.services.interactions import InteractionService, Logged
from crmcompanion.ui.customer_editor import CHANNEL_TITLES
from crmcompanion.ui.text_display import embedded
from crmcompanion.ui.widgets import DialogButtons

logger = logging.getLogger(__name__)


class LogConversationDialog(QDialog):
    """Collects one conversation; `logged` holds the service's answer after Save."""

    def __init__(
        self,
        interactions: InteractionService,
        clock: Clock,
        customer_id: int,
        customer_name: str,
        parent: QWidget | None = None,
        summary: str = "",
        channel: Channel | None = None,
    ) -> None:
        super().__init__(parent)
        self._interactions = interactions
        self._clock = clock
        self.customer_id = customer_id
        self.logged: Logged | None = None
        self.setWindowTitle(f"Log conversation with {customer_name}")
        self.setMinimumWidth(440)

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
        form.addRow("When", self.when)
        self.channel = QComboBox()
        self.channel.addItem("—", "")
        for value, title_text in CHANNEL_TITLES.items():
            self.channel.addItem(title_text, value.value)
        if channel is not None:
            self.channel.setCurrentIndex(max(0, self.channel.findData(channel.value)))
        form.addRow("Channel", self.channel)
        self.summary = QPlainTextEdit(summary)
        self.summary.setPlaceholderText("What did you talk about? (optional)")
        self.summary.setTabChangesFocus(True)
        self.summary.setFixedHeight(110)
        form.addRow("Summary", self.summary)
        layout.addLayout(form)

        self.error = QLabel()
        self.error.setObjectName("formBanner")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setVisible(False)
        layout.addWidget(self.error)

        buttons = DialogButtons(self, self.save)
        self.cancel_button, self.save_button = buttons.cancel_button, buttons.accept_button
        layout.addLayout(buttons)
        self.summary.setFocus()

    def save(self) -> None:
        moment = self.when.dateTime().toPython()
        if moment.tzinfo is None:
            moment = moment.astimezone()
        channel = self.channel.currentData() or None
        try:
            self.logged = self._interactions.log(
                self.customer_id, self.summary.toPlainText(), channel, moment
            )
        except ValidationError as exc:
            self._show_error(" ".join(exc.field_errors.values()) or str(exc))
            return
        except DomainError as exc:
            self._show_error(str(exc))
            return
        self.accept()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)
