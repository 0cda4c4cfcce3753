"""Insights over a full book, while its figures are still being counted: the charts are
blank, not "No customers yet. Add or import customers…" (and "Nothing to show yet") for the
half second the first load takes at 100,000 customers; the figures replace the blank."""

from __future__ import annotations

from PySide6.QtGui import QImage

from crmcompanion.ui.bus import AppState
from crmcompanion.ui.insights import InsightsView
from tests.ui.helpers import add_customer, shown_at


def _colours(widget) -> int:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    return len({image.pixel(x, y) for y in range(0, image.height(), 2)
                for x in range(0, image.width(), 2)})


def test_charts_are_blank_until_the_figures_come(qtbot, services) -> None:
    add_customer(services, "Ada", "Lovelace", email="ada@example.com")
    view = InsightsView(services, AppState())
    qtbot.addWidget(view)
    view.resize(1100, 800)
    view.layout().activate()
    # No event processed yet, so no figures delivered: what the page shows meanwhile.
    for card in view.cards.values():
        if card.chart is not None:
            assert card.chart.width() > 100, card.key  # laid out, so it would paint text
            assert _colours(card.chart) == 1, card.key
    with qtbot.waitSignal(view.loaded, timeout=60_000):
        shown_at(qtbot, view, 1100, 800)
    assert _colours(view.cards["segments"].chart) > 1  # the bars
