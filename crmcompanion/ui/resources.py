"""Finding bundled files (icons): `resources/` beside the package in a checkout, else the
packaged `crmcompanion.resources`. Never the current directory.
"""

from __future__ import annotations

import importlib.resources
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

APP_ICON = "crmcompanion.svg"


def icon_path(name: str) -> Path | None:
    candidate = Path(__file__).resolve().parents[2] / "resources" / "icons" / name
    if candidate.is_file():
        return candidate
    try:
        packaged = importlib.resources.files("crmcompanion.resources") / "icons" / name
        if packaged.is_file():
            return Path(str(packaged))
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    logger.warning("Icon %s not found", name)
    return None
