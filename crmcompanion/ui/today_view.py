"""The Today section: what needs the owner's attention, and the app's first page.

Four sections (Overdue, Today, Next 7 days, Days 8-30), each grouped by occasion, each row
with the customer, the occasion ("turns 40", "no contact for 97 days") and quick actions:
Log conversation, Draft greeting (a hook another feature fills: `draft_requested`), Snooze,
Skip and Done. Beside them, "Losing touch": customers past their keep-in-touch cadence, the
longest silence first. Everything comes from `TouchpointService`; every action publishes its
`Changed` on the bus and the view refreshes from the bus like every other view.

The first load runs on a worker thread after the page's first paint (docs/architecture.md,
convention 10): it is the app's first page, and its first read may recompute the derived
touchpoint tables after a bulk load (seconds at 100,000 customers). Until it arrives the page
says "Loading…"; later refreshes (one action's few changed rows) stay synchronous.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, timedelta

from PySide6.QtCore import QDate, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QMouseEvent, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import DomainError
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import OVERDUE_SHOWN_AS_DATE_DAYS, Section, plural, silence
from crmcompanion.services.changes import Changed
from crmcompanion.services.container import Services
from crmcompanion.services.today_support import latest_snooze
from crmcompanion.services.touchpoints import TODAY_SECTIONS, LosingTouch, Touchpoint
from crmcompanion.services.touchpoints import TodayView as TodayData
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.log_conversation import LogConversationDialog
from crmcompanion.ui.reminder_list import ReminderListWidget
from crmcompanion.ui.style import ACCENT, BORDER, ERROR, MUTED, SURFACE
from crmcompanion.ui.text_display import embedded, plain_tooltip, shown
from crmcompanion.ui.widgets import EmptyState, PageHeader

logger = logging.getLogger(__name__)

SHOWN_PER_GROUP = 6  # rows of one occasion shown before "Show more" (there may be hundreds)
# Below this page width (the window near its 900 px minimum) the rows' Log, Draft and Done
# buttons show only their symbols: with the words, Skip and Done were cut off.
COMPACT_BELOW = 820
SIDE_WIDTH = 270
LOSING_TOUCH_LIMIT = 50
DRAFT_SOON = "Drafting a greeting is coming soon."
CUSTOMER_ID_ROLE = Qt.ItemDataRole.UserRole

TODAY_STYLE = f"""
QFrame#touchRow {{
    background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 8px;
}}
QFrame#touchRow[overdue="true"] {{ border-left: 3px solid {ERROR}; }}
QFrame#touchRow:hover {{ border-color: #b9c4d6; }}
QLabel#rowName {{ font-weight: 600; font-size: 14px; }}
QLabel#rowOccasion {{ color: {ACCENT}; }}
QLabel#rowWhen {{ color: {MUTED}; }}
QLabel#rowWhen[overdue="true"] {{ color: {ERROR}; }}
QLabel#todaySection {{ font-size: 16px; font-weight: 600; padding-top: 6px; }}
QLabel#countPill {{
    background: #e7ecf5; color: #344054; border-radius: 9px; padding: 1px 9px;
    font-weight: 600;
}}
QLabel#countPill[alert="true"] {{ background: #fdecea; color: {ERROR}; }}
QLabel#groupLabel {{
    color: {MUTED}; font-size: 11px; font-weight: 600; letter-spacing: 0.5px;
    padding: 4px 0 0 2px;
}}
QLabel#sectionEmpty {{ color: {MUTED}; padding: 2px 2px 6px 2px; }}
QPushButton#rowButton {{ padding: 3px 10px; }}
QPushButton#rowDone {{
    padding: 3px 12px; background: {ACCENT}; color: white; border: 1px solid {ACCENT};
}}
QPushButton#rowDone:hover {{ background: #2459b8; }}
QPushButton#rowButton[compact="true"] {{ padding: 3px 5px; }}
QPushButton#rowDone[compact="true"] {{ padding: 3px 8px; }}
QPushButton#rowButton:disabled {{ color: #a0a8b5; border-color: #e4e7ec; }}
QPushButton#rowButton::menu-indicator {{ width: 0; image: none; }}
QListWidget#losingTouch {{
    background: {SURFACE}; border: none; outline: 0;
}}
QListWidget#losingTouch::item {{ padding: 7px 6px; border-bottom: 1px solid #eef1f5; }}
QListWidget#losingTouch::item:selected {{ background: #dbe7fb; color: #1f2328; }}
"""


def when_text(day: date, today: date) -> str:
    """"today", "yesterday (Sat 28 Feb)", "3 days ago (Thu 26 Feb)", "in 12 days (13 Mar)":
    the weekday within a week, the year when more than half a year away."""
    days = (day - today).days
    if abs(days) <= 7:
        shown = f"{day:%a %d %b}"
    else:
        shown = f"{day:%d %b}" if abs(days) <= 180 else f"{day:%d %b %Y}"
    if days == 0:
        return "today"
    if days == -1:
        return f"yesterday ({shown})"
    if days == 1:
        return f"tomorrow ({shown})"
    if days < -OVERDUE_SHOWN_AS_DATE_DAYS:
        return f"due since {shown}"  # "5401 days ago" makes the reader do arithmetic
    if days < 0:
        return f"{-days} days ago ({shown})"
    return f"in {days} days ({shown})"


@dataclass(frozen=True)
class TodayLoad:
    """Everything one refresh shows, read in one go (on the worker thread for the first)."""

    view: TodayData
    losing: tuple[LosingTouch, ...]
    values: dict[str, object]


def read_today(services: Services) -> TodayLoad:
    """The service calls behind the page; plain frozen data, safe to hand between threads."""
    view = services.touchpoints.today_view()
    losing = tuple(services.touchpoints.losing_touch(LOSING_TOUCH_LIMIT))
    return TodayLoad(view, losing, services.settings.all())


class _LoadRelay(QObject):
    """Carries the worker's result to the GUI thread (a queued connection)."""

    done = Signal(int, bool, object)  # generation, ok, TodayLoad or the exception


class TouchpointRow(QFrame):
    """One touchpoint: who, what, when, and the quick actions. Double-click opens the customer."""

    open_requested = Signal(int)
    snooze_chosen = Signal(object)  # the day chosen in the Snooze menu
    pick_requested = Signal()  # "Pick a date…"

    def __init__(
        self, item: Touchpoint, today: date, snooze_limit: date | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.item = item
        self.setObjectName("touchRow")
        overdue = item.section is Section.OVERDUE
        self.setProperty("overdue", overdue)
        self.setToolTip("Double-click to open the customer")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 10, 8)
        layout.setSpacing(8)

        texts = QVBoxLayout()
        texts.setSpacing(1)
        self.name = QLabel(item.customer)
        self.name.setObjectName("rowName")
        self.name.setTextFormat(Qt.TextFormat.PlainText)
        texts.addWidget(self.name)
        second = QHBoxLayout()
        second.setSpacing(0)
        self.occasion = QLabel(item.label)
        self.occasion.setObjectName("rowOccasion")
        self.occasion.setTextFormat(Qt.TextFormat.PlainText)
        second.addWidget(self.occasion)
        self.when = QLabel(when_text(item.date, today))
        self.when.setObjectName("rowWhen")
        self.when.setProperty("overdue", overdue)
        second.addWidget(QLabel("  ·  ", objectName="rowWhen"))
        second.addWidget(self.when)
        second.addStretch(1)
        texts.addLayout(second)
        for label in (self.name, self.occasion, self.when):
            # Long names and notes are clipped rather than pushing the buttons out of view.
            label.setMinimumWidth(20)
            label.setToolTip(plain_tooltip(shown(label.text())))
        layout.addLayout(texts, 1)

        # Short labels so the customer and the occasion keep their room; tooltips say it all.
        self.log_button = self._button("✎ Log", "Log conversation: a call, visit or message")
        self.draft_button = self._button("✉ Draft", DRAFT_SOON)
        self.draft_button.setEnabled(False)
        self.snooze_button = self._button("Snooze ▾", "Hide this until a later day")
        # The menu is built when first opened: a page of hundreds of rows would otherwise
        # hold hundreds of menus nobody opens (~30 KB each).
        self._today = today
        self._snooze_limit = snooze_limit
        self._snooze_menu: QMenu | None = None
        self.snooze_button.pressed.connect(self._open_snooze_menu)
        self.skip_button = self._button("Skip", "Not this time (asks why)")
        self.done_button = QPushButton("✓ Done")
        self.done_button.setObjectName("rowDone")
        self.done_button.setToolTip("Mark as done; it is recorded in the customer's history")
        for button in (self.log_button, self.draft_button, self.snooze_button,
                       self.skip_button, self.done_button):
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)

    @property
    def snooze_menu(self) -> QMenu:
        if self._snooze_menu is None:
            menu = QMenu(self.snooze_button)
            tomorrow = self._today + timedelta(days=1)
            next_week = self._today + timedelta(days=7)
            for text, day in (("Tomorrow", tomorrow), ("Next week", next_week)):
                action = menu.addAction(text)
                action.setData(day)
                action.triggered.connect(lambda _=False, d=day: self.snooze_chosen.emit(d))
            menu.addSeparator()
            menu.addAction("Pick a date…").triggered.connect(self.pick_requested)
            if self._snooze_limit is not None:
                for action, day in zip(menu.actions()[:2], (tomorrow, next_week), strict=True):
                    action.setEnabled(day <= self._snooze_limit)
                menu.actions()[3].setEnabled(tomorrow <= self._snooze_limit)
            self._snooze_menu = menu
        return self._snooze_menu

    @property
    def tomorrow_action(self) -> QAction:
        return self.snooze_menu.actions()[0]

    @property
    def next_week_action(self) -> QAction:
        return self.snooze_menu.actions()[1]

    @property
    def pick_action(self) -> QAction:
        return self.snooze_menu.actions()[3]  # after the separator

    def set_compact(self, compact: bool) -> None:
        """Symbols only on Log, Draft and Done (their tooltips say what they do), or words."""
        self.log_button.setText("✎" if compact else "✎ Log")
        self.draft_button.setText("✉" if compact else "✉ Draft")
        self.done_button.setText("✓" if compact else "✓ Done")
        for button in (self.log_button, self.draft_button, self.snooze_button,
                       self.skip_button, self.done_button):
            button.setProperty("compact", compact)
            button.style().unpolish(button)
            button.style().polish(button)

    def _open_snooze_menu(self) -> None:
        # First press: build the menu and hand it to the button, which opens it from then on.
        self.snooze_button.pressed.disconnect(self._open_snooze_menu)
        self.snooze_button.setMenu(self.snooze_menu)
        self.snooze_button.showMenu()

    def _button(self, text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName("rowButton")
        button.setToolTip(tip)
        return button

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.open_requested.emit(self.item.customer_id)
        event.accept()


@dataclass
class _CutGroup:
    """The rows of a Today group not shown yet, and where they go when asked for."""

    rest: list[Touchpoint]
    last_row: TouchpointRow  # the group's last row on the page: the rest follows it
    more: QPushButton  # its "Show N more" button, which the rest replaces
    values: dict[str, object]


class SectionBlock(QWidget):
    """One Today section: its title and count, then its rows grouped by occasion."""

    show_all_requested = Signal(object)

    def __init__(self, section: Section, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.section = section
        self.rows: list[TouchpointRow] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 8)
        layout.setSpacing(6)
        head = QHBoxLayout()
        head.setSpacing(8)
        self.title = QLabel(section.title)
        self.title.setObjectName("todaySection")
        head.addWidget(self.title)
        self.count = QLabel("0")
        self.count.setObjectName("countPill")
        head.addWidget(self.count, 0, Qt.AlignmentFlag.AlignBottom)
        head.addStretch(1)
        layout.addLayout(head)
        self.body = QVBoxLayout()
        self.body.setSpacing(6)
        layout.addLayout(self.body)

    @property
    def total(self) -> int:
        return int(self.count.text())


class SkipDialog(QDialog):
    """Asks why a touchpoint is skipped (kept with the record)."""

    def __init__(self, item: Touchpoint, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.setWindowTitle("Skip")
        self.setMinimumWidth(400)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        text = QLabel(f"Skip {embedded(item.customer)}: {embedded(item.label)}?")
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.setWordWrap(True)
        layout.addWidget(text)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why? e.g. saw them last week, moved away")
        self.reason.setMaxLength(500)
        layout.addWidget(self.reason)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.skip_button = QPushButton("Skip")
        self.skip_button.setObjectName("primary")
        self.skip_button.setDefault(True)
        self.skip_button.clicked.connect(self.accept)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.skip_button)
        layout.addLayout(buttons)


class SnoozeDialog(QDialog):
    """Pick the day a snoozed touchpoint comes back."""

    def __init__(
        self, item: Touchpoint, today: date, limit: date | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.item = item
        self.setWindowTitle("Snooze until")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        form = QFormLayout()
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        self.date_edit.setMinimumDate(QDate(today + timedelta(days=1)))
        if limit is not None:
            self.date_edit.setMaximumDate(QDate(limit))
        self.date_edit.setDate(QDate(min(today + timedelta(days=7), limit or date.max)))
        form.addRow("Show again on", self.date_edit)
        layout.addLayout(form)
        if limit is not None:
            note = QLabel(f"It leaves the overdue list after {limit:%d %B}; skip it instead "
                          "to hide it for good.")
            note.setObjectName("muted")
            note.setWordWrap(True)
            layout.addWidget(note)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = QPushButton("Snooze")
        self.ok_button.setObjectName("primary")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.accept)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)
        layout.addLayout(buttons)

    @property
    def until(self) -> date:
        return self.date_edit.date().toPython()  # type: ignore[no-any-return]


class TodayView(QWidget):
    """The Today page. `customer_requested(id)` asks the window to open a customer;
    `draft_requested(Touchpoint)` is the hook the greetings feature connects to."""

    customer_requested = Signal(int)
    draft_requested = Signal(object)
    message = Signal(str)
    loaded = Signal()  # the first data is on the page (tests and the app wait for it)

    def __init__(
        self, services: Services, bus: AppState | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._bus = bus or AppState(self)
        self._expanded: set[tuple[Section, Occasion]] = set()
        self.compact = False  # see COMPACT_BELOW
        # Groups cut at SHOWN_PER_GROUP, with what "Show N more" needs to append the rest
        # to the rows already there (the rows, their data and the button).
        self._cut: dict[tuple[Section, Occasion], _CutGroup] = {}
        self._draft_enabled = False
        self.today = services.clock.today()
        self.dialog: QDialog | None = None
        self.sections: dict[Section, SectionBlock] = {}
        self.losing: list[LosingTouch] = []
        # Loading state: `ready` once data is shown; `_generation` lets a newer synchronous
        # refresh win over a slower background load that started before it.
        self.ready = False
        self.loading = False
        self._needs_load = True
        self._reload_after = False
        self._generation = 0
        self._relay = _LoadRelay(self)
        self._relay.done.connect(self._load_finished, Qt.ConnectionType.QueuedConnection)
        self.setStyleSheet(TODAY_STYLE)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(14)
        self.header = PageHeader("Today", f"{self.today:%A, %d %B %Y}")
        layout.addWidget(self.header)

        self.stack = QStackedWidget()
        content = QWidget()
        columns = QHBoxLayout(content)
        columns.setContentsMargins(0, 0, 0, 0)
        columns.setSpacing(18)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        self._sections_layout = QVBoxLayout(inner)
        self._sections_layout.setContentsMargins(0, 0, 8, 0)
        self._sections_layout.setSpacing(10)
        for section in TODAY_SECTIONS:
            block = SectionBlock(section)
            self.sections[section] = block
            self._sections_layout.addWidget(block)
        self._sections_layout.addStretch(1)
        self.scroll.setWidget(inner)
        columns.addWidget(self.scroll, 1)

        self.losing_card = QFrame()
        self.losing_card.setObjectName("card")
        self.losing_card.setFixedWidth(SIDE_WIDTH)
        card = QVBoxLayout(self.losing_card)
        card.setContentsMargins(14, 12, 14, 12)
        card.setSpacing(4)
        head = QHBoxLayout()
        title = QLabel("Losing touch")
        title.setObjectName("todaySection")
        head.addWidget(title)
        self.losing_count = QLabel("0")
        self.losing_count.setObjectName("countPill")
        head.addWidget(self.losing_count, 0, Qt.AlignmentFlag.AlignBottom)
        head.addStretch(1)
        card.addLayout(head)
        hint = QLabel("Past their keep-in-touch rhythm, longest silence first.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        card.addWidget(hint)
        self.losing_list = QListWidget()
        self.losing_list.setObjectName("losingTouch")
        self.losing_list.setWordWrap(True)
        self.losing_list.itemActivated.connect(self._losing_activated)
        card.addWidget(self.losing_list, 1)
        self.losing_empty = QLabel("Nobody: you are in touch with everyone.")
        self.losing_empty.setObjectName("sectionEmpty")
        self.losing_empty.setWordWrap(True)
        card.addWidget(self.losing_empty)
        # The right column: delivered reminders not seen yet (the sidebar badge counts them),
        # then "Losing touch". The list reads its data once shown, after the first paint.
        side = QVBoxLayout()
        side.setSpacing(12)
        self.reminders_card = QFrame()
        self.reminders_card.setObjectName("card")
        self.reminders_card.setFixedWidth(SIDE_WIDTH)
        reminders_layout = QVBoxLayout(self.reminders_card)
        reminders_layout.setContentsMargins(14, 12, 14, 12)
        self.reminders = ReminderListWidget(services.reminders, self._bus, load_now=False)
        self.reminders.customer_activated.connect(self.customer_requested)
        reminders_layout.addWidget(self.reminders)
        # Cards keep their natural height; only a non-empty "Losing touch" list grows, and
        # the trailing stretch takes what is left so nothing spreads out when lists are short.
        self.reminders_card.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Maximum)
        side.addWidget(self.reminders_card)
        side.addWidget(self.losing_card, 1)
        side.addStretch(0)
        columns.addLayout(side)
        self.stack.addWidget(content)

        self.empty = EmptyState(
            "☀",
            "Nothing needs you today",
            "Birthdays, anniversaries, follow-ups and customers you have not talked to in a "
            "while will show up here, so you can reach out at the right moment.",
        )
        self.stack.addWidget(self.empty)
        self.loading_label = QLabel("Loading what needs you today…")
        self.loading_label.setObjectName("muted")
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loading_label.setWordWrap(True)
        self.stack.addWidget(self.loading_label)
        self.stack.setCurrentWidget(self.loading_label)
        layout.addWidget(self.stack, 1)

        self._bus.changed.connect(self._on_changed)
        # The day changes while the app stays open (overnight): move the lists with it.
        self._day_timer = QTimer(self)
        self._day_timer.setInterval(60_000)
        self._day_timer.timeout.connect(self._check_day)
        self._day_timer.start()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        compact = self.width() < COMPACT_BELOW
        if compact != self.compact:
            self.compact = compact
            for row in self.rows():
                row.set_compact(compact)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._needs_load:
            # After the first paint of the page (the window is on screen), never before it.
            self._needs_load = False
            QTimer.singleShot(0, self.load)

    # --- the hook for greetings ----------------------------------------------------------
    def enable_drafts(self, enabled: bool = True) -> None:
        """Called by the greetings feature once it handles `draft_requested`."""
        self._draft_enabled = enabled
        for row in self.rows():
            self._set_draft(row)

    def _set_draft(self, row: TouchpointRow) -> None:
        row.draft_button.setEnabled(self._draft_enabled)
        row.draft_button.setToolTip(
            "Draft greeting for this occasion" if self._draft_enabled else DRAFT_SOON
        )

    # --- reading --------------------------------------------------------------------------
    def rows(self, section: Section | None = None) -> list[TouchpointRow]:
        blocks = [self.sections[section]] if section else list(self.sections.values())
        return [row for block in blocks for row in block.rows]

    def row_for(self, customer_id: int, section: Section | None = None) -> TouchpointRow | None:
        return next((r for r in self.rows(section) if r.item.customer_id == customer_id), None)

    def load(self) -> None:
        """Read the page's data on a worker thread; `loaded` is emitted once it is shown."""
        if self.loading:
            self._reload_after = True
            return
        self._needs_load = False
        self.loading = True
        self._reload_after = False
        self._generation += 1
        generation = self._generation
        services = self._services
        relay = self._relay

        def work() -> None:
            try:
                result: object = read_today(services)
                ok = True
            except Exception as exc:  # shown on the page; never lost on the thread
                result, ok = exc, False
            try:
                relay.done.emit(generation, ok, result)
            except RuntimeError:  # the view was closed meanwhile: nobody to tell
                logger.debug("Today view gone before its data arrived")

        threading.Thread(target=work, name="today-load", daemon=True).start()

    def _load_finished(self, generation: int, ok: bool, result: object) -> None:
        self.loading = False
        if generation == self._generation:
            if ok:
                self._show(result)  # type: ignore[arg-type]
            else:
                self._load_failed(result)  # type: ignore[arg-type]
        if self._reload_after:
            # Something changed while the load ran: its data may predate the change.
            self._reload_after = False
            self.load()

    def _load_failed(self, exc: BaseException) -> None:
        if isinstance(exc, DomainError):
            logger.warning("Cannot load the Today view: %s", exc)
        else:
            logger.error("Cannot load the Today view", exc_info=exc)
        text = f"Could not load the Today page: {exc}"
        self.loading_label.setText(text)
        self.message.emit(text)

    def refresh(self) -> None:
        """Re-read and show now (after an action: a few changed rows, fast). While the first
        load still runs, it is redone when it finishes instead of racing it on this thread."""
        if self.loading:
            self._reload_after = True
            return
        self._needs_load = False
        self._generation += 1
        try:
            data = read_today(self._services)
        except DomainError as exc:
            self._load_failed(exc)
            return
        self._show(data)

    def _show(self, data: TodayLoad) -> None:
        self.today = data.view.today
        view = data.view
        self.losing = list(data.losing)
        values = data.values
        for today_section in view.sections:
            self._fill_section(today_section.section, today_section.items, today_section.total,
                               values)
        self._fill_losing()
        total = sum(s.total for s in view.sections)
        self.stack.setCurrentIndex(0 if total or self.losing else 1)
        self.header.set_subtitle(self._subtitle(view.sections))
        if not self.ready:
            self.ready = True
            self.loaded.emit()

    def _subtitle(self, sections: tuple) -> str:
        parts = [f"{self.today:%A, %d %B %Y}"]
        overdue = next(s.total for s in sections if s.section is Section.OVERDUE)
        due_today = next(s.total for s in sections if s.section is Section.TODAY)
        if overdue:
            parts.append(f"{overdue} overdue")
        if due_today:
            parts.append(f"{due_today} for today")
        return "  ·  ".join(parts)

    def _fill_section(
        self, section: Section, items: tuple[Touchpoint, ...], total: int,
        values: dict[str, object],
    ) -> None:
        block = self.sections[section]
        block.rows = []
        for key in [k for k in self._cut if k[0] is section]:
            del self._cut[key]
        _clear(block.body)
        block.count.setText(str(total))
        block.count.setProperty("alert", section is Section.OVERDUE and total > 0)
        block.count.style().unpolish(block.count)
        block.count.style().polish(block.count)
        if not items:
            empty = QLabel("Nothing overdue." if section is Section.OVERDUE else "Nothing here.")
            empty.setObjectName("sectionEmpty")
            block.body.addWidget(empty)
            return
        for occasion, group in _grouped(items):
            label = QLabel(f"{occasion.title.upper()}  ·  {len(group)}")
            label.setObjectName("groupLabel")
            block.body.addWidget(label)
            expanded = (section, occasion) in self._expanded
            shown = group if expanded else group[:SHOWN_PER_GROUP]
            for item in shown:
                row = TouchpointRow(item, self.today, latest_snooze(item, values))
                self._wire(row)
                block.rows.append(row)
                block.body.addWidget(row)
            if len(group) > len(shown):
                more = QPushButton(f"Show {len(group) - len(shown):,} more")
                more.setObjectName("link")
                more.clicked.connect(lambda _=False, o=occasion: self._expand(section, o))
                block.body.addWidget(more, 0, Qt.AlignmentFlag.AlignLeft)
                self._cut[(section, occasion)] = _CutGroup(
                    group[len(shown):], block.rows[-1], more, values)
        if total > len(items):
            # The service lists at most its limit per section; the count is exact.
            more = QPushButton(f"{total - len(items):,} more not listed here")
            more.setEnabled(False)
        else:
            return
        more.setObjectName("link")
        block.body.addWidget(more, 0, Qt.AlignmentFlag.AlignLeft)

    def _expand(self, section: Section, occasion: Occasion) -> None:
        """"Show N more": the group's other rows are added after its last one; the rows
        already on the page stay as they are (rebuilding every row took up to 1.4 s)."""
        self._expanded.add((section, occasion))
        cut = self._cut.pop((section, occasion), None)
        block = self.sections[section]
        if cut is None or cut.last_row not in block.rows:
            self.refresh()
            return
        at_row = block.rows.index(cut.last_row) + 1
        at_widget = block.body.indexOf(cut.more)
        block.body.removeWidget(cut.more)
        cut.more.hide()
        cut.more.deleteLater()
        rows = []
        for item in cut.rest:
            row = TouchpointRow(item, self.today, latest_snooze(item, cut.values))
            self._wire(row)
            rows.append(row)
        block.rows[at_row:at_row] = rows
        block.hide()
        for offset, row in enumerate(rows):
            block.body.insertWidget(at_widget + offset, row)
        block.show()

    def _fill_losing(self) -> None:
        self.losing_list.clear()
        for entry in self.losing:
            text = (f"{embedded(entry.customer)}\n"
                    f"{silence(entry.days_without_contact)} without contact")
            item = QListWidgetItem(text)
            item.setData(CUSTOMER_ID_ROLE, entry.customer_id)
            item.setToolTip(f"Last contact {entry.last_contact:%d %B %Y}; keep in touch every "
                            f"{plural(entry.cadence_days, 'day')}. Double-click to open.")
            self.losing_list.addItem(item)
        full = len(self.losing) >= LOSING_TOUCH_LIMIT
        self.losing_count.setText(f"{len(self.losing)}+" if full else str(len(self.losing)))
        self.losing_list.setVisible(bool(self.losing))
        self.losing_empty.setVisible(not self.losing)
        # Empty, the card shrinks to its text instead of spreading it down the column.
        self.losing_card.setSizePolicy(
            QSizePolicy.Policy.Fixed,
            QSizePolicy.Policy.Preferred if self.losing else QSizePolicy.Policy.Maximum,
        )

    def losing_names(self) -> list[str]:
        return [self.losing_list.item(i).text().split("\n")[0]
                for i in range(self.losing_list.count())]

    def _losing_activated(self, item: QListWidgetItem) -> None:
        self.customer_requested.emit(int(item.data(CUSTOMER_ID_ROLE)))

    # --- actions --------------------------------------------------------------------------
    def _wire(self, row: TouchpointRow) -> None:
        item = row.item
        row.set_compact(self.compact)
        row.open_requested.connect(self.customer_requested)
        row.done_button.clicked.connect(lambda: self.mark_done(item))
        row.skip_button.clicked.connect(lambda: self.ask_skip(item))
        row.log_button.clicked.connect(lambda: self.log_conversation(item))
        row.draft_button.clicked.connect(lambda: self.draft_requested.emit(item))
        row.snooze_chosen.connect(lambda day: self.snooze(item, day))
        row.pick_requested.connect(lambda: self.ask_snooze_date(item))
        self._set_draft(row)

    def _publish(self, changed: Changed, text: str) -> None:
        self._bus.publish(changed)
        self.message.emit(text)

    def mark_done(self, item: Touchpoint) -> None:
        try:
            recorded = self._services.touchpoints.mark_done(item.key,
                                                             expected_version=item.version)
        except DomainError as exc:
            self.message.emit(str(exc))
            return
        self._publish(recorded.changed, f"Done: {item.customer}, {item.label}. "
                      "Recorded in their history.")

    def snooze(self, item: Touchpoint, until: date) -> None:
        try:
            recorded = self._services.touchpoints.snooze(item.key, until,
                                                          expected_version=item.version)
        except DomainError as exc:
            self.message.emit(str(exc))
            return
        self._publish(recorded.changed,
                      f"Snoozed {item.customer} ({item.label}) until {until:%a %d %b}.")

    def ask_snooze_date(self, item: Touchpoint) -> SnoozeDialog:
        limit = latest_snooze(item, self._services.settings.all())
        dialog = SnoozeDialog(item, self.today, limit, self.window())
        dialog.accepted.connect(lambda: self.snooze(item, dialog.until))
        self._open(dialog)
        return dialog

    def ask_skip(self, item: Touchpoint) -> SkipDialog:
        dialog = SkipDialog(item, self.window())
        dialog.accepted.connect(lambda: self.skip(item, dialog.reason.text()))
        self._open(dialog)
        return dialog

    def skip(self, item: Touchpoint, reason: str) -> None:
        try:
            recorded = self._services.touchpoints.skip(item.key, reason.strip(),
                                                        expected_version=item.version)
        except DomainError as exc:
            self.message.emit(str(exc))
            return
        self._publish(recorded.changed, f"Skipped {item.customer}: {item.label}.")

    def log_conversation(self, item: Touchpoint) -> LogConversationDialog:
        dialog = LogConversationDialog(
            self._services.interactions, self._services.clock, item.customer_id,
            item.customer, self.window(),
        )
        dialog.accepted.connect(lambda: self._logged(dialog, item.customer))
        self._open(dialog)
        return dialog

    def _logged(self, dialog: LogConversationDialog, name: str) -> None:
        if dialog.logged is not None:
            self._publish(dialog.logged.changed, f"Logged a conversation with {name}.")

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        dialog.open()  # window-modal and non-blocking

    def _dialog_closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    # --- refreshing -------------------------------------------------------------------------
    def _on_changed(self, changed: Changed) -> None:
        if (changed.touchpoints or changed.interactions or changed.customers
                or changed.customer_list or changed.settings):
            self.refresh()

    def _check_day(self) -> None:
        if self._services.clock.today() != self.today:
            self.refresh()


def _grouped(items: tuple[Touchpoint, ...]) -> list[tuple[Occasion, list[Touchpoint]]]:
    """Occasion groups in occasion order (birthdays first), each in date order."""
    order = list(Occasion)
    found: dict[Occasion, list[Touchpoint]] = {}
    for item in items:
        found.setdefault(item.occasion, []).append(item)
    return [(o, found[o]) for o in sorted(found, key=order.index)]


def _clear(layout: QVBoxLayout) -> None:
    while layout.count():
        entry = layout.takeAt(0)
        widget = entry.widget()
        if widget is not None:
            widget.setParent(None)
            widget.deleteLater()
