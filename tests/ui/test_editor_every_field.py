"""Editing a sample customer with every field set, once with each preferred channel.

Found by a user: saving any customer who has a preferred channel did nothing (the editor
stayed open, no message, nothing stored) because the channel combo box handed the service a
plain string. These tests go through the editor as a user does and read back what was stored.
"""

from __future__ import annotations

import logging
from datetime import date

import pytest
from PySide6.QtCore import QDate, Qt

from crmcompanion.core import customer as c
from crmcompanion.core.errors import DomainError
from crmcompanion.services.demo import fill_demo
from crmcompanion.ui.customer_editor import CustomerEditor
from tests.ui.helpers import click_save, open_editor


def _set_combo(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def _type(qtbot, line_edit, text: str) -> None:
    line_edit.selectAll()
    qtbot.keyClick(line_edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line_edit, text)


def _fill_every_field(qtbot, editor: CustomerEditor, round_: int, channel: c.Channel) -> None:
    _type(qtbot, editor.first_name, f"Søren{round_}")
    _type(qtbot, editor.last_name, f"Kelly-{channel.value}")
    _type(qtbot, editor.display_name, f"Søren K. {round_}")
    _type(qtbot, editor.company, f"Kelly & Sons {round_}")
    # Three emails and three phones, whatever the customer had before.
    for rows, add in ((editor.emails, 3), (editor.phones, 3)):
        while len(rows.rows) < add:
            qtbot.mouseClick(rows.add_button, Qt.MouseButton.LeftButton)
        while len(rows.rows) > add:
            qtbot.mouseClick(rows.rows[-1].remove, Qt.MouseButton.LeftButton)
    for index, (row, label) in enumerate(zip(editor.emails.rows, ("home", "work", "other"),
                                             strict=True)):
        row.label.setCurrentText(label)
        _type(qtbot, row.value, f"soren{round_}.{index}@kelly.example")
    for index, (row, label) in enumerate(zip(editor.phones.rows, ("mobile", "work", "home"),
                                             strict=True)):
        row.label.setCurrentText(label)
        _type(qtbot, row.value, f"+45 3{round_} 1{index} 20 30")
    _set_combo(editor.preferred_channel, channel)
    _type(qtbot, editor.street, f"Nørregade {round_}")
    _type(qtbot, editor.postcode, f"100{round_}")
    _type(qtbot, editor.city, "København")
    _type(qtbot, editor.region, "Hovedstaden")
    _type(qtbot, editor.country, "Denmark")
    _set_combo(editor.status, list(c.Status)[round_ % len(c.Status)])
    _set_combo(editor.kind, list(c.Kind)[round_ % len(c.Kind)])
    if editor.key_account.isChecked() != bool(round_ % 2):
        qtbot.mouseClick(editor.key_account, Qt.MouseButton.LeftButton)
    _type(qtbot, editor.tags, f"VIP, Round {round_}, Bread club")
    if not editor.since_known.isChecked():
        qtbot.mouseClick(editor.since_known, Qt.MouseButton.LeftButton)
    editor.customer_since.setDate(QDate(2010 + round_, 2, 28))
    # Every special-date kind: birthday (with year), wedding anniversary (no year), custom.
    while len(editor.special_dates.rows) < 3:
        qtbot.mouseClick(editor.special_dates.add_button, Qt.MouseButton.LeftButton)
    while len(editor.special_dates.rows) > 3:
        qtbot.mouseClick(editor.special_dates.rows[-1].remove, Qt.MouseButton.LeftButton)
    birthday, wedding, custom = editor.special_dates.rows
    _set_combo(birthday.kind, c.SpecialDateKind.BIRTHDAY)
    _set_combo(birthday.day, 29)
    _set_combo(birthday.month, 2)
    _type(qtbot, birthday.year, "1984")
    _set_combo(wedding.kind, c.SpecialDateKind.WEDDING_ANNIVERSARY)
    _set_combo(wedding.day, 10 + round_)
    _set_combo(wedding.month, 6)
    _type(qtbot, wedding.year, "")
    _set_combo(custom.kind, c.SpecialDateKind.CUSTOM)
    _set_combo(custom.day, 1)
    _set_combo(custom.month, 12)
    _type(qtbot, custom.label, f"Shop opening {round_}")
    editor.notes.setPlainText(f"Round {round_}\nPrefers {channel.value}.\tTabbed.")


def _a_customer_with_a_channel(services) -> int:
    for customer_id in range(1, 31):
        customer = services.customers.get(customer_id)
        if customer.preferred_channel is not None:
            return customer_id
    raise AssertionError("no sample customer with a preferred channel")


def test_edit_a_sample_customer_with_every_channel_and_every_field(qtbot, services,
                                                                   make_window):
    fill_demo(services.db, services.clock, 30, staff_id=services.staff_id)
    customer_id = _a_customer_with_a_channel(services)
    window = make_window()
    for round_, channel in enumerate(c.Channel):
        before = services.customers.get(customer_id)
        editor = open_editor(qtbot, window, customer_id)
        _fill_every_field(qtbot, editor, round_, channel)
        click_save(qtbot, editor)
        assert editor.banner.isHidden(), editor.banner.text()
        assert window.customers.editor is None  # closed: saved

        saved = services.customers.get(customer_id)
        assert saved.version == before.version + 1
        assert saved.first_name == f"Søren{round_}"
        assert saved.last_name == f"Kelly-{channel.value}"
        assert saved.display_name == f"Søren K. {round_}"
        assert saved.company == f"Kelly & Sons {round_}"
        assert saved.preferred_channel is channel
        assert [(e.address, e.label) for e in saved.emails] == [
            (f"soren{round_}.{i}@kelly.example", label)
            for i, label in enumerate(("home", "work", "other"))
        ]
        assert [(p.number, p.label) for p in saved.phones] == [
            (f"+453{round_}1{i}2030", label) for i, label in enumerate(("mobile", "work", "home"))
        ]
        assert saved.address == c.PostalAddress(
            street=f"Nørregade {round_}", city="København", region="Hovedstaden",
            postcode=f"100{round_}", country="Denmark",
        )
        assert saved.status is list(c.Status)[round_ % len(c.Status)]
        assert saved.kind is list(c.Kind)[round_ % len(c.Kind)]
        assert saved.key_account is bool(round_ % 2)
        assert saved.tags == tuple(sorted(("VIP", f"Round {round_}", "Bread club")))
        assert saved.customer_since == date(2010 + round_, 2, 28)
        assert sorted(saved.special_dates, key=lambda s: s.kind.value) == sorted([
            c.SpecialDate(c.SpecialDateKind.BIRTHDAY, 2, 29, 1984),
            c.SpecialDate(c.SpecialDateKind.WEDDING_ANNIVERSARY, 6, 10 + round_, None),
            c.SpecialDate(c.SpecialDateKind.CUSTOM, 12, 1, None, f"Shop opening {round_}"),
        ], key=lambda s: s.kind.value)
        assert saved.notes == f"Round {round_}\nPrefers {channel.value}.\tTabbed."

    # And back to no preference.
    editor = open_editor(qtbot, window, customer_id)
    _set_combo(editor.preferred_channel, None)
    click_save(qtbot, editor)
    assert window.customers.editor is None
    assert services.customers.get(customer_id).preferred_channel is None


def test_the_service_refuses_a_value_of_the_wrong_type_with_one_clear_line(services):
    with pytest.raises(DomainError, match=r"preferred channel .*'email'.*Channel"):
        services.customers.create(c.CustomerDraft(first_name="Ann",
                                                preferred_channel="email"))  # type: ignore[arg-type]
    with pytest.raises(DomainError, match=r"status .*'lead'.*Status"):
        services.customers.create(c.CustomerDraft(first_name="Ann",
                                                status="lead"))  # type: ignore[arg-type]
    with pytest.raises(DomainError, match=r"special date 1 kind"):
        services.customers.create(c.CustomerDraft(
            first_name="Ann",
            special_dates=(c.SpecialDate("birthday", 1, 2),)))  # type: ignore[arg-type]
    assert services.customers.total() == 0  # nothing stored


def test_an_unexpected_failure_on_save_is_shown_and_logged(qtbot, services, make_window,
                                                           monkeypatch, caplog):
    fill_demo(services.db, services.clock, 5, staff_id=services.staff_id)
    window = make_window()
    editor = open_editor(qtbot, window, 1)
    before = services.customers.get(1)

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.customers, "update", broken)
    _type(qtbot, editor.first_name, "Changed")
    with caplog.at_level(logging.ERROR):
        click_save(qtbot, editor)
    assert window.customers.editor is editor  # still open: nothing typed is lost
    assert editor.banner.isVisible()
    assert "could not be saved" in editor.banner.text()
    assert "disk on fire" in editor.banner.text()
    assert any("disk on fire" in (r.exc_text or r.getMessage()) or r.exc_info
               for r in caplog.records if r.levelno >= logging.ERROR)
    assert services.customers.get(1) == before
