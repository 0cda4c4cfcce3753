"""Scroll bars are a plain modern bar in both themes, the same everywhere: a visible track,
a rounded handle that darkens under the pointer, and no arrow buttons (they were Fusion's
outlined box with arrows and no visible track, on Today and Insights)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QScrollBar, QStyle, QStyleOptionSlider

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.core.settings import APPEARANCE
from crmcompanion.ui import style


@pytest.fixture(params=["light", "dark"])
def theme(request, qapp):
    chosen = style.apply_look(qapp, request.param)
    yield chosen
    style.apply_look(qapp, "light")


def _colour(bar: QScrollBar, point: QPoint) -> str:
    image = bar.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    return QColor(image.pixel(point)).name()


def _part(bar: QScrollBar, part: QStyle.SubControl):
    option = QStyleOptionSlider()
    bar.initStyleOption(option)
    return bar.style().subControlRect(QStyle.ComplexControl.CC_ScrollBar, option, part, bar)


def test_today_scroll_bar_has_a_track_a_handle_and_no_arrows(qtbot, make_window, services,
                                                             theme):
    for day in range(1, 31):  # a month of birthdays: more rows than a 600 px window shows
        services.customers.create(CustomerDraft(
            first_name=f"Guest{day}", special_dates=(
                SpecialDate(SpecialDateKind.BIRTHDAY, 3, day, 1980),)))
    services.settings.update({APPEARANCE.key: theme.name})  # the window applies it
    window = make_window()
    assert style.current_theme() is theme
    window.resize(900, 600)
    qtbot.waitUntil(lambda: window.today.ready)
    bar = window.today.list.verticalScrollBar()
    qtbot.waitUntil(bar.isVisible)
    window.grab().save(f"/tmp/shots/tidy2/today-scroll-{theme.name}.png")
    assert _part(bar, QStyle.SubControl.SC_ScrollBarAddLine).isEmpty()
    assert _part(bar, QStyle.SubControl.SC_ScrollBarSubLine).isEmpty()
    handle = _part(bar, QStyle.SubControl.SC_ScrollBarSlider)
    middle = bar.width() // 2
    assert _colour(bar, QPoint(middle, bar.height() - 3)) == theme.hover  # the track
    on_handle = QPoint(middle, handle.center().y())
    assert _colour(bar, on_handle) == theme.disabled_text
    # The pointer onto the handle (from elsewhere: a move to where it already is is none).
    qtbot.mouseMove(window, QPoint(5, 5))
    qtbot.mouseMove(bar, on_handle)
    qtbot.waitUntil(lambda: _colour(bar, on_handle) == theme.muted)
