"""Very long unbroken text (a 200-character name, a 2,000-character URL in a note) wraps
anywhere it must: no dialog or panel grows beyond its screen, and the paragraphs after it
still wrap in the profile instead of running off to the right."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.ui.main_window import CUSTOMERS
from tests.ui.helpers import answer_message_boxes, click_row_part
from tests.ui.hostile import LONG_NAME, LONG_URL, hostile_draft

HEBREW = "שלום עליכם, זו פסקה בעברית שצריכה להישאר גלויה בתוך הפרופיל."


def screen_width(widget: QWidget) -> int:
    return widget.screen().availableGeometry().width()


def fits(widget: QWidget) -> None:
    limit = screen_width(widget)
    assert widget.width() <= limit, (type(widget).__name__, widget.width(), limit)
    assert widget.minimumSizeHint().width() <= limit, (
        type(widget).__name__, widget.minimumSizeHint().width(), limit)


def test_a_200_character_name_and_a_2000_character_url_stay_within_the_screen(
        qtbot, services, make_window, monkeypatch):
    today = services.clock.today()
    long_one = services.customers.create(hostile_draft(today, first=LONG_NAME, last="")).customer
    url = services.customers.create(CustomerDraft(
        first_name="Url", last_name="Note",
        notes=f"See {LONG_URL}\n{HEBREW}\nAnd a normal paragraph after it.")).customer
    window = make_window()

    # The greeting dialog for the long name (from its Today row).
    click_row_part(qtbot, window.today, long_one.id, "main")
    dialog = window.greetings.dialog
    qtbot.waitExposed(dialog)
    fits(dialog)
    heading = dialog.editor.heading
    assert heading.width() <= dialog.width()
    assert heading.height() > 2 * heading.fontMetrics().height()  # wrapped, not widened
    # A heading cuts a name that long (the whole name is in its tooltip).
    assert heading.text().replace("\u200b", "").endswith(LONG_NAME[:79] + "…")
    assert LONG_NAME in heading.toolTip().replace("\u200b", "")
    dialog.reject()

    # Draft all for today holds it too.
    qtbot.mouseClick(window.greetings.batch_button, Qt.MouseButton.LeftButton)
    batch = window.greetings.dialog
    qtbot.waitExposed(batch)
    fits(batch)
    batch.accept()

    # The profile with the long URL: the body is as wide as the panel, the note wraps and
    # the paragraphs after the URL are there, inside the visible width.
    window.show_section(CUSTOMERS)
    view = window.customers
    view.open_customer(url.id)
    qtbot.waitUntil(lambda: view.detail.isVisible())
    detail = view.detail
    body = detail._body
    viewport = body.parentWidget()
    assert body.minimumSizeHint().width() <= viewport.width()
    assert body.width() <= viewport.width()
    note = next(label for label in body.findChildren(QLabel) if HEBREW in label.text())
    assert note.width() <= viewport.width()
    assert note.heightForWidth(note.width()) > 10 * note.fontMetrics().height()  # wrapped
    # The panel keeps its width beside the list (it does not push the list away).
    assert detail.minimumSizeHint().width() <= 400

    # The profile, the editor and the delete confirmation of the long name; the profile
    # also in the window at its smallest, where the panel is narrowest.
    view.open_customer(long_one.id)
    assert body.minimumSizeHint().width() <= viewport.width()
    window.resize(window.minimumSize())
    qtbot.waitUntil(lambda: window.width() == window.minimumWidth())
    view.open_customer(long_one.id)
    assert body.minimumSizeHint().width() <= viewport.width(), (
        body.minimumSizeHint().width(), viewport.width())
    qtbot.mouseClick(detail.edit_button, Qt.MouseButton.LeftButton)
    editor = view.editor
    qtbot.waitExposed(editor)
    fits(editor)
    editor.reject()
    widths: list[int] = []

    def measure(box) -> None:
        box.show()  # a message box sizes itself (and wraps its text) when shown
        widths.append(box.width() - screen_width(box))

    answer_message_boxes(monkeypatch, on_box=measure)
    view.delete_customer(long_one.id)
    assert widths and max(widths) <= 0
