"""A right-to-left override nobody closed (U+202E) in a name reverses only the name, never
the app's own words around it ("ceD 60 · yadhtriB" in Draft all before). Checked on the
laid-out text: the app's words must read left to right on screen."""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QTextDocument, QTextLayout
from PySide6.QtWidgets import QLabel, QMessageBox

from crmcompanion.core.customer import EmailAddress
from crmcompanion.ui.formatting import day_month
from crmcompanion.ui.main_window import CUSTOMERS
from tests.ui.helpers import answer_message_boxes
from tests.ui.hostile import RLO_NAME, hostile_draft


def reads_left_to_right(text: str, part: str) -> bool:
    """True if `part` of `text`, laid out as Qt lays out a label, runs left to right."""
    text = text.replace("\n", "\u2028")  # as an item view lays out a two-line item
    layout = QTextLayout(text, QFont())
    layout.beginLayout()
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(100_000)
    layout.endLayout()
    start = text.index(part)
    xs = []
    for index in range(start, start + len(part)):
        line = layout.lineForTextPosition(index)
        xs.append((line.lineNumber(), line.cursorToX(index)[0]))
    return all(a < b for a, b in pairwise(xs))


def test_the_layout_check_sees_a_reversal(qapp):
    assert reads_left_to_right("Alice\nBirthday · 06 Dec", "Birthday · 06 Dec")
    assert not reads_left_to_right(f"{RLO_NAME}\nBirthday · 06 Dec", "Birthday · 06 Dec")


def test_an_unterminated_override_in_a_name_does_not_reverse_the_app_text(
        qtbot, services, make_window, monkeypatch):
    today = services.clock.today()
    draft = hostile_draft(today, first=RLO_NAME, last="Ahmed")
    draft = type(draft)(**{**draft.__dict__, "emails": (EmailAddress("\u202esalam@ex.com"),),
                           "company": "\u202eShop", "tags": ()})
    customer = services.customers.create(draft).customer
    services.customers.create(draft)  # a twin, for the merge dialog
    window = make_window()

    qtbot.mouseClick(window.greetings.batch_button, Qt.MouseButton.LeftButton)
    batch = window.greetings.dialog
    qtbot.waitExposed(batch)
    item = batch.list.item(0).text()
    assert RLO_NAME in item
    assert reads_left_to_right(item, f"Birthday · {day_month(today)}")
    batch.accept()

    window.show_section(CUSTOMERS)
    view = window.customers
    view.open_customer(customer.id)
    # The email is a mailto: link: what the user reads is the link's text.
    label = next(label for label in view.detail._body.findChildren(QLabel)
                 if "salam@ex.com" in label.text())
    document = QTextDocument()
    document.setHtml(label.text())
    assert reads_left_to_right(document.toPlainText(), "(Home)")  # the label, as a word

    asked = answer_message_boxes(monkeypatch, QMessageBox.StandardButton.No)
    view.delete_customer(customer.id)
    assert reads_left_to_right(asked[0], "? You can undo this right afterwards.")

    merge = view.find_duplicates()
    qtbot.waitExposed(merge)
    pair = merge.pair_label.text()
    assert reads_left_to_right(pair, ") and merge ")
    assert reads_left_to_right(pair, ") into it.")
    merge.reject()
