"""What the owner sees on the Feedback screens, read off real widgets: the chosen feedback
type looks chosen (light and dark), the "Add to theme" buttons show whole inside the Log
conversation dialog, and the Complaints tab says what to do before a complaint is chosen
(not a disabled form with its date on 1 January 2000)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QWidget

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.feedback import FeedbackType
from crmcompanion.ui.feedback_chips import fair_shares
from crmcompanion.ui.feedback_dialog import FeedbackDialog
from crmcompanion.ui.main_window import FEEDBACK
from crmcompanion.ui.style import DARK, LIGHT, apply_look
from tests.ui.helpers import save_shot
from tests.ui.test_feedback_similar_lookup import open_log_dialog


def _customer(services, first: str, last: str) -> int:
    return services.customers.create(
        CustomerDraft(first_name=first, last_name=last)).customer.id


def _background(button) -> QColor:
    # A point inside the button's border, left of its centred text.
    image = button.grab().toImage()
    return QColor(image.pixel(5, image.height() // 2))


def _distance(one: QColor, other: QColor) -> int:
    return (abs(one.red() - other.red()) + abs(one.green() - other.green())
            + abs(one.blue() - other.blue()))


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=["light", "dark"])
def test_the_chosen_feedback_type_looks_chosen(qtbot, qapp, services, theme, tmp_path):
    apply_look(qapp, theme.name)
    try:
        dialog = FeedbackDialog(services)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        chips = dialog.type_buttons
        qtbot.mouseClick(chips[FeedbackType.COMPLAINT], Qt.MouseButton.LeftButton)
        qtbot.mouseMove(dialog.text)  # no hover colour on the chips
        assert chips[FeedbackType.COMPLAINT].isChecked()
        chosen = _background(chips[FeedbackType.COMPLAINT])
        others = [_background(chips[kind]) for kind in (FeedbackType.PRAISE, FeedbackType.IDEA)]
        save_shot(dialog, tmp_path, f"chips-{theme.name}.png")
        # The chosen chip wears the theme's accent; the others do not.
        assert _distance(chosen, QColor(theme.accent)) < 40, chosen.name()
        assert all(_distance(other, chosen) > 120 for other in others), [
            c.name() for c in others]
    finally:
        apply_look(qapp, "light")


def test_fair_shares_keep_narrow_buttons_whole():
    assert fair_shares([150, 120, 200], 500) == [150, 120, 200]
    assert fair_shares([150, 120, 200], 420) == [150, 120, 150]
    assert fair_shares([300, 300, 50], 400) == [175, 175, 50]


def test_theme_suggestions_show_whole_in_the_log_conversation_dialog(qtbot, services,
                                                                      tmp_path):
    for first, text, theme in (
            ("Bob", "My parcel arrived two weeks late", "Delivery and parcel tracking"),
            ("Cleo", "The parcel was left in the rain", "Packaging that survives the weather"),
            ("Dan", "Nobody told me the parcel was late", "Keeping customers informed")):
        services.feedback.add(_customer(services, first, "Stone"), "complaint", text,
                              themes=[theme])
    anna = _customer(services, "Anna", "Weber")
    dialog = open_log_dialog(qtbot, services, anna, "Anna Weber")
    capture = dialog.capture
    qtbot.keyClicks(dialog.summary, "The parcel came late again")
    qtbot.mouseClick(capture.chips.buttons[FeedbackType.COMPLAINT], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(capture.suggestion_buttons) == 3, timeout=15000)
    buttons = capture.suggestion_buttons
    qtbot.waitUntil(lambda: all(b.isVisible() for b in buttons))
    save_shot(dialog, tmp_path, "log-theme-buttons.png")
    for button in buttons:
        # Its text fits it, and it stays inside the dialog.
        assert button.width() >= button.sizeHint().width(), button.text()
        right = button.mapTo(dialog, button.rect().topRight()).x()
        assert right <= dialog.width(), (button.text(), right, dialog.width())
        assert button.text().startswith("Add to “")
        assert button.toolTip().startswith("Attach this complaint to the theme “")
    # The whole name is what a click adds, however short the button shows it.
    qtbot.mouseClick(buttons[0], Qt.MouseButton.LeftButton)
    theme = buttons[0].toolTip().removeprefix("Attach this complaint to the theme “")
    assert capture.themes.text() == theme.removesuffix("”")


def _readable(root: QWidget) -> list[str]:
    """The visible labels, and the sentence an empty list paints in itself."""
    from crmcompanion.ui.feedback_common import ListTable

    return [label.text() for label in root.findChildren(QLabel) if label.isVisible()] + [
        table.empty_text for table in root.findChildren(ListTable)
        if table.isVisible() and table.showing_empty_text()]


def test_the_complaints_tab_says_what_to_do_before_a_complaint_is_chosen(
        qtbot, services, make_window):
    window = make_window()
    window.show_section(FEEDBACK)
    page = window.feedback_page
    qtbot.waitUntil(lambda: page.ready)
    tab = page.complaints
    assert "No complaints to show" in _readable(tab)
    assert not tab.panel.isVisible()  # no disabled form, no date picker on 1 Jan 2000

    bob = _customer(services, "Bob", "Stone")
    item = services.feedback.add(bob, "complaint", "My parcel arrived two weeks late").item.id
    page.refresh()
    qtbot.waitUntil(lambda: page.ready and bool(tab.records))
    assert "Choose a complaint" in _readable(tab)
    assert not tab.panel.isVisible()

    table = tab.table
    rect = table.visualRect(table.model().index(0, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tab.selected_id() == item
    qtbot.waitUntil(tab.panel.isVisible)
    assert "Choose a complaint" not in _readable(tab)
    assert tab.panel.title.text() == "Bob Stone: New"
    # No target date yet: the picker, off until ticked, offers today.
    assert tab.panel.target.date() == QDate(services.clock.today())


def test_the_page_subtitle_takes_two_lines_at_most_at_900_px(qtbot, make_window):
    window = make_window()
    window.resize(900, 600)
    window.show_section(FEEDBACK)
    page = window.feedback_page
    qtbot.waitUntil(lambda: page.ready)
    subtitle = page.header.subtitle
    qtbot.waitUntil(lambda: subtitle.width() < 400)  # beside the three buttons
    lines = subtitle.height() / subtitle.fontMetrics().lineSpacing()
    assert subtitle.isVisible() and lines < 2.5, (subtitle.width(), subtitle.height())


def test_an_empty_ideas_board_says_what_fills_it(qtbot, services, make_window):
    window = make_window()
    window.show_section(FEEDBACK)
    page = window.feedback_page
    qtbot.waitUntil(lambda: page.ready)
    page.tabs.setCurrentWidget(page.ideas)
    assert any(text.startswith("No ideas yet") for text in _readable(page.ideas))

    services.feedback.add(_customer(services, "Bob", "Stone"), "idea", "Open on Sundays")
    page.refresh()
    qtbot.waitUntil(lambda: page.ready and len(page.ideas.cards) == 1)
    assert not any(text.startswith("No ideas yet") for text in _readable(page.ideas))
    assert page.ideas.table.item(0, 0).text() == "Open on Sundays"


def test_a_first_complaint_shows_no_empty_similar_list(qtbot, services):
    dialog = FeedbackDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(dialog.type_buttons[FeedbackType.COMPLAINT], Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.text, "The parcel came late")
    lookup = dialog.lookup
    qtbot.waitUntil(lambda: lookup.shown_text == "The parcel came late", timeout=15000)
    assert dialog.similar_items == []
    assert not dialog.similar.isVisible() and not dialog.similar_label.isVisible()

    services.feedback.add(_customer(services, "Bob", "Stone"), "complaint",
                          "My parcel arrived two weeks late")
    qtbot.keyClicks(dialog.text, " again")
    qtbot.waitUntil(lambda: bool(dialog.similar_items), timeout=15000)
    assert dialog.similar.isVisible() and dialog.similar_label.isVisible()
    assert dialog.similar.item(0).text().startswith("Bob Stone: ")
