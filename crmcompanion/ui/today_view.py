"""The Today page: one list of things to do, led by today and the next 7 days.

Sections in the order an owner works: Today, Next 7 days, then "Catch up" (at most a week
late; older ones are a count with "Show all", so years of missed check-ins never bury
today). Each customer is listed once: a second reason for the same person (a birthday and a
keep-in-touch check-in) is added to their row as "also …" instead of a second row. A row shows
who (initials), why, when, the preferred channel with the email and phone one click away, the
last conversation, ONE main action (Draft for a greeting occasion, Log for a conversation to
have) and a "⋯" menu with the rest (Done, Snooze, Skip, Open profile).

Model/view: `TodayModel` holds only the rows fetched so far and fetches the next page when the
list is scrolled to its end (`canFetchMore`/`fetchMore`), from `AgendaService` pages that cost
the same few statements wherever they start; `TodayDelegate` paints each row (no widget per
row), and `TodayList` turns clicks on the painted buttons and links into actions. The first
load runs on a worker thread after the page's first paint (docs/architecture.md, convention
10); later refreshes (after an action) are synchronous and keep the rows already fetched.
What can wait for the first rows (the phones' formatting, the reminder badge, other
features' header links, answering second launches) starts once they are painted
(`rows_shown`): the owner waits for the rows, not for those (issue 13).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QDate,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.customer import Channel
from crmcompanion.core.errors import DomainError
from crmcompanion.core.occasions import Occasion
from crmcompanion.services.changes import Changed
from crmcompanion.services.container import Services
from crmcompanion.services.today_support import (
    AgendaCounts,
    AgendaItem,
    AgendaPage,
    AgendaSection,
    AgendaService,
    PageCursor,
    format_phones,
    late_text,
    latest_snooze,
)
from crmcompanion.services.touchpoints import Touchpoint
from crmcompanion.ui import formatting
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.formatting import number as format_number
from crmcompanion.ui.style import (
    ACCENT,
    BACKGROUND,
    BORDER,
    CHANNEL_TITLES,
    ERROR,
    MUTED,
    current_theme,
    themed,
)
from crmcompanion.ui.text_display import embedded
from crmcompanion.ui.timeline import EntryListModel
from crmcompanion.ui.widgets import EmptyState, PageHeader

if TYPE_CHECKING:  # imported when first used: the dialogs bring the feedback service
    # (~30 ms of modules) that no part of Today's first rows needs (issue 13)
    from crmcompanion.ui.feedback_checkback import CheckbackDialog
    from crmcompanion.ui.log_conversation import LogConversationDialog
    from crmcompanion.ui.reminder_list import ReminderListWidget

logger = logging.getLogger(__name__)

PAGE = 30  # rows fetched at a time: more than the tallest window shows
SHOWN = (AgendaSection.TODAY, AgendaSection.NEXT_7_DAYS, AgendaSection.CATCH_UP)
DRAFT_SOON = "Drafting a greeting is coming soon."
ROW_HEIGHT_LINES = 3
# `rows_shown` at the latest this long after the first rows arrived (a page never painted).
ROWS_SHOWN_FALLBACK_MS = 500
AVATAR = 36
MENU_WIDTH = 34
BUTTON_HEIGHT = 28
# Calm pastel backgrounds for initials, chosen by the name so a person keeps their colour.
AVATAR_COLOURS = ("#dbe7fb", "#fde2c8", "#d5f0e3", "#ece0fb", "#fbe0e6", "#e2eef3")
MENU_STYLE = f"QMenu::item:disabled {{ color: #a0a8b5; }} QMenu {{ border: 1px solid {BORDER}; }}"


def short_date(day: date) -> str:
    """A date in lists: the user's locale, short format (ui.formatting)."""
    return formatting.short_date(day)


def long_date(day: date) -> str:
    """The page header's date, with its weekday and without its year ("Sunday, 6 December"):
    one line with the counts beside "Draft all for today…" at 900 px."""
    return formatting.weekday_day_month(day)


def when_text(day: date, today: date) -> str:
    """"today", "tomorrow", "in 3 days, 4/3/26", "yesterday", "3 days late, 26/2/26"."""
    days = (day - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    if days > 0:
        return f"in {days} days, {short_date(day)}"
    return f"{late_text(-days)}, {short_date(day)}"


def checkback_question() -> str:
    """The complaint check-back's question ("Is the customer satisfied now?"), from its
    dialog's module, imported on first use (a tooltip or a menu, never the first paint)."""
    from crmcompanion.ui.feedback_checkback import QUESTION

    return QUESTION


def initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    first = words[0][:1]
    last = words[-1][:1] if len(words) > 1 else ""
    return (first + last).upper()


def channel_lines(item: AgendaItem) -> tuple[str, list[tuple[str, str]]]:
    """The preferred channel in words, and the contact links (text, URL), preferred first."""
    glance = item.glance
    if glance is None:
        return "", []
    email = (f"✉ {embedded(glance.email)}", f"mailto:{glance.email}") if glance.email else None
    phone = (f"✆ {glance.phone}", f"tel:{glance.phone_uri}") if glance.phone_uri else None
    prefers = glance.preferred_channel
    phone_first = prefers in (Channel.PHONE, Channel.SMS)
    links = [x for x in ((phone, email) if phone_first else (email, phone)) if x is not None]
    words = f"Prefers {CHANNEL_TITLES[prefers].lower()}" if prefers is not None else ""
    return words, links


def last_line(item: AgendaItem) -> str:
    glance = item.glance
    if glance is None or glance.last_contact_on is None:
        return "No conversation logged yet"
    parts = [f"Last talked {short_date(glance.last_contact_on)}"]
    if glance.last_channel is not None:
        parts.append(CHANNEL_TITLES[glance.last_channel].lower())
    text = ", ".join(parts)
    if glance.last_summary:
        text += f": {embedded(glance.last_summary)}"
    return text


@dataclass
class Entry:
    """One line of the Today list: a section header, a row, a hint or the "Show all" link."""

    kind: str  # "header", "row", "hint", "more"
    section: AgendaSection
    text: str = ""
    item: AgendaItem | None = None
    also: list[AgendaItem] = field(default_factory=list)  # the same person's other reasons


@dataclass(frozen=True)
class TodayLoad:
    """What one read brings (on the worker thread for the first): the counts, the pages
    read, and where the next page starts (section index, cursor)."""

    counts: AgendaCounts
    pages: tuple[tuple[AgendaSection, AgendaPage], ...]
    position: tuple[int, PageCursor]
    values: dict[str, object]


def read_pages(
    agenda: AgendaService, counts: AgendaCounts, order: list[AgendaSection],
    position: tuple[int, PageCursor], wanted: int, formatted: bool = True,
    values: dict[str, object] | None = None,
) -> tuple[list[tuple[AgendaSection, AgendaPage]], tuple[int, PageCursor]]:
    """Pages from `position` on until `wanted` rows came in or every section is read; a
    section with nothing in it is passed over without a query. `formatted` False: phones
    as stored (formatted after the first paint, see `TodayView._format_phones`); `values`:
    the stored settings just read (else each page reads them)."""
    pages: list[tuple[AgendaSection, AgendaPage]] = []
    index, cursor = position
    got = 0
    while index < len(order) and got < wanted:
        section = order[index]
        if counts.totals.get(section, 0) == 0:
            page = AgendaPage((), None)
        else:
            page = agenda.page(section, cursor, min(PAGE, wanted - got), formatted, values)
        pages.append((section, page))
        got += len(page.items)
        if page.cursor is None:
            index, cursor = index + 1, (0, 0, 0)
        else:
            cursor = page.cursor
    return pages, (index, cursor)


def read_today(
    services: Services, agenda: AgendaService, order: list[AgendaSection], wanted: int,
    formatted: bool = True,
) -> TodayLoad:
    """The counts and the first `wanted` rows: plain frozen data, safe between threads.
    The settings are read once for all of it."""
    values = services.settings.all()
    counts = agenda.counts(values)
    pages, position = read_pages(agenda, counts, order, (0, (0, 0, 0)), wanted, formatted,
                                 values)
    return TodayLoad(counts, tuple(pages), position, values)


class TodayModel(EntryListModel):
    """The rows fetched so far; the view asks for more when scrolled to the end."""

    def __init__(self, agenda: AgendaService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._agenda = agenda
        self.entries: list[Entry] = []
        self.counts: AgendaCounts | None = None
        self.values: dict[str, object] = {}
        self.show_all = False
        self._position: tuple[int, PageCursor] = (0, (0, 0, 0))
        self._row_of: dict[int, int] = {}  # customer id -> their row's entry index
        self._started: set[AgendaSection] = set()
        self._rows_in: dict[AgendaSection, int] = {}
        self.pages_read = 0  # pages fetched since the last reset (tests check it stays small)
        self.formatted = False  # phones shown formatted (after the first load's extra pass)

    # --- what the view reads -------------------------------------------------------------
    @property
    def order(self) -> list[AgendaSection]:
        return [*SHOWN, AgendaSection.OLDER] if self.show_all else list(SHOWN)

    def text_of(self, entry: object) -> str:
        assert isinstance(entry, Entry)
        if entry.item is not None:
            return f"{entry.item.touchpoint.customer}: {entry.item.reason}"
        return entry.text

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if index.isValid() and self.entries[index.row()].kind in ("row", "more"):
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return Qt.ItemFlag.ItemIsEnabled

    def items(self) -> list[AgendaItem]:
        return [e.item for e in self.entries if e.item is not None]

    # --- paging --------------------------------------------------------------------------
    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return (not parent.isValid() and self.counts is not None
                and self._position[0] < len(self.order))

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent) or self.counts is None:
            return
        try:
            pages, self._position = read_pages(self._agenda, self.counts, self.order,
                                               self._position, PAGE, self.formatted)
        except DomainError as exc:
            logger.warning("Cannot read more of the Today list: %s", exc)
            self._position = (len(self.order), (0, 0, 0))
            return
        self._apply(pages)

    def reset_with(self, load: TodayLoad) -> None:
        self.beginResetModel()
        self.entries = []
        self._row_of = {}
        self._started = set()
        self._rows_in = {}
        self.pages_read = 0
        self.counts = load.counts
        self.values = load.values
        self._position = load.position
        self._apply(load.pages, notify=False)
        self.endResetModel()

    def numbers(self) -> list[str]:
        """The stored phone numbers of the rows fetched so far."""
        return [item.glance.phone_uri for e in self.entries if e.item is not None
                for item in (e.item, *e.also) if item.glance is not None]

    def apply_phones(self, shown: dict[str, str]) -> None:
        """Show the formatted phones (`format_phones`); numbers fetched meanwhile are
        formatted here, the phone library being loaded by now."""
        def with_phone(item: AgendaItem) -> AgendaItem:
            glance = item.glance
            if glance is None or not glance.phone_uri:
                return item
            phone = shown.get(glance.phone_uri) or format_phones([glance.phone_uri])[
                glance.phone_uri]
            return replace(item, glance=replace(glance, phone=phone))

        for entry in self.entries:
            if entry.item is not None:
                entry.item = with_phone(entry.item)
                entry.also = [with_phone(a) for a in entry.also]
        self.formatted = True
        if self.entries:
            self.dataChanged.emit(self.index(0), self.index(len(self.entries) - 1))

    def reveal_older(self) -> None:
        """"Show all": the backlog more than a week late follows Catch up."""
        if self.show_all:
            return
        self.show_all = True
        at = next((i for i, e in enumerate(self.entries) if e.kind == "more"), None)
        if at is not None:
            self.beginRemoveRows(QModelIndex(), at, at)
            del self.entries[at]
            self.endRemoveRows()
        self.fetchMore()

    def _apply(self, pages: list[tuple[AgendaSection, AgendaPage]] | tuple,
               notify: bool = True) -> None:
        added: list[Entry] = []
        changed_rows: list[int] = []
        for section, page in pages:
            self.pages_read += 1
            if section not in self._started:
                self._started.add(section)
                if self._header_wanted(section):
                    added.append(Entry("header", section, self._header_text(section)))
            for item in page.items:
                cid = item.touchpoint.customer_id
                if cid in self._row_of:
                    self.entries[self._row_of[cid]].also.append(item)
                    changed_rows.append(self._row_of[cid])
                    continue
                pending = next((e for e in added if e.item is not None
                                and e.item.touchpoint.customer_id == cid), None)
                if pending is not None:
                    pending.also.append(item)
                    continue
                added.append(Entry("row", section, item=item))
                self._rows_in[section] = self._rows_in.get(section, 0) + 1
            if page.cursor is None:
                added.extend(self._section_end(section))
        first = len(self.entries)
        if added:
            if notify:
                self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            for offset, entry in enumerate(added):
                if entry.item is not None:
                    self._row_of[entry.item.touchpoint.customer_id] = first + offset
            self.entries.extend(added)
            if notify:
                self.endInsertRows()
        if notify:
            for row in sorted(set(changed_rows)):
                if row < first:  # rows added just now are painted with their "also"
                    index = self.index(row)
                    self.dataChanged.emit(index, index)

    def _header_wanted(self, section: AgendaSection) -> bool:
        if section in (AgendaSection.TODAY, AgendaSection.NEXT_7_DAYS):
            return True
        assert self.counts is not None
        if section is AgendaSection.CATCH_UP:
            return bool(self.counts.totals[section] or self.counts.totals[AgendaSection.OLDER])
        return bool(self.counts.totals[section])

    def _header_text(self, section: AgendaSection) -> str:
        assert self.counts is not None
        return section.title

    def _section_end(self, section: AgendaSection) -> list[Entry]:
        assert self.counts is not None
        ends: list[Entry] = []
        if not self._rows_in.get(section) and self._header_wanted(section):
            hint = {
                AgendaSection.TODAY: "Nothing due today.",
                AgendaSection.NEXT_7_DAYS: "Nothing in the next 7 days.",
                AgendaSection.CATCH_UP: "Nothing left over from the last week.",
            }.get(section)
            if self.counts.totals.get(section) and hint is not None:
                hint = "Already listed above."
            if hint:
                ends.append(Entry("hint", section, hint))
        older = self.counts.totals[AgendaSection.OLDER]
        if section is AgendaSection.CATCH_UP and older and not self.show_all:
            ends.append(Entry("more", section,
                              f"{format_number(older)} more than a week late: show all"))
        return ends

    def section_total(self, section: AgendaSection) -> int:
        return self.counts.totals.get(section, 0) if self.counts is not None else 0


class TodayDelegate(QStyledItemDelegate):
    """Paints the entries: headers, hints, the "Show all" link and the rows with their
    initials, texts, links, main action and "⋯" menu button (see `parts`)."""

    def __init__(self, view: TodayList) -> None:
        super().__init__(view)
        self._view = view

    # --- geometry shared by painting and clicking ---------------------------------------
    def main_text(self, entry: Entry) -> str:
        item = entry.item
        if item is not None and item.greeting and self._view.drafts_enabled:
            return "Draft"
        if item is not None and item.touchpoint.occasion in (Occasion.COMPLAINT_CHECKBACK,
                                                             Occasion.ASK_FEEDBACK):
            return "Ask"  # a check-back is answered; a rhythm's ask drafts the request
        return "Log"

    def parts(self, rect: QRect, entry: Entry) -> dict[str, QRect]:
        """Where each clickable part of a row is: "main", "menu", "link0", "link1"."""
        fm = QFontMetrics(self._view.font())
        right = rect.right() - 10
        menu = QRect(right - MENU_WIDTH + 1, rect.top() + 12, MENU_WIDTH, BUTTON_HEIGHT)
        width = max(64, fm.horizontalAdvance(self.main_text(entry)) + 28)
        main = QRect(menu.left() - 6 - width, menu.top(), width, BUTTON_HEIGHT)
        found = {"main": main, "menu": menu}
        text_left = rect.left() + 12 + AVATAR + 12
        line = fm.height() + 3
        x = text_left
        words, links = channel_lines(entry.item) if entry.item is not None else ("", [])
        if words:
            x += fm.horizontalAdvance(words + "   ")
        limit = main.left() - 10
        for number, (text, _url) in enumerate(links):
            width = fm.horizontalAdvance(text)
            if x + width > limit:
                break
            found[f"link{number}"] = QRect(x, rect.top() + 8 + line, width, fm.height())
            x += width + fm.horizontalAdvance("   ")
        return found

    def link_url(self, entry: Entry, part: str) -> str:
        if entry.item is None or not part.startswith("link"):
            return ""
        links = channel_lines(entry.item)[1]
        number = int(part[4:])
        return links[number][1] if number < len(links) else ""

    # --- painting ------------------------------------------------------------------------
    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex,
                 ) -> QSize:
        entry: Entry = index.data(TodayModel.EntryRole)
        fm = QFontMetrics(self._view.font())
        if entry is None:
            return QSize(0, 0)
        if entry.kind == "header":
            return QSize(0, int(fm.height() * 1.5) + 18)
        if entry.kind in ("hint", "more"):
            return QSize(0, fm.height() + 14)
        return QSize(0, ROW_HEIGHT_LINES * (fm.height() + 3) + 24)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        entry: Entry = index.data(TodayModel.EntryRole)
        if entry is None:
            return
        rect: QRect = option.rect  # type: ignore[attr-defined]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        theme = current_theme()  # dark mode reaches the painted rows through it
        font = QFont(self._view.font())
        fm = QFontMetrics(font)
        if entry.kind == "header":
            big = QFont(font)
            big.setPointSizeF(font.pointSizeF() * 1.25)
            big.setWeight(QFont.Weight.DemiBold)
            painter.setFont(big)
            painter.setPen(QColor(theme.text))
            title_rect = rect.adjusted(2, 8, 0, 0)
            painter.drawText(title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             entry.text)
            advance = QFontMetrics(big).horizontalAdvance(entry.text + "  ")
            count = self._view.model_total(entry.section)
            pill_text = f"{format_number(count)}"
            small = QFont(font)
            small.setWeight(QFont.Weight.DemiBold)
            painter.setFont(small)
            width = QFontMetrics(small).horizontalAdvance(pill_text) + 16
            pill = QRect(title_rect.left() + advance, title_rect.center().y() - 9, width, 19)
            late = entry.section is AgendaSection.CATCH_UP and count > 0
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(themed("#fdecea" if late else "#e7ecf5"))
            painter.drawRoundedRect(pill, 9, 9)
            painter.setPen(themed(ERROR if late else "#344054"))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, pill_text)
            painter.restore()
            return
        if entry.kind in ("hint", "more"):
            painter.setFont(font)
            painter.setPen(themed(ACCENT if entry.kind == "more" else MUTED))
            if entry.kind == "more":
                underlined = QFont(font)
                underlined.setUnderline(True)
                painter.setFont(underlined)
            painter.drawText(rect.adjusted(4, 0, 0, 0),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             entry.text)
            painter.restore()
            return
        self._paint_row(painter, option, entry, index.row(), font, fm)
        painter.restore()

    def _paint_row(self, painter: QPainter, option: QStyleOptionViewItem, entry: Entry,
                   row: int, font: QFont, fm: QFontMetrics) -> None:
        rect: QRect = option.rect  # type: ignore[attr-defined]
        item = entry.item
        assert item is not None
        theme = current_theme()
        state = option.state  # type: ignore[attr-defined]
        card = rect.adjusted(0, 3, -1, -3)
        selected = bool(state & QStyle.StateFlag.State_Selected)
        hovered = bool(state & QStyle.StateFlag.State_MouseOver)
        painter.setPen(QPen(themed(ACCENT if selected else ("#b9c4d6" if hovered else BORDER)),
                            1))
        painter.setBrush(QColor(theme.surface))
        painter.drawRoundedRect(card, 8, 8)
        late = item.touchpoint.date < self._view.today
        if late:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(themed(ERROR))
            painter.drawRoundedRect(QRect(card.left(), card.top() + 6, 3, card.height() - 12),
                                    1, 1)
        # Initials.
        name = item.touchpoint.customer
        avatar = QRect(rect.left() + 12, rect.top() + 14, AVATAR, AVATAR)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(themed(AVATAR_COLOURS[sum(map(ord, name)) % len(AVATAR_COLOURS)]))
        painter.drawEllipse(avatar)
        bold = QFont(font)
        bold.setWeight(QFont.Weight.DemiBold)
        painter.setFont(bold)
        painter.setPen(themed("#344054"))
        painter.drawText(avatar, Qt.AlignmentFlag.AlignCenter, initials(name))
        parts = self.parts(rect, entry)
        left = avatar.right() + 12
        limit = parts["main"].left() - 10
        line = fm.height() + 3
        top = rect.top() + 8
        # Line 1: who, why, when.
        bold_fm = QFontMetrics(bold)
        who = bold_fm.elidedText(embedded(name), Qt.TextElideMode.ElideRight,
                                 max(40, (limit - left) // 2))
        painter.setPen(QColor(theme.text))
        painter.drawText(QRect(left, top, limit - left, fm.height()),
                         Qt.AlignmentFlag.AlignLeft, who)
        x = left + bold_fm.horizontalAdvance(who + "  ")
        painter.setFont(font)
        reason = item.reason
        if entry.also:
            reason += "; also " + "; ".join(a.reason[:1].lower() + a.reason[1:]
                                           for a in entry.also)
        when = when_text(item.touchpoint.date, self._view.today)
        when_width = fm.horizontalAdvance("  ·  " + when)
        room = max(0, limit - x - when_width)
        shown_reason = fm.elidedText(embedded(reason), Qt.TextElideMode.ElideRight, room)
        painter.setPen(themed(ACCENT))
        painter.drawText(QRect(x, top, room, fm.height()), Qt.AlignmentFlag.AlignLeft,
                         shown_reason)
        x += fm.horizontalAdvance(shown_reason)
        painter.setPen(themed(ERROR if late else MUTED))
        painter.drawText(QRect(x, top, limit - x, fm.height()), Qt.AlignmentFlag.AlignLeft,
                         fm.elidedText("  ·  " + when, Qt.TextElideMode.ElideRight,
                                       max(0, limit - x)))
        # Line 2: the preferred channel and the links.
        words, links = channel_lines(item)
        painter.setPen(themed(MUTED))
        if words:
            painter.drawText(QRect(left, top + line, limit - left, fm.height()),
                             Qt.AlignmentFlag.AlignLeft, words)
        elif not links:
            painter.drawText(QRect(left, top + line, limit - left, fm.height()),
                             Qt.AlignmentFlag.AlignLeft, "No email or phone yet")
        link_font = QFont(font)
        link_font.setUnderline(True)
        painter.setFont(link_font)
        painter.setPen(themed(ACCENT))
        for number, (text, _url) in enumerate(links):
            where = parts.get(f"link{number}")
            if where is not None:
                painter.drawText(where, Qt.AlignmentFlag.AlignLeft, text)
        painter.setFont(font)
        # Line 3: the last conversation.
        painter.setPen(themed(MUTED))
        painter.drawText(QRect(left, top + 2 * line, limit - left, fm.height()),
                         Qt.AlignmentFlag.AlignLeft,
                         fm.elidedText(last_line(item), Qt.TextElideMode.ElideRight,
                                       limit - left))
        # The main action and the menu button.
        main, menu = parts["main"], parts["menu"]
        hot = self._view.hot_part if self._view.hot_row == row else ""
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.accent_dark if hot == "main" else theme.accent))
        painter.drawRoundedRect(main, 6, 6)
        painter.setFont(bold)
        painter.setPen(QColor(theme.accent_text))
        painter.drawText(main, Qt.AlignmentFlag.AlignCenter, self.main_text(entry))
        painter.setPen(QPen(themed("#9aa4b2" if hot == "menu" else BORDER), 1))
        painter.setBrush(themed("#eef1f5") if hot == "menu" else QColor(theme.surface))
        painter.drawRoundedRect(menu, 6, 6)
        painter.setPen(QColor(theme.text))
        painter.drawText(menu, Qt.AlignmentFlag.AlignCenter, "⋯")


class TodayList(QListView):
    """The list of entries; turns clicks on a row's painted parts into signals."""

    main_clicked = Signal(object)  # Entry
    menu_clicked = Signal(object, QPoint)  # Entry, where to open the menu (global)
    open_clicked = Signal(object)  # Entry (double-click)
    more_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.drafts_enabled = False
        self.today = date.today()
        self.hot_row = -1
        self.hot_part = ""
        self.setObjectName("todayList")
        self.setMouseTracking(True)
        self.setUniformItemSizes(False)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.setSpacing(0)
        # The page's colour, not transparent: a transparent list paints its scroll bar black
        # under Fusion.
        self.setStyleSheet(f"QListView#todayList {{ background: {BACKGROUND}; border: none; }}"
                           "QListView#todayList::item { background: transparent; }")
        self.delegate = TodayDelegate(self)
        self.setItemDelegate(self.delegate)

    def entry_at(self, row: int) -> Entry | None:
        model = self.model()
        if model is None or not 0 <= row < model.rowCount():
            return None
        return model.index(row, 0).data(TodayModel.EntryRole)  # type: ignore[no-any-return]

    def model_total(self, section: AgendaSection) -> int:
        model = self.model()
        return model.section_total(section) if isinstance(model, TodayModel) else 0

    def part_rect(self, row: int, part: str) -> QRect | None:
        """Where a row's part ("main", "menu", "link0"...) is in the viewport, if shown."""
        entry = self.entry_at(row)
        if entry is None or entry.kind != "row":
            return None
        rect = self.visualRect(self.model().index(row, 0))
        return self.delegate.parts(rect, entry).get(part)

    def _hit(self, pos: QPoint) -> tuple[int, Entry | None, str]:
        index = self.indexAt(pos)
        if not index.isValid():
            return -1, None, ""
        entry = self.entry_at(index.row())
        if entry is None or entry.kind != "row":
            return index.row(), entry, ""
        for name, where in self.delegate.parts(self.visualRect(index), entry).items():
            if where.contains(pos):
                return index.row(), entry, name
        return index.row(), entry, ""

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        row, _entry, part = self._hit(event.position().toPoint())
        if (row, part) != (self.hot_row, self.hot_part):
            old = self.hot_row
            self.hot_row, self.hot_part = row, part
            for changed in {old, row}:
                if changed >= 0 and self.model() is not None:
                    self.update(self.model().index(changed, 0))
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor if part
                                  else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position().toPoint()
        row, entry, part = self._hit(pos)
        if entry is None:
            return
        if entry.kind == "more":
            self.more_clicked.emit()
        elif part == "main":
            self.main_clicked.emit(entry)
        elif part == "menu":
            where = self.part_rect(row, "menu") or QRect(pos, QSize(1, 1))
            self.menu_clicked.emit(entry, self.viewport().mapToGlobal(where.bottomLeft()))
        elif part.startswith("link"):
            url = self.delegate.link_url(entry, part)
            if url:
                QDesktopServices.openUrl(QUrl(url))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        _row, entry, part = self._hit(event.position().toPoint())
        if entry is not None and entry.kind == "row" and not part:
            self.open_clicked.emit(entry)
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        entry = self.entry_at(self.currentIndex().row())
        if entry is not None and entry.kind == "row":
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.main_clicked.emit(entry)
                return
            if event.key() == Qt.Key.Key_Menu:
                rect = self.part_rect(self.currentIndex().row(), "menu")
                if rect is not None:
                    self.menu_clicked.emit(entry, self.viewport().mapToGlobal(rect.bottomLeft()))
                return
        elif entry is not None and entry.kind == "more" and event.key() in (
                Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.more_clicked.emit()
            return
        super().keyPressEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            _row, entry, part = self._hit(event.pos())
            tip = ""
            if entry is not None and entry.kind == "row":
                main = self.delegate.main_text(entry)
                tip = {"main": "Write a greeting for this occasion" if main == "Draft"
                       else checkback_question() if main == "Ask"
                       else "Log a conversation: a call, visit or message",
                       "menu": "Done, snooze, skip, open the profile"}.get(part, "")
                if part.startswith("link"):
                    tip = "Open in your mail or phone app"
                elif not part:
                    tip = "Double-click to open the profile"
            if tip:
                QToolTip.showText(event.globalPos(), tip, self)
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        old, self.hot_row, self.hot_part = self.hot_row, -1, ""
        if old >= 0 and self.model() is not None:
            self.update(self.model().index(old, 0))
        super().leaveEvent(event)


class _LoadRelay(QObject):
    """Carries the worker's result to the GUI thread (a queued connection).

    Made without a parent and kept in `_RELAYS` for the life of the process: a view closed
    while its worker runs is deleted on the GUI thread, and a relay deleted with it (as its
    child) could be emitted on from the worker thread mid-deletion, which crashed the process
    (SIGSEGV in `relay.phones.emit`) instead of raising. A relay that outlives every worker
    loses only its connections when the view goes: the late result reaches nobody."""

    done = Signal(int, bool, object)  # generation, ok, TodayLoad or the exception
    phones = Signal(int, object)  # generation, {stored number: display form}


# One small QObject per Today view ever built (one in the app; one per test in the suite).
_RELAYS: list[_LoadRelay] = []


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
    `draft_requested(Touchpoint)` is the hook the greetings feature connects to; the empty
    page of a new database asks for `add_customer_requested`, `import_requested` and
    `samples_requested`."""

    customer_requested = Signal(int)
    draft_requested = Signal(object)
    message = Signal(str)
    loaded = Signal()  # the first data is on the page (tests and the app wait for it)
    due_changed = Signal(bool)  # whether anything is due today or late ("Draft all" follows)
    # Once, after the first rows have been painted (or a moment after they arrived when the
    # page is not painted: started hidden in the tray, or nothing to list). What can wait
    # for Today's rows starts from here: the phones' formatting, the reminder badge, other
    # features' header links (issue 13: each of them ran before the rows' first paint).
    rows_shown = Signal()
    # The delivered reminders' unseen count (the sidebar badge): the reminder list's own
    # `count_changed`, relayed so the window can listen before the list is built.
    reminder_count_changed = Signal(int)
    add_customer_requested = Signal()
    import_requested = Signal()
    samples_requested = Signal()

    def __init__(
        self, services: Services, bus: AppState | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._bus = bus or AppState(self)
        self.agenda = AgendaService(services.db, services.touchpoints, services.clock,
                                    services.settings.all)
        self.today = services.clock.today()
        self.dialog: QDialog | None = None
        self.menu: QMenu | None = None
        # Loading state: `ready` once data is shown; `_generation` lets a newer synchronous
        # refresh win over a slower background load that started before it.
        self.ready = False
        self.due = False  # anything due today or late (set by each load)
        self.loading = False
        self._rows_pending = False  # the first rows are in, `rows_shown` not yet emitted
        self._needs_load = True
        self._reload_after = False
        self._generation = 0
        self._relay = _LoadRelay()  # no parent, never deleted: see _LoadRelay
        _RELAYS.append(self._relay)
        self._relay.done.connect(self._load_finished, Qt.ConnectionType.QueuedConnection)
        self._relay.phones.connect(self._phones_formatted, Qt.ConnectionType.QueuedConnection)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(10)
        self.header = PageHeader("Today", long_date(self.today))
        layout.addWidget(self.header)
        # Delivered reminders are the same occasions as the rows below: no second list of
        # the same people, only the count (the sidebar badge) and a way to clear it. The
        # list itself (`reminders`) is built once the rows are shown, or when first asked
        # for: its module and widgets are no part of those rows (issue 13).
        self._reminders: ReminderListWidget | None = None
        self.reminders_button = QPushButton()
        self.reminders_button.setObjectName("link")
        self.reminders_button.setToolTip("Reminders delivered since you last looked: they are "
                                         "the rows of this list. Clears the badge.")
        self.reminders_button.clicked.connect(lambda: self.reminders.acknowledge_all())
        self.reminders_button.setVisible(False)
        self.header.add_action(self.reminders_button)

        self.stack = QStackedWidget()
        self.list = TodayList()
        self.list.today = self.today
        self.model = TodayModel(self.agenda, self)
        self.list.setModel(self.model)
        self.list.main_clicked.connect(self._main_action)
        self.list.menu_clicked.connect(self._open_menu)
        self.list.open_clicked.connect(
            lambda entry: self.customer_requested.emit(entry.item.touchpoint.customer_id))
        self.list.more_clicked.connect(self.show_all)
        self.stack.addWidget(self.list)

        self.empty = EmptyState(
            "☀", "Nothing needs you today",
            "Birthdays, anniversaries, follow-ups and customers you have not talked to in a "
            "while will show up here, so you can reach out at the right moment.",
        )
        self.stack.addWidget(self.empty)
        self.welcome = EmptyState(
            "☺", "Start with your customers",
            "Today lists whom to greet, call or write to. Add your customers, import them from "
            "a CSV or vCard file, or look around with sample customers first.",
        )
        self.welcome_add = self.welcome.add_button("Add customer", primary=True)
        self.welcome_add.clicked.connect(self.add_customer_requested)
        self.welcome_import = self.welcome.add_button("Import contacts")
        self.welcome_import.clicked.connect(self.import_requested)
        self.welcome_samples = self.welcome.add_button("Add sample customers")
        self.welcome_samples.clicked.connect(self.samples_requested)
        self.stack.addWidget(self.welcome)
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

    @property
    def reminders(self) -> ReminderListWidget:
        """The delivered reminders' list (hidden: the badge and the header's link show its
        count), built on first use."""
        if self._reminders is None:
            from crmcompanion.ui.reminder_list import ReminderListWidget

            widget = ReminderListWidget(self._services.reminders, self._bus, self,
                                        load_now=False)
            widget.setVisible(False)
            widget.count_changed.connect(self._reminder_count)
            widget.count_changed.connect(self.reminder_count_changed)
            self._reminders = widget
        return self._reminders

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._needs_load:
            # After the first paint of the page (the window is on screen), never before it.
            self._needs_load = False
            QTimer.singleShot(0, self, self.load)  # the view as context: dies with it

    # --- the hook for greetings ----------------------------------------------------------
    def enable_drafts(self, enabled: bool = True) -> None:
        """Called by the greetings feature once it handles `draft_requested`: a greeting
        occasion's main action becomes Draft."""
        self.list.drafts_enabled = enabled
        self.list.viewport().update()

    # --- reading --------------------------------------------------------------------------
    def rows(self, section: AgendaSection | None = None) -> list[AgendaItem]:
        """The rows fetched so far (one per customer), in list order."""
        return [e.item for e in self.model.entries
                if e.item is not None and (section is None or e.section is section)]

    def row_for(self, customer_id: int, section: AgendaSection | None = None,
                ) -> AgendaItem | None:
        return next((r for r in self.rows(section) if r.touchpoint.customer_id == customer_id),
                    None)

    def row_index(self, customer_id: int) -> int:
        """The list row of a customer's entry, or -1."""
        return next((i for i, e in enumerate(self.model.entries)
                     if e.item is not None and e.item.touchpoint.customer_id == customer_id),
                    -1)

    def entry_for(self, customer_id: int) -> Entry | None:
        row = self.row_index(customer_id)
        return self.model.entries[row] if row >= 0 else None

    def headers(self) -> list[str]:
        return [e.text for e in self.model.entries if e.kind == "header"]

    def _wanted(self) -> int:
        return max(PAGE, len(self.rows()))  # a refresh keeps what was scrolled into view

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
        services, agenda, relay = self._services, self.agenda, self._relay
        order, wanted, formatted = self.model.order, self._wanted(), self.model.formatted

        def work() -> None:
            try:
                # Until the phone library is loaded, the rows come first with the numbers as
                # stored; `_format_phones` formats them right after (~0.25 s less to wait).
                result: object = read_today(services, agenda, order, wanted, formatted)
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
            data = read_today(self._services, self.agenda, self.model.order, self._wanted(),
                              self.model.formatted)
        except DomainError as exc:
            self._load_failed(exc)
            return
        self._show(data)

    def _show(self, data: TodayLoad) -> None:
        self.today = data.counts.today
        self.list.today = self.today
        scrolled = self.list.verticalScrollBar().value()
        self.model.reset_with(data)
        self.list.verticalScrollBar().setValue(scrolled)
        totals = data.counts.totals
        if not data.counts.has_customers:
            self.stack.setCurrentWidget(self.welcome)
        elif any(totals.values()):
            self.stack.setCurrentWidget(self.list)
        else:
            self.stack.setCurrentWidget(self.empty)
        self.header.set_subtitle(self._subtitle(totals))
        self.due = any(totals.get(s) for s in (AgendaSection.TODAY, AgendaSection.CATCH_UP,
                                                AgendaSection.OLDER))
        self.due_changed.emit(self.due)
        if not self.ready:
            self.ready = True
            self._await_rows_painted()
            self.loaded.emit()
        elif not self._rows_pending and not self.model.formatted:
            self._format_phones()

    def _await_rows_painted(self) -> None:
        """Emit `rows_shown` after the list's next paint, or after ROWS_SHOWN_FALLBACK_MS
        when the list is not what the page shows or the window is not painted."""
        self._rows_pending = True
        if self.stack.currentWidget() is self.list:
            self.list.viewport().installEventFilter(self)
        else:
            QTimer.singleShot(0, self, self._rows_painted)
        # The view as the timers' context object: a view deleted before they fire (a test's
        # window closed, a rebuilt page) takes them with it instead of being called deleted.
        QTimer.singleShot(ROWS_SHOWN_FALLBACK_MS, self, self._rows_painted)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._rows_pending:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, self._rows_painted)  # after the whole paint pass
        return False

    def _rows_painted(self) -> None:
        if not self._rows_pending:
            return
        self._rows_pending = False
        self.list.viewport().removeEventFilter(self)
        if not self.model.formatted:
            self._format_phones()
        if not self.reminders.loaded:
            self.reminders.refresh()
        self.rows_shown.emit()

    def _format_phones(self) -> None:
        """Format the shown rows' phones on a worker thread (it loads the phone library)."""
        numbers, relay, generation = self.model.numbers(), self._relay, self._generation

        def work() -> None:
            try:
                shown = format_phones(numbers)
            except Exception:  # the stored numbers stay on screen; nothing is lost
                logger.exception("Could not format the phone numbers on Today")
                shown = {}
            try:
                relay.phones.emit(generation, shown)
            except RuntimeError:
                logger.debug("Today view gone before its phones were formatted")

        threading.Thread(target=work, name="today-phones", daemon=True).start()

    def _phones_formatted(self, generation: int, shown: dict[str, str]) -> None:
        del generation  # any load's rows: numbers missing from `shown` are formatted now
        self.model.apply_phones(shown)

    def _subtitle(self, totals: dict[AgendaSection, int]) -> str:
        parts = [long_date(self.today)]
        if totals.get(AgendaSection.TODAY):
            parts.append(f"{format_number(totals[AgendaSection.TODAY])} for today")
        if totals.get(AgendaSection.NEXT_7_DAYS):
            parts.append(f"{format_number(totals[AgendaSection.NEXT_7_DAYS])} this week")
        late = totals.get(AgendaSection.CATCH_UP, 0) + totals.get(AgendaSection.OLDER, 0)
        if late:
            parts.append(f"{format_number(late)} overdue")
        # Short words, single spaces: one line beside "Draft all for today…" at 900 px with
        # a busy shop's numbers ("1,164 to catch up" wrapped onto a second line).
        return " · ".join(parts)

    def _reminder_count(self, count: int) -> None:
        self.reminders_button.setText(
            f"{format_number(count)} new reminder{'s' if count != 1 else ''}: mark seen")
        self.reminders_button.setVisible(count > 0)

    def show_all(self) -> None:
        """"Show all": list the backlog more than a week late after Catch up."""
        self.model.reveal_older()

    # --- actions --------------------------------------------------------------------------
    def _main_action(self, entry: Entry) -> None:
        item = entry.item
        if item is None:
            return
        main = self.list.delegate.main_text(entry)
        if main == "Draft":
            self.draft_requested.emit(item.touchpoint)
        elif main == "Ask" and item.touchpoint.occasion is Occasion.ASK_FEEDBACK:
            self.ask_for_feedback(item.touchpoint)
        elif main == "Ask":
            self.ask_checkback(item.touchpoint)
        else:
            self.log_conversation(item.touchpoint, item)

    def focused_item(self) -> AgendaItem | None:
        """The row the keyboard is on, when the focus is in the list (Ctrl+L / Ctrl+D)."""
        if not self.list.hasFocus():
            return None
        entry = self.list.entry_at(self.list.currentIndex().row())
        return entry.item if entry is not None and entry.kind == "row" else None

    def build_menu(self, entry: Entry) -> QMenu:
        """The row's other actions; snoozes that do not apply are shown, disabled."""
        item = entry.item
        assert item is not None
        tp = item.touchpoint
        menu = QMenu(self)
        menu.setStyleSheet(MENU_STYLE)
        menu.setToolTipsVisible(True)
        if self.list.delegate.main_text(entry) in ("Draft", "Ask"):
            menu.addAction("Log conversation…").triggered.connect(
                lambda: self.log_conversation(tp, item))
        elif item.greeting:
            draft = menu.addAction("Draft greeting…")
            draft.setEnabled(self.list.drafts_enabled)
            if not self.list.drafts_enabled:
                draft.setToolTip(DRAFT_SOON)
            draft.triggered.connect(lambda: self.draft_requested.emit(tp))
        # A complaint check-back closes with the customer's answer, never a bare "done".
        for reason, point in ((item.reason, tp),
                              *((also.reason, also.touchpoint) for also in entry.also)):
            if point.occasion is Occasion.COMPLAINT_CHECKBACK:
                menu.addAction(f"{checkback_question()[:-1]}…").triggered.connect(
                    lambda _=False, o=point: self.ask_checkback(o))
            else:
                menu.addAction(f"Mark done: {reason}").triggered.connect(
                    lambda _=False, o=point: self.mark_done(o))
        snooze = menu.addMenu("Snooze")
        snooze.setStyleSheet(MENU_STYLE)
        snooze.setToolTipsVisible(True)
        limit = latest_snooze(tp, self.model.values)
        tomorrow = self.today + timedelta(days=1)
        next_week = self.today + timedelta(days=7)
        for text, day in (("Until tomorrow", tomorrow), ("For a week", next_week)):
            action = snooze.addAction(text)
            action.setData(day)
            action.triggered.connect(lambda _=False, d=day: self.snooze(tp, d))
            if limit is not None and day > limit:
                action.setEnabled(False)
                action.setToolTip(f"It leaves the list after {short_date(limit)}: skip it "
                                  "instead.")
        pick = snooze.addAction("Pick a date…")
        pick.triggered.connect(lambda: self.ask_snooze_date(tp))
        if limit is not None and tomorrow > limit:
            pick.setEnabled(False)
            pick.setToolTip(f"It leaves the list after {short_date(limit)}: skip it instead.")
        menu.addAction("Skip…").triggered.connect(lambda: self.ask_skip(tp))
        menu.addAction("Ask for feedback…").triggered.connect(
            lambda: self.ask_for_feedback(tp))
        menu.addSeparator()
        menu.addAction("Open profile").triggered.connect(
            lambda: self.customer_requested.emit(tp.customer_id))
        return menu

    def _open_menu(self, entry: Entry, where: QPoint) -> None:
        if self.menu is not None:
            self.menu.deleteLater()
        self.menu = self.build_menu(entry)
        self.menu.popup(where)

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

    def ask_checkback(self, item: Touchpoint) -> CheckbackDialog | None:
        """"Is the customer satisfied now?" for a complaint check-back row."""
        from crmcompanion.ui.feedback_checkback import CheckbackDialog

        item_id = self._services.feedback.checkback_item(item.key)
        if item_id is None:
            return None
        dialog = CheckbackDialog(self._services, item_id, item.customer, self.window())
        dialog.accepted.connect(lambda: self._answered(dialog, item.customer))
        self._open(dialog)
        return dialog

    def _answered(self, dialog: CheckbackDialog, name: str) -> None:
        saved = dialog.saved
        if saved is None:
            return
        answer = ("satisfied: the complaint is closed" if saved.item.status == "satisfied"
                  else "not satisfied: the complaint is reopened")
        self._publish(dialog.changed | Changed(touchpoints=True), f"{name} is {answer}.")

    def ask_for_feedback(self, item: Touchpoint) -> QDialog | None:
        """Draft a feedback request to the row's customer; a follow-up waits for the answer."""
        from crmcompanion.ui.feedback_ask import ask_for_feedback

        dialog, text = ask_for_feedback(self._services, self._bus, item.customer_id,
                                        item.customer, self.window())
        self.message.emit(text)
        if dialog is not None:
            self._open(dialog)
        return dialog

    def snooze(self, item: Touchpoint, until: date) -> None:
        try:
            recorded = self._services.touchpoints.snooze(item.key, until,
                                                          expected_version=item.version)
        except DomainError as exc:
            self.message.emit(str(exc))
            return
        self._publish(recorded.changed,
                      f"Snoozed {item.customer} ({item.label}) until {short_date(until)}.")

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

    def log_conversation(
        self, item: Touchpoint, agenda_item: AgendaItem | None = None,
    ) -> LogConversationDialog:
        """Log a conversation from a row: the channel the customer prefers, and for an
        occasion other than keep-in-touch (which any conversation answers) an offer to mark
        it done with the same entry."""
        from crmcompanion.ui.log_conversation import LogConversationDialog

        glance = agenda_item.glance if agenda_item is not None else None
        # Keep-in-touch: any conversation answers it; a check-back needs its answer (Ask).
        offer = None if item.occasion in (Occasion.KEEP_IN_TOUCH,
                                          Occasion.COMPLAINT_CHECKBACK) else item
        dialog = LogConversationDialog(
            self._services.interactions, self._services.clock, item.customer_id,
            item.customer, self.window(),
            channel=glance.preferred_channel if glance is not None else None,
            touchpoints=self._services.touchpoints, touchpoint=offer,
            reason=agenda_item.reason if agenda_item is not None else "",
            feedback=self._services.feedback,
        )
        dialog.accepted.connect(lambda: self._logged(dialog, item.customer))
        self._open(dialog)
        return dialog

    def _logged(self, dialog: LogConversationDialog, name: str) -> None:
        if not dialog.changed.is_empty:
            self._publish(dialog.changed, f"Logged a conversation with {name}.")

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
        if changed.reminders and self._reminders is None:
            # Delivered before the list was built (Today's rows not shown yet, or their read
            # failed): build it now so the badge counts them; once built it hears the bus.
            self.reminders.refresh()
        if (changed.touchpoints or changed.interactions or changed.customers
                or changed.customer_list or changed.settings):
            self.refresh()

    def _check_day(self) -> None:
        if self._services.clock.today() != self.today:
            self.refresh()
