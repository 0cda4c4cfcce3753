"""The Ideas board's buttons (issue: "Mark planned", "Mark done", "Decline" and "Merge" stood
greyed out with no word why): greyed out, each says what it waits for (an idea chosen, two for
Merge) or why not (an idea already done); ready, it has no such tooltip, and Merge says what
it does."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from crmcompanion.ui.ideas_board import CHOOSE_ONE_TIP, CHOOSE_TWO_TIP, MERGE_TIP
from tests.ui.test_feedback_ui import _customer, _open_page


def _click_row(qtbot, board, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    table = board.table
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, modifier,
                     QPoint(rect.center().x(), rect.center().y()))


def test_idea_buttons_say_why_they_are_greyed_out(qtbot, services, make_window) -> None:
    anna = _customer(services, "Anna", "Weber")
    services.feedback.add(anna, "idea", "Open on Sundays")
    shipped = services.feedback.add(anna, "idea", "Gift cards").item.id
    services.feedback.move(shipped, "done")
    page = _open_page(qtbot, make_window())
    page.tabs.setCurrentWidget(page.ideas)
    board = page.ideas
    qtbot.waitUntil(lambda: board.ready and board.table.rowCount() == 2)
    moves = (board.planned_button, board.done_button, board.decline_button)
    for button in moves:
        assert not button.isEnabled() and button.toolTip() == CHOOSE_ONE_TIP
    assert board.merge_button.toolTip() == CHOOSE_TWO_TIP

    done_row = next(r for r in range(2) if board.table.item(r, 0).text() == "Gift cards")
    _click_row(qtbot, board, done_row)
    for button in moves:
        if not button.isEnabled():
            assert button.toolTip() == "Not for an idea that is done", button.text()
    assert not board.done_button.isEnabled()

    _click_row(qtbot, board, 1 - done_row)  # the open idea: it can move on
    assert board.done_button.isEnabled() and board.done_button.toolTip() == ""
    _click_row(qtbot, board, done_row, Qt.KeyboardModifier.ControlModifier)
    assert board.merge_button.isEnabled() and board.merge_button.toolTip() == MERGE_TIP
