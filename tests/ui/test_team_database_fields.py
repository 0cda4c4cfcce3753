"""The "Team database" window before a server is typed: "Test connection" and "Prepare
database" are greyed out (disabled, in the disabled look) until the Server and Database fields
are filled, and come back as soon as they are; clearing a field greys them out again. No server
is needed: nothing is clicked that would connect."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from crmcompanion.ui import style
from crmcompanion.ui.team_database import TeamDatabaseDialog
from tests.ui.helpers import save_shot


def _look(button: QPushButton) -> str:
    """What the user sees: the button's two commonest colours (its face and its text)."""
    picture = button.grab().toImage()
    colours: dict[str, int] = {}
    for x in range(picture.width()):
        for y in range(picture.height()):
            name = picture.pixelColor(x, y).name()
            colours[name] = colours.get(name, 0) + 1
    background = max(colours, key=colours.__getitem__)
    del colours[background]
    return max(colours, key=colours.__getitem__) + "/" + background


def test_actions_wait_for_the_server_and_the_database(qtbot, qapp, tmp_path: Path) -> None:
    style.apply_look(qapp, "light")
    dialog = TeamDatabaseDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    buttons = (dialog.test_button, dialog.migrate_button)
    assert not any(button.isEnabled() for button in buttons)
    empty_look = [_look(button) for button in buttons]
    save_shot(dialog, tmp_path, "team_database_empty.png")

    # A click on a greyed-out button starts nothing and says nothing.
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert dialog.task is None and dialog.status.text() == ""

    qtbot.keyClicks(dialog.host, "db.example.com")
    assert not any(button.isEnabled() for button in buttons)  # the database is still empty
    qtbot.keyClicks(dialog.database, "crm")
    assert all(button.isEnabled() for button in buttons)
    # Enabled, they look different from how they looked greyed out.
    assert [_look(button) for button in buttons] != empty_look
    save_shot(dialog, tmp_path, "team_database_filled.png")

    dialog.host.selectAll()
    qtbot.keyClick(dialog.host, Qt.Key.Key_Backspace)
    assert not any(button.isEnabled() for button in buttons)
    qtbot.keyClicks(dialog.host, "   ")  # blanks are not a server
    assert not any(button.isEnabled() for button in buttons)


def test_a_heading_and_the_fields_under_their_explanation_when_tall(qtbot, qapp) -> None:
    """Made taller (900x600), the window kept no heading and spread its rows down the
    height, the fields a third of the way down away from what they are for."""
    dialog = TeamDatabaseDialog()
    qtbot.addWidget(dialog)
    dialog.resize(900, 600)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.title.text() == "Team database" and dialog.title.isVisible()
    explained_to = dialog.explanation.geometry().bottom()
    host_top = dialog.host.mapTo(dialog, dialog.host.rect().topLeft()).y()
    assert host_top - explained_to < 2 * dialog.fontMetrics().lineSpacing()
