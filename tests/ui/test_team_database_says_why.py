"""The "Team database" window before anything is typed (issue: the Database field's grey
placeholder "crm" read as filled in, while "Test connection" and "Prepare database" stayed
greyed out without a word why): the examples read as examples ("e.g. crm"), each greyed-out
button says what it waits for, and once the server and database are typed, what it does."""

from __future__ import annotations

from crmcompanion.ui.team_database import (
    MIGRATE_TIP,
    NEEDS_SERVER_TIP,
    TEST_TIP,
    TeamDatabaseDialog,
)


def test_greyed_out_buttons_say_what_they_wait_for(qtbot) -> None:
    dialog = TeamDatabaseDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.database.text() == "" and dialog.database.placeholderText() == "e.g. crm"
    assert dialog.host.placeholderText().startswith("e.g. ")
    for button in (dialog.test_button, dialog.migrate_button):
        assert not button.isEnabled()
        assert button.toolTip() == NEEDS_SERVER_TIP
    qtbot.keyClicks(dialog.host, "db.example.com")
    assert dialog.test_button.toolTip() == NEEDS_SERVER_TIP  # the database still missing
    qtbot.keyClicks(dialog.database, "crm")
    assert dialog.test_button.isEnabled() and dialog.test_button.toolTip() == TEST_TIP
    assert dialog.migrate_button.isEnabled() and dialog.migrate_button.toolTip() == MIGRATE_TIP
