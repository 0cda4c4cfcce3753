"""The app's log file: `<data>/logs/crmcompanion.log`, rotated, readable by its owner only.

Why: the GUI had a log file and the CLI none, and both made it with the umask's mode (0644):
a log names customers, so on a shared machine anyone could read it. Now both the window and
every command log INFO and above to one rotating file (1 MB, five old files kept), created
0600 in a 0700 folder whatever the umask, and the console keeps exactly the level it had
(WARNING unless CRMCOMPANION_LOG_LEVEL says otherwise): a CLI message is still one line on
stderr. `AppPaths.log_file` names the file, so a crash dialog or "Open data folder" can show it.

Several processes may write the file at once (the window and a cron `remind --once`): appends
are atomic lines, and a rotation that another process's open file prevents (Windows) is skipped
rather than reported through logging's own error printout.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from contextlib import suppress
from pathlib import Path
from typing import Any

from crmcompanion.core.atomic_file import owner_only_folder

logger = logging.getLogger(__name__)

MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


class OwnerOnlyRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """RotatingFileHandler whose files are created 0600 (and made so, if an older version
    created them with the umask's mode); rotated files keep that mode (a rename)."""

    def _open(self) -> Any:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.baseFilename, flags, 0o600)
        if hasattr(os, "fchmod"):
            # Not our file (another user's, as root): leave its mode alone.
            with suppress(OSError):
                os.fchmod(fd, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)

    def doRollover(self) -> None:
        try:
            super().doRollover()
        except OSError:
            # Another process holds the file (Windows) or the folder went read-only: keep
            # writing to the same file, a little past the size, instead of failing the record.
            if self.stream is None:
                self.stream = self._open()


def install_file_log(log_file: Path) -> logging.Handler:
    """Send INFO and above to `log_file` (see module doc); the console keeps its level.
    Installing the same file twice returns the handler already there."""
    root = logging.getLogger()
    target = os.path.abspath(log_file)
    for handler in root.handlers:
        if isinstance(handler, OwnerOnlyRotatingFileHandler) and handler.baseFilename == target:
            return handler
    owner_only_folder(log_file.parent)
    handler = OwnerOnlyRotatingFileHandler(log_file, maxBytes=MAX_BYTES,
                                           backupCount=BACKUP_COUNT, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    console_level = root.level if root.level != logging.NOTSET else logging.WARNING
    handler.setLevel(min(logging.INFO, console_level))
    for other in root.handlers:
        if other.level == logging.NOTSET:
            other.setLevel(console_level)  # the console stays as quiet as configured
    root.addHandler(handler)
    root.setLevel(min(logging.INFO, console_level))
    return handler
