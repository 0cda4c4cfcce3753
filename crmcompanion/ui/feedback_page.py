"""The sidebar's "Feedback & ideas": complaints worked with the customer, themes, ideas.

Three tabs over the feedback service: Complaints (a list, and the complaint's plan, workflow
and progress beside it), Themes (the consistent messages: customers affected, open vs
resolved, the last 12 months, distinctive words) and Ideas (who asked for what; merge, mark
done). Lists load off the GUI thread; the page refreshes from the bus only when feedback (or
a customer merge) changed. Stored complaints without a meaning vector (the demo's, or saved
while the model could not load) are encoded in the background the first time the page shows.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import DomainError
from crmcompanion.core.feedback import ComplaintStatus, FeedbackType, Source
from crmcompanion.services.changes import Changed
from crmcompanion.services.container import Services
from crmcompanion.services.feedback import FeedbackRecord
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.feedback_ask import ask_for_feedback
from crmcompanion.ui.feedback_common import (
    ID_ROLE,
    fill_rows,
    list_table,
    run_off_thread,
    short_date,
    who_said,
)
from crmcompanion.ui.feedback_complaint import ComplaintPanel
from crmcompanion.ui.ideas_board import IdeasBoard
from crmcompanion.ui.themes_view import ThemesView
from crmcompanion.ui.widgets import PageHeader

if TYPE_CHECKING:
    from crmcompanion.services.feedback_reviews import ReviewImport
    from crmcompanion.ui.feedback_review_links import ReviewLinksDialog

logger = logging.getLogger(__name__)

NO_COMPLAINT_TITLE = "Choose a complaint"
NO_COMPLAINT_TEXT = "Its plan, the next step and what was done so far show here."
NONE_LISTED_TITLE = "No complaints to show"
NONE_LISTED_TEXT = ("When a customer complains, record it with Add feedback… and follow it "
                    "up here until the customer is satisfied.")

NO_FEEDBACK = ("No feedback yet. Add feedback… records what a customer tells you (praise, a "
               "question, a complaint, an idea); Import reviews… brings in public reviews.")

FILTERS = (("Open", "open"), ("All", "all"), *[
    (s.title, s.value) for s in ComplaintStatus])


class ComplaintsTab(QWidget):
    message = Signal(str)
    changed = Signal(object)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ready = False
        self.records: list[FeedbackRecord] = []
        self._pending: int | None = None  # an item to select once the list has it
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        bar = QHBoxLayout()
        self.filter = QComboBox()
        for title, value in FILTERS:
            self.filter.addItem(title, value)
        self.filter.currentIndexChanged.connect(self.refresh)
        bar.addWidget(self.filter)
        bar.addStretch(1)
        layout.addLayout(bar)
        split = QSplitter()
        # Beside the complaint's panel at 900 px the list has ~330 pixels: Themes, then
        # Status, give way first (the panel shows both for the chosen complaint).
        self.table = list_table(("Date", "Customer", "Status", "Themes", "Complaint"),
                                drop_first=(3, 2))
        self.table.itemSelectionChanged.connect(self._selected)
        split.addWidget(self.table)
        self.panel = ComplaintPanel(services)
        self.panel.message.connect(self.message)
        self.panel.changed.connect(self.changed)
        # Scrolled, not squeezed: in a 600-pixel-high window the plan's fields overlapped.
        self.panel_scroll = QScrollArea()
        self.panel_scroll.setWidgetResizable(True)
        self.panel_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.panel_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.panel_scroll.setWidget(self.panel)
        # Never narrower than its fields: the splitter gives the list what is left.
        bar = self.panel_scroll.verticalScrollBar().sizeHint().width()
        self.panel_scroll.setMinimumWidth(self.panel.minimumSizeHint().width() + bar)
        # With no complaint chosen the panel stood there disabled (its date picker on
        # 1 January 2000): a sentence saying what to do takes its place until one is.
        self.empty_title = QLabel(NO_COMPLAINT_TITLE)
        self.empty_title.setObjectName("emptyTitle")
        self.empty_text = QLabel(NO_COMPLAINT_TEXT)
        self.empty_text.setObjectName("emptyText")
        empty = QWidget()
        empty_layout = QVBoxLayout(empty)
        empty_layout.setContentsMargins(16, 8, 8, 8)
        for label in (self.empty_title, self.empty_text):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            empty_layout.addWidget(label)
        empty_layout.addStretch(1)
        self.right = QStackedWidget()
        self.right.addWidget(empty)
        self.right.addWidget(self.panel_scroll)
        split.addWidget(self.right)
        split.setSizes([620, 420])
        layout.addWidget(split, 1)

    def refresh(self) -> None:
        wanted = self.filter.currentData()
        feedback = self.services.feedback

        def work() -> list[FeedbackRecord]:
            if wanted == "open":
                return feedback.complaints(open_only=True)
            found = feedback.complaints()
            return found if wanted == "all" else [c for c in found if c.status == wanted]

        self.ready = False
        run_off_thread(self, work, self._show, self.message.emit, "complaints")

    def _show(self, records: list[FeedbackRecord]) -> None:
        selected = self.selected_id()
        self.records = records
        fill_rows(self.table, [
            (r.id, (short_date(r.created_at), who_said(r), r.status_title, ", ".join(r.themes),
                    " ".join(r.text.split())))
            for r in records])
        listed = bool(records)
        self.empty_title.setText(NO_COMPLAINT_TITLE if listed else NONE_LISTED_TITLE)
        self.empty_text.setText(NO_COMPLAINT_TEXT if listed else NONE_LISTED_TEXT)
        if self._pending is not None and self.select(self._pending):
            self._pending = None
        elif selected is not None:
            self.select(selected)
        self.ready = True

    def show_when_listed(self, item_id: int) -> None:
        """Select `item_id` as soon as a refresh lists it (a complaint just saved)."""
        self._pending = item_id

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.table.item(rows[0].row(), 0).data(ID_ROLE)

    def select(self, item_id: int) -> bool:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(ID_ROLE) == item_id:
                self.table.selectRow(row)
                return True
        return False

    def _selected(self) -> None:
        self.panel.show_item(self.selected_id())
        shown = self.panel.detail is not None
        self.right.setCurrentIndex(1 if shown else 0)

    def showing_complaint(self) -> bool:
        """True when the panel (not the sentence that stands in for it) is on screen."""
        return self.right.currentIndex() == 1


class AllFeedbackTab(QWidget):
    """Every piece of feedback, newest first, by type: praise and questions too."""

    message = Signal(str)
    changed = Signal(object)  # never emitted: a read-only list (kept for the page's wiring)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ready = False
        self.records: list[FeedbackRecord] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        bar = QHBoxLayout()
        self.filter = QComboBox()
        self.filter.addItem("Every type", None)
        for kind in FeedbackType:
            self.filter.addItem(kind.title, kind.value)
        self.filter.currentIndexChanged.connect(self.refresh)
        bar.addWidget(self.filter)
        bar.addStretch(1)
        self.reply_button = QPushButton("Copy a reply")
        self.reply_button.setToolTip("Draft a reply to the selected public review from the "
                                     "“Review reply” template and copy it")
        self.reply_button.clicked.connect(self.copy_reply)
        bar.addWidget(self.reply_button)
        layout.addLayout(bar)
        self.table = list_table(("Date", "Customer", "Type", "Source", "Status", "Themes",
                                 "What they said"), drop_first=(5, 3))
        self.table.itemSelectionChanged.connect(self._update_reply)
        layout.addWidget(self.table, 1)
        self._update_reply()

    def refresh(self) -> None:
        kind = self.filter.currentData()
        feedback = self.services.feedback
        self.ready = False
        run_off_thread(self, lambda: feedback.list(kind=kind, limit=1000), self._show,
                       self.message.emit, "feedback")

    def _show(self, records: list[FeedbackRecord]) -> None:
        self.records = records
        kind = self.filter.currentData()
        self.table.set_empty_text(NO_FEEDBACK if kind is None else
                                  f"Nothing recorded as “{FeedbackType(kind).title}” yet.")
        fill_rows(self.table, [
            (r.id, (short_date(r.created_at), who_said(r), r.kind.title, r.source.title,
                    r.status_title, ", ".join(r.themes), " ".join(r.text.split())))
            for r in records])
        self._update_reply()
        self.ready = True

    def selected(self) -> FeedbackRecord | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item_id = self.table.item(rows[0].row(), 0).data(ID_ROLE)
        return next((r for r in self.records if r.id == item_id), None)

    def _update_reply(self) -> None:
        record = self.selected()
        self.reply_button.setEnabled(record is not None
                                     and record.source is Source.PUBLIC_REVIEW)

    def copy_reply(self) -> None:
        record = self.selected()
        if record is None:
            return
        try:
            reply = self.services.feedback.draft_review_reply(record.id)
        except DomainError as exc:
            self.message.emit(str(exc))
            return
        QGuiApplication.clipboard().setText(f"{reply.subject}\n\n{reply.body}")
        self.message.emit(f"A reply to {record.customer} is on the clipboard; paste it where "
                          "the review was posted.")


NO_CUSTOMER_TIP = "Add a customer first: feedback is always from a customer"


class FeedbackPage(QWidget):
    """The "Feedback & ideas" page."""

    message = Signal(str)

    def __init__(self, services: Services, bus: AppState, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.services = services
        self.bus = bus
        self._encoded = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        self.header = PageHeader("Feedback & ideas",
                                 # Short: beside three buttons at 900 px a longer
                                 # one wrapped onto three lines.
                                 "Complaints, recurring themes and the ideas customers "
                                 "asked for")
        self.add_button = QPushButton("Add feedback…")
        self.add_button.setObjectName("primary")
        self.add_button.clicked.connect(self.add_feedback)
        self.import_button = QPushButton("Import reviews…")
        self.import_button.clicked.connect(lambda: self.import_reviews())
        self.review_links: ReviewLinksDialog | None = None  # the open link check, if any
        self.ask_button = QPushButton("Ask for feedback…")
        self.ask_button.clicked.connect(lambda: self.ask_for_feedback())
        self.header.add_action(self.ask_button)
        self.header.add_action(self.import_button)
        self.header.add_action(self.add_button)
        layout.addWidget(self.header)
        self.tabs = QTabWidget()
        self.complaints = ComplaintsTab(services)
        self.themes = ThemesView(services)
        self.ideas = IdeasBoard(services)
        self.everything = AllFeedbackTab(services)
        self.tabs.addTab(self.complaints, "Complaints")
        self.tabs.addTab(self.themes, "Themes")
        self.tabs.addTab(self.ideas, "Ideas")
        self.tabs.addTab(self.everything, "All feedback")
        layout.addWidget(self.tabs, 1)
        self.parts = (self.complaints, self.themes, self.ideas, self.everything)
        for part in self.parts:
            part.message.connect(self.message)
            part.changed.connect(self.publish)
        bus.changed.connect(self._on_changed)
        self.refresh()
        self._offer_adding()

    @property
    def ready(self) -> bool:
        return all(part.ready for part in self.parts)

    def refresh(self) -> None:
        for part in self.parts:
            part.refresh()

    def _offer_adding(self) -> None:
        """Feedback is always a customer's: with no customer yet, "Add feedback…" and "Ask
        for feedback…" are disabled and say why (the dialog could only refuse to save)."""
        anyone = self.services.customers.total() > 0
        for button, tip in ((self.add_button, "Record what a customer told you"),
                            (self.ask_button, "Draft a short feedback request to a customer")):
            button.setEnabled(anyone)
            button.setToolTip(tip if anyone else NO_CUSTOMER_TIP)

    def publish(self, changed: Changed) -> None:
        self.bus.publish(changed)

    def _on_changed(self, changed: Changed) -> None:
        # Feedback itself, or a merge or erase of customers (which carries their feedback).
        if changed.feedback or changed.customer_list:
            self.refresh()
        if changed.customer_list:  # counted only when customers come or go
            self._offer_adding()

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        if not self._encoded:
            self._encoded = True
            feedback = self.services.feedback
            run_off_thread(self, feedback.encode_missing, self._encoded_done,
                           lambda text: logger.info("Encoding stored feedback: %s", text),
                           "encode feedback")

    def _encoded_done(self, count: int) -> None:
        if count:
            logger.info("Encoded %d stored feedback items", count)

    def add_feedback(self) -> None:
        from crmcompanion.ui.feedback_dialog import FeedbackDialog

        dialog = FeedbackDialog(self.services, self)
        dialog.item_saved.connect(self.complaints.show_when_listed)
        dialog.saved.connect(self.publish)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def ask_for_feedback(self, customer: str | None = None) -> QDialog | None:
        """Draft a short feedback request to a customer (the greeting templates' "Feedback
        request") and leave a follow-up to record the answer."""
        if customer is None:
            customer, ok = QInputDialog.getText(self, "Ask for feedback",
                                                "Customer (name, email, phone or #number)")
            if not ok or not customer.strip():
                return None
        try:
            found = self.services.customers.resolve(customer)
        except DomainError as exc:
            self.message.emit(str(exc))
            return None
        dialog, text = ask_for_feedback(self.services, self.bus, found.id, found.display_name,
                                        self)
        self.message.emit(text)
        if dialog is not None:
            dialog.finished.connect(dialog.deleteLater)
            dialog.open()
        return dialog

    def import_reviews(self, path: str | None = None) -> None:
        """Pick a review export, show the customer links it proposes (the owner unticks a
        wrong one), then import: all rows or none."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Import reviews", "", "Review exports (*.csv *.json);;All files (*)")
            if not path:
                return
        feedback = self.services.feedback

        def previewed(preview: ReviewImport) -> None:
            if preview.rejected:
                self._reviews_imported(preview)
            elif not preview.proposed:  # nothing to confirm: no author matches a customer
                self._import_reviews(path, {})
            else:
                # Imported here: the review reader is not needed until the first import.
                from crmcompanion.ui.feedback_review_links import ReviewLinksDialog

                self.review_links = ReviewLinksDialog(preview, Path(path).name, self.window())
                dialog = self.review_links
                dialog.accepted.connect(lambda: self._import_reviews(path, dialog.confirmed()))
                dialog.finished.connect(dialog.deleteLater)
                dialog.open()

        run_off_thread(self, lambda: feedback.import_reviews(path, dry_run=True), previewed,
                       self.message.emit, "read reviews")

    def _import_reviews(self, path: str, confirmed: dict[int, int]) -> None:
        feedback = self.services.feedback
        run_off_thread(self, lambda: feedback.import_reviews(path, confirmed=confirmed),
                       self._reviews_imported, self.message.emit, "import reviews")

    def _reviews_imported(self, result: ReviewImport) -> None:
        if result.rejected:
            first = result.rejected[0]
            self.message.emit(f"Nothing imported: {len(result.rejected)} rows have "
                              f"problems (line {first.line}: {first.reason}).")
            return
        self.message.emit(f"Imported {result.created} reviews ({result.linked} linked to "
                          "customers).")
        self.publish(result.changed)
