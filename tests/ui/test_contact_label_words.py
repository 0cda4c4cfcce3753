"""Email and phone labels read as words on screen ("Mobile", not the stored "mobile").

Found by an owner: the editor's label boxes, the profile's contact lines ("(mobile)") and
the greeting draft's line under its heading showed the stored lowercase values. The stored
values stay as they are (an unchanged customer saves back exactly what it had), and a label
the app does not offer (another language's, typed by the owner) is shown as stored.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel

from crmcompanion.core.customer import CustomerDraft, EmailAddress, PhoneNumber
from crmcompanion.ui.draft_dialog import DraftDialog
from tests.ui.helpers import (
    click_save,
    open_editor,
    open_greeting,
    open_new_customer,
    save_shot,
)

SHOTS = "/tmp/shots/tidy6"


def _customer(services, phone_label: str = "mobile"):
    return services.customers.create(CustomerDraft(
        first_name="Lucía", last_name="Ortega",
        emails=(EmailAddress("lucia@ortega.example", "home"),
                EmailAddress("lucia@taller.example", "work"),
                EmailAddress("lucia@otra.example", "casa")),
        phones=(PhoneNumber("+34916258477", phone_label),
                PhoneNumber("+34916258478", "Büro")),
    )).customer


def _contact_lines(window) -> list[str]:
    detail = window.customers.detail
    return [label.text() for label in detail.findChildren(QLabel, "contactLink")
            if label.isVisibleTo(detail) and label.text()]


def test_profile_lines_show_label_words(qtbot, services, window, monkeypatch) -> None:
    monkeypatch.setenv("CRMCOMPANION_SHOTS", SHOTS)
    lucia = _customer(services)
    window.resize(1366, 768)
    window.show()
    window.open_customer(lucia.id)
    lines = " ".join(_contact_lines(window))
    for word in ("(Home)", "(Work)", "(Mobile)"):
        assert word in lines, lines
    for stored in ("(home)", "(work)", "(mobile)"):
        assert stored not in lines, lines
    assert "(casa)" in lines and "(Büro)" in lines  # the owner's own labels, as stored
    save_shot(window, Path(SHOTS), "profile_contact_labels.png")


def test_editor_shows_words_and_stores_values(qtbot, services, window, monkeypatch) -> None:
    monkeypatch.setenv("CRMCOMPANION_SHOTS", SHOTS)
    lucia = _customer(services)
    editor = open_editor(qtbot, window, lucia.id)
    emails = [row.label.currentText() for row in editor.emails.rows]
    phones = [row.label.currentText() for row in editor.phones.rows]
    assert emails == ["Home", "Work", "casa"]
    assert phones == ["Mobile", "Büro"]
    offered = [editor.phones.rows[0].label.itemText(i)
               for i in range(editor.phones.rows[0].label.count())]
    assert offered == ["Mobile", "Home", "Work", "Other"]
    save_shot(editor, Path(SHOTS), "editor_contact_labels.png")
    # The owner picks "Work" for the second phone from the list; the rest is left alone.
    box = editor.phones.rows[1].label
    box.setCurrentIndex(box.findText("Work"))
    click_save(qtbot, editor)
    qtbot.waitUntil(lambda: window.customers.editor is None)
    stored = services.customers.get(lucia.id)
    assert [e.label for e in stored.emails] == ["home", "work", "casa"]
    assert [p.label for p in stored.phones] == ["mobile", "work"]


def test_a_new_customer_stores_the_offered_values(qtbot, services, window) -> None:
    editor = open_new_customer(qtbot, window)
    assert editor.phones.rows[0].label.currentText() == "Mobile"
    assert editor.emails.rows[0].label.currentText() == "Home"
    qtbot.keyClicks(editor.first_name, "Nadia")
    qtbot.keyClicks(editor.phones.rows[0].value, "+34 916 25 84 79")
    qtbot.keyClicks(editor.emails.rows[0].value, "nadia@example.es")
    click_save(qtbot, editor)
    qtbot.waitUntil(lambda: window.customers.editor is None)
    (stored,) = services.customers.search("Nadia")
    assert [p.label for p in stored.phones] == ["mobile"]
    assert [e.label for e in stored.emails] == ["home"]


def test_draft_line_says_mobile_as_a_word(qtbot, services, window, monkeypatch) -> None:
    monkeypatch.setenv("CRMCOMPANION_SHOTS", SHOTS)
    lucia = _customer(services)
    window.resize(1366, 768)
    dialog = open_greeting(qtbot, window, lucia.id)
    assert isinstance(dialog, DraftDialog)
    line = dialog.editor.context_label.text().replace("\u00a0", " ")
    assert "Mobile +34" in line, line
    assert "mobile" not in line, line
    save_shot(dialog, Path(SHOTS), "draft_mobile_word.png")



def test_every_label_the_importers_write_reads_as_a_word() -> None:
    from crmcompanion.core import csv_import, vcard
    from crmcompanion.ui.formatting import contact_label

    outlook = {target.label for target in csv_import._outlook_table().values()
               if target.group in ("email", "phone")}
    for label in outlook | set(vcard._APPLE_LABELS.values()):
        assert contact_label(label) != label and contact_label(label)[0].isupper(), label
