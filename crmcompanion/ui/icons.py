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

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QIconEngine, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from crmcompanion.ui.resources import icon_path

logger = logging.getLogger(__name__)

# What each symbol the app used to draw becomes: EmptyState and callers that still pass a
# symbol get the matching icon.
SYMBOL_ICONS: dict[str, str] = {
    "☀": "sun", "☺": "users", "✎": "message-square-heart", "◔": "chart-pie", "⌕": "search",
    "⚙": "settings", "✉": "mail", "✓": "check", "✕": "x", "★": "star", "⇄": "arrow-left-right",
}


@lru_cache(maxsize=64)
def _svg(name: str) -> bytes | None:
    path = icon_path(f"{name}.svg")
    if path is None:
        logger.warning("Icon %s is missing from this installation", name)
        return None
    return path.read_bytes()


@lru_cache(maxsize=256)
def _renderer(name: str, colour: str) -> QSvgRenderer | None:
    data = _svg(name)
    if data is None:
        return None
    return QSvgRenderer(QByteArray(data.replace(b"currentColor", colour.encode())))


def pixmap(name: str, colour: str, size: int, ratio: float = 1.0) -> QPixmap:
    """`name`'s SVG painted in `colour`, `size` device-independent pixels square."""
    side = max(1, round(size * ratio))
    image = QPixmap(side, side)
    image.fill(Qt.GlobalColor.transparent)
    renderer = _renderer(name, colour)
    if renderer is None:
        return image
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, side, side))
    painter.end()
    image.setDevicePixelRatio(ratio)
    return image


# The theme colour each mode is drawn in unless the caller named a colour.
_THEME_COLOURS: dict[QIcon.Mode, str] = {
    QIcon.Mode.Normal: "text", QIcon.Mode.Active: "text",
    QIcon.Mode.Selected: "accent_text", QIcon.Mode.Disabled: "disabled_text",
}


class _SvgIconEngine(QIconEngine):
    """Draws the SVG at the size and in the colour of the mode asked for, when asked:
    building an icon costs nothing at start-up (rendering every size and mode up front
    cost ~7 ms an icon, ~100 ms for the window's). A mode without a colour of its own is
    drawn in the theme's colour of the moment, so an icon built in light mode turns light
    when the system switches to dark (the sidebar's were dark grey on dark grey)."""

    def __init__(self, name: str, colours: dict[QIcon.Mode, str]) -> None:
        super().__init__()
        self._name = name
        self._colours = colours

    def _colour(self, mode: QIcon.Mode) -> str:
        from crmcompanion.ui.style import current_theme

        chosen = self._colours.get(mode)
        if chosen is not None:
            return chosen
        theme = current_theme()
        return str(getattr(theme, _THEME_COLOURS.get(mode, "text")))

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode,
              state: QIcon.State) -> None:
        renderer = _renderer(self._name, self._colour(mode))
        if renderer is not None:
            renderer.render(painter, QRectF(rect))

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return _cached(self._name, self._colour(mode), min(size.width(), size.height()))

    def clone(self) -> QIconEngine:
        return _SvgIconEngine(self._name, dict(self._colours))


@lru_cache(maxsize=512)
def _cached(name: str, colour: str, size: int) -> QPixmap:
    return pixmap(name, colour, size)


def icon(name: str, colour: str | None = None, active_colour: str | None = None) -> QIcon:
    """A theme-coloured icon with its normal, selected (on the accent) and disabled looks.
    `colour` and `active_colour` fix the normal and the selected colour; the others follow
    the theme as it changes."""
    colours: dict[QIcon.Mode, str] = {}
    if colour is not None:
        colours[QIcon.Mode.Normal] = colours[QIcon.Mode.Active] = colour
    if active_colour is not None:
        colours[QIcon.Mode.Selected] = active_colour
    return QIcon(_SvgIconEngine(name, colours))


def icon_for_symbol(symbol: str) -> str | None:
    """The icon name that replaces a Unicode symbol, or None when there is none."""
    return SYMBOL_ICONS.get(symbol.strip())


ICON_SIZE = QSize(18, 18)
