"""The in-app reminder list and the Today badge: delivered reminders the owner has not seen.

Every delivered reminder lands here whatever the notification backends did, so a reminder
is never lost even where no desktop notification or tray exists. The Today view embeds
`ReminderListWidget` and shows `badge_text(count)` on its navigation entry.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.services.changes import Changed
from crmcompanion.services.reminders import DeliveredReminder, ReminderService
from crmcompanion.ui.bus import AppState

logger = logging.getLogger(__name__)

BADGE_MAX = 99
ReminderRole = Qt.ItemDataRole.UserRole + 1


def badge_text(count: int) -> str:
    """"" for none, "7", or "99+" so the badge never grows wider than three characters."""
    if count <= 0:
        return ""
    return f"{BADGE_MAX}+" if count > BADGE_MAX else str(count)


def item_text(reminder: DeliveredReminder) -> str:
    when = reminder.remind_on.strftime("%d %b").lstrip("0")
    return f"{reminder.title} - {reminder.description} (from {when})"


class ReminderListWidget(QWidget):
    """Delivered, unacknowledged reminders; double-click opens the customer."""

    customer_activated = Signal(int)
    count_changed = Signal(int)

    def __init__(
        self, reminders: ReminderService, bus: AppState | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._reminders = reminders
        self._bus = bus
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        self.heading = QLabel("Reminders")
        self.heading.setObjectName("sectionHeading")
        header.addWidget(self.heading, 1)
        self.mark_seen = QPushButton("Mark all as seen")
        self.mark_seen.clicked.connect(self.acknowledge_all)
        header.addWidget(self.mark_seen)
        layout.addLayout(header)
        self.list = QListWidget()
        self.list.itemActivated.connect(self._activated)
        layout.addWidget(self.list, 1)
        self.empty = QLabel("No new reminders.")
        layout.addWidget(self.empty)
        if bus is not None:
            bus.changed.connect(self._on_changed)
        self.refresh()

    @property
    def count(self) -> int:
        return self.list.count()

    def refresh(self) -> None:
        try:
            pending = self._reminders.unacknowledged()
        except Exception:  # a locked or closing database must not break the window
            logger.exception("Could not read the reminder list")
            return
        self.list.clear()
        for reminder in pending:
            item = QListWidgetItem(item_text(reminder))
            item.setData(ReminderRole, reminder.customer_id)
            item.setToolTip(
                "Shown on the desktop" if reminder.channel not in ("app", "")
                else f"Only here: {reminder.error or 'no notification service'}"
            )
            self.list.addItem(item)
        self.empty.setVisible(not pending)
        self.mark_seen.setEnabled(bool(pending))
        badge = badge_text(len(pending))
        self.heading.setText(f"Reminders ({badge})" if badge else "Reminders")
        self.count_changed.emit(len(pending))

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
