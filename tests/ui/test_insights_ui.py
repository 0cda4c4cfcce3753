"""The Insights section through the user's path (issue 16): opened from the sidebar on demo
data, computed off the GUI thread; clicking the "At risk" bar opens the customer list with
exactly the at-risk customers; a chart saved as PNG and CSV holds the numbers
`crmcompanion insights --json` prints; screenshots in light and dark palettes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QFileDialog

from crmcompanion.services.demo import fill_demo
from crmcompanion.ui.main_window import CUSTOMERS, INSIGHTS
from tests.ui.conftest import NOW
from tests.ui.helpers import save_shot

ROOT = Path(__file__).parents[2]


def _open_insights(qtbot, window):
    item = window.nav.item(INSIGHTS)
    rect = window.nav.visualItemRect(item)
    qtbot.mouseClick(window.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    view = window.insights_view
    assert window.pages.currentWidget() is view
    with qtbot.waitSignal(view.loaded, timeout=60_000):
        pass
    return view


def _insights_json(tmp_path: Path, services) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMCOMPANION_")}
    env.update(CRMCOMPANION_HOME=str(tmp_path / "cli-home"),
               CRMCOMPANION_DATABASE_URL=services.db.info.url,
               CRMCOMPANION_NOW=NOW.isoformat(timespec="minutes"), PYTHONPATH=str(ROOT))
    ran = subprocess.run([sys.executable, "-m", "crmcompanion", "insights", "--json"],
                         env=env, capture_output=True, text=True, timeout=300, check=False)
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


def test_at_risk_bar_opens_exactly_the_at_risk_customers(qtbot, make_window, services,
                                                          tmp_path) -> None:
    fill_demo(services.db, services.clock, 300, seed=3, staff_id=services.staff_id)
    window = make_window()
    assert window._insights is None  # nothing built before the section is shown
    view = _open_insights(qtbot, window)
    chart = view.segments_chart
    at_risk = [m.customer_id for m in services.insights.members("at_risk")]
    assert at_risk, "the demo has at-risk customers"
    assert chart.data.rows[2] == ("At risk", (float(len(at_risk)),))

    qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=chart.bar_rect(2).center().toPoint())
    customers = window.customers
    assert window.pages.currentIndex() == CUSTOMERS
    qtbot.waitUntil(lambda: customers.model.query.segment == "at_risk", timeout=30_000)
    model = customers.model
    shown = [model.row_at(row).id for row in range(model.rowCount())]
    assert sorted(shown) == sorted(at_risk)
    assert customers.segment_filter.currentText() == "At risk"


def test_chart_exports_match_the_cli_and_screenshots(qtbot, make_window, services, tmp_path,
                                                     monkeypatch) -> None:
    fill_demo(services.db, services.clock, 300, seed=4, staff_id=services.staff_id)
    window = make_window()
    view = _open_insights(qtbot, window)
    expected = _insights_json(tmp_path, services)

    saved: list[str] = []

    def answer(_parent, _title, proposed, _filter):
        target = tmp_path / Path(proposed).name
        saved.append(str(target))
        return str(target), _filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(answer))
    segments = view.cards["segments"]
    qtbot.mouseClick(segments.csv_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(segments.png_button, Qt.MouseButton.LeftButton)
    with open(tmp_path / "segments.csv", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["segment", "customers"]
    assert {k: int(v) for k, v in rows[1:]} == expected["segments"]
    image = QImage(str(tmp_path / "segments.png"))
    assert not image.isNull() and image.width() >= segments.chart.width()

    themes = view.cards["complaints_by_theme"]
    qtbot.mouseClick(themes.csv_button, Qt.MouseButton.LeftButton)
    with open(tmp_path / "complaints_by_theme.csv", encoding="utf-8") as f:
        theme_rows = list(csv.DictReader(f))
    assert [{"theme": r["theme"], "open": int(r["open"]), "resolved": int(r["resolved"])}
            for r in theme_rows] == expected["complaints_by_theme"]
    lost = view.cards["lost_reasons"]
    qtbot.mouseClick(lost.csv_button, Qt.MouseButton.LeftButton)
    with open(tmp_path / "lost_reasons.csv", encoding="utf-8") as f:
        lost_rows = [{"reason": r["reason"], "count": int(r["count"]),
                      "share": float(r["share"])} for r in csv.DictReader(f)]
    assert lost_rows == expected["lost_reasons"]
    assert len(saved) == 4

    # The tag filter applies to the whole dashboard.
    vip = view.tag.findData("VIP")
    if vip > 0:
        with qtbot.waitSignal(view.loaded, timeout=60_000):
            view.tag.setCurrentIndex(vip)
        assert sum(r[1][0] for r in view.segments_chart.data.rows) == \
            sum(services.insights.segment_counts("VIP").values())
        view.tag.setCurrentIndex(0)
        qtbot.waitSignal(view.loaded, timeout=60_000).wait()

    window.resize(1400, 1000)
    save_shot(window, tmp_path, "insights-light.png")
    dark = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#1e1f22"),
                         (QPalette.ColorRole.WindowText, "#e6e6e6"),
                         (QPalette.ColorRole.Base, "#2b2d31"), (QPalette.ColorRole.Text, "#e6e6e6"),
                         (QPalette.ColorRole.Button, "#2b2d31"),
                         (QPalette.ColorRole.ButtonText, "#e6e6e6")):
        dark.setColor(role, QColor(colour))
    view.setPalette(dark)
    view.setStyleSheet(
        "QWidget { color: #e6e6e6; background: #1e1f22; } "
        "QFrame#card { background: #2b2d31; border: 1px solid #3a3d44; border-radius: 8px; } "
        "QFrame#card QWidget { background: #2b2d31; } "
        "QLabel#muted, QLabel#pageSubtitle { color: #a0a6b0; }")
    save_shot(view, tmp_path, "insights-dark.png")


def test_marking_lost_in_the_editor_asks_why(qtbot, window, services) -> None:
    from crmcompanion.core.customer import Status
    from tests.ui.helpers import add_customer, click_save

    cid = add_customer(services, "Greta", "Gone").id
    view = window.customers
    editor = view.edit_customer(cid)
    qtbot.waitExposed(editor)
    editor.status.setCurrentIndex(editor.status.findData(Status.LOST))
    click_save(qtbot, editor)
    qtbot.waitUntil(lambda: getattr(view, "lost_dialog", None) is not None
                    and view.lost_dialog.isVisible())
    dialog = view.lost_dialog
    dialog.reason.setCurrentIndex(dialog.reason.findData("other"))
    qtbot.mouseClick(dialog.buttons.accept_button, Qt.MouseButton.LeftButton)
    assert dialog.error.isVisible() and "note" in dialog.error.text()
    qtbot.keyClicks(dialog.note, "Closed the shop")
    qtbot.mouseClick(dialog.win_back, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.buttons.accept_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert services.insights.health([cid])[cid][1] == "Lost: other (Closed the shop)"
    assert any(t.occasion.value == "win_back" and t.customer_id == cid
               for t in services.touchpoints.due(days=91))


def test_today_names_who_moved_to_at_risk_this_week(qtbot, make_window, services) -> None:
    from datetime import timedelta

    from crmcompanion.core.customer import CustomerDraft

    cid = services.customers.create(CustomerDraft(
        first_name="Kim", last_name="Keyaccount", key_account=True,
        customer_since=NOW.date() - timedelta(days=3))).customer.id
    services.customers.create(CustomerDraft(first_name="Sam", last_name="Steady",
                                            customer_since=NOW.date()))
    assert services.insights.health([cid])[cid][0].value == "healthy"
    services.feedback.add(cid, "complaint", "The order was wrong")  # key account: at risk
    window = make_window()
    qtbot.waitUntil(lambda: window.moved_to_at_risk is not None
                    and window.moved_to_at_risk.isVisible(), timeout=30_000)
    link = window.moved_to_at_risk
    assert link.text() == "⚠ 1 moved to at risk this week"
    assert link.toolTip() == "Kim Keyaccount: At risk: 1 open complaint, 0 days old; key account"
    qtbot.mouseClick(link, Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is window.insights_view


def test_insights_stack_in_one_column_in_a_narrow_window(qtbot, make_window, services) -> None:
    """At 900x600 the cards stack (no sideways scrolling, each as wide as the page); at
    1600 wide two cards share a row."""
    fill_demo(services.db, services.clock, 60, staff_id=services.staff_id)
    window = make_window()
    window.resize(900, 600)
    view = _open_insights(qtbot, window)
    qtbot.waitUntil(lambda: view._columns == 1)
    qtbot.wait(50)
    viewport = view._scroll.viewport()
    segments, reasons = view.cards["segments"], view.cards["lost_reasons"]
    assert not view._scroll.horizontalScrollBar().isVisible()
    assert segments.geometry().right() <= viewport.width()
    for edit in (view.start, view.end):  # the period's dates shown whole, nothing overlapping
        assert edit.width() >= edit.sizeHint().width()
    assert not view.tag.geometry().intersects(view.end.geometry())
    assert reasons.geometry().top() > segments.geometry().bottom()  # under it, not beside
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: view._columns == 2)
    qtbot.wait(50)
    assert reasons.geometry().top() == segments.geometry().top()  # side by side
    window.resize(900, 600)
    qtbot.waitUntil(lambda: view._columns == 1)
    window.grab().save("/tmp/shots/lead/insights-900-reflowed.png")
