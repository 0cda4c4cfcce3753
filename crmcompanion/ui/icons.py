"""Real icons for the app's sidebar, menus and buttons, from one consistent set (Lucide SVGs).

Unicode symbols (☀ ☺ ✎ ◔ ⚙) have different widths and weights in every font, so rows of them
never lined up. The SVGs in `crmcompanion/resources/icons` (see ICONS.md there for their
origin and licence) draw with `currentColor`; `icon()` paints them in the current theme's
text colour, with the accent's text colour for a selected item and the disabled colour for
the disabled state, so they follow light and dark mode and look disabled when they are.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from crmcompanion.ui.resources import icon_path

logger = logging.getLogger(__name__)

# What each symbol the app used to draw becomes: EmptyState and callers that still pass a
# symbol get the matching icon.
SYMBOL_ICONS: dict[str, str] = {
    "☀": "sun", "☺": "users", "✎": "message-square-heart", "◔": "chart-pie", "⌕": "search",
    "⚙": "settings", "✉": "mail", "✓": "check", "✕": "x", "★": "star", "⇄": "arrow-left-right",
}
SIZES = (16, 20, 24, 32, 48, 64)


@lru_cache(maxsize=64)
def _svg(name: str) -> bytes | None:
    path = icon_path(f"{name}.svg")
    if path is None:
        logger.warning("Icon %s is missing from this installation", name)
        return None
    return path.read_bytes()


def pixmap(name: str, colour: str, size: int, ratio: float = 1.0) -> QPixmap:
    """`name`'s SVG painted in `colour`, `size` device-independent pixels square."""
    data = _svg(name)
    side = max(1, round(size * ratio))
    image = QPixmap(side, side)
    image.fill(Qt.GlobalColor.transparent)
    if data is None:
        return image
    renderer = QSvgRenderer(QByteArray(data.replace(b"currentColor", colour.encode())))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, side, side))
    painter.end()
    image.setDevicePixelRatio(ratio)
    return image


def icon(name: str, colour: str | None = None, active_colour: str | None = None) -> QIcon:
    """A theme-coloured icon with its normal, selected (on the accent) and disabled looks."""
    from crmcompanion.ui.style import current_theme

    theme = current_theme()
    normal = colour or theme.text
    result = QIcon()
    for size in SIZES:
        result.addPixmap(pixmap(name, normal, size), QIcon.Mode.Normal)
        result.addPixmap(pixmap(name, active_colour or theme.accent_text, size),
                         QIcon.Mode.Selected)
        result.addPixmap(pixmap(name, theme.disabled_text, size), QIcon.Mode.Disabled)
    return result


def icon_for_symbol(symbol: str) -> str | None:
    """The icon name that replaces a Unicode symbol, or None when there is none."""
    return SYMBOL_ICONS.get(symbol.strip())


ICON_SIZE = QSize(18, 18)
