"""Scratch files (import staging, bulk-load parts, the search index built aside) in one folder
that the next start empties.

Why: an interrupted import left its 10-13 MB staging file (`crmcompanion-import-*.sqlite3`)
and bulk loads their `crmcompanion-stage-*` folders behind, in the system's temporary folder
or next to the database, and nothing removed them until a day had passed, if ever. Now each
process that needs scratch space gets a folder of its own inside `<data>/tmp` (owner-only),
and holds an exclusive lock on a file in it for as long as it lives. The lock is the
operating system's (flock; on Windows a byte-range lock), so it ends with the process, however
it ends: SIGKILL or a power cut leave no lock that could block anything. Opening the database
(`clean`) removes every folder whose lock can be taken: its process has gone. A folder being
made is invisible to that sweep until its lock is held (it is made under a `.new-` name and
renamed once locked).

Files an older version left where it used to put them (`crmcompanion-import-*.sqlite3` beside
the database, `crmcompanion-stage-*`/`crmcompanion-search-*` folders) carry no lock, so they are
removed once they are an hour old: no import or load keeps one that long without writing it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import IO

from crmcompanion.core.atomic_file import owner_only_folder

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
try:
    import msvcrt
except ImportError:  # POSIX
    msvcrt = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

FOLDER_NAME = "tmp"
LOCK_NAME = ".owner.lock"
_NEW = ".new-"
LEGACY_STALE_AFTER_S = 3600
_LEGACY_FILES = ("crmcompanion-import-*.sqlite3", "crmcompanion-import-*.sqlite3-journal")
_LEGACY_FOLDERS = ("crmcompanion-stage-*", "crmcompanion-search-*")


def _try_lock(handle: IO[bytes]) -> bool:
    """Take the exclusive lock on `handle` without waiting; False when another holds it."""
    try:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        elif msvcrt is not None:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        return True
    except OSError:
        return False


def _remove_if_abandoned(folder: Path) -> bool:
    """Remove a process's scratch folder if its lock can be taken (the process has gone)."""
    try:
        handle = open(folder / LOCK_NAME, "a+b")  # noqa: SIM115 - held while removing
    except FileNotFoundError:
        handle = None  # not made by this module's rules: nobody can be using it as ours
    except OSError:
        return False
    try:
        if handle is not None and not _try_lock(handle):
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return not folder.exists()
    finally:
        if handle is not None:
            handle.close()


def _old(path: Path, now: float) -> bool:
    try:
        return path.lstat().st_mtime < now - LEGACY_STALE_AFTER_S
    except OSError:
        return False


def remove_legacy(folders: Iterable[Path]) -> int:
    """Remove what earlier versions left in `folders` (see module doc); returns how many."""
    now = time.time()
    removed = 0
    for folder in folders:
        with suppress(OSError):
            for pattern in _LEGACY_FILES:
                for path in folder.glob(pattern):
                    if _old(path, now):
                        with suppress(OSError):
                            path.unlink()
                            removed += 1
            for pattern in _LEGACY_FOLDERS:
                for path in folder.glob(pattern):
                    if path.is_dir() and not path.is_symlink() and _old(path, now):
                        shutil.rmtree(path, ignore_errors=True)
                        removed += not path.exists()
    return removed


def _release(folder: Path, handle: IO[bytes], owner: int) -> None:
    if os.getpid() != owner:  # a forked child's exit is not its parent's
        return
    shutil.rmtree(folder, ignore_errors=True)
    handle.close()


class ScratchArea:
    """`<root>/<pid>-<random>/`, this process's scratch folder, made and locked on first use.

    With no root (a database that is not a file) the folder is made in the system's temporary
    folder instead, and nothing there is swept: other users and programs share it."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._folder: Path | None = None
        self._mutex = threading.Lock()
        self._finalizer: weakref.finalize | None = None

    def folder(self) -> Path:
        """This process's folder (created, owner-only, on first call)."""
        with self._mutex:
            if self._folder is None or not self._folder.is_dir():
                self._folder = self._make()
            return self._folder

    def _make(self) -> Path:
        base = Path(tempfile.gettempdir()) if self.root is None else owner_only_folder(self.root)
        tag = f"{os.getpid()}-{os.urandom(4).hex()}"
        making = Path(tempfile.mkdtemp(prefix=f"{_NEW}{tag}-", dir=base))  # 0700
        handle = open(making / LOCK_NAME, "a+b")  # noqa: SIM115 - held for the process's life
        if not _try_lock(handle):  # a fresh file nobody else knows: cannot happen
            handle.close()
            raise OSError(f"cannot lock the scratch folder {making}")
        prefix = "crmcompanion-scratch-" if self.root is None else ""
        folder = base / f"{prefix}{tag}"
        os.rename(making, folder)
        if self._finalizer is not None:
            self._finalizer()
        self._finalizer = weakref.finalize(self, _release, folder, handle, os.getpid())
        return folder

    def clean(self, legacy_folders: Iterable[Path] = ()) -> int:
        """Remove the folders of processes that have gone, and an older version's leftovers;
        returns how many were removed. Never raises: a sweep that fails is retried next time."""
        removed = remove_legacy([*legacy_folders, Path(tempfile.gettempdir())])
        if self.root is None:
            return removed
        now = time.time()
        try:
            entries = list(self.root.iterdir())
        except OSError:
            return removed
        with suppress(OSError):
            self.root.chmod(0o700)  # scratch holds customer data: owner-only, however made
        for entry in entries:
            if entry == self._folder:
                continue
            if entry.name.startswith(_NEW) and not _old(entry, now):
                continue  # being made right now by another process
            if entry.is_dir() and not entry.is_symlink():
                removed += _remove_if_abandoned(entry)
            else:
                with suppress(OSError):
                    entry.unlink()
                    removed += 1
        if removed:
            logger.info("Removed %d leftover temporary file(s) from %s", removed, self.root)
        return removed

    def close(self) -> None:
        """Remove this process's folder now (also done when the area is collected or the
        process exits)."""
        with self._mutex:
            if self._finalizer is not None:
                self._finalizer()
            self._folder = None
