"""The Feedback & ideas lists fit their width (issue: last stop's look round): the Complaints
list beside a chosen complaint never scrolls sideways in a 900x600 window, and the Ideas
board's idea column grows with the window instead of stopping at a fixed 240 pixels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.services.changes import Changed
from tests.ui.helpers import painted_pixels
from tests.ui.test_feedback_ui import _open_page

LONG_COMPLAINT = ("The parcel arrived three days late, the box was crushed on one side and "
                  "nobody answered the phone or the emails about it for a whole week")
LONG_IDEA = ("Open on Sunday mornings for the families who cannot come on weekdays, with the "
             "bakery counter and the coffee corner both staffed")


def _customers(services, count: int) -> list[int]:
    return [services.customers.create(CustomerDraft(
        first_name=f"Maximiliane{n}", last_name="Oberhauser-Wittgenstein")).customer.id
        for n in range(count)]


def _settled(qtbot, table) -> None:
    # Layouts (the splitter, the scroll bars) finish on later turns of the event loop.
    for _ in range(3):
        QApplication.processEvents()
    qtbot.waitUntil(lambda: table.horizontalHeader().length() <= table.viewport().width())


def test_complaints_list_fits_900x600_without_sideways_scrolling(qtbot, services,
                                                                   make_window) -> None:
    ids = _customers(services, 3)
    for cid in ids:
        services.feedback.add(cid, "complaint", LONG_COMPLAINT,
                              themes=["Delivery", "Customer service", "Communication"])
    window = make_window()
    window.resize(900, 600)
    page = _open_page(qtbot, window)
    complaints = page.complaints
    table = complaints.table
    qtbot.waitUntil(lambda: table.rowCount() == 3)
    # As the owner does: choose a complaint, its panel takes the right-hand side.
    table.selectRow(0)
    qtbot.waitUntil(complaints.showing_complaint)
    _settled(qtbot, table)
    assert table.horizontalScrollBar().maximum() == 0
    assert not table.horizontalScrollBar().isVisible()
    header = table.horizontalHeader()
    shown = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())
             if not table.isColumnHidden(c)]
    # The date and the customer stay; the complaint's own text keeps a column.
    assert {"Date", "Customer", "Complaint"} <= set(shown), shown
    date_column = 0
    assert header.sectionSize(date_column) >= table.sizeHintForColumn(date_column)  # whole

    # Wider, the columns that gave way come back, and still nothing scrolls sideways.
    window.resize(1600, 1000)
    _settled(qtbot, table)
    assert all(not table.isColumnHidden(c) for c in range(table.columnCount()))
    assert table.horizontalScrollBar().maximum() == 0


def test_ideas_column_grows_with_the_window(qtbot, services, make_window) -> None:
    ids = _customers(services, 4)
    idea = services.feedback.add(ids[0], "idea", LONG_IDEA).item.id
    for cid in ids[1:]:
        services.feedback.add_requester(idea, cid)
    window = make_window()
    page = _open_page(qtbot, window)
    page.tabs.setCurrentWidget(page.ideas)
    table = page.ideas.table
    qtbot.waitUntil(lambda: page.ideas.ready and table.rowCount() == 1)
    widths = {}
    for width, height in ((900, 600), (1366, 768), (1600, 1000)):
        window.resize(width, height)
        _settled(qtbot, table)
        assert table.horizontalScrollBar().maximum() == 0, width
        widths[width] = table.columnWidth(0)
    assert widths[900] < widths[1366] < widths[1600], widths
    assert widths[1600] > 240, widths  # the old fixed cap
    assert table.item(0, 0).toolTip() == LONG_IDEA  # elided at 900 px: whole on hover


def test_empty_lists_say_what_fills_them(qtbot, services, make_window) -> None:
    window = make_window()
    window.resize(900, 600)
    page = _open_page(qtbot, window)
    board = page.ideas
    for tab, words in ((page.themes, "No themes yet"), (board, "No ideas yet"),
                       (page.everything, "No feedback yet")):
        page.tabs.setCurrentWidget(tab)
        qtbot.waitUntil(tab.table.isVisible)
        QApplication.processEvents()
        assert tab.table.showing_empty_text(), tab
        assert tab.table.empty_text.startswith(words)
        assert painted_pixels(tab.table) > 50, tab  # the sentence is on screen
    # The idea buttons (all greyed out with nothing to act on) wait for an idea.
    page.tabs.setCurrentWidget(board)
    assert not board.actions.isVisible()
    nora = _customers(services, 1)[0]
    services.feedback.add(nora, "idea", LONG_IDEA)
    window.bus.publish(Changed(feedback=True))
    qtbot.waitUntil(lambda: board.ready and board.table.rowCount() == 1)
    qtbot.waitUntil(board.actions.isVisible)
    assert not board.table.showing_empty_text()
    # The count's heading sits over its right-aligned numbers.
    count_title = board.table.horizontalHeaderItem(2)
    assert count_title.text() == "Customers"
    assert count_title.textAlignment() & Qt.AlignmentFlag.AlignRight


def test_an_elided_cell_shows_its_whole_text_on_hover(qtbot, services, make_window) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    name = "Maximiliane Oberhauser"  # short enough to carry no tooltip of its own
    nora = services.customers.create(CustomerDraft(
        first_name="Maximiliane", last_name="Oberhauser")).customer.id
    services.feedback.add(nora, "complaint", LONG_COMPLAINT)
    window = make_window()
    window.resize(900, 600)
    page = _open_page(qtbot, window)
    table = page.complaints.table
    qtbot.waitUntil(lambda: table.rowCount() == 1)
    table.selectRow(0)
    qtbot.waitUntil(page.complaints.showing_complaint)
    _settled(qtbot, table)
    cell = table.item(0, 1)
    assert cell.text() == name and not cell.toolTip()
    # Narrowed until the name is cut, as a narrow list does.
    table.setColumnWidth(1, table.fontMetrics().horizontalAdvance(name) // 2)
    spot = table.visualItemRect(cell).center()
    QApplication.sendEvent(table.viewport(), QHelpEvent(
        QEvent.Type.ToolTip, spot, table.viewport().mapToGlobal(spot)))
    qtbot.waitUntil(QToolTip.isVisible)
    assert QToolTip.text() == name
    QToolTip.hideText()
    qtbot.waitUntil(lambda: not QToolTip.isVisible())
    # Whole, it shows no tooltip.
    table.setColumnWidth(1, table.fontMetrics().horizontalAdvance(name) + 40)
    spot = table.visualItemRect(cell).center()
    QApplication.sendEvent(table.viewport(), QHelpEvent(
        QEvent.Type.ToolTip, spot, table.viewport().mapToGlobal(spot)))
    QApplication.processEvents()
    assert not QToolTip.isVisible()
