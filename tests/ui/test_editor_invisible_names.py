"""The editor refuses a name that shows nothing (issue 18): the message sits under the field
and nothing is saved; visible text saves as usual."""

from __future__ import annotations

from crmcompanion.core.validation import INVISIBLE_NAME
from tests.ui.helpers import click_save, open_new_customer


def test_a_first_name_of_zero_width_and_direction_marks_is_refused(qtbot, window, services):
    editor = open_new_customer(qtbot, window)
    editor.first_name.insert("\u200b\u200e\u202e")  # as pasted from another program
    click_save(qtbot, editor)

    assert services.customers.total() == 0
    assert window.customers.editor is editor and editor.isVisible()
    assert editor.error_labels["first_name"].isVisible()
    assert editor.error_labels["first_name"].text() == INVISIBLE_NAME
    assert editor.first_name.property("invalid") is True

    editor.first_name.clear()
    qtbot.keyClicks(editor.first_name, "Ingrid")
    click_save(qtbot, editor)
    assert [c.display_name for c in services.customers.search("ingrid")] == ["Ingrid"]
