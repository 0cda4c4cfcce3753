"""The touchpoint part of a customer's page: upcoming touchpoints, history, Log conversation.

It lives inside the profile panel (`CustomerDetail.set_activity`) and reads only through
services: `TouchpointService.for_customer` for what is coming up and
`InteractionService.history` for what happened, newest first. The "Reach-out settings"
dialog edits do-not-contact, per-occasion opt-outs and the customer's own keep-in-touch
cadence through the touchpoint service (those are not part of the customer draft, so they
are saved on their own rather than in the profile editor).
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import DomainError
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import MAX_CADENCE_DAYS, OVERDUE_SHOWN_AS_DATE_DAYS
from crmcompanion.services.changes import Changed
from crmcompanion.services.container import Services
from crmcompanion.services.interactions import InteractionRecord
from crmcompanion.services.today_support import TouchpointPreferences, preferences
from crmcompanion.services.touchpoints import Touchpoint
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.customer_editor import CHANNEL_TITLES
from crmcompanion.ui.log_conversation import LogConversationDialog
from crmcompanion.ui.style import MUTED
from crmcompanion.ui.text_display import embedded, plain_label, shown
from crmcompanion.ui.widgets import DialogButtons

logger = logging.getLogger(__name__)

UPCOMING_SHOWN = 6
HISTORY_SHOWN = 30  # entries per page: "Show older" adds the next page below them
# Occasions a customer can opt out of one by one (keep in touch is the cadence).
OPT_OUT_OCCASIONS = (
    Occasion.BIRTHDAY, Occasion.WEDDING_ANNIVERSARY, Occasion.CUSTOMER_ANNIVERSARY,
    Occasion.CUSTOM, Occasion.KEEP_IN_TOUCH,
)


def _label(text: str, object_name: str = "") -> QLabel:
    return plain_label(shown(text), object_name)  # user text is never markup


def history_heading(record: InteractionRecord) -> str:
    parts = [f"{record.occurred_at:%a %d %b %Y, %H:%M}"]
    if record.channel is not None:
        parts.append(CHANNEL_TITLES[record.channel])
    if record.occasion is not None:
        parts.append(f"{record.occasion.title} ✓")
    if record.staff_name:  # who logged it (team mode: several people log)
        parts.append(f"by {embedded(record.staff_name)}")
    return "  ·  ".join(parts)


def history_html(records: list[InteractionRecord]) -> str:
    """Entries as rich text in which every text is escaped: each heading (muted) and each
    summary is a paragraph of its own, so a right-to-left summary takes its own direction
    and cannot reorder a heading; a summary keeps its line breaks and spaces."""
    parts = []
    for record in records:
        parts.append(f'<p style="margin:0; color:{MUTED};">'
                     f"{html.escape(history_heading(record), quote=False)}</p>")
        if record.summary:
            summary = html.escape(shown(record.summary), quote=False)
            parts.append(f'<p style="margin:0 0 6px 0; white-space:pre-wrap;">{summary}</p>')
        else:
            parts.append('<p style="margin:0 0 6px 0;"></p>')
    return "".join(parts)


def upcoming_text(item: Touchpoint, today: object) -> str:
    days = (item.date - today).days  # type: ignore[operator]
    if days < -OVERDUE_SHOWN_AS_DATE_DAYS:
        when = f"overdue since {item.date:%d %b %Y}"
    elif days < 0:
        when = f"{-days} day{'s' if days < -1 else ''} overdue"
    elif days == 0:
        when = "today"
    elif days == 1:
        when = "tomorrow"
    else:
        when = f"{item.date:%a %d %b}"
    label = item.label
    if item.occasion is Occasion.KEEP_IN_TOUCH and days > 0:
        label = "keep-in-touch check-in"  # "no contact for 0 days" says nothing ahead of time
    return f"{when}: {embedded(label)}"


class CustomerActivity(QWidget):
    """Upcoming touchpoints and history of the customer shown in the profile panel."""

    draft_requested = Signal(int)  # customer id: "Write greeting…" clicked

    def __init__(
        self, services: Services, bus: AppState, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._bus = bus
        self.customer_id: int | None = None
        self.customer_name = ""
        self.dialog: QDialog | None = None
        self.history: list[InteractionRecord] = []
        self.history_total = 0
        self.older_button: QPushButton | None = None
        self.upcoming: list[Touchpoint] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(4)
        buttons = QHBoxLayout()
        self.log_button = QPushButton("Log conversation")
        self.log_button.setToolTip("Record a call, visit or message with this customer")
        self.log_button.clicked.connect(self.log_conversation)
        self.settings_button = QPushButton("Reach-out settings…")
        self.settings_button.setObjectName("link")
        self.settings_button.setToolTip("Do not contact, occasions to skip, keep-in-touch rhythm")
        self.settings_button.clicked.connect(self.edit_preferences)
        self.draft_button = QPushButton("Write greeting…")
        self.draft_button.setToolTip("Draft a message for this customer from a template")
        self.draft_button.clicked.connect(self._request_draft)
        self.draft_button.setEnabled(False)  # until the greetings feature connects to it
        buttons.addWidget(self.log_button)
        buttons.addWidget(self.draft_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        # On its own line: three controls side by side overflow the narrow profile panel.
        settings_row = QHBoxLayout()
        settings_row.addWidget(self.settings_button)
        settings_row.addStretch(1)
        layout.addLayout(settings_row)
        self._body = QVBoxLayout()
        self._body.setSpacing(4)
        layout.addLayout(self._body)
        # The profile panel only reloads while it is on screen; a Done clicked on the Today
        # page must still be in this history when the user comes back.
        bus.changed.connect(self._on_changed)

    def _request_draft(self) -> None:
        if self.customer_id is not None:
            self.draft_requested.emit(self.customer_id)

    def _on_changed(self, changed: Changed) -> None:
        if self.customer_id is not None and self.customer_id in changed.customers and (
            changed.interactions or changed.touchpoints
        ):
            self.load(self.customer_id)

    def load(self, customer_id: int, name: str = "") -> None:
        """Show `customer_id`'s touchpoints and history (called by the profile panel)."""
        self.customer_id = customer_id
        self.customer_name = name or self.customer_name
        while self._body.count():
            entry = self._body.takeAt(0)
            widget = entry.widget()
            if widget is not None:
                widget.setParent(None)
                widget.deleteLater()
        self.older_button = None
        try:
            self.upcoming = self._services.touchpoints.for_customer(customer_id)
            page = self._services.interactions.history_page(customer_id, HISTORY_SHOWN)
            self.history, self.history_total = list(page.records), page.total
            prefs = preferences(self._services.db, customer_id)
        except DomainError as exc:
            logger.warning("Cannot load the activity of customer #%s: %s", customer_id, exc)
            self._body.addWidget(_label(str(exc), "muted"))
            return
        add = self._body.addWidget
        add(_label("COMING UP", "sectionLabel"))
        if prefs.do_not_contact:
            add(_label("Do not contact: no reminders for this customer.", "muted"))
        today = self._services.clock.today()
        for item in self.upcoming[:UPCOMING_SHOWN]:
            add(_label(upcoming_text(item, today)))
        if len(self.upcoming) > UPCOMING_SHOWN:
            add(_label(f"and {len(self.upcoming) - UPCOMING_SHOWN} more this year", "muted"))
        if not self.upcoming and not prefs.do_not_contact:
            add(_label("Nothing in the next year.", "muted"))
        add(_label("HISTORY", "sectionLabel"))
        if not self.history:
            add(_label("No conversations logged yet.", "muted"))
        self._add_records(self.history)
        self.older_button = QPushButton()
        self.older_button.setObjectName("link")
        self.older_button.clicked.connect(self.show_older)
        add(self.older_button, 0, Qt.AlignmentFlag.AlignLeft)
        self._update_older_button()

    def _add_records(self, records: list[InteractionRecord]) -> None:
        """One label per page of history (before the "Show older" button, so pages append in
        order): a label per entry made the profile's layout pass cost ~2 s once 500 were
        shown, one per page ~0.1 s."""
        if not records:
            return
        page = QLabel(history_html(records))
        page.setObjectName("historyPage")
        page.setTextFormat(Qt.TextFormat.RichText)  # built from escaped text only
        page.setWordWrap(True)
        page.setOpenExternalLinks(False)
        page.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        at = self._body.indexOf(self.older_button) if self.older_button is not None else -1
        if at < 0:
            self._body.addWidget(page)
        else:
            self._body.insertWidget(at, page)

    def _update_older_button(self) -> None:
        if self.older_button is None:
            return
        more = self.history_total - len(self.history)
        self.older_button.setText(f"Show older ({more:,} more)")
        self.older_button.setVisible(more > 0 and bool(self.history))

    def show_older(self) -> None:
        """Append the next page of history (older entries) below those shown."""
        if self.customer_id is None or not self.history:
            return
        try:
            page = self._services.interactions.history_page(
                self.customer_id, HISTORY_SHOWN, before=self.history[-1])
        except DomainError as exc:
            logger.warning("Cannot load older history of #%s: %s", self.customer_id, exc)
            return
        self.history.extend(page.records)
        self.history_total = max(page.total, len(self.history))
        self._add_records(page.records)
        if not page.records:  # deleted meanwhile: nothing older after all
            self.history_total = len(self.history)
        self._update_older_button()

    def history_summaries(self) -> list[str]:
        return [r.summary for r in self.history]

    def log_conversation(self) -> LogConversationDialog | None:
        if self.customer_id is None:
            return None
        dialog = LogConversationDialog(
            self._services.interactions, self._services.clock, self.customer_id,
            self.customer_name or "this customer", self.window(),
        )
        dialog.accepted.connect(lambda: self._publish(dialog.logged.changed
                                                      if dialog.logged else Changed()))
        self._open(dialog)
        return dialog

    def edit_preferences(self) -> PreferencesDialog | None:
        if self.customer_id is None:
            return None
        try:
            prefs = preferences(self._services.db, self.customer_id)
        except DomainError as exc:
            logger.warning("%s", exc)
            return None
        dialog = PreferencesDialog(self._services, prefs, self.customer_name, self.window())
        dialog.accepted.connect(lambda: self._publish(dialog.changed))
        self._open(dialog)
        return dialog

    def _publish(self, changed: Changed) -> None:
        self._bus.publish(changed)

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _r: self._closed(dialog))
        dialog.open()

    def _closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()


class PreferencesDialog(QDialog):
    """Do not contact, per-occasion opt-outs and the customer's own keep-in-touch cadence."""

    def __init__(
        self, services: Services, prefs: TouchpointPreferences, name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._prefs = prefs
        self.changed = Changed()
        self.setWindowTitle(f"Reach-out settings for {name}")
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(8)
        self.do_not_contact = QCheckBox("Do not contact (no reminders at all)")
        self.do_not_contact.setChecked(prefs.do_not_contact)
        layout.addWidget(self.do_not_contact)
        layout.addWidget(_label("REMIND ME OF", "sectionLabel"))
        self.occasion_boxes: dict[Occasion, QCheckBox] = {}
        for occasion in OPT_OUT_OCCASIONS:
            box = QCheckBox(occasion.title)
            box.setChecked(occasion not in prefs.opt_outs)
            self.occasion_boxes[occasion] = box
            layout.addWidget(box)
        row = QHBoxLayout()
        self.own_cadence = QCheckBox("Keep in touch every")
        self.cadence = QSpinBox()
        self.cadence.setRange(1, MAX_CADENCE_DAYS)
        self.cadence.setSuffix(" days")
        self.cadence.setValue(prefs.cadence_days or 30)
        self.own_cadence.setChecked(prefs.cadence_days is not None)
        self.cadence.setEnabled(prefs.cadence_days is not None)
        self.own_cadence.toggled.connect(self.cadence.setEnabled)
        row.addWidget(self.own_cadence)
        row.addWidget(self.cadence)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(_label("Unticked: the rhythm of their tags or the default.", "muted"))
        self.error = _label("", "formBanner")
        self.error.setVisible(False)
        layout.addWidget(self.error)
        buttons = DialogButtons(self, self.save)
        self.cancel_button, self.save_button = buttons.cancel_button, buttons.accept_button
        layout.addLayout(buttons)

    def save(self) -> None:
        tp = self._services.touchpoints
        cid = self._prefs.customer_id
        changed = Changed()
        try:
            if self.do_not_contact.isChecked() != self._prefs.do_not_contact:
                changed |= tp.set_do_not_contact(cid, self.do_not_contact.isChecked())
            for occasion, box in self.occasion_boxes.items():
                opted_out = not box.isChecked()
                if opted_out != (occasion in self._prefs.opt_outs):
                    changed |= tp.set_opt_out(cid, occasion, opted_out)
            cadence = self.cadence.value() if self.own_cadence.isChecked() else None
            if cadence != self._prefs.cadence_days:
                changed |= tp.set_cadence(cid, cadence)
        except DomainError as exc:
            self.changed = changed
            self.error.setText(str(exc))
            self.error.setVisible(True)
            return
        self.changed = changed
        self.accept()
