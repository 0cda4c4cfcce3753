"""Today's Done over someone else's snooze or done, made after the list was shown: the
user is told who did what, and nothing is written over."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtWidgets import QApplication

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.core.staff import STAFF_ENV_VAR
from crmcompanion.services.container import open_services
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.today_view import TodayView
from tests.ui.conftest import NOW
from tests.ui.helpers import click_row_part

pytestmark = pytest.mark.clock_sensitive


@pytest.fixture
def sam(services, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(STAFF_ENV_VAR, "Sam Lee")
    opened = open_services(services.db.url, None, FixedClock(NOW))
    yield opened
    opened.close()


def today_with_ada(qtbot, services) -> tuple[TodayView, int]:
    ada = services.customers.create(CustomerDraft(
        first_name="Ada", last_name="Lovelace",
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, NOW.month, NOW.day, 1986),),
    )).customer.id
    view = TodayView(services, AppState())
    qtbot.addWidget(view)
    view.resize(1100, 760)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.ready)
    QApplication.processEvents()
    return view, ada


@pytest.mark.parametrize("theirs", ["snooze", "done"])
def test_done_after_someone_else_acted_says_who_and_changes_nothing(
        qtbot, services, sam, theirs: str) -> None:
    view, ada = today_with_ada(qtbot, services)
    assert view.row_index(ada) >= 0
    (item,) = [t for t in sam.touchpoints.due(0) if t.customer_id == ada]
    if theirs == "snooze":
        sam.touchpoints.snooze(item.key, NOW.date() + timedelta(days=2))
    else:
        sam.touchpoints.mark_done(item.key)
    click_row_part(qtbot, view, ada, "menu")  # the row's "⋯" menu, as the user opens it
    assert view.menu is not None and view.menu.isVisible()
    done = next(a for a in view.menu.actions() if a.text().startswith("Mark done"))
    with qtbot.waitSignal(view.message) as said:
        done.trigger()
    text = said.args[0]
    assert "Sam Lee" in text and "nothing was changed" in text
    # Only Sam's "done" wrote a history entry; the refused click wrote none.
    history = services.interactions.history(ada)
    assert len(history) == (1 if theirs == "done" else 0)
    assert all(record.staff_name == "Sam Lee" for record in history)
