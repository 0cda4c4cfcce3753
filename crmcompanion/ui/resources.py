"""Finding the GUI's bundled files (icons) in the packaged `crmcompanion.resources`.

Never the current directory, never a folder beside the package: see crmcompanion.resources.
"""

from __future__ import annotations

import logging
from pathlib import Path

from crmcompanion.resources import APP_ICON_SVG, ICONS, resource_path

logger = logging.getLogger(__name__)

APP_ICON = APP_ICON_SVG


def icon_path(name: str) -> Path | None:
    return resource_path(ICONS, name)

