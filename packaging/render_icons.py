"""Render the app icon's PNG sizes from the SVG master.

The PNGs are committed product assets (crmcompanion/resources/icons/crmcompanion-<N>.png):
desktops, the AppStream catalogue and installers want bitmaps at fixed sizes, and the bundle
should not depend on Qt's SVG plugin to show its icon. Re-run this after editing the SVG:

    QT_QPA_PLATFORM=offscreen python packaging/render_icons.py
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from crmcompanion.resources import APP_ICON_PNG_SIZES, APP_ICON_SVG, ICONS, app_icon_png, resource

logger = logging.getLogger(__name__)


def render(svg: Path, target: Path, size: int) -> None:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(target), "PNG"):
        raise SystemExit(f"render_icons: could not write {target}")


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    icons = Path(str(resource(ICONS)))
    svg = icons / APP_ICON_SVG
    for size in APP_ICON_PNG_SIZES:
        target = icons / app_icon_png(size)
        render(svg, target, size)
        sys.stdout.write(f"{target}\n")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
