"""Feedback & ideas in a 900x600 window (screenshots of issue 15, looked at): the complaint
panel's plan fields stay inside the visible panel and do not overlap, and the Ideas board
shows every column without scrolling sideways, however long an idea or a requester list."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QWidget

from crmcompanion.core.customer import CustomerDraft
from tests.ui.test_feedback_ui import _open_page

LONG_IDEA = ("Open on Sunday mornings for the families who cannot come on weekdays, with the "
             "bakery counter and the coffee corner both staffed")


def _right_edge_in(widget: QWidget, area: QWidget) -> int:
    return widget.mapTo(area, widget.rect().topRight()).x()


def _first_complaint_at_900x600(qtbot, make_window):
    """The Feedback page in a 900x600 window with its one complaint chosen, as the owner
    does."""
    window = make_window()
    window.resize(900, 600)
    page = _open_page(qtbot, window)
    complaints = page.complaints
    qtbot.waitUntil(lambda: complaints.table.rowCount() == 1)
    complaints.table.selectRow(0)
    return page


def test_complaint_panel_and_ideas_fit_900x600(qtbot, services, make_window) -> None:
    ids = [services.customers.create(CustomerDraft(
        first_name=f"Maximiliane{n}", last_name="Oberhauser-Wittgenstein")).customer.id
        for n in range(6)]
    services.feedback.add(ids[0], "complaint",
                          "The parcel never arrived and nobody answered the phone for a week",
                          themes=["Delivery", "Customer service", "Communication"])
    idea = services.feedback.add(ids[0], "idea", LONG_IDEA).item.id
    for cid in ids[1:]:
        services.feedback.add_requester(idea, cid)
    page = _first_complaint_at_900x600(qtbot, make_window)
    complaints = page.complaints
    panel = complaints.panel
    qtbot.waitUntil(lambda: panel.isEnabled())
    QApplication.processEvents()
    viewport = complaints.panel_scroll.viewport()
    # The plan's rows stacked, not squeezed over each other (laid out on a later turn).
    qtbot.waitUntil(lambda: panel.has_target.geometry().top() > panel.goal.geometry().bottom())
    assert panel.target.geometry().top() > panel.goal.geometry().bottom()
    for field in (panel.goal, panel.target, panel.note_button, panel.meta, panel.title):
        assert _right_edge_in(field, viewport) <= viewport.width(), field

    page.tabs.setCurrentWidget(page.ideas)
    board = page.ideas
    qtbot.waitUntil(lambda: board.ready and board.table.rowCount() == 1)
    QApplication.processEvents()
    table = board.table
    assert table.horizontalScrollBar().maximum() == 0
    assert table.item(0, 0).toolTip() == LONG_IDEA  # the elided idea, whole on hover
    assert table.item(0, 2).text() == "6"


def test_a_long_progress_note_wraps_in_the_panel_at_900x600(qtbot, services, make_window):
    nora = services.customers.create(CustomerDraft(first_name="Nora")).customer.id
    item = services.feedback.add(nora, "complaint", "The parcel never arrived").item.id
    note = ("Apologised on the phone and promised to look into it with the courier before "
            "the end of the week, then call her back with what they say")
    services.feedback.add_note(item, note)
    history = _first_complaint_at_900x600(qtbot, make_window).complaints.panel.history
    qtbot.waitUntil(lambda: history.count() >= 1 and history.isVisible())
    QApplication.processEvents()
    row = next(history.item(r) for r in range(history.count())
               if note in history.item(r).text())
    rect = history.visualItemRect(row)
    assert history.horizontalScrollBar().maximum() == 0
    assert rect.right() <= history.viewport().width()  # not past the list's edge
    assert rect.height() >= 2 * history.fontMetrics().lineSpacing()  # wrapped, read whole
