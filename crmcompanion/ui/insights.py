"""The Insights section: who is happiest, who is at risk, who was lost and why, at a glance.

Built the first time the section is shown (`MainWindow.insights_view`), so the app's start
pays nothing for it. Every figure comes from one `InsightsService` pass run off the GUI
thread (`ui.workers.BackgroundTask`): the window never waits on the queries. A date range and
a tag apply to the whole dashboard. Clicking a segment's bar opens the customer list filtered
to exactly that segment; each chart saves as a PNG and its numbers as CSV (the same numbers
`crmcompanion insights --json` prints).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.lost import LOST_REASON_TITLES, LostReason
from crmcompanion.core.segments import SEGMENT_ORDER, SEGMENT_TITLES, Segment
from crmcompanion.services.changes import Changed
from crmcompanion.services.container import Services
from crmcompanion.services.insights import DashboardFilter
from crmcompanion.ui import formatting
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.insights_charts import (
    BarChart,
    ChartData,
    big_number_font,
    chart_rows,
    write_chart_csv,
)
from crmcompanion.ui.insights_stay import Comparison, stay_chart_data
from crmcompanion.ui.widgets import PageHeader
from crmcompanion.ui.workers import BackgroundTask, TaskState

logger = logging.getLogger(__name__)

SEGMENT_COLOURS: dict[Segment, str] = {
    Segment.HAPPIEST: "#22a06b",
    Segment.HEALTHY: "#3b82f6",
    Segment.AT_RISK: "#e5484d",
    Segment.LOST: "#8a94a6",
    Segment.POTENTIAL: "#8e6bd8",
}
OUTCOME_COLOURS = ("#22a06b", "#f59e0b", "#e5484d")
OUTCOMES = (("on_time", "On time"), ("late", "Late"), ("missed", "Missed"))
# What an empty chart says instead of a row of 0s (a new book, a quiet period).
NO_CUSTOMERS_TEXT = ("No customers yet. Add or import customers and each one's segment "
                     "shows here.")
NO_TOUCHPOINTS_TEXT = "No touchpoints done or missed in this period yet."
NO_CUSTOMERS_STAY_TEXT = ("No customers yet. Once you have some, this compares your "
                          "happiest customers with everyone else.")
NO_PRAISE_TEXT = "No praise with a theme yet."
# (title, days back; None: all time; -1: the dates chosen)
PERIODS: tuple[tuple[str, int | None], ...] = (
    ("All time", None), ("Last 30 days", 30), ("Last 90 days", 90),
    ("Last 12 months", 365), ("Dates…", -1),
)
_RELOAD_DELAY_MS = 400


@dataclass(frozen=True)
class Loaded:
    figures: Any  # services.insights.Dashboard
    report: Any  # services.insights.LostReport
    moved: list[Any]  # services.insights.MovedCustomer
    why: Any = None  # core.why_stay.WhyTheyStay


def reason_title(reason: str) -> str:
    try:
        return LOST_REASON_TITLES[LostReason(reason)]
    except ValueError:
        return reason


def month_title(month: str) -> str:
    """"2026-03" as the locale's short month over the year ("Mar" / "2026")."""
    year, number = (int(part) for part in month.split("-"))
    return formatting.month_year(year, number, "\n")


class ChartCard(QFrame):
    """One chart (or one big number) with its title, a note, and PNG / CSV export."""

    def __init__(self, key: str, title: str, chart: BarChart | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        top = QHBoxLayout()
        self.title = QLabel(title)
        self.title.setWordWrap(True)  # long titles wrap in a narrow window
        self.title.setStyleSheet("font-weight: 600; font-size: 14px;")
        top.addWidget(self.title, 1)
        self.png_button = QPushButton("Save image…")
        self.png_button.setObjectName("link")
        self.png_button.clicked.connect(self.save_png)
        self.csv_button = QPushButton("Save data…")
        self.csv_button.setObjectName("link")
        self.csv_button.clicked.connect(self.save_csv)
        top.addWidget(self.png_button)
        top.addWidget(self.csv_button)
        layout.addLayout(top)
        self.chart = chart
        self.number = QLabel("–")
        self.number.setFont(big_number_font(self.font()))
        self.number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if chart is not None:
            # The page computes its figures after it is shown: blank until they come, not
            # "No customers yet" over a full book.
            chart.waiting = True
            layout.addWidget(chart, 1)
            self.number.hide()
        else:
            layout.addWidget(self.number, 1)
        self.note = QLabel("")
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.hide()
        layout.addWidget(self.note)
        self.data = ChartData((), (), (), ())

    def set_data(self, data: ChartData, note: str = "") -> None:
        self.data = data
        if self.chart is not None:
            self.chart.set_data(data)
        self.note.setText(note)
        self.note.setVisible(bool(note))
        # Nothing to save from a chart of nothing (no rows, or every bar at 0): the links
        # are disabled, and look it, instead of saving an empty picture.
        if self.chart is not None:
            figures = any(value for _, values in data.rows for value in values)
        else:
            figures = any(value is not None for row in data.csv_rows for value in row)
        for button in (self.png_button, self.csv_button):
            button.setEnabled(figures)
            button.setToolTip("" if figures else "Nothing to save yet")

    def _target(self, suffix: str, kind: str) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self, f"Save {self.title.text().lower()} as {kind}",
            str(Path.home() / f"{self.key}.{suffix}"), f"{kind} (*.{suffix})")
        return path

    def save_png(self) -> None:
        path = self._target("png", "PNG image")
        if path:
            self.export_png(path)

    def save_csv(self) -> None:
        path = self._target("csv", "CSV file")
        if path:
            self.export_csv(path)

    def export_png(self, path: str | Path) -> bool:
        image = self.chart.to_image() if self.chart is not None else self.grab().toImage()
        saved = image.save(str(path), "PNG")
        if not saved:
            logger.warning("Could not save the chart image to %s", path)
        return saved

    def export_csv(self, path: str | Path) -> None:
        write_chart_csv(self.data, path)


def date_edit_width(edit: QDateEdit) -> int:
    """The width that shows every date of `edit`'s display format whole: the widest month's
    text (two-digit day, this year) through the style's own arithmetic for a calendar-popup
    date edit (frame, padding, the drop-down button), as QDateTimeEdit.sizeHint() does for
    its minimum and maximum dates."""
    metrics = edit.fontMetrics()
    year = edit.date().year()
    widest = max(metrics.horizontalAdvance(edit.locale().toString(QDate(year, month, 28),
                                                                  edit.displayFormat()) + " ")
                 for month in range(1, 13))
    option = QStyleOptionComboBox()
    option.initFrom(edit)
    option.editable = True
    option.frame = True
    contents = QSize(widest + 2, edit.sizeHint().height())  # + 2: the text cursor
    return edit.style().sizeFromContents(QStyle.ContentsType.CT_ComboBox, option, contents,
                                         edit).width()


class InsightsView(QWidget):
    segment_requested = Signal(str)  # a segment's bar clicked: show those customers
    customer_requested = Signal(int)
    message = Signal(str)
    loaded = Signal()  # the figures on screen are the latest computed

    def __init__(self, services: Services, bus: AppState, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.services = services
        self.bus = bus
        self._task: BackgroundTask | None = None
        self._stale = True
        self._again = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        self.header = PageHeader("Insights", "Who is happiest, who is at risk, who was lost "
                                 "and why")
        layout.addWidget(self.header)

        bar = QHBoxLayout()
        # Tight: at 900 px the period's two dates ("30 Sep 2026" in the C locale) and the tag
        # filter share ~634 px, and each date must show whole.
        bar.setSpacing(6)
        self.period = QComboBox()
        for title, _ in PERIODS:
            self.period.addItem(title)
        today = QDate(services.clock.today())
        self.start = QDateEdit(today.addYears(-1))
        self.end = QDateEdit(today)
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat(formatting.date_edit_format())
            edit.setEnabled(False)
            # Never narrower than the date it shows ("1 Mar 202" at 900 px otherwise).
            edit.setMinimumWidth(date_edit_width(edit))
            edit.setSizePolicy(QSizePolicy.Policy.Minimum, edit.sizePolicy().verticalPolicy())
        self.tag = QComboBox()
        self.tag.setMinimumWidth(100)
        self.refresh_button = QPushButton("Refresh")
        self.status = QLabel("")
        self.status.setObjectName("muted")
        bar.addWidget(QLabel("Period"))
        bar.addWidget(self.period)
        bar.addWidget(self.start)
        bar.addWidget(QLabel("to"))
        bar.addWidget(self.end)
        bar.addSpacing(8)
        bar.addWidget(QLabel("Tag"))
        bar.addWidget(self.tag)
        bar.addStretch(1)
        # "Updating…" and Refresh in the header, beside the title: the filter row keeps its
        # room for the dates (at 900 px the row has ~630 px; with the status it needed ~700
        # and squeezed the date pickers below their text).
        self.header.add_action(self.status)
        self.header.add_action(self.refresh_button)
        layout.addLayout(bar)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        grid = QGridLayout(body)
        grid.setContentsMargins(0, 8, 0, 0)
        grid.setSpacing(14)
        self.cards: dict[str, ChartCard] = {}

        self._grid = grid
        # The cards in reading order; laid out in two columns, or one in a narrow window
        # (`_lay_out`), so a 900 px window never scrolls sideways.
        self._tiles: list[QWidget] = []
        self._columns = 2

        def card(key: str, title: str, row: int, column: int,
                 chart: BarChart | None = None) -> ChartCard:
            made = ChartCard(key, title, chart)
            made.setMinimumHeight(270)
            grid.addWidget(made, row, column)
            self.cards[key] = made
            self._tiles.append(made)
            return made

        self.segments_chart = BarChart()
        self.segments_chart.empty_text = NO_CUSTOMERS_TEXT
        card("segments", "Customers by segment", 0, 0, self.segments_chart)
        card("lost_reasons", "Why customers left", 0, 1, BarChart(horizontal=True))
        card("complaints_by_theme", "Complaints by theme", 1, 0, BarChart(horizontal=True))
        card("ideas_by_requesters", "Ideas by requesters", 1, 1, BarChart(horizontal=True))
        touchpoints_chart = BarChart()
        touchpoints_chart.empty_text = NO_TOUCHPOINTS_TEXT
        card("touchpoints", "Touchpoints done on time, late, missed", 2, 0, touchpoints_chart)
        card("satisfaction_by_month", "Satisfaction by month", 2, 1, BarChart())
        card("median_resolution_days", "Median time to resolve a complaint", 3, 0)
        moved = QFrame()
        moved.setObjectName("card")
        moved_layout = QVBoxLayout(moved)
        moved_layout.setContentsMargins(14, 10, 14, 10)
        moved_title = QLabel("Moved to at risk this week")
        moved_title.setStyleSheet("font-weight: 600; font-size: 14px;")
        moved_layout.addWidget(moved_title)
        self.moved_list = QListWidget()
        self.moved_list.setWordWrap(True)
        self.moved_list.itemActivated.connect(
            lambda item: self.customer_requested.emit(int(item.data(Qt.ItemDataRole.UserRole))))
        moved_layout.addWidget(self.moved_list, 1)
        grid.addWidget(moved, 3, 1)
        self._tiles.append(moved)
        # Why customers stay: the comparison above the praise themes, across both columns.
        self.why_stay = ChartCard("why_they_stay", "Why customers stay: the happiest against "
                                  "everyone else", BarChart(horizontal=True))
        self.why_stay.setMinimumHeight(340)
        self.why_comparison = Comparison()
        self.why_stay.layout().insertWidget(1, self.why_comparison)
        grid.addWidget(self.why_stay, 4, 0, 1, 2)
        self.cards["why_they_stay"] = self.why_stay
        for column in (0, 1):
            grid.setColumnStretch(column, 1)
        scroll.setWidget(body)
        layout.addWidget(scroll, 1)
        self._scroll = scroll
        scroll.viewport().installEventFilter(self)

        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(_RELOAD_DELAY_MS)
        self._reload_timer.timeout.connect(self.reload)
        self.segments_chart.bar_clicked.connect(self._segment_clicked)
        self.period.currentIndexChanged.connect(self._period_changed)
        self.start.dateChanged.connect(lambda _d: self.reload())
        self.end.dateChanged.connect(lambda _d: self.reload())
        self.tag.currentIndexChanged.connect(lambda _i: self.reload())
        self.refresh_button.clicked.connect(self.reload)
        bus.changed.connect(self._on_changed)
        self._reload_tags()

    # --- what the dashboard shows ---------------------------------------------------------
    def scope(self) -> DashboardFilter:
        days = PERIODS[max(0, self.period.currentIndex())][1]
        tag = self.tag.currentData() or None
        if days is None:
            return DashboardFilter(tag=tag)
        if days == -1:
            start, end = self.start.date().toPython(), self.end.date().toPython()
            if start > end:
                start, end = end, start
            return DashboardFilter(start, end, tag)
        today = self.services.clock.today()
        return DashboardFilter(today - timedelta(days=days - 1), today, tag)

    def _period_changed(self, index: int) -> None:
        custom = PERIODS[max(0, index)][1] == -1
        self.start.setEnabled(custom)
        self.end.setEnabled(custom)
        self.reload()

    def _reload_tags(self) -> None:
        current = self.tag.currentData()
        self.tag.blockSignals(True)
        self.tag.clear()
        self.tag.addItem("All tags", "")
        for name, count in self.services.customers.tags():
            self.tag.addItem(f"{name} ({formatting.number(count)})", name)
        index = self.tag.findData(current) if current else 0
        self.tag.setCurrentIndex(max(0, index))
        self.tag.blockSignals(False)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def _on_changed(self, changed: Changed) -> None:
        if changed.tags:
            self._reload_tags()
        self._stale = True
        if self.isVisible():
            self._reload_timer.start()

    # Below this viewport width the cards stack in one column (two cards need ~2 x 380 px).
    TWO_COLUMNS_FROM = 800

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._scroll.viewport() and event.type() == QEvent.Type.Resize:
            columns = 2 if self._scroll.viewport().width() >= self.TWO_COLUMNS_FROM else 1
            if columns != self._columns:
                self._lay_out(columns)
        return super().eventFilter(watched, event)

    def _lay_out(self, columns: int) -> None:
        """Put the cards in `columns` columns, in reading order; "why customers stay" spans
        the width under them."""
        grid = self._grid
        for tile in [*self._tiles, self.why_stay]:
            grid.removeWidget(tile)
        for index, tile in enumerate(self._tiles):
            grid.addWidget(tile, index // columns, index % columns)
        grid.addWidget(self.why_stay, (len(self._tiles) + columns - 1) // columns, 0, 1, columns)
        grid.setColumnStretch(1, 1 if columns == 2 else 0)
        self._columns = columns

    def reload(self) -> None:
        """Compute every figure off the GUI thread; a reload asked for meanwhile runs after."""
        if self._task is not None and self._task.running:
            self._again = True
            return
        self._stale = False
        scope = self.scope()
        insights = self.services.insights

        def work(_state: TaskState) -> Loaded:
            figures = insights.dashboard(scope)
            return Loaded(figures, insights.lost_report(scope.tag), insights.moved_to_at_risk(),
                          insights.why_they_stay(scope.tag))

        self.status.setText("Updating…")
        task = BackgroundTask(work, "insights")
        task.succeeded.connect(self._show)
        task.failed.connect(self._failed)
        task.finished.connect(self._finished)
        self._task = task
        task.start()

    def _finished(self) -> None:
        if self._again:
            self._again = False
            self.reload()

    def _failed(self, error: object) -> None:
        self.status.setText("")
        logger.error("Insights could not be computed: %s", error)
        self.message.emit(f"Insights could not be computed: {error}")
        self._stop_waiting()

    def _stop_waiting(self) -> None:
        """A chart the load gave no data (failed, or a part not computed) says it is empty."""
        for card in self.cards.values():
            if card.chart is not None and card.chart.waiting:
                card.chart.waiting = False
                card.chart.update()

    def _show(self, loaded: Loaded) -> None:
        figures = loaded.figures
        self.status.setText("")
        counts = figures.segments
        self.cards["segments"].set_data(ChartData(
            series=("Customers",),
            rows=chart_rows([SEGMENT_TITLES[s] for s in SEGMENT_ORDER],
                            [[counts[s.value]] for s in SEGMENT_ORDER]),
            csv_header=("segment", "customers"),
            csv_rows=tuple((s.value, counts[s.value]) for s in SEGMENT_ORDER),
            colours=tuple(SEGMENT_COLOURS[s] for s in SEGMENT_ORDER),
        ), "Click a bar to see those customers." if any(counts.values()) else "")
        # No bars, nothing to click.
        self.segments_chart.setToolTip(
            "Click a bar to see those customers" if any(counts.values()) else "")
        lost = figures.lost_reasons
        self.cards["lost_reasons"].set_data(ChartData(
            series=("Share",),
            rows=chart_rows([reason_title(s.reason) for s in lost], [[s.share] for s in lost]),
            csv_header=("reason", "count", "share"),
            csv_rows=tuple((s.reason, s.count, round(s.share, 4)) for s in lost),
            value_format="{:.0%}",
        ), loaded.report.target.words() if lost else "")
        themes = figures.complaints_by_theme
        self.cards["complaints_by_theme"].set_data(ChartData(
            series=("Open", "Resolved"),
            rows=chart_rows([t for t, _, _ in themes], [[o, r] for _, o, r in themes]),
            csv_header=("theme", "open", "resolved"),
            csv_rows=tuple(themes),
        ))
        ideas = figures.ideas_by_requesters[:8]
        self.cards["ideas_by_requesters"].set_data(ChartData(
            series=("Requesters",),
            rows=chart_rows([t for _, t, _ in ideas], [[n] for _, _, n in ideas]),
            csv_header=("id", "title", "requesters"),
            csv_rows=tuple(figures.ideas_by_requesters),
        ))
        touch = figures.touchpoints
        self.cards["touchpoints"].set_data(ChartData(
            series=("Touchpoints",),
            rows=chart_rows([title for _, title in OUTCOMES],
                            [[touch[key]] for key, _ in OUTCOMES]),
            csv_header=("outcome", "count"),
            csv_rows=tuple((key, touch[key]) for key, _ in OUTCOMES),
            colours=OUTCOME_COLOURS,
        ))
        months = figures.satisfaction_by_month[-12:]
        self.cards["satisfaction_by_month"].set_data(ChartData(
            series=("Average",),
            rows=chart_rows([month_title(mo) for mo, _, _ in months],
                            [[a] for _, a, _ in months]),
            csv_header=("month", "average", "count"),
            csv_rows=tuple(figures.satisfaction_by_month),
            value_format="{:.1f}",
            maximum=5,
        ), "Average of the 1–5 ratings given each month." if months else "")
        median = figures.median_resolution_days
        card = self.cards["median_resolution_days"]
        card.number.setText("–" if median is None else
                            f"{median:.1f} days" if median != 1 else "1 day")
        card.set_data(ChartData((), (), ("median_resolution_days",), ((median,),)),
                      "From a complaint's arrival to its resolution." if median is not None
                      else "No complaint resolved in this period.")
        self.moved_list.clear()
        for moved in loaded.moved:
            item = QListWidgetItem(f"{moved.name}\n{moved.reasons}")
            item.setData(Qt.ItemDataRole.UserRole, moved.customer_id)
            self.moved_list.addItem(item)
        if not loaded.moved:
            empty = QListWidgetItem("Nobody moved to at risk in the last seven days.")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.moved_list.addItem(empty)
        if loaded.why is not None:
            why = loaded.why
            self.why_comparison.set_figures(why)
            # No customer at all: one sentence, not a table of 0s and dashes over "Nothing to
            # show yet" over "No praise with a theme yet".
            nobody = not (why.happiest.customers or why.others.customers)
            self.why_comparison.setVisible(not nobody)
            chart = self.why_stay.chart
            assert chart is not None
            chart.empty_text = NO_CUSTOMERS_STAY_TEXT if nobody else NO_PRAISE_TEXT
            self.why_stay.set_data(stay_chart_data(why),
                                   "The five themes customers praise most."
                                   if why.praise_themes else "")
        self._stop_waiting()
        self.loaded.emit()

    def _segment_clicked(self, row: int) -> None:
        self.segment_requested.emit(SEGMENT_ORDER[row].value)


class MovedToAtRisk(QPushButton):
    """Today's "moved to at risk this week" (issue 16): a link in the Today page's header,
    shown when someone moved; its tooltip names them with the reasons, a click opens Insights.

    Computed off the GUI thread a few seconds after the window is up (the day's first segment
    recompute may take a second or two at 100,000 customers, which the first paint must not
    wait for), and again after changes."""

    START_DELAY_MS = 3000
    CHANGE_DELAY_MS = 2000

    def __init__(self, services: Services, bus: AppState, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.setObjectName("link")
        self.hide()
        self.services = services
        self.moved: list[Any] = []
        self._task: BackgroundTask | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.reload)
        self._timer.start(self.START_DELAY_MS)
        bus.changed.connect(lambda changed: self._timer.start(self.CHANGE_DELAY_MS)
                            if changed.customers or changed.customer_list
                            or changed.interactions or changed.feedback else None)

    def reload(self) -> None:
        if self._task is not None and self._task.running:
            self._timer.start(self.CHANGE_DELAY_MS)
            return
        insights = self.services.insights
        task = BackgroundTask(lambda _state: insights.moved_to_at_risk(), "moved-at-risk")
        task.succeeded.connect(self._show)
        task.failed.connect(lambda error: logger.warning(
            "Moved to at risk could not be computed: %s", error))
        self._task = task
        task.start()

    def _show(self, moved: list[Any]) -> None:
        self.moved = moved
        count = len(moved)
        self.setText(f"⚠ {count} moved to at risk this week" if count else "")
        self.setToolTip("\n".join(f"{m.name}: {m.reasons}" for m in moved[:15])
                        + (f"\n… and {count - 15} more" if count > 15 else ""))
        self.setVisible(bool(count))


def plug_today_hook(window: Any) -> MovedToAtRisk:
    """Put "moved to at risk this week" in the Today page's header; a click opens Insights."""
    link = MovedToAtRisk(window.services, window.bus, window.today)
    link.clicked.connect(lambda: window.show_section(window.INSIGHTS_SECTION))
    window.today.header.add_action(link)
    return link
