"""The Ideas tab: what customers asked for, who asked, and telling them when it ships.

Select two ideas that are the same wish and "Merge" them: the older one keeps its text and
gains the other's requesters. "Mark done" leaves an "idea shipped" touchpoint for every requester
on Today, drafted from the greeting templates ("you asked for it, it's here").
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import DomainError
from crmcompanion.core.feedback import IdeaStatus, allowed_next
from crmcompanion.services.container import Services
from crmcompanion.services.feedback import IdeaCard
from crmcompanion.ui.feedback_common import (
    ID_ROLE,
    fill_rows,
    list_table,
    run_off_thread,
    short_date,
)

logger = logging.getLogger(__name__)

COLUMNS = ("Idea", "Status", "Customers", "Since", "Asked by")


NO_IDEAS = ("No ideas yet. When a customer suggests something, add it with Add feedback… as "
            "an idea. When one is done, Today reminds you to tell everyone who asked for it.")
CHOOSE_ONE_TIP = "Choose an idea in the list first"
CHOOSE_TWO_TIP = "Choose two ideas (Ctrl+click the second) to merge them"
MERGE_TIP = "Merge the two selected ideas into the older one"


class IdeasBoard(QWidget):
    message = Signal(str)
    changed = Signal(object)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ready = False
        self.cards: list[IdeaCard] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        # The buttons act on a chosen idea: on an empty board they stood there greyed out as
        # the first thing on screen. Hidden until there is an idea; the list says what to do.
        self.actions = QWidget()
        bar = QHBoxLayout(self.actions)
        bar.setContentsMargins(0, 0, 0, 0)
        self.planned_button = QPushButton("Mark planned")
        self.done_button = QPushButton("Mark done")
        self.done_button.setObjectName("primary")
        self.decline_button = QPushButton("Decline")
        self.merge_button = QPushButton("Merge")
        for button, status in ((self.planned_button, IdeaStatus.PLANNED),
                               (self.done_button, IdeaStatus.DONE),
                               (self.decline_button, IdeaStatus.DECLINED)):
            button.clicked.connect(lambda _=False, s=status: self.move(s))
            bar.addWidget(button)
        self.merge_button.clicked.connect(self.merge)
        bar.addWidget(self.merge_button)
        bar.addStretch(1)
        self.actions.setVisible(False)
        layout.addWidget(self.actions)
        self.table = list_table(COLUMNS, QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.set_empty_text(NO_IDEAS)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)
        self.told = QLabel()
        self.told.setObjectName("muted")
        self.told.setWordWrap(True)
        self.told.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.told)
        self._update_buttons()

    def refresh(self) -> None:
        self.ready = False
        run_off_thread(self, self.services.feedback.ideas, self._show, self.message.emit,
                       "ideas")

    def _show(self, cards: list[IdeaCard]) -> None:
        self.cards = cards
        fill_rows(self.table, [
            (c.item.id, (" ".join(c.item.text.split()), c.item.status_title,
                         str(len(c.requesters)), short_date(c.item.created_at),
                         ", ".join(name for _, name in c.requesters)))
            for c in cards])
        self.actions.setVisible(bool(cards))
        self._update_buttons()
        self.ready = True

    def selected_ids(self) -> list[int]:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.table.item(row, 0).data(ID_ROLE) for row in rows]

    def select(self, *item_ids: int) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(ID_ROLE) in item_ids:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def card(self, item_id: int) -> IdeaCard | None:
        return next((c for c in self.cards if c.item.id == item_id), None)

    def _update_buttons(self) -> None:
        ids = self.selected_ids()
        card = self.card(ids[0]) if len(ids) == 1 else None
        allowed = set(allowed_next(IdeaStatus(card.item.status))) if card and \
            card.item.status else set()
        for button, status in ((self.planned_button, IdeaStatus.PLANNED),
                               (self.done_button, IdeaStatus.DONE),
                               (self.decline_button, IdeaStatus.DECLINED)):
            button.setEnabled(status.value in allowed)
            # Greyed out, a button says why: nothing chosen, or not from this status.
            if status.value in allowed:
                button.setToolTip("")
            elif card is None:
                button.setToolTip(CHOOSE_ONE_TIP)
            else:
                button.setToolTip(f"Not for an idea that is {card.item.status_title.lower()}")
        self.merge_button.setEnabled(len(ids) == 2)
        self.merge_button.setToolTip(MERGE_TIP if len(ids) == 2 else CHOOSE_TWO_TIP)

    def move(self, status: IdeaStatus) -> None:
        ids = self.selected_ids()
        if len(ids) != 1:
            return
        try:
            saved = self.services.feedback.move(ids[0], status.value)
        except DomainError as exc:
            self.message.emit(str(exc))
            return
        if status is IdeaStatus.DONE:
            card = self.card(ids[0])
            names = ", ".join(n for _, n in card.requesters) if card else ""
            self.told.setText(f"Marked done. Today lists a note to tell each customer who "
                              f"asked: {names}." if names else "Marked done.")
        self.message.emit(f"Idea is now {saved.item.status_title.lower()}.")
        self.changed.emit(saved.changed)

    def merge(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 2:
            return
        # The idea recorded first (the lower id) keeps its text; the other's requesters join.
        keep, other = sorted(ids)
        try:
            saved = self.services.feedback.merge_ideas(keep, other)
        except DomainError as exc:
            self.message.emit(str(exc))
            return
        self.message.emit("Ideas merged: their requesters are now together.")
        self.changed.emit(saved.changed)
