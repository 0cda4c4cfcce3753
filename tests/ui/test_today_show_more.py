"""Today's rows cost what they must: 'Show N more' adds the group's other rows after those
shown (the rows already on the page stay the same widgets, and nothing is read again from the
database), and a row's Snooze menu is only built when it is first opened."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMenu, QPushButton
from shiboken6 import isValid

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.core.touchpoints import Section
from crmcompanion.ui.today_view import SHOWN_PER_GROUP
from tests.ui.helpers import counted_statements

COUNT = 20


def test_show_more_appends_rows_and_keeps_the_ones_shown(qtbot, services, make_window):
    today = services.clock.today()
    for n in range(COUNT):
        services.customers.create(CustomerDraft(
            first_name=f"Person{n:02d}", last_name="Birthday",
            special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, today.month, today.day,
                                       1960 + n),),
        ))
    # And one wedding anniversary after the birthdays, so the rows go in the middle.
    services.customers.create(CustomerDraft(
        first_name="Wed", last_name="Ding",
        special_dates=(SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, today.month,
                                   today.day, 2000),),
    ))
    window = make_window()
    block = window.today.sections[Section.TODAY]
    before = list(block.rows)
    assert len(before) == SHOWN_PER_GROUP + 1
    buttons = [block.body.itemAt(i).widget() for i in range(block.body.count())]
    more = next(b for b in buttons if isinstance(b, QPushButton)
                and b.text() == f"Show {COUNT - SHOWN_PER_GROUP} more")

    with counted_statements(services) as statements:
        qtbot.mouseClick(more, Qt.MouseButton.LeftButton)
    assert statements == []  # the rows come from the data already read

    after = block.rows
    assert len(after) == COUNT + 1
    # The rows shown before are the very same widgets, still alive, in the same places.
    assert after[:SHOWN_PER_GROUP] == before[:SHOWN_PER_GROUP]
    assert after[-1] is before[-1]
    assert all(isValid(row) and row.isVisible() for row in after)
    names = [row.name.text() for row in after]
    assert names == [f"Person{n:02d} Birthday" for n in range(COUNT)] + ["Wed Ding"]
    # On the page in that order too, and the button is gone.
    widgets = [block.body.itemAt(i).widget() for i in range(block.body.count())]
    assert [w for w in widgets if w in after] == after
    qtbot.waitUntil(lambda: not isValid(more))
    # Later refreshes keep the group open.
    window.today.refresh()
    assert len(block.rows) == COUNT + 1


def test_a_rows_snooze_menu_is_built_when_first_pressed(qtbot, services, make_window):
    today = services.clock.today()
    for n in range(3):
        services.customers.create(CustomerDraft(
            first_name=f"Snoozy{n}", last_name="Birthday",
            special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, today.month, today.day,
                                       1980 + n),),
        ))
    window = make_window()
    rows = window.today.rows(Section.TODAY)
    assert len(rows) == 3
    # No row holds a menu before it is wanted (hundreds of rows, hundreds of menus).
    assert all(row.findChildren(QMenu) == [] for row in rows)
    row = rows[0]
    seen: list[list[str]] = []

    def choose_tomorrow() -> None:
        menu = QApplication.activePopupWidget()
        seen.append([action.text() for action in menu.actions() if action.text()])
        menu.actions()[0].trigger()
        menu.close()

    QTimer.singleShot(100, choose_tomorrow)
    qtbot.mouseClick(row.snooze_button, Qt.MouseButton.LeftButton)  # opens the menu
    qtbot.waitUntil(lambda: bool(seen))
    assert seen == [["Tomorrow", "Next week", "Pick a date…"]]
    qtbot.waitUntil(lambda: len(window.today.rows(Section.TODAY)) == 2)
    qtbot.wait(200)
    assert QApplication.activePopupWidget() is None  # opened once, not twice
    names = [r.name.text() for r in window.today.rows(Section.TODAY)]
    assert "Snoozy0 Birthday" not in names
