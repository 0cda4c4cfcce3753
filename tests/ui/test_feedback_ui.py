"""The "Feedback & ideas" section through the user's path: log a complaint, plan it, resolve
it, take the customer's answer to the check-back, and see each step; merge two ideas and see
both requesters; mark an idea done and see the touchpoints; import reviews and see them in
Themes."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Qt

from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.core.occasions import Occasion
from crmcompanion.ui.feedback_dialog import FeedbackDialog
from crmcompanion.ui.main_window import FEEDBACK
from tests.ui.helpers import save_shot

TODAY = date(2026, 3, 1)


def _customer(services, first: str, last: str) -> int:
    return services.customers.create(CustomerDraft(
        first_name=first, last_name=last,
        emails=(EmailAddress(f"{first.lower()}@example.com"),))).customer.id


def _open_page(qtbot, window):
    window.show_section(FEEDBACK)
    page = window.feedback_page
    qtbot.waitUntil(lambda: page.ready)
    return page


def _shot(widget, tmp_path: Path, name: str) -> None:
    if os.environ.get("CRMCOMPANION_SHOTS") is None:
        os.environ.setdefault("CRMCOMPANION_SHOTS", "/tmp/shots/voc")
    save_shot(widget, tmp_path, name)


def _click(qtbot, button) -> None:
    # A button added to a shown layout is shown by the next event-loop turn.
    qtbot.waitUntil(button.isVisible)
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_complaint_is_logged_planned_resolved_and_closed_with_the_customer(
        qtbot, services, make_window, tmp_path):
    anna = _customer(services, "Anna", "Weber")
    bob = _customer(services, "Bob", "Stone")
    services.feedback.add(bob, "complaint", "My parcel arrived two weeks late",
                          themes=["Delivery"])
    window = make_window()
    page = _open_page(qtbot, window)

    _click(qtbot, page.add_button)
    dialog = page.dialog
    assert isinstance(dialog, FeedbackDialog)
    qtbot.keyClicks(dialog.customer, "Anna Weber")
    _click(qtbot, dialog.type_buttons[dialog.kind().COMPLAINT])
    qtbot.keyClicks(dialog.text, "The parcel came late again")
    qtbot.waitUntil(lambda: bool(dialog.suggestion_buttons), timeout=10000)
    assert "Bob Stone" in dialog.similar.item(0).text()
    _shot(dialog, tmp_path, "complaint-dialog.png")
    _click(qtbot, dialog.suggestion_buttons[0])
    assert dialog.themes.text() == "Delivery"
    _click(qtbot, dialog.save_button)
    # Saved off the GUI thread; the dialog closes and the list shows the new complaint.
    qtbot.waitUntil(lambda: page.ready and len(page.complaints.records) == 2, timeout=10000)

    tab = page.complaints
    item_id = tab.selected_id()  # the saved complaint is shown
    assert item_id is not None
    panel = tab.panel
    assert panel.title.text() == "Anna Weber: New"
    assert [b.text() for b in panel.action_buttons.values()] == ["Acknowledge"]
    _click(qtbot, next(iter(panel.action_buttons.values())))
    qtbot.keyClicks(panel.goal, "Deliver by courier on Friday")
    panel.has_target.setChecked(True)
    panel.target.setDate(QDate(2026, 3, 6))
    plan = next(b for b in panel.action_buttons.values() if b.text() == "Agree a plan")
    _click(qtbot, plan)
    _click(qtbot, next(b for b in panel.action_buttons.values() if b.text() == "Start work"))
    qtbot.keyClicks(panel.note, "Courier booked")
    _click(qtbot, panel.note_button)
    _shot(page, tmp_path, "complaint-view.png")
    _click(qtbot, next(b for b in panel.action_buttons.values() if b.text() == "Resolve"))
    detail = services.feedback.get(item_id)
    assert detail.item.status == "resolved"
    assert (detail.item.goal, detail.item.target_date) == ("Deliver by courier on Friday",
                                                          date(2026, 3, 6))
    checkback = [t for t in services.touchpoints.due(days=14)
                 if t.occasion is Occasion.COMPLAINT_CHECKBACK and t.customer_id == anna]
    assert [t.date for t in checkback] == [TODAY + timedelta(days=14)]
    assert any("Check back" in panel.history.item(i).text()
               for i in range(panel.history.count()))

    _click(qtbot, next(b for b in panel.action_buttons.values()
                       if b.text() == "Customer is satisfied"))
    assert services.feedback.get(item_id).item.status == "satisfied"
    assert panel.action_buttons == {}
    assert not [t for t in services.touchpoints.due(days=30)
                if t.occasion is Occasion.COMPLAINT_CHECKBACK]
    shown = [panel.history.item(i).text() for i in range(panel.history.count())]
    for step in ("New", "Acknowledged", "Planned", "In progress", "Resolved", "Satisfied",
                 "Note: Courier booked"):
        assert any(step in line for line in shown), step
    titles = [e.title for e in services.feedback.timeline(anna)]
    for title in ("Complaint", "Complaint acknowledged", "Complaint planned",
                  "Complaint in progress", "Complaint resolved", "Complaint satisfied"):
        assert title in titles, title
    assert any("check-back: satisfied" in h.summary
               for h in services.interactions.history(anna))


def test_merge_two_ideas_then_mark_done(qtbot, services, make_window, tmp_path):
    anna, bob, cleo = (_customer(services, first, last) for first, last in
                       (("Anna", "Weber"), ("Bob", "Stone"), ("Cleo", "Hart")))
    first = services.feedback.add(anna, "idea", "Open on Sundays").item.id
    second = services.feedback.add(bob, "idea", "Sunday opening please").item.id
    services.feedback.add_requester(second, cleo)
    window = make_window()
    page = _open_page(qtbot, window)
    page.tabs.setCurrentWidget(page.ideas)
    board = page.ideas
    board.select(first, second)
    _click(qtbot, board.merge_button)
    qtbot.waitUntil(lambda: board.ready and len(board.cards) == 1)
    assert board.cards[0].item.id == first  # the older idea keeps its text
    row = board.table.item(0, 4).text()
    assert all(name in row for name in ("Anna Weber", "Bob Stone", "Cleo Hart"))
    board.select(first)
    _click(qtbot, board.done_button)
    assert "Anna Weber" in board.told.text() and "Cleo Hart" in board.told.text()
    qtbot.waitUntil(lambda: board.ready and board.cards[0].item.status == "done")
    _shot(page, tmp_path, "ideas-board.png")
    shipped = [t for t in services.touchpoints.due(days=0)
               if t.occasion is Occasion.IDEA_SHIPPED]
    assert {t.customer_id for t in shipped} == {anna, bob, cleo}


def test_imported_reviews_show_in_themes(qtbot, services, make_window, tmp_path):
    bob = _customer(services, "Bob", "Stone")
    services.feedback.add(bob, "complaint", "My parcel arrived two weeks late",
                          themes=["Delivery"])
    services.feedback.add(bob, "complaint", "Staff were rude", themes=["Staff"])
    path = tmp_path / "reviews.csv"
    path.write_text("Review date,Stars,Reviewer,Comment\n"
                    "2026-02-10,1,Jo Walker,The parcel arrived late\n"
                    "2026-02-11,2,Sam Lee,Parcel late and damaged\n", encoding="utf-8")
    window = make_window()
    page = _open_page(qtbot, window)
    page.tabs.setCurrentWidget(page.themes)
    page.import_reviews(str(path))
    themes = page.themes
    qtbot.waitUntil(lambda: bool(themes.ready and themes.summaries
                                 and themes.summaries[0].customers == 3), timeout=10000)
    assert themes.theme_names()[0] == "Delivery"
    assert themes.table.item(0, 1).text() == "3"
    assert themes.table.item(0, 2).text() == "3"  # open complaints: Bob's and two reviews
    assert len(themes.table.item(0, 4).text()) == 12
    _shot(page, tmp_path, "themes-view.png")


def test_ask_for_feedback_drafts_a_request_and_leaves_a_follow_up(qtbot, services, make_window,
                                                                   tmp_path):
    anna = _customer(services, "Anna", "Weber")
    window = make_window()
    page = _open_page(qtbot, window)
    dialog = page.ask_for_feedback("anna@example.com")
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert "how things are going" in dialog.editor.draft.body
    _shot(dialog, tmp_path, "ask-for-feedback.png")
    follow_ups = [t for t in services.touchpoints.for_customer(anna, days=30)
                  if t.occasion is Occasion.FOLLOW_UP]
    assert [t.date for t in follow_ups] == [TODAY + timedelta(days=7)]
    assert "answer" in window.statusBar().currentMessage()
    dialog.close()


def test_conversation_feedback_chips_record_the_chosen_type(qtbot, services):
    """The Log conversation dialog's "add feedback" row: no chip, no feedback; a chip
    records the conversation's text as that type, linked to its history entry."""
    from crmcompanion.core.feedback import FeedbackType
    from crmcompanion.ui.feedback_chips import FeedbackCapture

    anna = _customer(services, "Anna", "Weber")
    capture = FeedbackCapture(services.feedback, anna)
    qtbot.addWidget(capture)
    capture.show()
    logged = services.interactions.log(anna, "Says the parcel was late again")
    assert capture.save(anna, "Says the parcel was late again",
                        logged.interaction.id) is None
    assert not capture.themes.isEnabled()
    _click(qtbot, capture.chips.buttons[FeedbackType.COMPLAINT])
    _click(qtbot, capture.chips.buttons[FeedbackType.IDEA])  # one type at most
    _click(qtbot, capture.chips.buttons[FeedbackType.COMPLAINT])
    assert capture.chips.kind() is FeedbackType.COMPLAINT
    qtbot.keyClicks(capture.themes, "Delivery")
    saved = capture.save(anna, "Says the parcel was late again", logged.interaction.id)
    assert saved is not None and saved.item.kind is FeedbackType.COMPLAINT
    assert saved.item.themes == ("Delivery",) and saved.item.status == "new"
    _click(qtbot, capture.chips.buttons[FeedbackType.COMPLAINT])  # clicked off again
    assert capture.chips.kind() is None


def test_checkback_days_are_set_in_settings(qtbot, window, services):
    from crmcompanion.core.settings import CHECKBACK_DAYS

    dialog = window.open_settings()
    page = dialog.page("Feedback")
    spin = page.editors[CHECKBACK_DAYS.key]
    assert spin.value() == 14
    spin.setValue(90)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "1 to 60" in page.errors[CHECKBACK_DAYS.key].text()
    spin.setValue(3)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert services.feedback.checkback_days() == 3


def test_all_feedback_lists_every_type_with_words_for_people(qtbot, services, make_window,
                                                              tmp_path):
    anna = _customer(services, "Anna", "Weber")
    services.feedback.add(anna, "praise", "Lovely bread", source="visit")
    services.feedback.add(anna, "question", "Do you deliver on Sundays?", source="phone")
    window = make_window()
    page = _open_page(qtbot, window)
    page.tabs.setCurrentWidget(page.everything)
    table = page.everything.table
    rows = {table.item(r, 6).text(): [table.item(r, c).text() for c in range(6)]
            for r in range(table.rowCount())}
    assert rows["Lovely bread"][1:5] == ["Anna Weber", "Praise", "Visit", ""]
    assert rows["Do you deliver on Sundays?"][2] == "Question"
    assert not page.everything.reply_button.isEnabled()  # only public reviews get a reply
    page.everything.filter.setCurrentIndex(page.everything.filter.findData("praise"))
    qtbot.waitUntil(lambda: page.everything.ready and table.rowCount() == 1)
    _shot(page, tmp_path, "all-feedback.png")


def test_copy_a_reply_to_a_public_review(qtbot, services, make_window, tmp_path):
    from PySide6.QtGui import QGuiApplication

    path = tmp_path / "reviews.csv"
    path.write_text("rating,author,text\n5,Jo Walker,Lovely shop\n", encoding="utf-8")
    services.feedback.import_reviews(path)
    window = make_window()
    page = _open_page(qtbot, window)
    page.tabs.setCurrentWidget(page.everything)
    page.everything.table.selectRow(0)
    _click(qtbot, page.everything.reply_button)
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("Thank you for your review") and "Hi Jo," in copied
    assert "clipboard" in window.statusBar().currentMessage()
