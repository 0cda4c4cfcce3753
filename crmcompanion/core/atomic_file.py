"""Writing a file so that it is either wholly the new content or still the old one.

Every export (CSV, vCard, iCalendar, personal-data zip) writes a temporary file in the target's
folder (same file system, so the rename is atomic), syncs it to disk, then renames it over the
target. On any error, including a cancel raised from inside the writing, the temporary file is
removed and the target is left as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any


@contextmanager
def replaced_atomically(target: Path, mode: str = "wb", **open_args: Any) -> Iterator[IO[Any]]:
    """Yield an open temporary file; when the block ends cleanly it replaces `target`."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with open(fd, mode, **open_args) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
