"""The story part of a customer's profile: how things stand, what is coming up, and the
timeline of what happened.

It lives inside the profile panel (`CustomerDetail.set_activity`), which places its `lead`
line ("Last contacted 93 days ago · prefers email") and its `actions` (Log conversation,
Write greeting…, Reach-out settings…) under the customer's name, and the activity itself
(COMING UP, then the TIMELINE of `ui.timeline`) after the contact details. It reads only
through services: `TouchpointService.for_customer` for what is coming up, the customer's
lead and segment lines as stored (`services.profile_lines`, one statement) and
`TimelineService` for the timeline. The "Reach-out settings" dialog edits do-not-contact,
per-occasion opt-outs and the customer's own keep-in-touch cadence through the touchpoint
service.

Its widgets are built once and keep their places in the profile; loading another customer
changes their contents (the profile used to take this widget out of its layout and put it
back, and switching customers then often squashed "Coming up" and "History" out of sight).
The lines of Coming up are reused too, and the segment badge's style sheet is set only when
its colours change: opening a profile builds and re-polishes nothing (issue 15).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import DomainError
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.segments import Segment, reasons_without_title
from crmcompanion.core.touchpoints import MAX_CADENCE_DAYS, silence
from crmcompanion.services.changes import Changed
from crmcompanion.services.container import Services
from crmcompanion.services.profile_lines import ProfileLines, profile_lines
from crmcompanion.services.timeline import CONVERSATION, OCCASION, TimelineEntry, TimelineService
from crmcompanion.services.today_support import TouchpointPreferences, preferences
from crmcompanion.services.touchpoints import Touchpoint
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.customer_detail import LabelPool, shows_batched
from crmcompanion.ui.formatting import number
from crmcompanion.ui.style import CHANNEL_TITLES, translate_widget
from crmcompanion.ui.text_display import embedded, plain_label, shown
from crmcompanion.ui.timeline import TimelineView, long_date
from crmcompanion.ui.widgets import DialogButtons
from crmcompanion.ui.workers import BackgroundTask
from crmcompanion.ui.yearly_value import YearlyValueDialog, value_text

if TYPE_CHECKING:
    # The Log conversation dialog and Ask for feedback (with the feedback service under
    # them) are imported when first opened: the customer list, which builds this panel with
    # its page, paints its first rows without them.
    from crmcompanion.ui.log_conversation import LogConversationDialog

logger = logging.getLogger(__name__)

UPCOMING_SHOWN = 6
# Occasions a customer can opt out of one by one (keep in touch is the cadence).
OPT_OUT_OCCASIONS = (
    Occasion.BIRTHDAY, Occasion.WEDDING_ANNIVERSARY, Occasion.CUSTOMER_ANNIVERSARY,
    Occasion.CUSTOM, Occasion.KEEP_IN_TOUCH,
)


def _label(text: str, object_name: str = "") -> QLabel:
    return plain_label(shown(text), object_name)  # user text is never markup


def upcoming_text(item: Touchpoint, today: date) -> str:
    days = (item.date - today).days
    if days < -1:
        when = f"{number(-days)} days late"  # "4,849", not "4849", after years of silence
    elif days == -1:
        when = "yesterday"
    elif days == 0:
        when = "today"
    elif days == 1:
        when = "tomorrow"
    else:
        when = long_date(item.date)
    label = item.label
    if item.occasion is Occasion.KEEP_IN_TOUCH and days > 0:
        label = "keep-in-touch check-in"  # "no contact for 0 days" says nothing ahead of time
    return f"{when[:1].upper()}{when[1:]}: {embedded(label)}"


def lead_text(glance: ProfileLines | None, today: date) -> str:
    """"Last contacted 93 days ago · prefers email" (or "Never contacted")."""
    last = glance.last_contact_on if glance is not None else None
    if last is None:
        parts = ["Never contacted"]
    else:
        days = (today - last).days
        parts = ["Last contacted today" if days <= 0 else "Last contacted yesterday"
                 if days == 1 else f"Last contacted {silence(days)} ago"]
    if glance is not None and glance.preferred_channel is not None:
        parts.append(f"prefers {CHANNEL_TITLES[glance.preferred_channel].lower()}")
    return " · ".join(parts)


# Badge colours per segment, written in their light form; each has a dark twin in
# ui.style's map, so the badge follows the theme like the status badge beside the name.
SEGMENT_COLOURS: dict[Segment, tuple[str, str]] = {
    Segment.HAPPIEST: ("#dcf5e3", "#1d6b35"),
    Segment.HEALTHY: ("#e6eefc", "#2459b8"),
    Segment.AT_RISK: ("#fff4d6", "#8a5a00"),
    Segment.LOST: ("#fdecea", "#c62828"),
    Segment.POTENTIAL: ("#eceff3", "#555e6b"),
}


class CustomerActivity(QWidget):
    """Coming up and the timeline of the customer shown in the profile panel, with the lead
    line and the actions the panel places above."""

    draft_requested = Signal(int)  # customer id: "Write greeting…" clicked

    def __init__(
        self, services: Services, bus: AppState, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._bus = bus
        self.customer_id: int | None = None
        self.customer_name = ""
        self.glance: ProfileLines | None = None  # the lead line's facts
        self.yearly_value: float | None = None
        self._segment_task: BackgroundTask | None = None
        self.dialog: QDialog | None = None
        self.upcoming: list[Touchpoint] = []
        self.setObjectName("customerActivity")

        self.lead = QLabel()
        self.lead.setObjectName("profileLead")
        self.lead.setTextFormat(Qt.TextFormat.PlainText)
        self.lead.setWordWrap(True)
        # The health segment (issue 16): a badge and its reasons in words, under the lead.
        self.segment_line = QWidget()
        self.segment_line.setObjectName("profileSegment")
        segment_lines = QVBoxLayout(self.segment_line)
        segment_lines.setContentsMargins(0, 2, 0, 2)
        segment_lines.setSpacing(0)
        segment_row = QHBoxLayout()
        segment_row.setSpacing(8)
        segment_lines.addLayout(segment_row)
        # One badge per segment, each made (and its style sheet polished) once when first
        # needed, then shown or hidden: restyling one badge re-polished it on every open.
        self._segment_row = segment_row
        self._segment_badges: dict[Segment, QLabel] = {}
        self.segment_badge = QLabel()  # the badge shown (this empty one until a segment is)
        self.segment_badge.setObjectName("segmentBadge")
        self.segment_reasons = QLabel()
        self.segment_reasons.setObjectName("muted")
        self.segment_reasons.setTextFormat(Qt.TextFormat.PlainText)
        self.segment_reasons.setWordWrap(True)
        segment_row.addWidget(self.segment_badge, 0, Qt.AlignmentFlag.AlignTop)
        segment_row.addWidget(self.segment_reasons, 1)
        # The optional yearly value, which orders at-risk customers by what is at stake.
        value_row = QHBoxLayout()
        value_row.setSpacing(8)
        self.value_label = _label("", "muted")
        self.value_label.setWordWrap(False)  # one short line; wrapped, it broke mid-number
        self.value_button = QPushButton("Change…")
        self.value_button.setObjectName("link")
        self.value_button.setToolTip("What this customer brings in a year")
        self.value_button.clicked.connect(self.edit_yearly_value)
        value_row.addWidget(self.value_label)
        value_row.addWidget(self.value_button)
        value_row.addStretch(1)
        segment_lines.addLayout(value_row)
        self.segment_line.setVisible(False)
        self.actions = QWidget()
        self.actions.setObjectName("profileActions")
        actions = QVBoxLayout(self.actions)
        actions.setContentsMargins(0, 4, 0, 4)
        actions.setSpacing(2)
        buttons = QHBoxLayout()
        # A nested layout takes its parent's spacing (2 px here: the buttons touched): the
        # buttons keep the style's usual gap, as the profile's Edit/Archive row has.
        buttons.setSpacing(
            self.style().pixelMetric(QStyle.PixelMetric.PM_LayoutHorizontalSpacing))
        self.log_button = QPushButton("Log conversation")
        self.log_button.setObjectName("primary")
        self.log_button.setToolTip("Record a call, visit or message with this customer")
        self.log_button.clicked.connect(self.log_conversation)
        self.draft_button = QPushButton("Write greeting…")
        self.draft_button.setToolTip("Draft a message for this customer from a template")
        self.draft_button.clicked.connect(self._request_draft)
        self.draft_button.setEnabled(False)  # until the greetings feature connects to it
        buttons.addWidget(self.log_button)
        buttons.addWidget(self.draft_button)
        buttons.addStretch(1)
        actions.addLayout(buttons)
        # On its own line: three controls side by side overflow a narrow profile panel.
        self.settings_button = QPushButton("Reach-out settings…")
        self.settings_button.setObjectName("link")
        self.settings_button.setToolTip("Do not contact, occasions to skip, keep-in-touch rhythm")
        self.settings_button.clicked.connect(self.edit_preferences)
        self.ask_button = QPushButton("Ask for feedback…")
        self.ask_button.setObjectName("link")
        self.ask_button.setToolTip("Draft a short request; a follow-up waits for the answer")
        self.ask_button.clicked.connect(self.ask_for_feedback)
        links = QHBoxLayout()
        links.setSpacing(12)
        links.addWidget(self.settings_button)
        links.addWidget(self.ask_button)
        links.addStretch(1)
        actions.addLayout(links)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(4)
        self.coming_up = QWidget()
        self.coming_up.setObjectName("comingUpSection")
        coming = QVBoxLayout(self.coming_up)
        coming.setContentsMargins(0, 0, 0, 0)
        coming.setSpacing(2)
        coming.addWidget(_label("COMING UP", "sectionLabel"))
        self._upcoming_lines: list[QLabel] = []
        self._upcoming_layout = coming
        self._upcoming_pools = {look: LabelPool(self.coming_up, lambda look=look: _label("", look))
                                for look in ("", "muted")}
        layout.addWidget(self.coming_up)
        layout.addSpacing(6)
        self.timeline = TimelineView(TimelineService(services.db))
        layout.addWidget(self.timeline)
        # The profile panel only reloads while it is on screen; a Done clicked on the Today
        # page must still be in this history when the user comes back.
        bus.changed.connect(self._on_changed)

    # --- what tests and the profile read ---------------------------------------------------
    @property
    def history(self) -> list[TimelineEntry]:
        """The timeline entries shown, newest first."""
        return list(self.timeline.model.entries)

    def history_summaries(self) -> list[str]:
        """The texts of the conversations (and occasions done) shown, newest first."""
        return [e.text for e in self.history if e.kind in (CONVERSATION, OCCASION)]

    @property
    def older_button(self) -> QPushButton:
        return self.timeline.older_button

    def upcoming_lines(self) -> list[str]:
        return [line.text() for line in self._upcoming_lines]

    # --- loading ---------------------------------------------------------------------------
    def _request_draft(self) -> None:
        if self.customer_id is not None:
            self.draft_requested.emit(self.customer_id)

    def _on_changed(self, changed: Changed) -> None:
        if self.customer_id is not None and self.customer_id in changed.customers and (
            changed.interactions or changed.touchpoints or changed.feedback
        ):
            self.load(self.customer_id)
        elif self.customer_id is not None and self.customer_id in changed.customers:
            self._show_segment(self.customer_id)  # status, key account or yearly value

    def load(self, customer_id: int, name: str = "") -> None:
        """Show `customer_id`'s lead line, what is coming up and the timeline (called by the
        profile panel)."""
        self.customer_id = customer_id
        self.customer_name = name or self.customer_name
        today = self._services.clock.today()
        try:
            self.upcoming = self._services.touchpoints.for_customer(customer_id)
            # The lead line, do-not-contact and the stored segment: one read, not four.
            facts = profile_lines(self._services.db, customer_id)
        except DomainError as exc:
            logger.warning("Cannot load the activity of customer #%s: %s", customer_id, exc)
            self._show_upcoming([(str(exc), "muted")])
            return
        self.glance = facts
        self.lead.setText(lead_text(facts, today))
        self._show_segment(customer_id, facts)
        lines: list[tuple[str, str]] = []  # (text, look)
        if facts.do_not_contact:
            lines.append(("Do not contact: no reminders for this customer.", "muted"))
        lines += [(upcoming_text(item, today), "") for item in self.upcoming[:UPCOMING_SHOWN]]
        if len(self.upcoming) > UPCOMING_SHOWN:
            lines.append((f"and {len(self.upcoming) - UPCOMING_SHOWN} more this year", "muted"))
        if not self.upcoming and not facts.do_not_contact:
            lines.append(("Nothing in the next year.", "muted"))
        self._show_upcoming(lines)
        self.timeline.load(customer_id)
        self.updateGeometry()

    def _show_segment(self, customer_id: int, facts: ProfileLines | None = None) -> None:
        """The badge and the reasons as stored (`facts`, when the profile has just read
        them), at once; then brought up to date off the GUI thread (the first answer of a
        day, or after a threshold changed, recomputes every customer's segment: ~2 s at
        100,000) and shown again if still this customer."""
        insights = self._services.insights
        try:
            if facts is None:
                facts = profile_lines(self._services.db, customer_id)
            stored, self.yearly_value = facts.health, facts.yearly_value
        except DomainError as exc:
            logger.warning("Cannot load the segment of customer #%s: %s", customer_id, exc)
            stored = None
        self._paint_segment(stored)
        task = BackgroundTask(
            lambda _state: (customer_id, insights.health([customer_id]).get(customer_id)),
            "profile-segment")
        task.succeeded.connect(self._segment_refreshed)
        self._segment_task = task.start()

    def _segment_refreshed(self, result: tuple[int, tuple[Segment, str] | None]) -> None:
        customer_id, health = result
        if customer_id == self.customer_id:
            self._paint_segment(health)

    def _paint_segment(self, health: tuple[Segment, str] | None) -> None:
        if health is None:  # archived (no segment), or not computed yet
            self.segment_line.setVisible(False)
            return
        segment, reasons = health
        background, foreground = SEGMENT_COLOURS[segment]
        badge = self._segment_badges.get(segment)
        if badge is None:
            badge = QLabel(segment.title)
            badge.setObjectName("segmentBadge")
            badge.setStyleSheet(
                f"background: {background}; color: {foreground}; border-radius: 9px;"
                " padding: 2px 10px; font-weight: 600;")
            translate_widget(badge)  # the sheet is written light: dark mode's colours
            self._segment_badges[segment] = badge
            self._segment_row.insertWidget(0, badge, 0, Qt.AlignmentFlag.AlignTop)
        for other in (self.segment_badge, *self._segment_badges.values()):
            if other is not badge and not other.isHidden():
                other.hide()
        if badge.isHidden():
            badge.show()
        self.segment_badge = badge
        self.segment_reasons.setText(reasons_without_title(reasons))
        self.value_label.setText(value_text(self.yearly_value))
        self.segment_line.setVisible(True)

    def edit_yearly_value(self) -> YearlyValueDialog | None:
        """The number field for the customer's yearly value; saved through the service."""
        if self.customer_id is None:
            return None
        cid = self.customer_id
        dialog = YearlyValueDialog(
            lambda value: self._services.insights.set_yearly_value(cid, value),
            self.yearly_value, self.customer_name, self.window())
        dialog.accepted.connect(lambda: self._publish(dialog.changed))
        self._open(dialog)
        return dialog

    def _show_upcoming(self, lines: list[tuple[str, str]]) -> None:
        """Coming up's lines (plain text, never markup), from the pools of their looks; the
        heading stays."""
        pools = self._upcoming_pools
        looks = Counter(look for _text, look in lines)
        needed = any(pools[look].hidden_within(count) for look, count in looks.items())
        with shows_batched(self.coming_up, needed):
            while self._upcoming_layout.count() > 1:
                self._upcoming_layout.takeAt(1)
            for pool in pools.values():
                pool.reset()
            self._upcoming_lines = []
            for text, look in lines:
                line = pools[look].take()
                line.setText(shown(text))
                self._upcoming_lines.append(line)
                self._upcoming_layout.addWidget(line)
                if line.isHidden():
                    line.show()
            for pool in pools.values():
                pool.release_rest()

    def show_older(self) -> None:
        """Append the next page of the timeline (older entries) below those shown."""
        self.timeline.show_older()

    def log_conversation(self) -> LogConversationDialog | None:
        if self.customer_id is None:
            return None
        from crmcompanion.ui.log_conversation import LogConversationDialog

        dialog = LogConversationDialog(
            self._services.interactions, self._services.clock, self.customer_id,
            self.customer_name or "this customer", self.window(),
            channel=self.glance.preferred_channel if self.glance is not None else None,
            touchpoints=self._services.touchpoints, feedback=self._services.feedback,
        )
        dialog.accepted.connect(lambda: self._publish(dialog.changed))
        self._open(dialog)
        return dialog

    def ask_for_feedback(self) -> QDialog | None:
        if self.customer_id is None:
            return None
        from crmcompanion.ui.feedback_ask import ask_for_feedback

        dialog, text = ask_for_feedback(self._services, self._bus, self.customer_id,
                                        self.customer_name or "this customer", self.window())
        if dialog is None:
            logger.warning("Ask for feedback: %s", text)
            return None
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
