"""The read-only profile panel beside the customer list, with Edit, Archive and Delete; with
several customers selected, a short "N customers selected" summary and the actions that apply
to all of them (Export…, Add tag…, Archive, Delete) instead of one profile.

A profile tells the story: the name, then how things stand ("Last contacted 93 days ago ·
prefers email") and the actions (from `ui.customer_activity`), the contact details as links
(mailto:, tel:, an OpenStreetMap search for the address), tags, dates in the locale's long
format, notes, then what is coming up and the timeline. The panel's parts keep their places
when another customer is shown; only their contents change: its labels are kept in pools (one
per look) and refilled in place, so opening a profile creates and style-polishes no widget
once the panel has shown a customer with as many details (issue 15: building and polishing
~20 labels was a large part of opening a profile).

User text is always shown as plain text, or as rich text built from escaped text only (the
contact links), so a note containing markup is displayed, not interpreted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
from collections.abc import Callable, Iterator
from datetime import date

from PySide6.QtCore import QDate, QLocale, Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.customer import Customer, Kind, SpecialDate, Status
from crmcompanion.core.settings import MAP_SERVICE, MAP_SERVICES
from crmcompanion.core.validation import format_phone
from crmcompanion.ui import formatting, text_display
from crmcompanion.ui.formatting import contact_label, number
from crmcompanion.ui.style import CHANNEL_TITLES, STATUS_COLOURS, STATUS_TITLES
from crmcompanion.ui.text_display import clipped, embed, plain_tooltip, shown
from crmcompanion.ui.widgets import country_name

PANEL_MIN_WIDTH = 380


def long_day(month: int, day: int, year: int | None) -> str:
    """A special date in the locale's long format; without a year, the day and month."""
    if year is not None:
        try:
            return formatting.long_date(date(year, month, day))
        except ValueError:
            pass
    # A leap year, so 29 February has a day to stand on; the locale's own day-month order.
    pattern = formatting.locale().dateFormat(QLocale.FormatType.ShortFormat)
    month_first = pattern.find("M") < pattern.find("d")
    return formatting.locale().toString(QDate(2000, month, day),
                                        "MMMM d" if month_first else "d MMMM")


def describe_special_date(special: SpecialDate) -> str:
    return f"{embed(special.title)}: {long_day(special.month, special.day, special.year)}"


def link_label(text: str, url: str, tip: str) -> QLabel:
    """A clickable contact detail: rich text built from the escaped value only."""
    label = QLabel(f'<a href="{html.escape(url)}">{html.escape(shown(text), quote=False)}</a>')
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setOpenExternalLinks(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    label.setWordWrap(True)
    label.setToolTip(tip)
    label.setObjectName("contactLink")
    return label


def map_url(address: str, service: str = str(MAP_SERVICE.default)) -> str:
    """The address link: a search on the map service the owner chose (Settings)."""
    return formatting.map_url(address, service)


def plain_label(text: str, object_name: str = "") -> QLabel:
    """Selectable, wrapping, never markup; long unbroken runs may wrap anywhere."""
    return text_display.plain_label(shown(text), object_name, selectable=True)


class LabelPool:
    """Labels of one look (object name, plain or link), reused from profile to profile.

    `take` hands out the next label (made on first need), `release_rest` hides and empties
    the ones this profile did not use: a hidden label keeps no old customer's text."""

    def __init__(self, parent: QWidget, make: Callable[[], QLabel]) -> None:
        self._parent = parent
        self._make = make
        self.labels: list[QLabel] = []
        self._used = 0

    def reset(self) -> None:
        self._used = 0

    def take(self) -> QLabel:
        if self._used == len(self.labels):
            label = self._make()
            label.setParent(self._parent)
            self.labels.append(label)
        label = self.labels[self._used]
        self._used += 1
        return label

    def hidden_within(self, count: int) -> bool:
        """Whether taking `count` labels would show one that is hidden (or new)."""
        return count > len(self.labels) or any(
            label.isHidden() for label in self.labels[:count])

    def release_rest(self) -> None:
        for label in self.labels[self._used:]:
            if not label.isHidden():
                label.hide()
            label.clear()
            label.setToolTip("")


@contextlib.contextmanager
def shows_batched(container: QWidget, needed: bool = True) -> Iterator[None]:
    """Show hidden widgets inside `container` at the cost of one layout pass.

    Qt lays out every visible ancestor's layout, up to the window, each time a child widget
    is shown (~4 ms per label in the profile at 1366x768); with `container` hidden meanwhile
    that happens once, when it is shown again. Skipped when not `needed` (nothing to show),
    and when the keyboard focus is inside (hiding it would move the focus)."""
    focus = QApplication.focusWidget()
    if not needed or container.isHidden() or (
            focus is not None and container.isAncestorOf(focus)):
        yield
        return
    container.hide()
    try:
        yield
    finally:
        container.show()


class CustomerDetail(QFrame):
    """Shows one customer; emits what the user asks for, the view does the work."""

    edit_requested = Signal(int)
    archive_requested = Signal(int, bool)
    delete_requested = Signal(int)
    export_data_requested = Signal(int)
    erase_requested = Signal(int)
    close_requested = Signal()
    # Several selected: the view knows which (the list's selection), so no ids travel here.
    export_selected_requested = Signal()
    archive_selected_requested = Signal(bool)  # archive (True) or unarchive (False)
    tag_selected_requested = Signal()
    delete_selected_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        # Room for the activity buttons side by side (265 px) beside the scroll bar and the
        # card margins: narrower, the profile scrolled sideways.
        self.setMinimumWidth(PANEL_MIN_WIDTH)
        self.customer: Customer | None = None
        self.summary_count = 0  # customers summarised when several are selected, else 0
        # The owner's MAP_SERVICE setting, read when a profile is shown (the Customers page
        # sets it: this panel has no services of its own).
        self.map_service: Callable[[], str] = lambda: str(MAP_SERVICE.default)
        # Upcoming touchpoints and history (ui.customer_activity), kept across customers.
        self.activity: QWidget | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(18, 14, 18, 14)
        top = QHBoxLayout()
        top.addStretch(1)
        self.close_button = QPushButton("✕")
        self.close_button.setObjectName("iconButton")
        self.close_button.setToolTip("Close the profile (Esc)")
        self.close_button.clicked.connect(self.close_requested)
        top.addWidget(self.close_button)
        outer.addLayout(top)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        self._scroll = scroll
        self._body = QWidget()
        self._body_layout = QVBoxLayout(self._body)
        self._body_layout.setContentsMargins(0, 0, 0, 0)
        self._body_layout.setSpacing(4)
        # Parts that keep their places: the heading and the facts are refilled per customer;
        # the activity's lead line, actions and sections are placed once (set_activity).
        self._head = QWidget()
        self._head_layout = QVBoxLayout(self._head)
        self._head_layout.setContentsMargins(0, 0, 0, 0)
        self._head_layout.setSpacing(4)
        self._facts = QWidget()
        self._facts_layout = QVBoxLayout(self._facts)
        self._facts_layout.setContentsMargins(0, 0, 0, 0)
        self._facts_layout.setSpacing(4)
        self._body_layout.addWidget(self._head)
        self._body_layout.addWidget(self._facts)
        # One pool per look and part (see LabelPool); the badge row is one widget, refilled.
        self._pools: dict[tuple[str, str], LabelPool] = {}
        self._badge_row, self._badges = self._badge_widgets()
        self._status_badges: dict[Status, QLabel] = {}
        self._status_sheets: dict[Status, str] = {}
        self._body_layout.addStretch(1)
        scroll.setWidget(self._body)
        outer.addWidget(scroll, 1)
        self.single_actions = QWidget()
        buttons = QHBoxLayout(self.single_actions)
        buttons.setContentsMargins(0, 0, 0, 0)
        self.edit_button = QPushButton("Edit")
        self.edit_button.setObjectName("primary")
        self.archive_button = QPushButton("Archive")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("danger")
        # Rare, weighty actions live behind "More" so they are never clicked by accident.
        self.more_button = QPushButton("More ▾")
        self.more_menu = QMenu(self.more_button)
        self.export_data_action = self.more_menu.addAction("Export personal data…")
        self.erase_action = self.more_menu.addAction("Erase personal data…")
        self.more_button.setMenu(self.more_menu)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.archive_button)
        buttons.addWidget(self.more_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        outer.addWidget(self.single_actions)
        self.several_actions = QWidget()
        # Two rows: four buttons side by side do not fit the panel's width.
        several = QVBoxLayout(self.several_actions)
        several.setContentsMargins(0, 0, 0, 0)
        several.setSpacing(8)
        self.export_selected_button = QPushButton("Export…")
        self.export_selected_button.setObjectName("primary")
        self.export_selected_button.setToolTip("Export the selected customers as CSV, vCard "
                                               "or calendar")
        self.tag_selected_button = QPushButton("Add tag…")
        self.tag_selected_button.setToolTip("Give the selected customers a tag")
        self.archive_selected_button = QPushButton("Archive")
        self.delete_selected_button = QPushButton("Delete")
        self.delete_selected_button.setObjectName("danger")
        self.delete_selected_button.setToolTip("Delete the selected customers (Del)")
        for left, right in ((self.export_selected_button, self.tag_selected_button),
                            (self.archive_selected_button, self.delete_selected_button)):
            row = QHBoxLayout()
            row.addWidget(left)
            if right is self.delete_selected_button:
                row.addStretch(1)
            row.addWidget(right)
            if right is not self.delete_selected_button:
                row.addStretch(1)
            several.addLayout(row)
        self.several_actions.setVisible(False)
        outer.addWidget(self.several_actions)
        self.edit_button.clicked.connect(lambda: self._emit_for(self.edit_requested))
        self.delete_button.clicked.connect(lambda: self._emit_for(self.delete_requested))
        self.archive_button.clicked.connect(self._archive_clicked)
        self.export_data_action.triggered.connect(
            lambda: self._emit_for(self.export_data_requested)
        )
        self.erase_action.triggered.connect(lambda: self._emit_for(self.erase_requested))
        self.export_selected_button.clicked.connect(self.export_selected_requested)
        self.delete_selected_button.clicked.connect(self.delete_selected_requested)
        self.tag_selected_button.clicked.connect(self.tag_selected_requested)
        self.archive_selected_button.clicked.connect(
            lambda: self.archive_selected_requested.emit(self._archive_several))
        self._archive_several = True

    def _emit_for(self, signal: Signal) -> None:
        if self.customer is not None:
            signal.emit(self.customer.id)  # type: ignore[attr-defined]

    def _archive_clicked(self) -> None:
        if self.customer is not None:
            self.archive_requested.emit(self.customer.id, not self.customer.is_archived)

    def set_activity(self, activity: QWidget) -> None:
        """The customer's story (`ui.customer_activity.CustomerActivity`): its `lead` line and
        `actions` go under the name, the activity itself after the facts."""
        self.activity = activity
        lead = getattr(activity, "lead", None)
        segment = getattr(activity, "segment_line", None)
        actions = getattr(activity, "actions", None)
        at = 1
        for part in (lead, segment, actions):
            if isinstance(part, QWidget):
                self._body_layout.insertWidget(at, part)
                at += 1
        self._body_layout.insertWidget(self._body_layout.indexOf(self._facts) + 1, activity)

    def _story_parts(self) -> list[QWidget]:
        if self.activity is None:
            return []
        parts = [getattr(self.activity, "lead", None), getattr(self.activity, "actions", None),
                 self.activity]
        return [p for p in parts if isinstance(p, QWidget)]

    def _pool(self, layout: QVBoxLayout, look: str) -> LabelPool:
        """The labels of `look` ("link", "section" or a plain label's object name) in the
        head or the facts (each part owns its labels, so the Qt parent never changes)."""
        part = "head" if layout is self._head_layout else "facts"
        pool = self._pools.get((part, look))
        if pool is None:
            owner = self._head if part == "head" else self._facts
            if look == "link":
                pool = LabelPool(owner, lambda: link_label("", "", ""))
            elif look == "section":
                pool = LabelPool(owner, lambda: _object_label(QLabel(), "sectionLabel"))
            else:
                pool = LabelPool(owner, lambda: plain_label("", look))
            self._pools[(part, look)] = pool
        return pool

    def _start_body(self) -> None:
        """Take every part out of the head and facts layouts (widgets kept, not deleted)."""
        for layout in (self._head_layout, self._facts_layout):
            while layout.count():
                layout.takeAt(0)
        for pool in self._pools.values():
            pool.reset()

    def _finish_body(self) -> None:
        for pool in self._pools.values():
            pool.release_rest()
        if self._head_layout.indexOf(self._badge_row) < 0 and not self._badge_row.isHidden():
            self._badge_row.hide()  # a summary of several customers: no badges

    def _place(self, layout: QVBoxLayout, label: QLabel) -> QLabel:
        layout.addWidget(label)
        if label.isHidden():
            label.show()
        return label

    def _text(self, text: str, object_name: str = "",
              layout: QVBoxLayout | None = None) -> QLabel:
        """A plain, selectable label (never markup) of that look, placed next."""
        target = layout or self._facts_layout
        label = self._pool(target, object_name).take()
        label.setText(shown(text))
        label.setToolTip("")
        return self._place(target, label)

    def _link(self, text: str, url: str, tip: str) -> QLabel:
        """A contact link (rich text built from the escaped value only), placed next."""
        label = self._pool(self._facts_layout, "link").take()
        label.setText(
            f'<a href="{html.escape(url)}">{html.escape(shown(text), quote=False)}</a>')
        label.setToolTip(tip)
        return self._place(self._facts_layout, label)

    def show_summary(self, count: int, archive: bool = True) -> None:
        """Several customers selected: how many, and what can be done to all of them.

        `archive` False offers Unarchive instead (the list shows only archived customers).
        """
        self.customer = None
        self.summary_count = count
        self._scroll.verticalScrollBar().setValue(0)
        self._archive_several = archive
        self.archive_selected_button.setText("Archive" if archive else "Unarchive")
        self.single_actions.setVisible(False)
        self.several_actions.setVisible(True)
        self._start_body()
        for part in self._story_parts():
            part.setVisible(False)  # kept for the next profile, not in a summary
        segment = getattr(self.activity, "segment_line", None)
        if isinstance(segment, QWidget):  # shows itself again once a segment is loaded
            segment.setVisible(False)
        head = self._head_layout
        self._text(f"{number(count)} customers selected", "detailName", head)
        self._text("Export, tag, archive or delete them all at once below.", "muted", head)
        self._section("SELECTING", head)
        for hint in ("Ctrl+click adds or removes one customer",
                     "Shift+click or Shift+arrows select a range",
                     "Ctrl+A selects everyone listed",
                     "Esc clears the selection"):
            self._text(hint, "muted", head)
        self._finish_body()

    def show_customer(self, customer: Customer) -> None:
        if self.customer is None or self.customer.id != customer.id:
            # Another customer starts at the top (the name), wherever the last one was read
            # to; the same one shown again (after an edit) stays where the owner was.
            self._scroll.verticalScrollBar().setValue(0)
        self.customer = customer
        self.summary_count = 0
        self.single_actions.setVisible(True)
        self.several_actions.setVisible(False)
        self.archive_button.setText("Unarchive" if customer.is_archived else "Archive")
        self._start_body()
        head = self._head_layout
        heading = clipped(customer.display_name)
        name = self._text(heading, "detailName", head)
        if heading != customer.display_name:  # cut: the whole name on hover
            name.setToolTip(plain_tooltip(shown(customer.display_name)))
        subtitle = [customer.company] if customer.company else []
        if customer.kind is Kind.INTERNAL:
            subtitle.append("Internal customer")
        if subtitle:
            self._text(" · ".join(embed(part) for part in subtitle), "muted", head)
        self._show_badges(customer)
        text = self._text
        self._section("CONTACT")
        for email in customer.emails:
            self._link(f"{embed(email.address)}  ({embed(contact_label(email.label))})",
                       f"mailto:{email.address}", "Write in your mail app")
        for phone in customer.phones:
            self._link(f"{format_phone(phone.number)}  ({embed(contact_label(phone.label))})",
                       f"tel:{phone.number}", "Call with your phone app")
        if not customer.address.is_empty():
            # "75002 Paris, France", not "…, FR": the stored ISO code read as its name (the
            # map search understands the name as well).
            stored = customer.address
            country = country_name(stored.country) if len(stored.country) == 2 else stored.country
            address = dataclasses.replace(stored, country=country).one_line()
            service = self.map_service()
            title = MAP_SERVICES.get(service, MAP_SERVICES[str(MAP_SERVICE.default)])[0]
            self._link(embed(address), map_url(address, service), f"Show on a map ({title})")
        if customer.preferred_channel is not None:
            text(f"Prefers: {CHANNEL_TITLES[customer.preferred_channel]}", "muted")
        if not (customer.emails or customer.phones or not customer.address.is_empty()):
            text("No contact details yet.", "muted")
        if customer.tags:
            self._section("TAGS")
            text(", ".join(embed(tag) for tag in customer.tags))
        if customer.special_dates or customer.customer_since:
            self._section("DATES")
            if customer.customer_since:
                since = formatting.long_date(customer.customer_since)
                text(f"Customer since {since}")
            for special in customer.special_dates:
                text(describe_special_date(special))
        if customer.notes.strip():
            self._section("NOTES")
            text(customer.notes)
        authors = _authors(customer)
        if authors:
            text(authors, "muted")
        self._finish_body()
        if self.activity is not None:
            self.activity.load(customer.id, customer.display_name)  # type: ignore[attr-defined]
        for part in self._story_parts():
            part.setVisible(True)
        self._body.updateGeometry()

    def _section(self, title: str, layout: QVBoxLayout | None = None) -> None:
        target = layout or self._facts_layout
        label = self._pool(target, "section").take()
        label.setText(title)
        self._place(target, label)

    def _badge_widgets(self) -> tuple[QWidget, list[QLabel]]:
        """The row under the name: the customer's status badge, then "Key account" and
        "Archived". Each badge is made once (a status's when first shown), its style sheet
        polished once, then shown or hidden: restyling one badge re-polished it per open."""
        row = QWidget(self._head)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.setSpacing(6)
        badges = []
        for text, sheet in (("★ Key account", _badge_sheet("#e6eefc", "#2459b8")),
                            ("Archived", _badge_sheet("#eceff3", "#555e6b"))):
            badge = QLabel(text)
            badge.setStyleSheet(sheet)
            layout.addWidget(badge)
            badges.append(badge)
        layout.addStretch(1)
        row.hide()
        return row, badges

    def _show_badges(self, customer: Customer) -> None:
        key_account, archived = self._badges
        sheet = _badge_sheet(*STATUS_COLOURS[customer.status])  # the theme's own colours
        status = self._status_badges.get(customer.status)
        if status is None:
            status = QLabel(STATUS_TITLES[customer.status])
            self._status_badges[customer.status] = status
            row = self._badge_row.layout()
            assert isinstance(row, QHBoxLayout)
            row.insertWidget(0, status)
        if self._status_sheets.get(customer.status) != sheet:  # new, or the theme changed
            self._status_sheets[customer.status] = sheet
            status.setStyleSheet(sheet)
            # The sheet just set is the badge's original (ui.style keeps it under this name
            # to give it the dark colours): a colour of the current theme already.
            status.setProperty("crmLightSheet", None)
        row = self._badge_row
        for badge, wanted in ((key_account, customer.key_account),
                              (archived, customer.is_archived),
                              *((other, other is status)
                                for other in self._status_badges.values())):
            if badge.isVisibleTo(row) != wanted:  # a change of visibility only
                badge.setVisible(wanted)
        self._head_layout.addWidget(self._badge_row)
        if self._badge_row.isHidden():
            self._badge_row.show()


def _badge_sheet(background: str, foreground: str) -> str:
    return (f"background: {background}; color: {foreground}; border-radius: 9px; "
            "padding: 2px 10px;font-weight: 600;")


def _object_label(label: QLabel, object_name: str) -> QLabel:
    label.setObjectName(object_name)
    return label


def _authors(customer: Customer) -> str:
    """"Created by Ana · last changed by Ben", where the customer record carries the names
    (staff identity); empty where it does not."""
    created = getattr(customer, "created_by_name", None)
    changed = getattr(customer, "updated_by_name", None)
    parts = []
    if created:
        parts.append(f"Created by {embed(created)}")
    if changed:
        parts.append(f"last changed by {embed(changed)}" if parts
                     else f"Last changed by {embed(changed)}")
    return " · ".join(parts)
