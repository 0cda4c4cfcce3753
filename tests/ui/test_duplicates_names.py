"""The duplicates window names customers as the owner knows them: by name, and where two
share a name, by what tells them apart (email, phone, town, when added); never by the
record's number ("#12"). With nothing to merge there is no Merge button at all.

Found by an owner: "Keep Anna Weber (#41) and merge Anna Weber (#97) into it." told them
nothing about which Anna was which, and a greyed Merge button sat under "No duplicates".
"""

from __future__ import annotations

import re

import pytest
from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QAbstractButton, QLabel

from crmcompanion.core.customer import CustomerDraft, EmailAddress, PhoneNumber, PostalAddress
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.formatting import phone
from crmcompanion.ui.merge_dialog import MergeDialog
from tests.ui.helpers import shown_at

RECORD_NUMBER = re.compile(r"#\d")


def _dialog(qtbot, services) -> MergeDialog:
    return shown_at(qtbot, MergeDialog(services, AppState()), 1000, 640)


def _texts_on_screen(dialog: MergeDialog) -> list[str]:
    texts = [w.text() for w in dialog.findChildren(QLabel) + dialog.findChildren(QAbstractButton)
             if w.isVisibleTo(dialog) and w.text()]
    list_ = dialog.group_list
    texts += [list_.item(row).text() for row in range(list_.count())]
    return texts


def _anna(**details) -> CustomerDraft:
    return CustomerDraft(**{"first_name": "Anna", "last_name": "Weber", **details})


@pytest.mark.parametrize(("first", "second", "told_apart_by"), [
    ({"emails": (EmailAddress("anna@weber.example"),), "address": PostalAddress(city="Bonn")},
     {"emails": (EmailAddress("anna@home.example"),), "address": PostalAddress(city="Köln")},
     ("anna@weber.example", "anna@home.example")),
    ({"phones": (PhoneNumber("+4930123456"),), "address": PostalAddress(city="Bonn")},
     {"phones": (PhoneNumber("+4930999999"),), "address": PostalAddress(city="Bonn")},
     ("+4930123456", "+4930999999")),
    ({"address": PostalAddress(city="Bonn")}, {"address": PostalAddress(city="")},
     ("Bonn", "no town")),
    ({}, {}, ("added first", "added later")),
])
def test_two_of_one_name_are_told_apart_without_numbers(qtbot, services, first, second,
                                                         told_apart_by):
    keep = services.customers.create(_anna(source_uid="4f1c-aa90", **first)).customer
    services.customers.create(_anna(source_uid="77e2-b1c3", **second))
    dialog = _dialog(qtbot, services)
    assert dialog.preview is not None and dialog.preview.keep.id == keep.id
    mine, theirs = told_apart_by
    if "phones" in first:  # as the app writes phone numbers
        mine, theirs = phone(mine), phone(theirs)
    assert dialog.pair_label.text() == (f"Keep Anna Weber ({mine}) and merge Anna Weber "
                                        f"({theirs}) into it.")
    texts = _texts_on_screen(dialog)
    # The columns: the name, and below it what tells the two apart.
    assert f"Anna Weber\n{mine}" in texts and f"Anna Weber\n{theirs}" in texts
    assert [t for t in texts if RECORD_NUMBER.search(t)] == []
    # The import's source ID is a code, not something to choose between.
    assert not any("4f1c" in t or "Source ID" in t for t in texts)


def test_different_names_need_nothing_more_and_the_merge_says_whom(qtbot, services):
    for last in ("Weber", "Webber"):
        services.customers.create(CustomerDraft(
            first_name="Anna", last_name=last, emails=(EmailAddress("anna@weber.example"),)))
    dialog = _dialog(qtbot, services)
    assert dialog.pair_label.text() == "Keep Anna Weber and merge Anna Webber into it."
    with qtbot.waitSignal(dialog.merged):
        qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
    assert dialog.status.text() == "Merged into Anna Weber."
    assert [t for t in _texts_on_screen(dialog) if RECORD_NUMBER.search(t)] == []


def test_merge_button_is_there_only_with_something_to_merge(qtbot, services):
    for last in ("Weber", "Webber"):
        services.customers.create(CustomerDraft(
            first_name="Anna", last_name=last, emails=(EmailAddress("anna@weber.example"),)))
    dialog = _dialog(qtbot, services)
    assert dialog.merge_button.isVisible() and dialog.merge_button.isEnabled()
    with qtbot.waitSignal(dialog.merged):
        qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
    # The last pair merged: the empty page, Undo and Close, and no Merge.
    assert dialog.empty.isVisible()
    assert not dialog.merge_button.isVisible()
    assert dialog.undo_button.isVisible()
    with qtbot.waitSignal(dialog.undone):
        qtbot.mouseClick(dialog.undo_button, Qt.MouseButton.LeftButton)
    assert dialog.merge_button.isVisible() and dialog.merge_button.isEnabled()


def test_tooltips_show_markup_literally(qtbot, services):
    """A name or a value that looks like HTML reads as typed in every tooltip of the window
    (the group's, a heading's, a value's), not rendered bold."""
    for notes in ("<b>Paid</b> late", "Pays on time"):
        services.customers.create(_anna(first_name="<b>Anna</b>", notes=notes,
                                        emails=(EmailAddress("anna@weber.example"),)))
    dialog = _dialog(qtbot, services)
    tips = [dialog.group_list.item(0).toolTip(), dialog.choice_button("notes", "keep").toolTip()]
    tips += [w.toolTip() for w in dialog.fields.findChildren(QLabel) if "Anna" in w.toolTip()]
    assert len(tips) == 4
    for tip in tips:
        # What the tooltip shows: Qt renders it as HTML when it might be rich text.
        document = QTextDocument()
        if QtGui.Qt.mightBeRichText(tip):
            document.setHtml(tip)
        else:
            document.setPlainText(tip)
        assert "<b>" in document.toPlainText(), tip
