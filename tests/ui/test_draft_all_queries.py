"""Draft all for today reads what its drafts need in a few set-based queries: the number of
SQL statements does not grow with the number of drafts, and each draft is the one the
single-customer path makes."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt

from crmcompanion.core import customer as c
from tests.ui.helpers import counted_statements


def add_birthdays(services, first: int, count: int) -> None:
    today = services.clock.today()
    channels = list(c.Channel)
    for n in range(first, first + count):
        customer = services.customers.create(c.CustomerDraft(
            first_name=f"Person{n}", last_name="Today",
            emails=(c.EmailAddress(f"p{n}@example.com"),),
            phones=(c.PhoneNumber(f"+44 20 7946 {n:04d}", "mobile"),),
            preferred_channel=channels[n % len(channels)] if n % 3 else None,
            special_dates=(
                c.SpecialDate(c.SpecialDateKind.BIRTHDAY, today.month, today.day, 1970 + n % 40),
                c.SpecialDate(c.SpecialDateKind.CUSTOM, today.month, today.day, None, f"Day {n}"),
            ),
        )).customer
        if n % 2:
            for k in range(2):
                services.interactions.log(customer.id, f"Talked {n}.{k}",
                                          when=services.clock.now() - timedelta(days=5 - k))


def open_draft_all(qtbot, window, services) -> tuple[int, int]:
    """Statements run by clicking "Draft all for today", and the drafts it lists."""
    with counted_statements(services) as statements:
        qtbot.mouseClick(window.greetings.batch_button, Qt.MouseButton.LeftButton)
        batch = window.greetings.dialog
        qtbot.waitExposed(batch)
    count = batch.list.count()
    batch.accept()
    return len(statements), count


def test_draft_all_runs_the_same_few_queries_for_4_or_60_drafts(qtbot, services, make_window):
    add_birthdays(services, 0, 2)
    window = make_window()
    open_draft_all(qtbot, window, services)  # the first one also seeds the templates
    few_statements, few = open_draft_all(qtbot, window, services)
    add_birthdays(services, 2, 28)
    many_statements, many = open_draft_all(qtbot, window, services)
    assert (few, many) == (4, 60)
    assert many_statements == few_statements
    assert many_statements <= 40

    # Each draft is the one drafting that customer on its own makes.
    batch = services.greetings.today_drafts()
    for draft in batch:
        alone = services.greetings.draft(draft.customer_id, draft.occasion,
                                         occurrence_date=draft.occasion_date)
        assert draft == alone
