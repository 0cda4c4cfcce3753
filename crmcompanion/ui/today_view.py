"""The Today section: what needs the owner's attention today.

For now it only explains what will appear here; the reminders feature replaces this class
(same name, same constructor) with the real list of birthdays, follow-ups and check-backs.
"""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from crmcompanion.services.container import Services
from crmcompanion.ui.widgets import EmptyState, PageHeader


class TodayView(QWidget):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        today = services.clock.today()
        self.header = PageHeader("Today", f"{today:%A, %d %B %Y}")
        layout.addWidget(self.header)
        self.empty = EmptyState(
            "☀",
            "Nothing needs you today",
            "Birthdays, anniversaries, follow-ups and customers you have not talked to in a "
            "while will show up here, so you can reach out at the right moment.",
        )
        layout.addWidget(self.empty, 1)
