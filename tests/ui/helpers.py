"""What a user does in the customer screens, as small steps shared by the UI tests."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot

from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.ui.customer_model import NAME
from crmcompanion.ui.main_window import CUSTOMERS


def open_new_customer(qtbot, window):
    window.show_section(CUSTOMERS)
    qtbot.mouseClick(window.customers.add_button, Qt.MouseButton.LeftButton)
    editor = window.customers.editor
    assert editor is not None
    qtbot.waitExposed(editor)
    return editor


def click_save(qtbot, editor):
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)


def save_shot(widget, tmp_path: Path, name: str) -> Path:
    """A screenshot of `widget` for a person to look at: under the test's own `tmp_path`
    (or $CRMCOMPANION_SHOTS when set), never a fixed /tmp folder that two runs or two users
    would share."""
    folder = Path(os.environ.get("CRMCOMPANION_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    assert widget.grab().save(str(target)), target
    return target


def shown_names(view) -> list[str]:
    model = view.model
    return [model.index(row, NAME).data() for row in range(model.rowCount())]


def column_texts(view, column: int) -> list[str]:
    model = view.model
    return [model.index(row, column).data() for row in range(model.rowCount())]


def click_header(qtbot, view, column: int) -> None:
    header = view.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(
        header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2)
    )


def add_customer(services, first: str, last: str = "", company: str = "", tags=(), email=""):
    draft = CustomerDraft(
        first_name=first,
        last_name=last,
        company=company,
        tags=tuple(tags),
        emails=(EmailAddress(email),) if email else (),
    )
    return services.customers.create(draft).customer


class UrlCatcher(QObject):
    """A QDesktopServices URL handler that keeps the URLs instead of starting a program."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(QUrl(url))
