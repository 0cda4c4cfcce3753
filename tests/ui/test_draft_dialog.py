"""Greeting drafts in the GUI: from a Today row to the customer's history, URLs handed to the
mail and SMS apps (captured with QDesktopServices.setUrlHandler), clipboard, batch window."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication

from crmcompanion.core.customer import (
    Channel,
    CustomerDraft,
    EmailAddress,
    PhoneNumber,
    SpecialDate,
    SpecialDateKind,
)
from crmcompanion.core.message_urls import MAILTO_SAFE_LENGTH, parse_mailto
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.settings import BUSINESS_NAME, OWNER_NAME
from crmcompanion.services.today_support import AgendaSection
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.draft_dialog import BatchDraftWindow, DraftDialog
from tests.ui.helpers import UrlCatcher, click_row_part

# Clock-sensitive: greetings and their dates from the app's clock.
pytestmark = pytest.mark.clock_sensitive

# The UI clock is 2026-03-01 09:30.


@pytest.fixture
def catcher():
    caught = UrlCatcher()
    for scheme in ("mailto", "sms"):
        QDesktopServices.setUrlHandler(scheme, caught, "open")
    yield caught
    for scheme in ("mailto", "sms"):
        QDesktopServices.unsetUrlHandler(scheme)


@pytest.fixture
def ada(services):
    services.settings.update({BUSINESS_NAME.key: "Bloom & Co", OWNER_NAME.key: "Sam"})
    return services.customers.create(CustomerDraft(
        first_name="Ada", last_name="Lovelace",
        emails=(EmailAddress("ada+shop@example.com"),),
        phones=(PhoneNumber("+4915112345678", "mobile"),),
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 3, 1, 1986),),
        customer_since=date(2025, 12, 1),
    )).customer


def open_dialog(qtbot, services, customer_id, occasion=Occasion.BIRTHDAY) -> DraftDialog:
    dialog = DraftDialog(services, AppState(), customer_id, occasion)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def click(qtbot, button) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_birthday_from_today_row_is_edited_sent_and_in_history(qtbot, services, ada,
                                                               make_window):
    window = make_window()
    row = window.today.row_for(ada.id, AgendaSection.TODAY)
    assert row is not None and row.touchpoint.occasion is Occasion.BIRTHDAY
    click_row_part(qtbot, window.today, ada.id, "main")  # a birthday's main action: Draft
    dialog = window.greetings.dialog
    assert isinstance(dialog, DraftDialog)
    qtbot.waitExposed(dialog)
    editor = dialog.editor
    assert editor.draft.occurrence_key == row.touchpoint.key
    # The message itself, filled in, like a mail composer: no template source to decode.
    assert "Hi Ada," in editor.body_edit.toPlainText()
    assert "$" not in editor.body_edit.toPlainText() + editor.subject_edit.text()
    # Edit: type a personal line at the end of the message.
    editor.body_edit.setFocus()
    editor.body_edit.moveCursor(editor.body_edit.textCursor().MoveOperation.End)
    qtbot.keyClick(editor.body_edit, Qt.Key.Key_Return)
    qtbot.keyClicks(editor.body_edit, "PS: 40 suits you, Ada!")
    assert editor.message_text().endswith("PS: 40 suits you, Ada!")
    editor.channel_combo.setCurrentIndex(editor.channel_combo.findData(Channel.EMAIL))
    click(qtbot, editor.sent_button)
    qtbot.waitUntil(lambda: not dialog.isVisible())

    entry = services.interactions.history(ada.id)[0]
    assert entry.channel is Channel.EMAIL
    assert entry.summary.startswith("Happy birthday, Ada!\n\nHi Ada,")
    assert entry.summary.endswith("PS: 40 suits you, Ada!")
    assert entry.occurrence_key == row.touchpoint.key
    # The touchpoint is done: gone from Today and from the customer's list.
    assert all(t.key != row.touchpoint.key for t in services.touchpoints.for_customer(ada.id))
    qtbot.waitUntil(lambda: all(r.touchpoint.key != row.touchpoint.key
                                for r in window.today.rows()))


def test_open_in_mail_app_hands_over_a_mailto_that_parses_back(qtbot, services, ada, catcher):
    dialog = open_dialog(qtbot, services, ada.id)
    editor = dialog.editor
    editor.subject_edit.setText("Hi Ada & co? 100% #1")
    assert editor.body_edit.toPlainText().endswith("Sam\nBloom & Co")  # the signature
    editor.body_edit.setPlainText("Line one + two\nLine three: a=b&c=d\nSam\nBloom & Co")
    click(qtbot, editor.mail_button)
    assert len(catcher.urls) == 1
    url = catcher.urls[0].toString(QUrl.ComponentFormattingOption.FullyEncoded)
    to, subject, body = parse_mailto(url)
    assert to == ["ada+shop@example.com"]
    assert subject == "Hi Ada & co? 100% #1"
    assert body == "Line one + two\nLine three: a=b&c=d\nSam\nBloom & Co"
    assert "%0D%0A" in url


def test_long_mail_is_copied_instead_with_a_note(qtbot, services, ada, catcher):
    dialog = open_dialog(qtbot, services, ada.id)
    editor = dialog.editor
    editor.body_edit.setPlainText("Dear Ada, " + "lovely day " * (MAILTO_SAFE_LENGTH // 10))
    click(qtbot, editor.mail_button)
    assert catcher.urls == []
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("Happy birthday, Ada!\n\nDear Ada, lovely day")
    assert editor.note_label.isVisible() and "too long" in editor.note_label.text()


def test_send_as_sms_uses_the_mobile_number(qtbot, services, ada, catcher):
    dialog = open_dialog(qtbot, services, ada.id)
    editor = dialog.editor
    editor.channel_combo.setCurrentIndex(editor.channel_combo.findData(Channel.SMS))
    assert not editor.mail_button.isVisible()
    editor.body_edit.setPlainText("Happy birthday Ada! 🎂 See you & yours")
    click(qtbot, editor.sms_button)
    url = catcher.urls[0].toString(QUrl.ComponentFormattingOption.FullyEncoded)
    assert url == ("sms:+4915112345678?body=Happy%20birthday%20Ada%21%20%F0%9F%8E%82%20"
                   "See%20you%20%26%20yours")
    click(qtbot, editor.sent_button)
    assert services.interactions.history(ada.id)[0].channel is Channel.SMS


def test_sms_needs_a_mobile_and_calls_only_copy(qtbot, services, catcher):
    bob = services.customers.create(CustomerDraft(
        first_name="Bob", phones=(PhoneNumber("+4930123456", "work"),))).customer
    dialog = open_dialog(qtbot, services, bob.id, Occasion.KEEP_IN_TOUCH)
    editor = dialog.editor
    editor.channel_combo.setCurrentIndex(editor.channel_combo.findData(Channel.SMS))
    assert editor.sms_button.isVisible() and not editor.sms_button.isEnabled()
    editor.channel_combo.setCurrentIndex(editor.channel_combo.findData(Channel.PHONE))
    assert not editor.sms_button.isVisible() and not editor.mail_button.isVisible()
    editor.subject_edit.setText("Call")
    editor.body_edit.setPlainText("Ask Bob about the new shop")
    click(qtbot, editor.copy_button)
    assert QGuiApplication.clipboard().text() == "Ask Bob about the new shop"
    assert catcher.urls == []
    click(qtbot, editor.sent_button)
    entry = services.interactions.history(bob.id)[0]
    assert (entry.channel, entry.summary) == (Channel.PHONE, "Call\n\nAsk Bob about the new shop")


def test_missing_values_are_highlighted_gaps_that_block_sending_until_filled(qtbot, services):
    noyear = services.customers.create(CustomerDraft(first_name="Nia")).customer
    dialog = open_dialog(qtbot, services, noyear.id)
    editor = dialog.editor
    editor.body_edit.setPlainText("Happy $age, Nia! Few of us make [age?] look this good.")
    # Typed text is the message: a "$" is a dollar sign, not a placeholder.
    assert not editor.problem_label.isVisible()
    assert editor.missing_placeholders() == ("age",)
    assert editor.missing_label.isVisible() and "[age?]" in editor.missing_label.text()
    assert not editor.sent_button.isEnabled()
    # The gap is painted in the message itself.
    block = editor.body_edit.document().firstBlock()
    start = block.text().index("[age?]")
    ranges = [(r.start, r.length) for r in block.layout().formats()
              if r.format.background().color().name() in ("#ffe7a3", "#6b4e00")]
    assert ranges == [(start, len("[age?]"))]
    # "Fill in the next gap" selects it whole; typing replaces it.
    click(qtbot, editor.next_gap_button)
    assert editor.body_edit.textCursor().selectedText() == "[age?]"
    qtbot.keyClicks(editor.body_edit, "40")
    assert editor.body_edit.toPlainText().endswith("make 40 look this good.")
    assert not editor.missing_label.isVisible() and editor.sent_button.isEnabled()


def test_choosing_another_template_refills_the_message(qtbot, services, ada):
    dialog = open_dialog(qtbot, services, ada.id)
    editor = dialog.editor
    index = editor.template_combo.findData("birthday-formal")
    editor.template_combo.setCurrentIndex(index)
    assert editor.subject_edit.text() == "Birthday wishes from Bloom & Co"
    assert editor.message_text().startswith("Subject: Birthday wishes from Bloom & Co")


def test_without_business_details_the_signature_is_a_gap_not_an_error(qtbot, services):
    bea = services.customers.create(CustomerDraft(first_name="Bea")).customer
    dialog = open_dialog(qtbot, services, bea.id, Occasion.KEEP_IN_TOUCH)
    editor = dialog.editor
    template = services.greetings.template(editor.template_combo.currentData())
    if "$signature" in template.body:
        assert "[signature?]" in editor.body_edit.toPlainText()
        assert "signature" in editor.missing_placeholders()
    assert not editor.problem_label.isVisible()
    assert "No value" not in editor.missing_label.text()


def test_draft_all_for_today_sends_one_by_one(qtbot, services, ada):
    services.customers.create(CustomerDraft(
        first_name="Bea", emails=(EmailAddress("bea@example.com"),),
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 3, 1, 1990),),
        customer_since=date(2026, 1, 1)))
    window = BatchDraftWindow(services, AppState())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    birthdays = [(d.customer_name, d.occasion) for d in window.drafts
                 if d.occasion is Occasion.BIRTHDAY]
    assert sorted(birthdays) == [("Ada Lovelace", Occasion.BIRTHDAY), ("Bea", Occasion.BIRTHDAY)]
    total = len(window.drafts)
    assert window.list.count() == total
    assert window.summary.text() == f"{total} greetings to send today"
    assert window.editor.draft == window.drafts[0]
    click(qtbot, window.editor.sent_button)
    assert window.list.currentRow() == 1
    assert window.list.item(0).text().startswith("✓ ")
    assert not window.editor.isEnabled() or window.editor.draft == window.drafts[1]
    assert window.summary.text() == f"{total - 1} left to send"
    for _ in range(total - 1):
        if window.editor.missing_placeholders():  # e.g. no $last_conversation yet
            assert not window.editor.sent_button.isEnabled()
            window.editor.body_edit.setPlainText("Thinking of you.")
        click(qtbot, window.editor.sent_button)
    assert window.summary.text() == "All sent. Well done!"
    for customer_id in {d.customer_id for d in window.drafts}:
        assert services.interactions.history(customer_id)[0].occasion is not None
    assert services.greetings.today_drafts() == []


def test_template_library_names_the_bad_part_then_saves(qtbot, services, ada):
    from crmcompanion.ui.template_library import TemplateLibraryDialog

    dialog = DraftDialog(services, AppState(), ada.id, Occasion.BIRTHDAY)
    qtbot.addWidget(dialog)
    library = dialog.editor.edit_templates()
    assert isinstance(library, TemplateLibraryDialog)
    assert library.occasion() is Occasion.BIRTHDAY
    click(qtbot, library.new_button)
    library.name_edit.setText("Cake")
    library.subject_edit.setText("Cake for $frist_name")
    library.body_edit.setPlainText("Enjoy, {first_name}!")
    click(qtbot, library.save_button)
    assert library.subject_error.isVisible()
    assert "“$frist_name”" in library.subject_error.text()
    assert "Write $first_name instead" in library.subject_error.text()
    assert "Line 1, column 10" in library.subject_error.text()
    library.subject_edit.setText("Cake for $first_name")
    click(qtbot, library.save_button)
    assert not library.subject_error.isVisible()
    body_error = library.body_error.text()
    assert "{first_name}" in body_error and "$first_name" in body_error
    library.body_edit.setPlainText("Enjoy, $first_name!")
    library.default_box.setChecked(True)
    click(qtbot, library.save_button)
    assert library.status.text() == "Saved “Cake”."
    stored = services.greetings.templates(Occasion.BIRTHDAY)[0]
    assert (stored.name, stored.subject, stored.is_default) == ("Cake", "Cake for $first_name",
                                                                True)
    library.done(0)
    titles = [dialog.editor.template_combo.itemText(i)
              for i in range(dialog.editor.template_combo.count())]
    assert titles[0] == "Cake  (Warm)"


def test_greetings_settings_page_fills_the_draft(qtbot, services, ada):
    from crmcompanion.core.settings import SIGNATURE
    from crmcompanion.ui.settings_dialog import SettingsDialog

    settings = SettingsDialog(services.settings, AppState())
    qtbot.addWidget(settings)
    page = settings.page("Greetings")
    page.editors[BUSINESS_NAME.key].setText("  Petal Shop ")
    page.editors[SIGNATURE.key].setText("Sam at Petal Shop")
    channel = page.editors["greetings.default_channel"]
    channel.setCurrentIndex(channel.findData("sms"))
    assert settings.save()
    assert services.settings.get(BUSINESS_NAME) == "Petal Shop"
    dialog = open_dialog(qtbot, services, ada.id)
    editor = dialog.editor
    assert editor.channel() is Channel.SMS
    assert editor.body_edit.toPlainText().endswith("Warm wishes,\nSam at Petal Shop")


def test_write_greeting_from_the_customer_page_opens_a_draft_for_them(qtbot, services, ada,
                                                                     make_window):
    window = make_window()
    window.open_customer(ada.id)
    activity = window.customers.detail.activity
    qtbot.waitUntil(lambda: activity.isVisible() and activity.customer_id == ada.id)
    click(qtbot, activity.draft_button)
    dialog = window.greetings.dialog
    assert isinstance(dialog, DraftDialog)
    qtbot.waitExposed(dialog)
    assert "Ada" in dialog.editor.body_edit.toPlainText()
    dialog.reject()
