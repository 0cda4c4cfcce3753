"""Where the app's log file and data folder are, for messages that point the user there.

`app.run_gui` calls `configure` once it knows the paths; in tests nothing is configured and
messages simply leave the path out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Places:
    data_folder: Path
    log_file: Path


_places: Places | None = None


def configure(places: Places | None) -> None:
    global _places
    _places = places


def places() -> Places | None:
    return _places


def log_hint() -> str:
    """" (/path/to/the.log)" when the log file is known, else ""."""
    return f" ({_places.log_file})" if _places is not None else ""
