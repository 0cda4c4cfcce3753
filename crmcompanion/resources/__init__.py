"""The app's own files (greeting templates, icons), shipped inside the package.

They live here, not in a top-level `resources/` folder, because a normal `pip install .` or
`pipx install .` ships only the package: files beside it stayed in the source tree and the
installed app crashed reading its templates. Everything reaches them through
`importlib.resources`, which works the same in a checkout, an installed wheel and a
PyInstaller bundle (its importer serves package data too). Qt-free and import-light: the CLI,
the core rules and the GUI all use it.
"""

from __future__ import annotations

import importlib.resources
import logging
from importlib.resources.abc import Traversable
from pathlib import Path

logger = logging.getLogger(__name__)

ICONS = "icons"
TEMPLATES = "templates"
# The app icon: the SVG master and the PNG sizes rendered from it (packaging/render_icons.py),
# for desktops, installers and the bundle that do not read SVG.
APP_ICON_SVG = "crmcompanion.svg"
APP_ICON_PNG_SIZES = (48, 64, 128, 256)


def resource(*parts: str) -> Traversable:
    """The packaged file `crmcompanion/resources/<parts...>` (it may not exist)."""
    node = importlib.resources.files(__name__)
    for part in parts:
        node = node / part
    return node


def resource_path(*parts: str) -> Path | None:
    """A filesystem path to the packaged file, or None if it is missing.

    Every way the app is installed (checkout, wheel, bundle) unpacks the package onto disk,
    so the Traversable is a real path; Qt and the stylesheet need one.
    """
    node = resource(*parts)
    if not node.is_file():
        logger.warning("The app's file %s is missing from the installation", "/".join(parts))
        return None
    return Path(str(node))


def app_icon_png(size: int) -> str:
    """The file name of the app icon rendered at `size` pixels."""
    return f"crmcompanion-{size}.png"
