"""Every kind of entry field wears the app's field look (a border in the theme's border
colour on the surface colour), in light and dark: decimal fields (Settings › Insights, the
yearly value) and date-and-time fields (Log conversation's "When") once had none, because a
rule for all spin boxes stripped Qt's frame and no rule drew the app's."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox, QWidget

from crmcompanion.ui import style
from tests.ui.test_settings_pages import open_settings


def _pixel(widget: QWidget, x: int, y: int) -> str:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    return QColor(image.pixel(x, y)).name()


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
