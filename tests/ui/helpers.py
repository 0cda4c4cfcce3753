"""What a user does in the customer screens, as small steps shared by the UI tests."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import event

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


def open_editor(qtbot, window, customer_id: int):
    """The customer's editor, opened as a user does: the profile's Edit button."""
    view = window.customers
    window.show_section(CUSTOMERS)
    view.open_customer(customer_id)
    qtbot.mouseClick(view.detail.edit_button, Qt.MouseButton.LeftButton)
    editor = view.editor
    assert editor is not None
    qtbot.waitExposed(editor)
    return editor


def open_greeting(qtbot, window, customer_id: int):
    """The greeting draft dialog, opened as a user does: the profile's "Write greeting…"."""
    window.open_customer(customer_id)
    activity = window.customers.detail.activity
    qtbot.waitUntil(activity.draft_button.isEnabled)
    qtbot.mouseClick(activity.draft_button, Qt.MouseButton.LeftButton)
    dialog = window.greetings.dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def click_save(qtbot, editor):
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)


def painted_pixels(table) -> int:
    """Pixels of a list's viewport that differ from its background (its top-left corner,
    which no row or text reaches): how much an empty list's sentence covers."""
    image = table.viewport().grab().toImage()
    background = image.pixel(1, 1)
    return sum(1 for y in range(0, image.height(), 2) for x in range(0, image.width(), 2)
               if image.pixel(x, y) != background)


def save_shot(widget, tmp_path: Path, name: str) -> Path:
    """A screenshot of `widget` for a person to look at: under the test's own `tmp_path`
    (or $CRMCOMPANION_SHOTS when set), never a fixed /tmp folder that two runs or two users
    would share."""
    folder = Path(os.environ.get("CRMCOMPANION_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    assert widget.grab().save(str(target)), target
    return target


def shown_at(qtbot, widget, width: int, height: int):
    """`widget` shown at width x height and laid out, for a test to read what it shows."""
    from PySide6.QtWidgets import QApplication

    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    QApplication.processEvents()
    return widget


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


def answer_message_boxes(monkeypatch, answer=QMessageBox.StandardButton.Yes,
                         on_box=None) -> list[str]:
    """The app's real message boxes, answered with `answer` (or their default button) instead
    of waiting for a click; returns the texts they showed (`on_box(box)` sees each first).
    Every one must be plain text: a user's name in it is never markup."""
    shown: list[str] = []

    def exec_(box: QMessageBox) -> int:
        assert box.textFormat() == Qt.TextFormat.PlainText, box.text()
        shown.append(box.text())
        if on_box is not None:
            on_box(box)
        button = box.button(answer) or box.defaultButton() or box.buttons()[0]
        button.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return shown


@contextmanager
def counted_statements(services):
    """The SQL statements run inside the block, on both of the database's engines."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engines = {id(e): e for e in (services.db.read_engine, services.db.write_engine)}
    for engine in engines.values():
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines.values():
            event.remove(engine, "before_cursor_execute", count)


def history_shown(activity) -> list[str]:
    """The lines of the timeline a profile shows, as the user reads them, top to bottom: for
    each entry its heading, then its text's lines (painted with QPainter.drawText, which never
    interprets markup; zero-width break opportunities taken out)."""
    from crmcompanion.ui.timeline import heading

    model = activity.timeline.model
    lines: list[str] = []
    for entry in model.entries:
        lines.append(heading(entry, model.titles))
        lines += entry.text.replace("\u200b", "").splitlines()
    return lines


def click_row_part(qtbot, today, customer_id: int, part: str = "main") -> None:
    """Click a painted part of a customer's Today row ("main", "menu", "link0"...), as the
    user does: scrolled into view, then a click on that spot of the list."""
    from PySide6.QtWidgets import QApplication

    row = today.row_index(customer_id)
    assert row >= 0, f"customer {customer_id} has no row on Today"
    lst = today.list
    lst.scrollTo(lst.model().index(row, 0))
    QApplication.processEvents()
    rect = lst.part_rect(row, part)
    assert rect is not None and lst.viewport().rect().contains(rect), (part, rect)
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
