"""The profile's Coming up names a long-missed keep-in-touch as "4,849 days late", the count
grouped as every other count in the app, not "4849 days late" (seen on the demo book, on a
customer nobody contacted for 13 years)."""

from __future__ import annotations

from datetime import date, timedelta

from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import Section, TouchpointState
from crmcompanion.services.touchpoints import Touchpoint
from crmcompanion.ui.customer_activity import upcoming_text


def test_days_late_are_grouped(qapp) -> None:
    today = date(2026, 12, 7)
    due = today - timedelta(days=4849)
    item = Touchpoint(customer_id=1, customer="Søren Kelly", occasion=Occasion.KEEP_IN_TOUCH,
                      label="no contact for 13 years", date=due, remind_on=due,
                      state=TouchpointState.DUE, section=Section.OVERDUE, key="k")
    assert upcoming_text(item, today).startswith("4,849 days late: ")
