"""Every kind of entry field wears the app's field look (a border in the theme's border
colour on the surface colour), in light and dark: decimal fields (Settings › Insights, the
yearly value) and date-and-time fields (Log conversation's "When") once had none, because a
rule for all spin boxes stripped Qt's frame and no rule drew the app's."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QDate, QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QDateEdit, QDoubleSpinBox, QSpinBox, QWidget

from crmcompanion.ui import style
from tests.ui.test_settings_pages import open_settings


def _image(widget: QWidget) -> QImage:
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def _pixel(widget: QWidget, x: int, y: int) -> str:
    return QColor(_image(widget).pixel(x, y)).name()


def _field_colours(widget: QWidget) -> tuple[str, str]:
    """The colour of the field's left border and of its inside, halfway down."""
    middle = widget.height() // 2
    return _pixel(widget, 0, middle), _pixel(widget, 1, middle)


@pytest.fixture(params=["light", "dark"])
def theme(request, qapp):
    chosen = style.apply_look(qapp, request.param)
    yield chosen
    style.apply_look(qapp, "light")


def test_insights_decimal_fields_look_like_the_number_fields(qtbot, services, theme):
    dialog = open_settings(qtbot, services)
    page = dialog.show_page("Insights")
    page.grab().save(f"/tmp/shots/tidy2/insights-{theme.name}.png")
    decimals = [w for w in page.findChildren(QDoubleSpinBox) if w.isVisible()]
    numbers = [w for w in page.findChildren(QSpinBox) if w.isVisible()]
    assert decimals and numbers
    for field in (*decimals, numbers[0]):
        assert _field_colours(field) == (theme.border, theme.surface), field.text()


def test_yearly_value_field_has_the_field_look(qtbot, theme):
    from crmcompanion.ui.yearly_value import YearlyValueDialog

    dialog = YearlyValueDialog(lambda _value: None, 12000.0, "Ada Lovelace")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert _field_colours(dialog.value) == (theme.border, theme.surface)


def test_log_conversation_when_field_looks_like_the_date_fields(qtbot, services, theme):
    from crmcompanion.core.customer import CustomerDraft
    from crmcompanion.ui.log_conversation import LogConversationDialog

    ada = services.customers.create(CustomerDraft(first_name="Ada")).customer
    dialog = LogConversationDialog(services.interactions, services.clock, ada.id, "Ada")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.grab().save(f"/tmp/shots/tidy2/log-{theme.name}.png")
    when = dialog.when
    assert _field_colours(when) == (theme.border, theme.surface)
    # Its pop-up button is the chevron of every other date field, not a boxed square: the
    # right end matches a calendar date field's of the same size, pixel for pixel.
    date_field = QDateEdit(QDate(2026, 12, 6))
    date_field.setCalendarPopup(True)
    qtbot.addWidget(date_field)
    date_field.resize(when.size())
    date_field.show()
    qtbot.waitExposed(date_field)
    end = QRect(when.width() - 24, 1, 23, when.height() - 2)
    assert _image(when).copy(end) == _image(date_field).copy(end)
