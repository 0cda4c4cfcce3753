"""The duplicates window with nothing to merge says what it finds and when to come back.

Found by an owner: on an empty book the window showed "Nothing to merge." alone in a bare
panel. It now shows an empty page like the app's others (a title, what the window looks for,
when to look again); with a likely pair it lists the pair as before.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel

from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.ui.main_window import CUSTOMERS
from tests.ui.helpers import save_shot

SHOTS = Path("/tmp/shots/tidy6")


def _open_duplicates(qtbot, window):
    window.show_section(CUSTOMERS)
    view = window.customers
    view.duplicates_action.trigger()  # Customers ▸ More ▸ Find duplicates…
    dialog = view.merge_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def _visible_texts(dialog) -> list[str]:
    return [label.text() for label in dialog.findChildren(QLabel)
            if label.isVisibleTo(dialog) and label.text()]


def test_empty_book_shows_what_the_window_finds(qtbot, window, monkeypatch) -> None:
    monkeypatch.setenv("CRMCOMPANION_SHOTS", str(SHOTS))
    dialog = _open_duplicates(qtbot, window)
    texts = _visible_texts(dialog)
    assert "Nothing to merge." not in texts
    assert dialog.empty.isVisibleTo(dialog)
    assert "No duplicates found" in texts
    explanation = dialog.empty.text.text()
    assert explanation in texts
    for words in ("entered twice", "email", "phone", "name", "merges", "adding or importing"):
        assert words in explanation, words
    assert not dialog.merge_button.isVisibleTo(dialog)  # not there, rather than greyed
    save_shot(dialog, SHOTS, "duplicates_empty.png")


def test_a_likely_pair_is_listed_not_the_empty_page(qtbot, services, window) -> None:
    for last in ("Weber", "Webber"):
        services.customers.create(CustomerDraft(
            first_name="Anna", last_name=last, emails=(EmailAddress("anna@weber.example"),)))
    dialog = _open_duplicates(qtbot, window)
    assert not dialog.empty.isVisibleTo(dialog)
    assert dialog.group_list.isVisibleTo(dialog) and dialog.group_list.count() == 1
    assert dialog.merge_button.isEnabled()
