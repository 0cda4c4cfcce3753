"""The in-app reminder list and the Today badge: delivered reminders the owner has not seen.

Every delivered reminder lands here whatever the notification backends did, so a reminder
is never lost even where no desktop notification or tray exists. The Today view embeds
`ReminderListWidget` (built once Today's rows are shown); the main window shows
`badge_text(count)` on the sidebar's Today entry with `ui.badge.BadgeDelegate`. The list
reads the database only once it is first shown (or asked to), never while the window is
being built, so it costs nothing before the first paint.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.services.changes import Changed
from crmcompanion.services.reminders import DeliveredReminder, ReminderService
from crmcompanion.ui.badge import badge_text
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.formatting import day_month
from crmcompanion.ui.style import SURFACE
from crmcompanion.ui.text_display import embedded

logger = logging.getLogger(__name__)

ReminderRole = Qt.ItemDataRole.UserRole + 1
LIST_LIMIT = 500
LIST_MAX_HEIGHT = 260  # about five reminders; more scroll, so "Losing touch" keeps its room

# A transparent list paints its scroll bar black under Fusion: give it the card's colour.
LIST_STYLE = f"""
QListWidget#reminderList {{ background: {SURFACE}; border: none; outline: 0; }}
QListWidget#reminderList::item {{ padding: 6px 4px; border-bottom: 1px solid #eef1f5; }}
QListWidget#reminderList::item:selected {{ background: #dbe7fb; color: #1f2328; }}
QLabel#reminderHeading {{ font-weight: 600; }}
"""


def item_text(reminder: DeliveredReminder) -> str:
    """Two lines for the narrow Today column: who and what, then when it was due."""
    when = day_month(reminder.remind_on)
    return f"{embedded(reminder.title)}\n{embedded(reminder.description)} · from {when}"


class ReminderListWidget(QWidget):
    """Delivered, unacknowledged reminders; double-click opens the customer."""

    customer_activated = Signal(int)
    count_changed = Signal(int)

    def __init__(
        self, reminders: ReminderService, bus: AppState | None = None,
        parent: QWidget | None = None, load_now: bool = True,
    ) -> None:
        super().__init__(parent)
        self._reminders = reminders
        self._bus = bus
        self.loaded = False
        self.setStyleSheet(LIST_STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        header = QHBoxLayout()
        self.heading = QLabel("Reminders")
        self.heading.setObjectName("reminderHeading")
        # A quarter larger than the system font (points, not pixels: it follows the user's
        # font size and the screen's scaling).
        heading_font = QFont(self.heading.font())
        heading_font.setPointSizeF(heading_font.pointSizeF() * 1.25)
        self.heading.setFont(heading_font)
        header.addWidget(self.heading)
        # The count as a pill beside the title, as the Today sections show theirs: inside the
        # title, "Reminders (99+)" did not fit the side card.
        self.count_pill = QLabel("")
        self.count_pill.setObjectName("countPill")
        self.count_pill.setVisible(False)
        header.addWidget(self.count_pill, 0, Qt.AlignmentFlag.AlignBottom)
        header.addStretch(1)
        self.mark_seen = QPushButton("Mark seen")
        self.mark_seen.setObjectName("link")
        self.mark_seen.setToolTip("Clear the list and the badge on Today")
        self.mark_seen.clicked.connect(self.acknowledge_all)
        header.addWidget(self.mark_seen)
        layout.addLayout(header)
        self.list = QListWidget()
        self.list.setObjectName("reminderList")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.list.setToolTip("Double-click a reminder to open the customer")
        self.list.itemActivated.connect(self._activated)
        layout.addWidget(self.list, 1)
        self.empty = QLabel("No new reminders.")
        self.empty.setObjectName("muted")
        layout.addWidget(self.empty)
        if bus is not None:
            bus.changed.connect(self._on_changed)
        if load_now:
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.loaded:
            # First shown: read from the event loop, after this paint, not while building.
            QTimer.singleShot(0, self, self._first_load)

    def _first_load(self) -> None:
        if not self.loaded:
            self.refresh()

    @property
    def count(self) -> int:
        return self.list.count()

    def refresh(self) -> None:
        try:
            pending = self._reminders.unacknowledged(LIST_LIMIT)
        except Exception:  # a locked or closing database must not break the window
            logger.exception("Could not read the reminder list")
            return
        self.loaded = True
        self.list.clear()
        for reminder in pending:
            item = QListWidgetItem(item_text(reminder))
            item.setData(ReminderRole, reminder.customer_id)
            item.setToolTip(
                "Shown on the desktop" if reminder.channel not in ("app", "")
                else f"Only here: {reminder.error or 'no notification service'}"
            )
            self.list.addItem(item)
        # As tall as its rows, up to about five: the card never pushes the page around.
        rows = sum(self.list.sizeHintForRow(i) for i in range(self.list.count()))
        self.list.setFixedHeight(min(LIST_MAX_HEIGHT, rows + 2 * self.list.frameWidth() + 2))
        count = len(pending)
        if count >= LIST_LIMIT:  # the list is capped; the badge counts them all
            try:
                count = self._reminders.unacknowledged_count()
            except Exception:
                logger.exception("Could not count the reminders")
        self.list.setVisible(bool(pending))
        self.empty.setVisible(not pending)
        self.mark_seen.setEnabled(bool(pending))
        badge = badge_text(count)
        self.count_pill.setText(badge)
        self.count_pill.setVisible(bool(badge))
        self.count_changed.emit(count)

    def acknowledge_all(self) -> None:
        changed = self._reminders.acknowledge()
        if self._bus is not None:
            self._bus.publish(changed)  # refreshes us through _on_changed
        if self._bus is None or changed.is_empty:
            self.refresh()

    def _on_changed(self, changed: Changed) -> None:
        if changed.reminders or changed.customer_list or changed.customers:
            self.refresh()

    def _activated(self, item: QListWidgetItem) -> None:
        customer_id = item.data(ReminderRole)
        if isinstance(customer_id, int):
            self.customer_activated.emit(customer_id)
