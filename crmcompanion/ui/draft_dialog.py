"""The greeting draft dialog and the "Draft all for today" window.

Why this module exists: turning a reminder into a personal message is the moment the app
earns its keep, so it must take seconds: pick a template, edit the message itself, filled
with the customer's data, like in a mail composer, then hand the text to the owner's own mail
or SMS app (the app never sends anything itself) and mark it sent, which logs it on the
customer's history and completes the touchpoint.

The subject and message fields hold *the text that will be sent*, not template source: a
value the app does not know (no birth year, so no age) is left as a highlighted gap such as
`[age?]` right in the message, selected whole when clicked so typing replaces it; sending
waits until every gap is filled in or deleted. Editing the templates themselves (with their
`$placeholders`) belongs to the template library ("Edit templates…").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QKeySequence,
    QResizeEvent,
    QShowEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.customer import Channel
from crmcompanion.core.errors import DomainError
from crmcompanion.core.message_urls import mailto_too_long, mailto_url, sms_url
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.templates import (
    PLACEHOLDER_NAMES,
    RenderedMessage,
    TemplateError,
    missing_marker,
)
from crmcompanion.services.container import Services
from crmcompanion.services.greetings import Draft
from crmcompanion.services.today_support import glances
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.customer_editor import error_label, set_invalid
from crmcompanion.ui.formatting import contact_label, day_month, long_date, number
from crmcompanion.ui.formatting import phone as phone_text
from crmcompanion.ui.icons import icon
from crmcompanion.ui.style import current_theme
from crmcompanion.ui.text_display import (
    embedded,
    headline,
    plain_label,
    plain_tooltip,
    shown,
)
from crmcompanion.ui.widgets import EmptyState, fit_on_screen, name_controls

if TYPE_CHECKING:  # opened from the dialog only: its settings pages are no part of drafting
    from crmcompanion.ui.template_library import TemplateLibraryDialog

logger = logging.getLogger(__name__)

NO_BREAK = "\u00a0"  # a space a line never wraps at

CHANNEL_CHOICES: tuple[tuple[Channel, str], ...] = (
    (Channel.EMAIL, "Email"),
    (Channel.SMS, "SMS"),
    (Channel.PHONE, "Phone call"),
    (Channel.IN_PERSON, "In person"),
)


def _label(text: str = "", object_name: str = "") -> QLabel:
    return plain_label(text, object_name)


# A gap the draft left for a value the app does not know: "[age?]", "[signature?]".
GAP_RE = re.compile(
    "|".join(re.escape(missing_marker(name)) for name in sorted(PLACEHOLDER_NAMES)))


def gaps_in(text: str) -> tuple[str, ...]:
    """The names of the gaps still in `text`, in order, without repeats."""
    return tuple(dict.fromkeys(match.group(0)[1:-2] for match in GAP_RE.finditer(text)))


class GapHighlighter(QSyntaxHighlighter):
    """Paints each gap in the message as a highlighted blank to fill in."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.gap = QTextCharFormat()
        dark = current_theme().name == "dark"
        self.gap.setBackground(QColor("#6b4e00" if dark else "#ffe7a3"))
        self.gap.setForeground(QColor("#ffe2a0" if dark else "#7a4d00"))
        self.gap.setFontWeight(QFont.Weight.DemiBold)

    def highlightBlock(self, text: str) -> None:
        for match in GAP_RE.finditer(text):
            self.setFormat(match.start(), match.end() - match.start(), self.gap)


class DraftEditor(QWidget):
    """One draft: template choice, subject and body editors, live preview and the actions.

    `sent` carries the customer id after "Mark as sent" succeeded.
    """

    sent = Signal(int)

    def __init__(self, services: Services, bus: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        # Customer id -> last contact day, for keep-in-touch drafts (the batch window reads
        # them all at once; a single draft looks its customer up).
        self.last_contact: dict[int, date | None] = {}
        self._bus = bus
        self.draft: Draft | None = None
        self.rendered: RenderedMessage | None = None
        self._loading = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)

        self.heading = _label("", "detailName")
        self.context_label = _label("", "muted")
        layout.addWidget(self.heading)
        layout.addWidget(self.context_label)

        choose = QHBoxLayout()
        template_label = QLabel("Template")
        choose.addWidget(template_label)
        self.template_combo = QComboBox()
        # Sized by the room there is, not by the longest template name (which the user
        # chooses): a long one is elided instead of widening the dialog past the screen.
        self.template_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.template_combo.setMinimumContentsLength(14)
        template_label.setBuddy(self.template_combo)
        choose.addWidget(self.template_combo, 1)
        self.templates_button = QPushButton("Edit templates…")
        self.templates_button.setObjectName("link")
        self.templates_button.clicked.connect(self.edit_templates)
        choose.addWidget(self.templates_button)
        choose.addSpacing(16)
        channel_label = QLabel("Send by")
        choose.addWidget(channel_label)
        self.channel_combo = QComboBox()
        channel_label.setBuddy(self.channel_combo)
        for channel, title in CHANNEL_CHOICES:
            self.channel_combo.addItem(title, channel)
        choose.addWidget(self.channel_combo)
        layout.addLayout(choose)

        layout.addWidget(_label("Subject", "sectionLabel"))
        self.subject_edit = QLineEdit()
        self.subject_edit.setAccessibleName("Subject")
        layout.addWidget(self.subject_edit)
        message_row = QHBoxLayout()
        message_row.addWidget(_label("Message", "sectionLabel"))
        message_row.addStretch(1)
        self.next_gap_button = QPushButton("Fill in the next gap")
        self.next_gap_button.setObjectName("link")
        self.next_gap_button.setToolTip("Select the next highlighted gap, so typing fills it")
        self.next_gap_button.clicked.connect(self.select_next_gap)
        message_row.addWidget(self.next_gap_button)
        layout.addLayout(message_row)
        self.body_edit = QPlainTextEdit()
        self.body_edit.setAccessibleName("Message")
        self.body_edit.setMinimumHeight(160)
        self.highlighter = GapHighlighter(self.body_edit.document())
        layout.addWidget(self.body_edit, 1)
        self.problem_label = error_label()  # kept for a template that cannot render
        layout.addWidget(self.problem_label)
        self.missing_label = _label("", "muted")
        self.missing_label.setVisible(False)
        layout.addWidget(self.missing_label)

        self.note_label = _label("", "muted")
        self.note_label.setVisible(False)
        layout.addWidget(self.note_label)

        actions = QHBoxLayout()
        self.copy_button = QPushButton(icon("copy"), "Copy to clipboard")
        self.mail_button = QPushButton(icon("mail"), "Open in mail app")
        self.sms_button = QPushButton(icon("smartphone"), "Send as SMS")
        self.sent_button = QPushButton(icon("check", current_theme().accent_text),
                                       "Mark as sent")
        self.sent_button.setObjectName("primary")
        for button in (self.copy_button, self.mail_button, self.sms_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.sent_button)
        layout.addLayout(actions)

        self.template_combo.currentIndexChanged.connect(self._template_chosen)
        self.channel_combo.currentIndexChanged.connect(self._update_actions)
        self.subject_edit.textChanged.connect(self.refresh_preview)
        self.body_edit.textChanged.connect(self.refresh_preview)
        self.body_edit.cursorPositionChanged.connect(self._select_gap_at_cursor)
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self.mail_button.clicked.connect(self.open_in_mail_app)
        self.sms_button.clicked.connect(self.send_as_sms)
        self.sent_button.clicked.connect(self.mark_sent)

    # --- loading ------------------------------------------------------------------------
    def _when(self, draft: Draft) -> str:
        """The draft's day; for keep-in-touch the last contact, not the (old) due day."""
        if draft.occasion is not Occasion.KEEP_IN_TOUCH:
            return long_date(draft.occasion_date)
        if draft.customer_id not in self.last_contact:
            self.last_contact.update(last_contacts(self._services, [draft.customer_id]))
        last = self.last_contact[draft.customer_id]
        return "Never contacted" if last is None else f"Last contact {long_date(last)}"

    def set_draft(self, draft: Draft) -> None:
        """Show `draft`: its template's text in the editors, its templates in the combo."""
        self._loading = True
        try:
            self.draft = draft
            self.heading.setText(
                f"{headline(draft.occasion_title)} · {headline(draft.customer_name)}")
            self.heading.setToolTip(plain_tooltip(shown(draft.customer_name)))
            where = [self._when(draft)]
            if draft.email:
                where.append(embedded(draft.email))
            if draft.mobile:
                # A number is read whole: never broken across the line's wrap.
                number_text = embedded(phone_text(draft.mobile)).replace(" ", NO_BREAK)
                where.append(f"{contact_label('mobile')}{NO_BREAK}{number_text}")
            self.context_label.setText("   ·   ".join(where))
            self._fill_templates(draft.template_key)
            self.channel_combo.setCurrentIndex(max(0, self.channel_combo.findData(draft.channel)))
            self.subject_edit.setText(draft.subject)
            self.body_edit.setPlainText(draft.body)
            self.note_label.setVisible(False)
        finally:
            self._loading = False
        self.refresh_preview()

    def edit_templates(self) -> TemplateLibraryDialog:
        """The template library for this occasion; the combo picks up edits when it closes."""
        from crmcompanion.ui.template_library import TemplateLibraryDialog

        occasion = self.draft.occasion if self.draft else None
        dialog = TemplateLibraryDialog(self._services, self._bus, occasion, self)
        dialog.finished.connect(lambda _result: self._reload_templates())
        dialog.finished.connect(dialog.deleteLater)
        self.library = dialog
        dialog.open()
        return dialog

    def _reload_templates(self) -> None:
        if self.draft is None:
            return
        self._loading = True
        try:
            self._fill_templates(self.template_combo.currentData())
        finally:
            self._loading = False

    def _fill_templates(self, key: str | None) -> None:
        """The occasion's templates in the combo ("Cake  (Warm)"), `key` chosen."""
        assert self.draft is not None
        self.template_combo.clear()
        for template in self._services.greetings.templates(self.draft.occasion):
            self.template_combo.addItem(
                f"{template.name}  ({template.tone.value.title()})", template.key)
        self.template_combo.setCurrentIndex(max(0, self.template_combo.findData(key)))

    def _template_chosen(self, index: int) -> None:
        if self._loading or self.draft is None or index < 0:
            return
        key = self.template_combo.itemData(index)
        template = self._services.greetings.template(key)
        try:
            message = self.draft.render(template.subject, template.body)
        except TemplateError as exc:  # a stored template always renders; said if not
            self.problem_label.setText(str(exc))
            self.problem_label.setVisible(True)
            return
        self.problem_label.setVisible(False)
        self.subject_edit.setText(message.subject)
        self.body_edit.setPlainText(message.body)

    # --- the message and its gaps ------------------------------------------------------------
    def refresh_preview(self) -> None:
        """The message as it stands: what will be sent, and the gaps still in it."""
        if self._loading or self.draft is None:
            return
        subject, body = self.subject_edit.text(), self.body_edit.toPlainText()
        missing = tuple(dict.fromkeys(gaps_in(subject) + gaps_in(body)))
        self.rendered = RenderedMessage(subject.strip(), body.strip("\n"), missing, False)
        set_invalid(self.subject_edit, bool(gaps_in(subject)))
        if missing:
            names = ", ".join(missing_marker(name) for name in missing)
            self.missing_label.setText(
                f"Fill in or delete the highlighted gaps before sending: {names}. Your name, "
                "business name and signature come from Settings › Greetings.")
        self.missing_label.setVisible(bool(missing))
        self.next_gap_button.setVisible(bool(missing))
        self._update_actions()

    def message_text(self) -> str:
        """Subject line, blank line, message: what the composer shows, as one text."""
        if self.rendered is None:
            return ""
        return f"Subject: {self.rendered.subject}\n\n{self.rendered.body}"

    def select_next_gap(self) -> bool:
        """Select the next gap after the cursor (wrapping round), so typing fills it."""
        text = self.body_edit.toPlainText()
        position = self.body_edit.textCursor().selectionEnd()
        matches = list(GAP_RE.finditer(text))
        if not matches:
            if gaps_in(self.subject_edit.text()):
                match = GAP_RE.search(self.subject_edit.text())
                assert match is not None
                self.subject_edit.setFocus()
                self.subject_edit.setSelection(match.start(), match.end() - match.start())
                return True
            return False
        match = next((m for m in matches if m.start() >= position), matches[0])
        self._select(match.start(), match.end())
        self.body_edit.setFocus()
        return True

    def _select(self, start: int, end: int) -> None:
        cursor = self.body_edit.textCursor()
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        self.body_edit.setTextCursor(cursor)

    def _select_gap_at_cursor(self) -> None:
        """A click inside a gap selects all of it: typing then replaces the gap."""
        cursor = self.body_edit.textCursor()
        if cursor.hasSelection():
            return
        block = cursor.block()
        offset = cursor.positionInBlock()
        for match in GAP_RE.finditer(block.text()):
            if match.start() < offset < match.end():
                self._select(block.position() + match.start(), block.position() + match.end())
                return

    def missing_placeholders(self) -> tuple[str, ...]:
        return self.rendered.missing_placeholders if self.rendered is not None else ()

    def channel(self) -> Channel:
        return Channel(self.channel_combo.currentData())

    def _update_actions(self) -> None:
        ready = self.rendered is not None and self.draft is not None
        sendable = ready and not self.missing_placeholders()
        channel = self.channel()
        self.copy_button.setEnabled(ready)
        self.mail_button.setVisible(channel is Channel.EMAIL)
        self.sms_button.setVisible(channel is Channel.SMS)
        self.mail_button.setEnabled(sendable)
        has_mobile = self.draft is not None and bool(self.draft.mobile)
        self.sms_button.setEnabled(sendable and has_mobile)
        self.sms_button.setToolTip("" if has_mobile else "This customer has no mobile number.")
        self.sent_button.setEnabled(sendable)

    # --- actions --------------------------------------------------------------------------
    def text_to_copy(self) -> str:
        """Email: subject line, blank line, body; SMS, calls and visits: the body alone."""
        if self.rendered is None:
            return ""
        if self.channel() is Channel.EMAIL and self.rendered.subject:
            return f"{self.rendered.subject}\n\n{self.rendered.body}"
        return self.rendered.body

    def _note(self, text: str) -> None:
        self.note_label.setText(shown(text))
        self.note_label.setVisible(True)

    def copy_to_clipboard(self) -> None:
        if self.rendered is None:
            return
        QGuiApplication.clipboard().setText(self.text_to_copy())
        if self.channel() in (Channel.PHONE, Channel.IN_PERSON):
            self._note("Copied. Use it as your notes for the conversation, then mark it sent.")
        else:
            self._note("Copied to the clipboard.")

    def open_in_mail_app(self) -> None:
        if self.rendered is None or self.draft is None:
            return
        url = mailto_url(self.draft.email or [], self.rendered.subject, self.rendered.body)
        if mailto_too_long(url):
            QGuiApplication.clipboard().setText(self.text_to_copy())
            self._note("This message is too long to hand to a mail app reliably, so it was "
                       "copied instead: paste it into a new email.")
            return
        # fromEncoded keeps our RFC 6068 percent-encoding exactly as built.
        if not QDesktopServices.openUrl(QUrl.fromEncoded(url.encode("ascii"))):
            QGuiApplication.clipboard().setText(self.text_to_copy())
            self._note("No mail app answered, so the message was copied to the clipboard.")
            return
        self._note("Opened in your mail app. Send it there, then mark it sent here.")

    def send_as_sms(self) -> None:
        if self.rendered is None or self.draft is None or not self.draft.mobile:
            return
        try:
            url = sms_url(self.draft.mobile, self.rendered.body)
        except DomainError as exc:
            self._note(str(exc))
            return
        if not QDesktopServices.openUrl(QUrl.fromEncoded(url.encode("ascii"))):
            QGuiApplication.clipboard().setText(self.rendered.body)
            self._note("No SMS app answered, so the text was copied to the clipboard.")
            return
        self._note("Opened in your messaging app. Send it there, then mark it sent here.")

    def mark_sent(self) -> bool:
        if self.rendered is None or self.draft is None or self.missing_placeholders():
            return False
        try:
            changed = self._services.greetings.mark_sent(
                self.draft.customer_id, self.channel(), self.rendered.subject,
                self.rendered.body, self.draft.occurrence_key, occasion=self.draft.occasion,
            )
        except DomainError as exc:
            self._note(str(exc))
            return False
        self._bus.publish(changed)
        self.sent.emit(self.draft.customer_id)
        return True


class DraftDialog(QDialog):
    """Draft a greeting for one customer: from a Today row (occasion and date known) or from
    the customer's page (pick the occasion)."""

    def __init__(
        self,
        services: Services,
        bus: AppState,
        customer_id: int,
        occasion: Occasion | None = None,
        occurrence_date: date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self.customer_id = customer_id
        self._occurrence_date = occurrence_date
        self.setWindowTitle("Write a greeting")
        self.resize(720, 680)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 16)
        top = QHBoxLayout()
        occasion_label = QLabel("Occasion")
        top.addWidget(occasion_label)
        self.occasion_combo = QComboBox()
        occasion_label.setBuddy(self.occasion_combo)
        for item in Occasion:
            self.occasion_combo.addItem(item.title, item)
        top.addWidget(self.occasion_combo)
        top.addStretch(1)
        layout.addLayout(top)
        self.editor = DraftEditor(services, bus, self)
        layout.addWidget(self.editor, 1)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        bottom.addWidget(self.close_button)
        layout.addLayout(bottom)
        chosen = occasion or self._suggested_occasion()
        self.occasion_combo.setCurrentIndex(self.occasion_combo.findData(chosen))
        self.occasion_combo.currentIndexChanged.connect(self._occasion_changed)
        self.editor.sent.connect(lambda _cid: self.accept())
        self._load(chosen, occurrence_date)
        fit_on_screen(self)
        name_controls(self)

    def _suggested_occasion(self) -> Occasion:
        """The customer's nearest touchpoint's occasion, else keep in touch."""
        upcoming = self._services.touchpoints.for_customer(self.customer_id, days=31)
        today = self._services.clock.today()
        upcoming.sort(key=lambda t: abs((t.date - today).days))
        return upcoming[0].occasion if upcoming else Occasion.KEEP_IN_TOUCH

    def _occasion_changed(self, index: int) -> None:
        self._load(Occasion(self.occasion_combo.itemData(index)), None)

    def _load(self, occasion: Occasion, occurrence_date: date | None) -> None:
        draft = self._services.greetings.draft(self.customer_id, occasion,
                                               occurrence_date=occurrence_date)
        self.editor.set_draft(draft)


def last_contacts(services: Services, customer_ids: list[int]) -> dict[int, date | None]:
    """Each customer's last contact day (None: never), in one statement."""
    if not customer_ids:
        return {}
    found = glances(services.db, customer_ids, formatted=False)
    return {customer_id: found[customer_id].last_contact_on if customer_id in found else None
            for customer_id in customer_ids}


def _day_text(day: date, today: date) -> str:
    return day_month(day) if day.year == today.year else long_date(day)


def _when_text(draft: Draft, today: date, last_contact: dict[int, date | None]) -> str:
    """A batch row's date in the owner's terms: an occasion's day ("overdue" when past), or
    for keep-in-touch the last contact ("last contact 10 March 2012", "never contacted"), in
    the words of its reason on Today."""
    if draft.occasion is Occasion.KEEP_IN_TOUCH:
        last = last_contact.get(draft.customer_id)
        return "never contacted" if last is None else f"last contact {_day_text(last, today)}"
    when = draft.occasion_date
    return _day_text(when, today) + (" (overdue)" if when < today else "")


ROW_PADDING = 2 * 12 + 4  # the sidebar list's item padding (style.py) and a little air
SEPARATOR = " · "
# A view shows an item's "\n" as Unicode's line separator (QStyledItemDelegate.displayText).
LINE_BREAK = "\u2028"
LIST_NARROWEST, LIST_WIDEST = 220, 400
COMPOSER_MARGIN = 14 + 8  # the composer holder's left margin and the splitter's handle


def wrapped_row(text: str, room: int, width: Callable[[str], int]) -> str:
    """A batch row's lines, each line wider than `room` px broken at its first " · " (the
    occasion above its day: "Keep in touch" over "last contact 24 December 2025"), so both
    parts are read whole rather than cut with "…"."""
    lines: list[str] = []
    for line in text.split(LINE_BREAK):
        if width(line) > room and SEPARATOR in line:
            lines.extend(line.split(SEPARATOR, 1))
        else:
            lines.append(line)
    return LINE_BREAK.join(lines)


def list_share(width: int, composer_minimum: int) -> tuple[int, int]:
    """The list's and the composer's widths in a splitter `width` px wide: the list about a
    third (a row's "Keep in touch · last contact 24 December 2025" on one line from about
    1,100 px), never less than LIST_NARROWEST nor so much that the composer gets less than
    it needs."""
    room_left = width - COMPOSER_MARGIN - composer_minimum
    wanted = min(max(width // 3, LIST_NARROWEST), LIST_WIDEST)
    share = max(min(wanted, room_left), LIST_NARROWEST)
    return share, width - share


class RowLines(QStyledItemDelegate):
    """Draws (and sizes) a batch row with its long line broken at " · " to fit the list's
    width, at whatever width the window or the splitter gives it. The row's text itself
    (and its tooltip) stays as it is."""

    def __init__(self, view: QListWidget) -> None:
        super().__init__(view)
        self._view = view

    def initStyleOption(self, option: QStyleOptionViewItem,
                        index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        room = self._view.viewport().width() - ROW_PADDING
        option.text = wrapped_row(option.text, room, option.fontMetrics.horizontalAdvance)


class BatchDraftWindow(QDialog):
    """ "Draft all for today": today's (and overdue) occasions on the left, the selected
    draft on the right; each is edited and sent on its own."""

    def __init__(self, services: Services, bus: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.setWindowTitle("Draft all for today")
        self.resize(1100, 740)
        fit_on_screen(self)
        self.drafts: list[Draft] = services.greetings.today_drafts()
        self.sent_keys: set[int] = set()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        count = len(self.drafts)
        self.summary = _label(
            # Grouped as the locale groups ("1,192"): a first run can list over a thousand.
            f"{number(count)} greeting{'s' if count != 1 else ''} to send today" if count
            else "Nothing to send today.", "pageTitle")
        layout.addWidget(self.summary)
        split = QSplitter()
        self.list = QListWidget()
        self.list.setObjectName("sidebar")  # roomy rows, accent selection
        # 150 px: with the composer's own minimum the window still fits an 800 px wide screen.
        self.list.setMinimumWidth(150)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Rows are as tall as their lines at the list's width, laid out again when the
        # width changes (a row with its day on a line of its own is three lines high).
        # (QListView lays rows out again on a width change only when it wraps text.)
        self.list.setItemDelegate(RowLines(self.list))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setWordWrap(True)
        today = services.clock.today()
        # A keep-in-touch draft's date is the day it fell due (the last contact plus the
        # cadence), years back for a customer not heard from in years ("10 March 2012
        # (overdue)" told the owner nothing): its row says when they were last in touch.
        # One statement for all of them.
        last_contact = last_contacts(services, [
            d.customer_id for d in self.drafts if d.occasion is Occasion.KEEP_IN_TOUCH])
        for draft in self.drafts:
            item = QListWidgetItem(f"{embedded(draft.customer_name)}\n"
                                   f"{embedded(draft.occasion_title)} · "
                                   f"{_when_text(draft, today, last_contact)}")
            # A name too long even for a line of its own is cut with "…": whole on hover.
            item.setToolTip(plain_tooltip(item.text()))
            self.list.addItem(item)
        split.addWidget(self.list)
        self.editor = DraftEditor(services, bus, self)
        self.editor.last_contact = last_contact
        holder = QWidget()
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(14, 0, 0, 0)
        holder_layout.addWidget(self.editor)
        split.addWidget(holder)
        split.setStretchFactor(1, 1)
        self.split = split
        self._dragged = False
        split.splitterMoved.connect(self._splitter_moved)  # only a drag moves it
        layout.addWidget(split, 1)
        # Nothing due: say so, instead of an empty list beside a blank, disabled composer.
        self.empty = EmptyState(
            "✓", "No greetings to write today",
            "Birthdays, anniversaries and customers to keep in touch with are listed here on "
            "their day, each with a draft ready to edit and send.")
        layout.addWidget(self.empty, 1)
        split.setVisible(bool(self.drafts))
        self.empty.setVisible(not self.drafts)
        self.summary.setVisible(bool(self.drafts))  # the empty state says it
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.accept)
        bottom.addWidget(self.close_button)
        layout.addLayout(bottom)
        self.list.currentRowChanged.connect(self._show)
        self.editor.sent.connect(self._sent)
        self.editor.setEnabled(bool(self.drafts))
        if self.drafts:
            self.list.setCurrentRow(0)
        name_controls(self)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._share()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._share()

    def _share(self) -> None:
        """The list's share of the width, kept as the window is resized, until the owner
        drags the splitter: their own share then stands."""
        if not self._dragged and self.isVisible():
            self.split.setSizes(list(list_share(self.split.width(),
                                                self.editor.minimumSizeHint().width())))

    def _splitter_moved(self) -> None:
        self._dragged = True

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.drafts):
            self.editor.set_draft(self.drafts[row])
            self.editor.setEnabled(row not in self.sent_keys)

    def _sent(self, _customer_id: int) -> None:
        row = self.list.currentRow()
        self.sent_keys.add(row)
        item = self.list.item(row)
        item.setText("✓ " + item.text().replace("\n", "  (sent)\n", 1))
        self.editor.setEnabled(False)
        remaining = [r for r in range(len(self.drafts)) if r not in self.sent_keys]
        self.summary.setText(f"{number(len(remaining))} left to send" if remaining
                             else "All sent. Well done!")
        if remaining:
            later = [r for r in remaining if r > row]
            self.list.setCurrentRow(later[0] if later else remaining[0])


class GreetingsHook(QObject):
    """Plugs drafting into the main window: the Today rows' "Draft greeting" button, a
    "Draft all for today" button in the Today header (Ctrl+Shift+D) and customer pages.

    Lives here so the main window needs one line (`GreetingsHook(self)`), not the details.
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._services: Services = window.services  # type: ignore[attr-defined]
        self._bus: AppState = window.bus  # type: ignore[attr-defined]
        self.dialog: QDialog | None = None
        # One action for the Today header's button and Ctrl+Shift+D: disabled while nothing
        # is due today or late, the key does nothing either (a separate shortcut opened an
        # empty "Draft all" on a day whose button was greyed out).
        self.draft_all_action = QAction("Draft all for today…", window)
        self.draft_all_action.setShortcut(QKeySequence("Ctrl+Shift+D"))
        self.draft_all_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.draft_all_action.triggered.connect(self.draft_all)
        window.addAction(self.draft_all_action)
        today = getattr(window, "today", None)
        if today is not None and hasattr(today, "draft_requested"):
            today.draft_requested.connect(self.draft_for_touchpoint)
            today.enable_drafts(True)
            self.draft_all_action.setEnabled(bool(getattr(today, "due", True)))
            if hasattr(today, "due_changed"):
                today.due_changed.connect(self.draft_all_action.setEnabled)
            self.batch_button = QPushButton(self.draft_all_action.text())
            self.batch_button.setToolTip("Write today's greetings one after another "
                                         "(Ctrl+Shift+D)")
            self.batch_button.clicked.connect(self.draft_all_action.trigger)
            self.batch_button.setEnabled(self.draft_all_action.isEnabled())
            self.draft_all_action.enabledChanged.connect(self.batch_button.setEnabled)
            today.header.add_action(self.batch_button)
        # The customer page's "Write greeting…" button. The main window builds that page on
        # first use (after the first paint): wire it then, without building it now.
        built = getattr(window, "customers_built", None)
        if built is not None:
            built.connect(self._attach_customer_page)
        else:
            self._attach_customer_page(getattr(window, "customers", None))

    def _attach_customer_page(self, customers: object) -> None:
        activity = getattr(getattr(customers, "detail", None), "activity", None)
        if activity is not None and hasattr(activity, "draft_requested"):
            activity.draft_requested.connect(self.draft_for_customer)
            activity.draft_button.setEnabled(True)

    def _open(self, dialog: QDialog) -> QDialog:
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def draft_for_touchpoint(self, item: object) -> QDialog:
        """A Today row's "Draft greeting": that customer, occasion and date."""
        return self._open(DraftDialog(
            self._services, self._bus, item.customer_id,  # type: ignore[attr-defined]
            item.occasion, item.date, self._window,  # type: ignore[attr-defined]
        ))

    def draft_for_customer(self, customer_id: int) -> QDialog:
        return self._open(DraftDialog(self._services, self._bus, customer_id,
                                      parent=self._window))

    def draft_all(self) -> QDialog:
        return self._open(BatchDraftWindow(self._services, self._bus, self._window))
