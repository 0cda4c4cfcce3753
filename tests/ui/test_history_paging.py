"""A customer's whole history is reachable from the profile: 500 conversations, 30 at a
time, with the count of the older ones on the button that shows them."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt

from crmcompanion.services.interactions import add_interaction
from crmcompanion.ui.main_window import CUSTOMERS
from tests.ui.helpers import add_customer, history_shown

COUNT = 500


def test_every_one_of_500_conversations_can_be_reached(qtbot, services, make_window):
    customer = add_customer(services, "Hilde", "Lang")
    start = (services.clock.now() - timedelta(days=COUNT)).astimezone()
    with services.db.write() as session:  # what 500 "Log conversation"s store, in one go
        for n in range(COUNT):
            add_interaction(session, customer_id=customer.id, summary=f"Conversation {n:03d}",
                            when=start + timedelta(days=n, hours=n % 7), channel=None,
                            staff_id=services.staff_id)
    page = services.interactions.history_page(customer.id, 30)
    assert page.total == COUNT and len(page.records) == 30

    window = make_window()
    window.show_section(CUSTOMERS)
    window.customers.open_customer(customer.id)
    activity = window.customers.detail.activity
    button = activity.older_button
    assert button.isVisible()
    assert button.text() == f"Show older ({COUNT - 30} more)"
    clicks = 0
    while button.isVisible():
        before = len(activity.history)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        clicks += 1
        assert len(activity.history) == min(COUNT, before + 30)
        if button.isVisible():
            assert button.text() == f"Show older ({COUNT - len(activity.history)} more)"
    assert clicks == (COUNT - 30 + 29) // 30
    # Every conversation is on screen once, newest first, the oldest last.
    wanted = [f"Conversation {n:03d}" for n in reversed(range(COUNT))]
    assert activity.history_summaries() == wanted
    shown = [line for line in history_shown(activity) if line.startswith("Conversation ")]
    assert shown == wanted
