""""Draft all for today" on the demo's 2,000 customers: a keep-in-touch row says when the
customer was last contacted ("last contact 2 April 2025") or "never contacted", not the day
the contact fell due ("4 June 2011 (overdue)", years back, which told the owner nothing);
the rows listed are the same drafts as before, in the same order, and other occasions keep
their day. The chosen draft's line under its heading says the same."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from PySide6.QtCore import QLocale

from crmcompanion.core.occasions import Occasion
from crmcompanion.services.demo import fill_demo
from crmcompanion.ui import formatting
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.draft_dialog import BatchDraftWindow
from tests.ui.helpers import save_shot


def _last_conversations(database: Path) -> dict[int, date]:
    """Each customer's newest conversation day, read from the file itself."""
    conn = sqlite3.connect(database)
    try:
        rows = conn.execute("SELECT customer_id, max(date(occurred_at)) FROM interactions "
                            "GROUP BY customer_id").fetchall()
    finally:
        conn.close()
    return {customer_id: date.fromisoformat(day) for customer_id, day in rows}


def test_keep_in_touch_rows_say_when_they_were_last_contacted(qtbot, services,
                                                               tmp_path: Path) -> None:
    fill_demo(services.db, services.clock, 2000)
    formatting.set_locale(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    try:
        listed = [(d.customer_id, d.occasion, d.occasion_date)
                  for d in services.greetings.today_drafts()]
        window = BatchDraftWindow(services, AppState())
        qtbot.addWidget(window)
        window.resize(900, 600)
        window.show()
        qtbot.waitExposed(window)
        assert [(d.customer_id, d.occasion, d.occasion_date) for d in window.drafts] == listed
        assert window.list.count() == len(listed)
        today = services.clock.today()
        last = _last_conversations(tmp_path / "crm.sqlite3")
        seen = {"last": 0, "never": 0, "other": 0}
        for row, (customer_id, occasion, due) in enumerate(listed):
            shown = window.list.item(row).text().split("\n")[1]
            # Cut with "…" in the narrow list, whole on hover.
            assert window.list.item(row).toolTip().endswith(shown)
            if occasion is not Occasion.KEEP_IN_TOUCH:
                assert formatting.day_month(due) in shown or formatting.long_date(due) in shown
                seen["other"] += 1
                continue
            assert "overdue" not in shown and formatting.long_date(due) not in shown, shown
            if customer_id in last:
                day = last[customer_id]
                day_text = (formatting.day_month(day) if day.year == today.year
                            else formatting.long_date(day))
                assert shown == f"Keep in touch · last contact {day_text}"
                seen["last"] += 1
            else:
                assert shown == "Keep in touch · never contacted"
                seen["never"] += 1
        assert min(seen.values()) > 0, seen  # every kind of row was read
        # The chosen draft's line under its heading says the same, not the due day.
        for row, (customer_id, occasion, due) in enumerate(listed):
            if occasion is Occasion.KEEP_IN_TOUCH and customer_id in last:
                window.list.setCurrentRow(row)
                context = window.editor.context_label.text()
                assert context.startswith(
                    f"Last contact {formatting.long_date(last[customer_id])}"), context
                assert formatting.long_date(due) not in context
                break
        save_shot(window, tmp_path, "draft_all_keep_in_touch.png")
    finally:
        formatting.set_locale(None)
