"""The Insights section's charts: bars drawn with QPainter, readable in light and dark palettes.

Why QPainter and not a plotting library: six small bar charts need bars, labels and a click,
nothing more; painting them costs no import at start-up and follows the widget's palette
(text, base and mid colours), so a dark palette reads as well as the light one. Each chart
keeps its data as rows (label, values) so the same numbers are drawn, exported as CSV and
checked by tests; a PNG is the widget rendered at twice its size.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

logger = logging.getLogger(__name__)

# Series colours chosen to read on white and on near-black backgrounds alike (mid lightness,
# distinct hues; each bar also carries its number, so colour is never the only cue).
SERIES_COLOURS = ("#3b82f6", "#22a06b", "#e5484d", "#f59e0b", "#8e6bd8", "#0ea5b7", "#8a94a6")


@dataclass(frozen=True)
class ChartData:
    """What one chart shows: a title per series and rows of (label, one value per series),
    plus the CSV header naming the columns as `insights --json` does."""

    series: tuple[str, ...]
    rows: tuple[tuple[str, tuple[float, ...]], ...]
    csv_header: tuple[str, ...]
    csv_rows: tuple[tuple[object, ...], ...]
    value_format: str = "{:,.0f}"
    colours: tuple[str, ...] | None = None  # one per row (single series) instead of series
    maximum: float | None = None  # a fixed top of the scale (satisfaction: 5)


def write_chart_csv(data: ChartData, path: str | Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(data.csv_header)
        writer.writerows(data.csv_rows)


class BarChart(QWidget):
    """Vertical bars (several series side by side) or horizontal bars for long labels.

    `bar_clicked(row)` is emitted when a bar (or its label) is clicked."""

    bar_clicked = Signal(int)

    def __init__(self, horizontal: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.horizontal = horizontal
        self.data = ChartData((), (), (), ())
        self._hit: list[tuple[QRectF, int]] = []
        self.empty_text = "Nothing to show yet"
        # Set by a page that computes its figures after it is shown: until the first data
        # arrives the chart draws nothing, not its empty text ("No customers yet" over a
        # full book while the figures are counted).
        self.waiting = False
        self.setMinimumSize(QSize(300, 190))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def set_data(self, data: ChartData) -> None:
        self.data = data
        self.waiting = False
        self._hit = []
        self.setAccessibleDescription("; ".join(
            f"{label}: " + ", ".join(data.value_format.format(v) for v in values)
            for label, values in data.rows))
        self.update()

    def has_figures(self) -> bool:
        """Whether there is anything to draw: a chart whose every bar is 0 (a new book's
        segments, a period without touchpoints) says so in words instead of a row of 0s."""
        return any(value for _, values in self.data.rows for value in values)

    # --- geometry shared by painting and clicks --------------------------------------------
    def bar_rect(self, row: int) -> QRectF:
        """Where the row's bars (or its label) are: what a click on that row hits."""
        if not self._hit:
            self._layout()
        for rect, index in self._hit:
            if index == row:
                return rect
        return QRectF()

    def _colour(self, row: int, series: int) -> QColor:
        colours = self.data.colours
        if colours and len(self.data.series) == 1:
            return QColor(colours[row % len(colours)])
        return QColor(SERIES_COLOURS[series % len(SERIES_COLOURS)])

    def _top(self) -> float:
        values = [v for _, vs in self.data.rows for v in vs]
        top = self.data.maximum or (max(values) if values else 0)
        return float(top) if top > 0 else 1.0

    def _layout(self, painter: QPainter | None = None) -> None:
        self._hit = []
        rows = self.data.rows
        if not self.has_figures():  # no bars to click either
            return
        metrics = QFontMetrics(self.font())
        legend = metrics.height() + 8 if len(self.data.series) > 1 else 0
        area = QRectF(self.rect()).adjusted(8, 6 + legend, -8, -6)
        top = self._top()
        series = max(1, len(self.data.series))
        text = self.palette().color(self.foregroundRole())
        muted = QColor(text)
        muted.setAlpha(160)
        if painter is not None and legend:
            x = area.left()
            for i, name in enumerate(self.data.series):
                painter.fillRect(QRectF(x, 8, 12, 12), self._colour(0, i))
                painter.setPen(text)
                painter.drawText(QPointF(x + 16, 8 + metrics.ascent() - 1), name)
                x += 16 + metrics.horizontalAdvance(name) + 18
        if self.horizontal:
            # Several series stack along one bar (open then resolved), so rows stay
            # readable however many there are; the numbers follow the bar, joined by " / ".
            label_width = min(area.width() * 0.45,
                              max(metrics.horizontalAdvance(label) for label, _ in rows) + 10)
            value_room = metrics.horizontalAdvance("0" * 4) * series + 12
            band = area.height() / len(rows)
            bar_area = area.width() - label_width - value_room
            top = max((sum(vs) for _, vs in rows), default=0) if series > 1 else top
            top = top if top > 0 else 1.0
            for index, (label, values) in enumerate(rows):
                y = area.top() + index * band
                thickness = min(band * 0.7, 22)
                self._hit.append((QRectF(area.left(), y, area.width(), band), index))
                if painter is None:
                    continue
                painter.setPen(text)
                shown = metrics.elidedText(label, Qt.TextElideMode.ElideRight,
                                           int(label_width - 8))
                painter.drawText(QRectF(area.left(), y, label_width - 8, band),
                                 Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                                 shown)
                x = area.left() + label_width
                bar_top = y + (band - thickness) / 2
                for s, value in enumerate(values):
                    length = bar_area * value / top
                    painter.fillRect(QRectF(x, bar_top, length, thickness - 1),
                                     self._colour(index, s))
                    x += length
                painter.setPen(muted)
                painter.drawText(QPointF(x + 4, bar_top + thickness / 2 + metrics.ascent() / 2 - 1),
                                 " / ".join(self.data.value_format.format(v) for v in values))
            return
        lines = max(label.count("\n") + 1 for label, _ in rows)
        label_room = metrics.height() * lines + 6
        value_room = metrics.height() + 2
        band = area.width() / len(rows)
        height = area.height() - label_room - value_room
        base = area.bottom() - label_room
        if painter is not None:
            axis = QColor(text)
            axis.setAlpha(70)
            painter.setPen(axis)
            painter.drawLine(QPointF(area.left(), base), QPointF(area.right(), base))
        for index, (label, values) in enumerate(rows):
            x = area.left() + index * band
            width = min(band * 0.72, 64) / series
            self._hit.append((QRectF(x, area.top(), band, area.height()), index))
            if painter is None:
                continue
            start = x + (band - width * series) / 2
            for s, value in enumerate(values):
                length = height * value / top
                rect = QRectF(start + s * width, base - length, width - 2, length)
                painter.fillRect(rect, self._colour(index, s))
                painter.setPen(muted)
                painter.drawText(QRectF(rect.left() - 20, rect.top() - value_room,
                                        rect.width() + 40, value_room),
                                 Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                                 self.data.value_format.format(value))
            painter.setPen(text)
            shown = "\n".join(metrics.elidedText(part, Qt.TextElideMode.ElideRight,
                                                 int(band - 4)) for part in label.split("\n"))
            painter.drawText(QRectF(x, base + 3, band, label_room),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, shown)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(self.font())
        if not self.has_figures():
            self._hit = []
            if self.waiting:
                return
            colour = QColor(self.palette().color(self.foregroundRole()))
            colour.setAlpha(150)
            painter.setPen(colour)
            painter.drawText(QRectF(self.rect()).adjusted(16, 0, -16, 0),
                             int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                             self.empty_text)
            return
        self._layout(painter)

    def resizeEvent(self, event: object) -> None:  # type: ignore[override]
        self._hit = []
        super().resizeEvent(event)  # type: ignore[arg-type]

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        over = self._row_at(event.position())
        self.setCursor(Qt.CursorShape.PointingHandCursor if over is not None
                       else Qt.CursorShape.ArrowCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            row = self._row_at(event.position())
            if row is not None:
                self.bar_clicked.emit(row)

    def _row_at(self, point: QPointF) -> int | None:
        if not self._hit:
            self._layout()
        for rect, index in self._hit:
            if rect.contains(point):
                return index
        return None

    def to_image(self, scale: int = 2) -> QImage:
        """The chart on its own background, at `scale` times its size (for the PNG)."""
        image = QImage(self.size() * scale, QImage.Format.Format_ARGB32)
        image.setDevicePixelRatio(scale)  # painted in the widget's own coordinates
        background = self.palette().color(self.backgroundRole())
        if background.alpha() == 0 or not self.autoFillBackground():
            background = self.palette().color(QPalette.ColorRole.Base)
        image.fill(background)
        painter = QPainter(image)
        try:
            self._paint(painter)
        finally:
            painter.end()
        return image


def big_number_font(base: QFont) -> QFont:
    font = QFont(base)
    font.setPointSize(max(base.pointSize(), 9) * 3)
    font.setWeight(QFont.Weight.DemiBold)
    return font


def chart_rows(labels: Sequence[str], values: Sequence[Sequence[float]]
               ) -> tuple[tuple[str, tuple[float, ...]], ...]:
    return tuple((label, tuple(float(v) for v in vs))
                 for label, vs in zip(labels, values, strict=True))
