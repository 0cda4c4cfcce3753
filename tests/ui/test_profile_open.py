"""Opening a profile does the least the first screen needs (issue 15: a customer with 2,000
timeline entries, first screen <= 100 ms): the profile is loaded once, the timeline reads its
newest page and counts the rest in SQL, and the panel's widgets are refilled in place, not
rebuilt. Guarded by what runs (statements, widgets), never by a timing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from PySide6.QtWidgets import QApplication
from sqlalchemy import event

from crmcompanion.services.container import Services
from crmcompanion.services.interactions import add_interaction
from crmcompanion.ui.timeline import PAGE
from tests.ui.helpers import add_customer

ENTRIES = 200


@contextmanager
def statements(services: Services) -> Iterator[list[tuple[str, object]]]:
    """Every SQL statement run (on either engine) inside the block."""
    seen: list[tuple[str, object]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: object,
               *_rest: object) -> None:
        seen.append((" ".join(statement.split()), parameters))

    engines = {services.db.read_engine, services.db.write_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def with_history(services: Services, first: str, last: str, entries: int = ENTRIES) -> int:
    customer = add_customer(services, first, last)
    start = (services.clock.now() - timedelta(days=entries)).astimezone()
    with services.db.write() as session:
        for n in range(entries):
            add_interaction(session, customer_id=customer.id, summary=f"Talk {n:03d}",
                            when=start + timedelta(days=n), channel=None,
                            staff_id=services.staff_id)
    return customer.id


def test_opening_a_customer_loads_the_profile_once_and_reads_one_page(
        qtbot, services, make_window) -> None:
    busy = with_history(services, "Hilde", "Lang")
    other = with_history(services, "Ada", "Berg", 3)
    window = make_window()
    window.open_customer(other)
    QApplication.processEvents()
    with statements(services) as seen:
        window.open_customer(busy)  # what a click on Today or in a reminder does
        QApplication.processEvents()
    activity = window.customers.detail.activity
    assert activity.customer_id == busy
    newest = [f"Talk {ENTRIES - 1:03d}", f"Talk {ENTRIES - 2:03d}"]
    assert activity.history_summaries()[:2] == newest
    pages = [(s, p) for s, p in seen
             if s.startswith("SELECT interactions.id") and "ORDER BY" in s]
    # Once: selecting the row in the list after the profile opened does not load it again.
    assert len(pages) == 1, [s for s, _ in pages]
    # The newest page (and one more row, to know whether older ones exist), never all of them.
    statement, parameters = pages[0]
    assert "LIMIT" in statement
    assert PAGE < max(v for v in _values(parameters) if isinstance(v, int)
                      and v != busy) <= PAGE + 2
    counts = [s for s, _ in seen if re.match(r"SELECT count\(\*\) .*FROM interactions", s)]
    assert len(counts) == 1  # "Show older (170 more)" counted by the database
    assert activity.older_button.text() == f"Show older ({ENTRIES - PAGE} more)"
    # The customer record (with its e-mails, phones, tags...) read once for the profile.
    emails = [s for s, _ in seen if s.startswith("SELECT customer_emails.")]
    assert len(emails) == 1, emails


def _values(parameters: object) -> list[object]:
    if isinstance(parameters, dict):
        return list(parameters.values())
    if isinstance(parameters, list | tuple):
        return list(parameters)
    return [parameters]
