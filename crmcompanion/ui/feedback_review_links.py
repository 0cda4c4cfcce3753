"""Confirm the customer links of a public-review import before anything is written.

A review is linked to a customer when its author matches one by email or by exact name
(issue 15, "confirmable"). A name can belong to two people ("Sam Lee" the customer and
another Sam Lee who reviewed the shop), so the app shows every proposed link first: the
review's author, the customer it matched, whether by email or by name, and a tick (on by
default) the owner can take off. Unticked reviews are imported without a customer; the
command line links without asking (`--no-link` keeps all unlinked).
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.services.feedback_reviews import ProposedLink, ReviewImport
from crmcompanion.ui.feedback_common import list_table
from crmcompanion.ui.text_display import plain_label
from crmcompanion.ui.widgets import DialogButtons

logger = logging.getLogger(__name__)

COLUMNS = ("Link", "Review by", "Customer", "Matched by", "Review")
_MATCHED_BY = {"email": "Email address", "name": "Same name"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _stars(rating: int | None) -> str:
    return "" if rating is None else "★" * rating + "☆" * (5 - rating)


class ReviewLinksDialog(QDialog):
    """The proposed links of `preview` (a dry run), each with a tick; `confirmed()` is what
    the import is then given."""

    def __init__(self, preview: ReviewImport, file_name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = preview
        self.setWindowTitle("Import reviews")
        self.setMinimumWidth(640)
        self.resize(760, 420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 8)
        layout.setSpacing(8)
        title = plain_label(f"Check who wrote these reviews ({file_name})", "emptyTitle")
        layout.addWidget(title)
        linked = len(preview.proposed)
        layout.addWidget(plain_label(
            f"{_plural(preview.created, 'review')} in the file; "
            f"{_plural(linked, 'author')} {'matches' if linked == 1 else 'match'} a customer. "
            "Untick any that is not the "
            "same person: that review is imported without a customer. The others are "
            "linked to the customer shown.", "muted"))
        self.table = list_table(COLUMNS, QAbstractItemView.SelectionMode.NoSelection)
        self.table.setAccessibleName("Proposed links")
        self.table.setRowCount(linked)
        self.boxes: list[QCheckBox] = []
        for row, link in enumerate(preview.proposed):
            self._add_row(row, link)
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        self.summary = plain_label("", "muted")
        layout.addWidget(self.summary)
        self.buttons = DialogButtons(self, self.accept, "Import", margins=(0, 6, 0, 8))
        self.cancel_button = self.buttons.cancel_button
        self.import_button = self.buttons.accept_button
        layout.addLayout(self.buttons)
        self._update()

    def _add_row(self, row: int, link: ProposedLink) -> None:
        box = QCheckBox()
        box.setChecked(True)
        box.setAccessibleName(f"Link the review by {link.author} to {link.customer}")
        box.toggled.connect(self._update)
        holder = QWidget()
        line = QHBoxLayout(holder)
        line.setContentsMargins(10, 0, 4, 0)
        line.addWidget(box)
        self.table.setCellWidget(row, 0, holder)
        self.boxes.append(box)
        review = f"{_stars(link.rating)}  {link.excerpt}".strip()
        for column, text in enumerate(
                (link.author, link.customer, _MATCHED_BY.get(link.by, link.by), review),
                start=1):
            cell = QTableWidgetItem(text)
            if link.by == "name" and column == 3:
                cell.setToolTip("Only the name matches: make sure it is the same person.")
            self.table.setItem(row, column, cell)

    def confirmed(self) -> dict[int, int]:
        """Line -> customer id of the ticked links."""
        return {link.line: link.customer_id
                for link, box in zip(self.preview.proposed, self.boxes, strict=True)
                if box.isChecked()}

    def box_for(self, author: str) -> QCheckBox:
        """The tick of the first proposed link by `author` (tests and accessibility)."""
        index = next(i for i, link in enumerate(self.preview.proposed) if link.author == author)
        return self.boxes[index]

    def _update(self) -> None:
        kept = len(self.confirmed())
        total = self.preview.created
        self.summary.setText(
            f"{_plural(kept, 'review')} will be linked, {total - kept} imported without a "
            "customer.")
        self.import_button.setText(f"Import {_plural(total, 'review')}")
