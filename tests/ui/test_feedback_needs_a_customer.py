"""Feedback & ideas on a book with no customer yet (issue: "Add feedback…" and "Ask for
feedback…" looked ready, and the dialog they opened could only refuse to save, as there was
no customer to name): both are disabled and say why; the first customer added enables them,
and Add feedback… then saves as before."""

from __future__ import annotations

from PySide6.QtCore import Qt

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.ui.feedback_page import NO_CUSTOMER_TIP
from tests.ui.test_feedback_ui import _open_page


def test_adding_feedback_waits_for_a_customer(qtbot, services, make_window) -> None:
    window = make_window()
    page = _open_page(qtbot, window)
    for button in (page.add_button, page.ask_button):
        assert not button.isEnabled(), button.text()
        assert button.toolTip() == NO_CUSTOMER_TIP
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    assert getattr(page, "dialog", None) is None  # nothing opened

    created = services.customers.create(CustomerDraft(first_name="Nora", last_name="Berg"))
    window.bus.publish(created.changed)
    qtbot.waitUntil(page.add_button.isEnabled)
    assert page.ask_button.isEnabled() and page.add_button.toolTip() != NO_CUSTOMER_TIP
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.customer, "Nora Berg")
    qtbot.keyClicks(dialog.text, "Lovely flowers, thank you")
    with qtbot.waitSignal(dialog.item_saved, timeout=30_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert [i.text for i in services.feedback.list()] == ["Lovely flowers, thank you"]
