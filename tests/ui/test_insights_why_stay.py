""""Why customers stay" on the Insights page (issue 16): on demo data the card shows the
happiest against everyone else with the numbers `insights --json` prints under
`why_they_stay`, the praise themes as bars, and saves its data as CSV; screenshots light and
dark."""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from crmcompanion.services.demo import fill_demo
from tests.ui.helpers import save_shot
from tests.ui.test_insights_ui import _insights_json, _open_insights

DARK = ("QWidget { color: #e6e6e6; background: #1e1f22; } "
        "QFrame#card { background: #2b2d31; border: 1px solid #3a3d44; border-radius: 8px; } "
        "QFrame#card QWidget { background: #2b2d31; } "
        "QLabel#muted, QLabel#pageSubtitle { color: #a0a6b0; }")


def test_why_customers_stay_card_matches_the_cli(qtbot, make_window, services, tmp_path,
                                                 monkeypatch) -> None:
    fill_demo(services.db, services.clock, 300, seed=5, staff_id=services.staff_id)
    window = make_window()
    view = _open_insights(qtbot, window)
    expected = _insights_json(tmp_path, services)["why_they_stay"]
    happy, others = expected["happiest"], expected["everyone_else"]
    assert happy["customers"] > 0 and others["customers"] > 0, "the demo has both groups"

    lines = dict((title, (a, b)) for title, a, b in view.why_comparison.lines())
    assert lines["Customers"] == (f"{happy['customers']:,}", f"{others['customers']:,}")
    kept = lines["Keep-in-touch rhythm kept"]
    assert kept == (f"{round(happy['rhythm_kept_share'] * 100)} %",
                    f"{round(others['rhythm_kept_share'] * 100)} %")
    shown_themes = [(label, int(values[0])) for label, values in view.why_stay.data.rows]
    assert shown_themes == [(t["theme"], t["count"]) for t in expected["praise_themes"]]
    assert len(shown_themes) <= 5

    def answer(_parent, _title, proposed, _filter):
        return str(tmp_path / Path(proposed).name), _filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(answer))
    qtbot.mouseClick(view.why_stay.csv_button, Qt.MouseButton.LeftButton)
    with open(tmp_path / "why_they_stay.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    compare = {r["name"]: r for r in rows if r["part"] == "compare"}
    assert float(compare["greetings_per_year"]["happiest"]) == happy["greetings_per_year"]
    assert float(compare["rhythm_kept_share"]["everyone_else"]) == \
        others["rhythm_kept_share"]

    window.resize(1400, 1000)
    view.why_stay.parentWidget().parentWidget().parentWidget().ensureWidgetVisible(
        view.why_stay)
    qtbot.wait(50)  # the layouts settle at the new size
    for measure, *_ in view.why_comparison.cells:
        # Each measure reads whole: in a wide card on one line, never cut to half a line.
        metrics = measure.fontMetrics()
        assert measure.width() >= metrics.horizontalAdvance(measure.text()), measure.text()
        assert measure.height() >= metrics.height(), measure.text()
    save_shot(view.why_stay, tmp_path, "why-stay-light.png")
    view.setStyleSheet(DARK)
    save_shot(view.why_stay, tmp_path, "why-stay-dark.png")
