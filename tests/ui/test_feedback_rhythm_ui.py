"""The ask-for-feedback rhythm per tag (issue 15) through the user's path: the owner sets
"Ask for feedback every 6 months" for a tag in Settings with the widgets, the tagged
customer's ask appears on Today, and its main action drafts the request, leaves the
follow-up for the answer and takes the row off (the next ask six months on)."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.occasions import Occasion
from crmcompanion.services.today_support import AgendaSection
from crmcompanion.ui.draft_dialog import DraftDialog
from crmcompanion.ui.settings_dialog import TagRhythmSection
from tests.ui.helpers import click_row_part, save_shot
from tests.ui.test_today_ui import click, menu_action

TODAY = date(2026, 3, 1)  # tests/ui/conftest.py NOW
TAG = "Key account"


def _tagged(services, first: str, since: date) -> int:
    cid = services.customers.create(CustomerDraft(
        first_name=first, last_name="Weber", tags=(TAG,), customer_since=since)).customer.id
    # Talked to yesterday: keep-in-touch is not due, so the ask leads the row.
    services.interactions.log(cid, "Chatted about the spring order", "phone",
                              datetime(2026, 2, 28, 10, 0).astimezone())
    return cid


def _next_ask(services, cid: int) -> list[date]:
    return [t.date for t in services.touchpoints.for_customer(cid, 400)
            if t.occasion is Occasion.ASK_FEEDBACK]


def test_rhythm_set_in_settings_puts_the_ask_on_today_and_asking_clears_it(
        qtbot, services, make_window, tmp_path) -> None:
    anna = _tagged(services, "Anna", date(2025, 9, 1))  # six months ago today
    ben = _tagged(services, "Ben", date(2025, 9, 4))  # six months on Wednesday
    window = make_window()
    assert window.today.row_for(anna) is None

    dialog = window.open_settings()
    qtbot.waitExposed(dialog)
    page = dialog.show_page("Keep in touch")
    section = next(s for s in page.sections if isinstance(s, TagRhythmSection))
    spin = section.feedback_spins[TAG]
    assert spin.text() == "Never"
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "6")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Tab)
    assert spin.value() == 6 and spin.text() == "6 months"
    save_shot(dialog, tmp_path, "settings-ask-for-feedback.png")
    click(qtbot, dialog.save_button)
    assert services.touchpoints.tag_feedback_rhythms() == {TAG: 6}

    today = window.today
    qtbot.waitUntil(lambda: today.row_for(anna) is not None)
    row = today.row_for(anna)
    assert row.touchpoint.occasion is Occasion.ASK_FEEDBACK
    assert row.section is AgendaSection.TODAY
    assert "every 6 months" in row.reason
    later = today.row_for(ben)
    assert later is not None and later.section is AgendaSection.NEXT_7_DAYS
    QApplication.processEvents()
    save_shot(window, tmp_path, "today-ask-for-feedback.png")

    entry = today.entry_for(anna)
    assert today.list.delegate.main_text(entry) == "Ask"
    messages: list[str] = []
    today.message.connect(messages.append)
    click_row_part(qtbot, today, anna, "main")
    draft = today.dialog
    assert isinstance(draft, DraftDialog)
    qtbot.waitExposed(draft)
    assert "how things are going" in draft.editor.draft.body
    assert messages and "answer" in messages[-1]
    draft.reject()

    qtbot.waitUntil(lambda: today.row_for(anna) is None
                    or today.row_for(anna).touchpoint.occasion is not Occasion.ASK_FEEDBACK)
    assert _next_ask(services, anna) == [date(2026, 9, 1)]
    # Ben's ask is still coming; skipping it restarts his rhythm from today.
    menu_action(qtbot, today, ben, "Skip").trigger()
    skip = today.dialog
    qtbot.keyClicks(skip.reason, "Saw him at the fair")
    click(qtbot, skip.skip_button)
    assert _next_ask(services, ben) == [date(2026, 9, 1)]
