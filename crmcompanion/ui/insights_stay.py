"""The Insights page's "Why customers stay" card (issue 16): the happiest customers against
everyone else, side by side, and the five praise themes customers mention most as bars.

Kept apart from `ui.insights` so the page module stays about layout and loading; the words
and the CSV rows of the comparison live here, where a test reads the same lines the owner sees.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from crmcompanion.core.why_stay import GroupFigures, WhyTheyStay
from crmcompanion.ui.formatting import number
from crmcompanion.ui.insights_charts import ChartData, chart_rows

logger = logging.getLogger(__name__)

MEASURES: tuple[tuple[str, str], ...] = (
    ("customers", "Customers"),
    ("rhythm_kept_share", "Keep-in-touch rhythm kept"),
    ("greetings_per_year", "Greetings sent in the last year, each"),
    ("median_resolution_days", "Median days to resolve a complaint"),
)


def _shown(key: str, group: GroupFigures) -> str:
    value = getattr(group, key)
    if value is None:
        return "–"
    if key == "rhythm_kept_share":
        return f"{number(value * 100)} %"
    if key == "customers":
        return number(value)
    return number(value, 1)


def comparison_lines(why: WhyTheyStay) -> list[tuple[str, str, str]]:
    """(measure, happiest, everyone else) in words, as the card shows them."""
    return [(title, _shown(key, why.happiest), _shown(key, why.others))
            for key, title in MEASURES]


def stay_chart_data(why: WhyTheyStay) -> ChartData:
    """The praise themes as bars; the CSV holds the comparison and the themes, with the keys
    `insights --json` uses under `why_they_stay`."""
    happy, others = why.happiest.as_json(), why.others.as_json()
    csv_rows = [("compare", key, happy[key], others[key]) for key, _ in MEASURES]
    csv_rows += [("praise_theme", theme, count, "") for theme, count in why.praise_themes]
    return ChartData(
        series=("Praise",),
        rows=chart_rows([t for t, _ in why.praise_themes],
                        [[n] for _, n in why.praise_themes]),
        csv_header=("part", "name", "happiest", "everyone_else"),
        csv_rows=tuple(csv_rows),
        colours=tuple("#22a06b" for _ in why.praise_themes),
    )


class Comparison(QWidget):
    """A small table: measure | Happiest | Everyone else."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 6)
        self._grid.setHorizontalSpacing(18)
        self._grid.setVerticalSpacing(4)
        for column, title in enumerate(("", "Happiest", "Everyone else")):
            head = QLabel(title)
            head.setObjectName("sectionLabel")
            self._grid.addWidget(head, 0, column,
                                 Qt.AlignmentFlag.AlignRight if column else
                                 Qt.AlignmentFlag.AlignLeft)
        self.cells: list[list[QLabel]] = []
        for row, (_key, title) in enumerate(MEASURES, start=1):
            line = [QLabel(title), QLabel("–"), QLabel("–")]
            line[0].setWordWrap(True)  # a narrow window wraps the measure, never scrolls
            for column, label in enumerate(line):
                label.setTextFormat(Qt.TextFormat.PlainText)
                if column:
                    self._grid.addWidget(label, row, column, Qt.AlignmentFlag.AlignRight)
                else:
                    # No alignment in the grid: the measure fills its column and wraps only
                    # when the column is narrow. Aligned, the grid gave it its size hint's
                    # width, so it wrapped at ~110 px in a wide card and its second line was
                    # cut off.
                    label.setAlignment(Qt.AlignmentFlag.AlignLeft
                                       | Qt.AlignmentFlag.AlignVCenter)
                    self._grid.addWidget(label, row, column)
            self.cells.append(line)
        self._grid.setColumnStretch(0, 1)

    def set_figures(self, why: WhyTheyStay) -> None:
        for line, (_title, happy, others) in zip(self.cells, comparison_lines(why), strict=True):
            line[1].setText(happy)
            line[2].setText(others)

    def lines(self) -> list[tuple[str, str, str]]:
        return [(a.text(), b.text(), c.text()) for a, b, c in self.cells]
