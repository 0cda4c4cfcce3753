"""Icons built in one theme are drawn in the theme of the moment: when the operating system
switches to dark while the app runs ("system" appearance re-applies the look), the sidebar's
icons were left in the light theme's dark grey, invisible on the dark sidebar."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon

from crmcompanion.ui import style


def _ink(icon: QIcon, mode: QIcon.Mode = QIcon.Mode.Normal) -> set[str]:
    """The opaque colours an icon is drawn in (antialiased edges left out)."""
    image = icon.pixmap(QSize(24, 24), mode).toImage()
    return {QColor(image.pixel(x, y)).name() for x in range(image.width())
            for y in range(image.height()) if image.pixelColor(x, y).alpha() == 255}


def test_sidebar_icons_turn_light_when_the_look_turns_dark(window, qapp) -> None:
    style.apply_look(qapp, "light")
    today = window.nav.item(0).icon()
    assert _ink(today) == {style.LIGHT.text}
    # What the system scheme's change does: the look alone is applied again, no window call.
    style.apply_look(qapp, "dark")
    try:
        assert _ink(window.nav.item(0).icon()) == {style.DARK.text}
        assert _ink(window.nav.item(3).icon(), QIcon.Mode.Disabled) == {
            style.DARK.disabled_text}
    finally:
        style.apply_look(qapp, "light")


def test_a_named_colour_stays_whatever_the_theme(qapp) -> None:
    from crmcompanion.ui.icons import icon

    style.apply_look(qapp, "dark")
    try:
        assert _ink(icon("mail", "#ffffff")) == {"#ffffff"}
        assert _ink(icon("mail", active_colour="#123456"), QIcon.Mode.Selected) == {"#123456"}
    finally:
        style.apply_look(qapp, "light")
