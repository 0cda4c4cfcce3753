"""Markup in every user field is shown as the characters typed, never rendered, on every
screen that shows it: customer list, profile, Today, draft dialog, Draft all, template
library, delete confirmation, merge dialog and the editor's error messages."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from crmcompanion.ui.customer_model import COMPANY as COMPANY_COLUMN
from crmcompanion.ui.customer_model import NAME
from crmcompanion.ui.customer_model import TAGS as TAGS_COLUMN
from crmcompanion.ui.main_window import CUSTOMERS
from tests.ui.helpers import answer_message_boxes, click_row_part, click_save, history_shown
from tests.ui.hostile import (
    COMPANY,
    FIRST,
    LAST,
    MARKERS,
    NOTES,
    TAG,
    TEMPLATE_NAME,
    add_hostile_template,
    hostile_draft,
    plain_texts,
    rendered_markup,
)

NAME_SHOWN = f"{FIRST} {LAST}"


def test_markup_in_every_field_is_shown_literally_everywhere(qtbot, services, make_window,
                                                             monkeypatch):
    today = services.clock.today()
    customer = services.customers.create(hostile_draft(today)).customer
    twin = services.customers.create(hostile_draft(today)).customer  # for the merge dialog
    services.interactions.log(customer.id, f"Said {FIRST} & {NOTES}")
    add_hostile_template(services)
    window = make_window()

    # Today: the birthday row (name label and its tooltip).
    rows = [row for row in window.today.rows() if row.touchpoint.customer_id == customer.id]
    assert rows, "the hostile birthday is on Today"
    assert rendered_markup(window) == []
    # The rows are painted with QPainter.drawText, which never interprets markup.
    assert rows[0].touchpoint.customer == customer.display_name

    # Draft greeting from that row: the heading names the customer, the template is ours.
    click_row_part(qtbot, window.today, customer.id, "main")
    dialog = window.greetings.dialog
    qtbot.waitExposed(dialog)
    assert rendered_markup(dialog) == []
    assert NAME_SHOWN in dialog.editor.heading.text()
    assert dialog.editor.heading.textFormat() == Qt.TextFormat.PlainText
    assert TEMPLATE_NAME in dialog.editor.template_combo.currentText()
    assert '<img src="file:///etc/hostname">Hello' in dialog.editor.body_edit.toPlainText()
    # The template library (from the draft dialog).
    qtbot.mouseClick(dialog.editor.templates_button, Qt.MouseButton.LeftButton)
    library = dialog.editor.library
    assert rendered_markup(library) == []
    library.reject()
    dialog.reject()

    # Draft all for today.
    qtbot.mouseClick(window.greetings.batch_button, Qt.MouseButton.LeftButton)
    batch = window.greetings.dialog
    qtbot.waitExposed(batch)
    assert rendered_markup(batch) == []
    assert NAME_SHOWN in batch.list.item(0).text()
    assert NAME_SHOWN in batch.editor.heading.text()
    batch.accept()

    # The customer list and the profile.
    window.show_section(CUSTOMERS)
    view = window.customers
    names = [view.model.index(r, NAME).data() for r in range(view.model.rowCount())]
    assert names.count(NAME_SHOWN) == 2
    # The cells' tooltips too (Qt renders a tooltip that looks like HTML).
    for column in (NAME, COMPANY_COLUMN, TAGS_COLUMN):
        tip = view.model.index(0, column).data(Qt.ItemDataRole.ToolTipRole)
        assert tip.startswith("<p>&lt;") and not any(m in tip for m in MARKERS), tip
    view.open_customer(customer.id)
    assert rendered_markup(window) == []
    shown = plain_texts(view.detail)
    for text in (NAME_SHOWN, COMPANY, NOTES, TAG):
        assert text in shown
    # The timeline is painted with QPainter.drawText: the text as it was typed.
    assert history_shown(view.detail.activity)[-1] == f"Said {FIRST} & {NOTES}"

    # The delete confirmation: a real message box, plain text, saying the name as typed.
    asked = answer_message_boxes(monkeypatch, QMessageBox.StandardButton.No)
    qtbot.mouseClick(view.detail.delete_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and NAME_SHOWN in asked[0]
    assert services.customers.total() == 2  # said No

    # The editor: its heading, and an error message quoting what was typed.
    qtbot.mouseClick(view.detail.edit_button, Qt.MouseButton.LeftButton)
    editor = view.editor
    qtbot.keyClicks(editor.emails.rows[0].value, "<b>Bold</b>@example.com")
    click_save(qtbot, editor)
    assert editor.emails.rows[0].error.isVisible()
    assert "<b>Bold</b>@example.com" in editor.emails.rows[0].error.text()
    assert rendered_markup(editor) == []
    editor.reject()

    # The merge dialog: the two identical customers.
    merge = view.find_duplicates()
    qtbot.waitExposed(merge)
    assert merge.groups, "the twins are found as duplicates"
    assert rendered_markup(merge) == []
    assert NAME_SHOWN in merge.pair_label.text()
    assert {customer.id, twin.id} == {c.id for c in merge.groups[0].customers}
    merge.reject()
