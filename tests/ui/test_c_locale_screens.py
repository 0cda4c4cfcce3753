"""In the C/POSIX locale (LANG=C: minimal Linux installs, containers, some launchers) no
screen shows Qt's numeric C dates ("23 11 2026"): lists, the profile, the Feedback page, the
complaint's target-date picker, Insights' period pickers, the "mark lost" dialog's win-back
date and the Log conversation dialog's next-step date all read with month names ("23 Nov
2026"). Qt's default locale is moved to C for the test and put back after, so it means the
same on a machine with a real locale."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from PySide6.QtCore import QDate, QLocale, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QLabel,
    QLineEdit,
    QWidget,
)

from crmcompanion.services.demo import fill_demo
from crmcompanion.ui import formatting
from crmcompanion.ui.insights_lost import LostReasonDialog
from crmcompanion.ui.log_conversation import LogConversationDialog
from crmcompanion.ui.main_window import CUSTOMERS, FEEDBACK, INSIGHTS
from tests.ui.test_screen_text import painted_rows

# Day, month and year as numbers joined by spaces: the C locale's "d MM yyyy" ("23 11
# 2026"), not part of a longer run of digit groups (a phone number, "+33 1 43 92 39 48").
NUMERIC_C_DATE = re.compile(
    r"(?<![\d+] )(?<![\d+])\b(0?[1-9]|[12]\d|3[01]) (0[1-9]|1[0-2]|[1-9]) \d{4}\b(?! \d+\b(?!:))")
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
WORDED_DATE = re.compile(rf"\b\d{{1,2}} ({MONTHS})[a-z]* \d{{4}}\b")


@pytest.fixture
def c_locale(qapp):
    previous = QLocale()
    # Nothing to clear: list dates are cached per locale (ui.formatting).
    QLocale.setDefault(QLocale.c())
    yield
    QLocale.setDefault(previous)


def screen_texts(root: QWidget) -> list[str]:
    """What a person can read under `root`: labels, buttons, fields, pickers, tool tips and
    every cell of the item views (their first 100 rows)."""
    texts: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible():
            continue
        if isinstance(widget, (QLabel, QAbstractButton, QLineEdit, QAbstractSpinBox)):
            texts.append(widget.text())
        if widget.toolTip():
            texts.append(widget.toolTip())
        if isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model = widget.model()
            root_index = widget.rootIndex()
            try:
                columns = model.columnCount(root_index)
            except TypeError:  # a list model hides columnCount: one column
                columns = 1
            for row in range(min(model.rowCount(root_index), 100)):
                for column in range(columns):
                    index = model.index(row, column)
                    for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                        value = index.data(role)
                        if isinstance(value, str):
                            texts.append(value)
    return [text for text in texts if text]


def numeric_dates(texts: list[str]) -> list[str]:
    return [text for text in texts if NUMERIC_C_DATE.search(text)]


@pytest.mark.clock_sensitive
def test_no_screen_shows_a_numeric_c_date(qtbot, c_locale, services, make_window):
    fill_demo(services.db, services.clock, 120, staff_id=services.staff_id)
    complaint = next(c for c in services.feedback.complaints(open_only=True)
                     if c.customer_id is not None)
    today = services.clock.today()
    services.feedback.set_plan(complaint.id, goal="Deliver by courier",
                               target_date=today + timedelta(days=5))
    window = make_window()

    # Today: the page's subtitle and the painted rows ("in 3 days, 4 Mar 2026").
    qtbot.waitUntil(lambda: window.today.model.rowCount() > 3)
    texts = screen_texts(window) + painted_rows(window.today)
    seen = {"Today": texts}

    # Customers and a profile.
    window.show_section(CUSTOMERS)
    model = window.customers.model
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    window.open_customer(complaint.customer_id)
    qtbot.waitUntil(lambda: window.customers.detail.isVisible())
    seen["Customers and profile"] = screen_texts(window)

    # Feedback: the complaints list and the planned complaint with its target-date picker.
    window.show_section(FEEDBACK)
    page = window.feedback_page
    qtbot.waitUntil(lambda: page.ready and bool(page.complaints.records))
    assert page.complaints.select(complaint.id)
    panel = page.complaints.panel
    qtbot.waitUntil(lambda: panel.target.isVisible() and panel.has_target.isChecked())
    seen["Feedback"] = screen_texts(window)
    assert panel.target.text() == formatting.short_date(today + timedelta(days=5))

    # Insights: the custom period's pickers.
    window.show_section(INSIGHTS)
    view = window.insights_view
    qtbot.waitUntil(lambda: view.isVisible() and view.start.isVisible(), timeout=60_000)
    seen["Insights"] = screen_texts(window)

    lost = LostReasonDialog(services, complaint.customer_id, complaint.customer, window)
    qtbot.addWidget(lost)
    lost.show()
    qtbot.waitExposed(lost)
    lost.win_back.setChecked(True)
    seen["Mark lost"] = screen_texts(lost)

    log = LogConversationDialog(services.interactions, services.clock, complaint.customer_id,
                                complaint.customer, window, touchpoints=services.touchpoints,
                                feedback=services.feedback)
    qtbot.addWidget(log)
    log.show()
    qtbot.waitExposed(log)
    seen["Log conversation"] = screen_texts(log)

    found = {screen: numeric_dates(texts) for screen, texts in seen.items()}
    assert found == {screen: [] for screen in seen}
    # The dates are there, written with month names.
    for screen in seen:
        assert any(WORDED_DATE.search(text) for text in seen[screen]), (screen, seen[screen])


def test_insights_date_pickers_show_whole_dates_at_900x600(qtbot, c_locale, make_window):
    """The custom period's pickers read "28 Sep 2026", not "28 Sep 202": at 900 px the filter
    row once squeezed them below their text. Every month's name is tried, as a user picks."""
    window = make_window()
    window.resize(900, 600)
    window.show_section(INSIGHTS)
    view = window.insights_view
    qtbot.waitUntil(lambda: view.isVisible() and view.start.isVisible(), timeout=60_000)
    view.period.setCurrentIndex(view.period.count() - 1)  # "Dates…": the pickers are live
    assert view.start.isEnabled()
    for month in range(1, 13):
        for edit in (view.start, view.end):
            edit.setDate(QDate(2026, month, 28))
            QApplication.processEvents()  # laid out again
            line = edit.lineEdit()
            margins = line.textMargins()
            # QLineEdit keeps 2 px each side of its text inside its contents rectangle.
            room = line.contentsRect().width() - margins.left() - margins.right() - 4
            text = edit.text()
            assert WORDED_DATE.fullmatch(text), text
            assert line.fontMetrics().horizontalAdvance(text) <= room, (text, room)
    assert view.start.geometry().right() < view.end.geometry().left()  # side by side
    assert view.tag.geometry().right() <= view.width()
