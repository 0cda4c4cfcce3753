"""Two people edit one customer: the editor's Save meets someone else's save and shows
theirs vs mine for each field both changed; the user picks and the merge is saved. The other
person is a second set of services (its own sessions) on the same database file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtWidgets import QDialog

from crmcompanion.core.customer import CustomerDraft, PhoneNumber, PostalAddress, Status
from crmcompanion.core.staff import STAFF_ENV_VAR
from crmcompanion.services.container import Services, open_services
from crmcompanion.ui.customer_editor import CustomerEditor
from tests.ui.conftest import NOW
from tests.ui.helpers import click_save, open_editor, save_shot


@pytest.fixture
def nora(services: Services) -> int:
    return services.customers.create(CustomerDraft(
        first_name="Nora", last_name="Brown", company="Brown & Co", notes="Likes tea",
        phones=(PhoneNumber("+493012345678"),),
    )).customer.id


@pytest.fixture
def sam(services: Services, monkeypatch: pytest.MonkeyPatch):
    """Sam, working on the same database at the same time."""
    from crmcompanion.core.clock import FixedClock

    monkeypatch.setenv(STAFF_ENV_VAR, "Sam Lee")
    opened = open_services(services.db.url, None, FixedClock(NOW))
    yield opened
    opened.close()


def retype(qtbot, line_edit, text: str) -> None:
    line_edit.selectAll()
    qtbot.keyClick(line_edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line_edit, text)


def sam_saves(sam: Services, customer_id: int, **changes: object) -> None:
    from dataclasses import replace

    current = sam.customers.get(customer_id)
    sam.customers.update(customer_id, replace(current.to_draft(), **changes), current.version,
                         current.to_draft())


def pick(qtbot, radio) -> None:
    """Click a radio button on its indicator (its middle may lie past a short text)."""
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))


def conflict_after_save(qtbot, editor: CustomerEditor):
    click_save(qtbot, editor)
    qtbot.waitUntil(lambda: editor.conflict_dialog is not None
                    and editor.conflict_dialog.isVisible())
    return editor.conflict_dialog


def test_concurrent_edit_shows_theirs_and_mine_and_saves_the_pick(
        qtbot, window, services: Services, sam: Services, nora: int, tmp_path: Path) -> None:
    editor = open_editor(qtbot, window, nora)
    retype(qtbot, editor.company, "Mine AG")
    editor.notes.setPlainText("Likes coffee now")           # only I change the notes
    sam_saves(sam, nora, company="Theirs GmbH",             # both change the company
              phones=(PhoneNumber("+49 30 999999"),))       # only Sam changes the phone

    dialog = conflict_after_save(qtbot, editor)
    assert "Sam Lee saved Nora Brown while you were editing" in dialog.findChild(
        type(dialog.intro), "pageTitle").text()
    assert "Theirs GmbH" in dialog.choice_button("company", "theirs").text()
    assert "Mine AG" in dialog.choice_button("company", "mine").text()
    assert dialog.choice_button("company", "mine").isChecked()
    assert "phone" in dialog.intro.text()                   # Sam's other change is kept
    assert services.customers.get(nora).company == "Theirs GmbH"  # nothing saved yet
    save_shot(dialog, tmp_path, "conflict_dialog.png")

    pick(qtbot, dialog.choice_button("company", "theirs"))
    assert dialog.choices() == {"company": "theirs"}
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.result() == QDialog.DialogCode.Accepted)
    saved = services.customers.get(nora)
    assert saved.company == "Theirs GmbH"
    assert saved.notes == "Likes coffee now"
    assert [p.number for p in saved.phones] == ["+4930999999"]
    assert editor.saved is not None and editor.saved.customer.version == saved.version


def test_keep_all_mine_saves_mine_over_theirs(qtbot, window, services: Services, sam: Services,
                                              nora: int, tmp_path: Path) -> None:
    editor = open_editor(qtbot, window, nora)
    retype(qtbot, editor.company, "Mine AG")
    retype(qtbot, editor.city, "Hamburg")
    editor.status.setCurrentIndex(editor.status.findData(Status.LEAD))
    editor.since_known.setChecked(True)
    editor.customer_since.setDate(QDate(2020, 5, 4))
    sam_saves(sam, nora, company="Theirs GmbH", address=PostalAddress(city="Munich"),
              status=Status.LOST, customer_since=date(2019, 1, 31))
    dialog = conflict_after_save(qtbot, editor)
    assert "31" in dialog.choice_button("customer_since", "theirs").text()
    assert "2019-01-31" not in dialog.choice_button("customer_since", "theirs").text()
    assert dialog.choice_button("status", "theirs").text() == "Lost"
    save_shot(dialog, tmp_path, "conflict_dialog_four_fields.png")
    qtbot.mouseClick(dialog.all_theirs, Qt.MouseButton.LeftButton)
    assert set(dialog.choices().values()) == {"theirs"}
    assert set(dialog.choices()) == {"company", "address.city", "status", "customer_since"}
    qtbot.mouseClick(dialog.all_mine, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.result() == QDialog.DialogCode.Accepted)
    saved = services.customers.get(nora)
    assert (saved.company, saved.address.city, saved.status, saved.customer_since) == (
        "Mine AG", "Hamburg", Status.LEAD, date(2020, 5, 4))


def test_backing_out_keeps_the_form_and_saves_nothing(qtbot, window, services: Services,
                                                      sam: Services, nora: int) -> None:
    editor = open_editor(qtbot, window, nora)
    retype(qtbot, editor.company, "Mine AG")
    sam_saves(sam, nora, company="Theirs GmbH")
    dialog = conflict_after_save(qtbot, editor)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.conflict_dialog is None)
    assert editor.isVisible() and editor.company.text() == "Mine AG"
    assert "still here" in editor.banner.text()
    assert services.customers.get(nora).company == "Theirs GmbH"
    # Saving again asks again: nothing is written over silently.
    dialog = conflict_after_save(qtbot, editor)
    assert "Theirs GmbH" in dialog.choice_button("company", "theirs").text()


def test_deleted_meanwhile_keeps_the_form_and_saves_it_as_new(qtbot, window, services: Services,
                                                              sam: Services, nora: int) -> None:
    editor = open_editor(qtbot, window, nora)
    retype(qtbot, editor.company, "Mine AG")
    sam.customers.delete(nora)
    click_save(qtbot, editor)
    assert editor.isVisible() and "was deleted by someone else" in editor.banner.text()
    assert editor.save_button.text() == "Save as new customer"
    click_save(qtbot, editor)
    qtbot.waitUntil(lambda: editor.result() == QDialog.DialogCode.Accepted)
    assert editor.saved is not None
    assert [c.company for c in services.customers.search("nora")] == ["Mine AG"]
