"""The Themes tab: the consistent messages customers send, at a glance.

One row per theme, most customers affected first: open vs resolved complaints, a small bar
chart of the last 12 months (block characters, so it needs no chart library and reads in any
theme) and the words that set the theme apart from the others.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.services.container import Services
from crmcompanion.services.feedback import ThemeSummary
from crmcompanion.ui.feedback_common import fill_rows, list_table, run_off_thread, short_date

logger = logging.getLogger(__name__)

BARS = "▁▂▃▄▅▆▇█"
NO_THEMES = ("No themes yet. Give feedback a theme (like “delivery”) when you add it, to see "
             "what customers keep telling you.")
COLUMNS = ("Theme", "Customers", "Open", "Resolved", "Last 12 months", "What they say")


def sparkline(counts: list[int]) -> str:
    """Counts as block characters, scaled to the largest (a month with none is the lowest
    block, so every month keeps its place)."""
    top = max(counts, default=0)
    if top == 0:
        return BARS[0] * len(counts)
    return "".join(BARS[0] if n == 0 else BARS[max(1, round(n / top * (len(BARS) - 1)))]
                   for n in counts)


class ThemesView(QWidget):
    message = Signal(str)
    changed = Signal(object)  # never emitted: the view only reads (kept for the page's wiring)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ready = False
        self.summaries: list[ThemeSummary] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        self.note = QLabel("Themes by the number of customers affected.")
        self.note.setObjectName("muted")
        layout.addWidget(self.note)
        self.table = list_table(COLUMNS)
        self.table.set_empty_text(NO_THEMES)
        layout.addWidget(self.table, 1)

    def refresh(self) -> None:
        self.ready = False
        run_off_thread(self, self.services.feedback.themes_view, self._show,
                       self.message.emit, "themes")

    def _show(self, summaries: list[ThemeSummary]) -> None:
        self.summaries = summaries
        fill_rows(self.table, [
            (None, (t.name, str(t.customers), str(t.open_complaints),
                    str(t.resolved_complaints), sparkline([n for _, n in t.months]),
                    ", ".join(t.words)))
            for t in summaries])
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, theme in enumerate(summaries):
            for column in (1, 2, 3):
                self.table.item(row, column).setTextAlignment(right)
            self.table.item(row, 4).setToolTip(", ".join(
                f"{short_date(first)}: {n}" for first, n in theme.months))
        self.note.setVisible(bool(summaries))  # the empty list says what to do instead
        self.ready = True

    def theme_names(self) -> list[str]:
        return [self.table.item(row, 0).text() for row in range(self.table.rowCount())]
