"""Insights on a new, empty database: nothing to save, so no chart's "Save image…" or "Save
data…" link is offered (they are disabled, with a tooltip saying why) and the segment chart
of zeros does not invite a click on its bars; with customers they all come back."""

from __future__ import annotations

from crmcompanion.services.changes import Changed
from crmcompanion.services.demo import fill_demo
from tests.ui.test_insights_ui import _open_insights


def test_empty_charts_offer_nothing_to_save(qtbot, make_window, services) -> None:
    window = make_window()
    view = _open_insights(qtbot, window)
    cards = list(view.cards.values())
    assert cards
    for card in cards:
        for link in (card.png_button, card.csv_button):
            assert not link.isEnabled(), card.key
            assert link.toolTip() == "Nothing to save yet"
    assert not view.cards["segments"].note.isVisible()  # "Click a bar…" over no bars

    fill_demo(services.db, services.clock, 300)
    with qtbot.waitSignal(view.loaded, timeout=60_000):
        window.bus.publish(Changed(customer_list=True))
    segments = view.cards["segments"]
    assert segments.png_button.isEnabled() and segments.csv_button.isEnabled()
    assert segments.note.text() == "Click a bar to see those customers."
