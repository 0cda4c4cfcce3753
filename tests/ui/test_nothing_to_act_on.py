"""Buttons with nothing to act on are disabled (and look it) in an empty database, and come
back once there is something: Today's "Draft all for today…" (nothing due today or late)
and Customers' "Export…" (no customers)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.services.changes import Changed


def _add_birthday_today(window, services) -> None:
    """A customer whose birthday is the tests' fixed day, saved as the editor saves one
    (the service, then the change on the window's bus)."""
    services.customers.create(CustomerDraft(
        first_name="Ada", last_name="Lovelace",
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 3, 1, 1986),)))
    window.bus.publish(Changed(customer_list=True))


def test_draft_all_is_disabled_until_something_is_due(qtbot, make_window, services):
    window = make_window()
    qtbot.waitUntil(lambda: window.today.ready)
    button = window.greetings.batch_button
    window.grab().save("/tmp/shots/tidy2/today-empty.png")
    assert not button.isEnabled()
    _add_birthday_today(window, services)
    qtbot.waitUntil(button.isEnabled)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.greetings.dialog is not None
                    and window.greetings.dialog.isVisible())
    assert "1 greeting to send today" in window.greetings.dialog.summary.text()
    window.greetings.dialog.reject()


def test_export_is_disabled_without_customers(qtbot, make_window, services):
    window = make_window()
    window.show_section(1)
    view = window.customers
    qtbot.waitUntil(view.isVisible)
    window.grab().save("/tmp/shots/tidy2/customers-empty.png")
    assert not view.export_button.isEnabled()
    assert not view.export_action.isEnabled()
    _add_birthday_today(window, services)
    qtbot.waitUntil(view.export_button.isEnabled)
    assert view.export_action.isEnabled()


def _press(qtbot, window, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.today.list, key, modifiers)


def test_draft_all_shortcut_follows_its_button(qtbot, make_window, services):
    """Ctrl+Shift+D on a day with nothing due opens nothing, as the greyed-out button
    says; once a greeting is due, the key opens "Draft all" like the button."""
    window = make_window()
    qtbot.waitUntil(lambda: window._greetings is not None)
    greetings = window.greetings
    assert not greetings.batch_button.isEnabled()
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    _press(qtbot, window, Qt.Key.Key_D, ctrl_shift)
    _press(qtbot, window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)  # Ctrl+D too
    assert greetings.dialog is None
    assert "Nothing is due today" in window.statusBar().currentMessage()

    _add_birthday_today(window, services)
    qtbot.waitUntil(greetings.batch_button.isEnabled)
    assert greetings.draft_all_action.isEnabled()
    _press(qtbot, window, Qt.Key.Key_D, ctrl_shift)
    qtbot.waitUntil(lambda: greetings.dialog is not None and greetings.dialog.isVisible())
    assert "1 greeting to send today" in greetings.dialog.summary.text()
    greetings.dialog.reject()
