""""Draft all for today" on a full first day (the demo's 2,000 customers list over a thousand
greetings): its count reads as the locale groups numbers ("1,192"), never "1192"."""

from __future__ import annotations

from PySide6.QtCore import QLocale

from crmcompanion.services.demo import fill_demo
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.draft_dialog import BatchDraftWindow


def test_the_count_of_greetings_is_grouped(qtbot, services):
    fill_demo(services.db, services.clock, 2000)
    previous = QLocale()
    american = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    QLocale.setDefault(american)
    try:
        window = BatchDraftWindow(services, AppState())
        qtbot.addWidget(window)
        total = len(window.drafts)
        assert total >= 1000, total  # a count the locale groups
        grouped = american.toString(total)
        assert "," in grouped
        assert window.summary.text() == f"{grouped} greetings to send today"
    finally:
        QLocale.setDefault(previous)
