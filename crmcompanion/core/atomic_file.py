"""The one gate for every file the app writes where the user said, and reads what they named.

Why: an export once wrote its CSV over the live database (`export -o crmcompanion.sqlite3`,
exit 0, every customer gone), and renaming a temporary file over "any path" replaced
/dev/null, /dev/stdout and symlinks with regular files, reported writing to /dev/full as a
success and left replaced files 0600. So every export (CSV, vCard, iCalendar, personal-data
zip) goes through `replaced_atomically`, which first decides what the target is:

- the app's own files (the database and its -wal/-shm/-journal, the data folder, the backups,
  logs and scratch folders: whatever `protect` was told, compared by resolved path and by
  device and inode, so a symlink, a hard link or a bind mount of them is caught too) are
  refused, before anything is written;
- a regular file, or a new name in an existing folder, is written to a temporary file in the
  same folder (same file system, so the rename is atomic), synced, then renamed over it. An
  existing file keeps its permission bits (and owner, where allowed); a new one gets the
  normal mode the umask gives. On any error, including a cancel raised from inside the
  writing, the temporary file is removed and the target is left as it was;
- a symlink is followed: its target is written as above and the link stays a link (a file
  with other hard links gets a new inode: the other names keep the old content, as with any
  editor that saves by renaming; extended attributes and ACLs are not copied);
- `-` (standard output), a character device or a named pipe is written as a stream, as a
  shell redirection would: no temporary file, no rename, nothing replaced;
- a folder, a missing folder, a block device, a socket, a file of /proc or /sys, or a
  read-only file is refused with one sentence naming it.

Write errors (ENOSPC from /dev/full, EIO, a full disk) become `UnsafeOutput` too: one line for
the user (CLI exit 1), never a traceback and never a half-written file in place of the old one.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from crmcompanion.core.errors import DomainError

logger = logging.getLogger(__name__)

STDOUT_NAME = "-"
# Pseudo file systems whose "regular files" are views of the system, never a place for data.
_SYSTEM_TREES = (Path("/proc"), Path("/sys"))
_NAME_ROOM = 200  # of a target's name kept in its temporary file's name (NAME_MAX is 255)


class UnsafeOutput(DomainError):
    """A file the app was asked to write cannot be, safely: one sentence naming it."""


class UnreadableInput(DomainError):
    """A file the user asked the app to read is not a readable file: one sentence naming it."""


@dataclass(frozen=True)
class _Protected:
    path: Path  # resolved
    what: str  # "the CRM Companion database", for the message
    tree: bool  # the folder and everything inside it


_protected: list[_Protected] = []
_protected_lock = threading.Lock()


def protect(path: str | os.PathLike[str], what: str, *, tree: bool = False) -> None:
    """Never let `replaced_atomically` write `path` (or, with `tree`, anything inside it).

    Process-wide on purpose: whichever window, worker or command writes a file, the app's own
    files are the same ones. `what` completes "it is ..." in the refusal."""
    entry = _Protected(Path(os.path.realpath(path)), what, tree)
    with _protected_lock:
        if entry not in _protected:
            _protected.append(entry)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _files_under(folder: Path) -> Iterator[Path]:
    with suppress(OSError):
        for root, _dirs, files in os.walk(folder):
            for name in files:
                yield Path(root) / name


def protected_as(target: str | os.PathLike[str]) -> str | None:
    """What app file `target` is (see `protect`), or None when it is none of them.

    Compared three ways, so no alias slips through: the resolved path (symlinks); the device
    and inode of the target (hard links, bind mounts); and the folder's device and inode with
    the name (a -wal that does not exist yet, reached through another mount of its folder)."""
    real = Path(os.path.realpath(target))
    with _protected_lock:
        entries = list(_protected)
    if not entries:
        return None
    ancestors = [real, *real.parents]
    ancestor_ids = {i for p in ancestors if (i := _identity(p)) is not None}
    parent_id = _identity(real.parent)
    try:
        st = os.stat(real)
        own_id: tuple[int, int] | None = (st.st_dev, st.st_ino)
        linked = st.st_nlink > 1 and stat.S_ISREG(st.st_mode)
    except OSError:
        own_id, linked = None, False
    for entry in entries:
        if entry.tree:
            if entry.path in ancestors or _identity(entry.path) in ancestor_ids:
                return entry.what
            # A hard link elsewhere to a file in the tree (only a file with more than one name
            # can be one, so the tree is read only then).
            if linked and any(_identity(f) == own_id for f in _files_under(entry.path)):
                return entry.what
            continue
        if real == entry.path:
            return entry.what
        if own_id is not None and _identity(entry.path) == own_id:
            return entry.what
        if (real.name == entry.path.name and parent_id is not None
                and _identity(entry.path.parent) == parent_id):
            return entry.what
    return None


@dataclass(frozen=True)
class OutputPlan:
    """How a target will be written: `stream` (stdout, a device, a pipe) or replaced."""

    given: str  # as the user named it, for messages
    real: Path  # symlinks followed
    stream: bool
    existing: os.stat_result | None  # the regular file being replaced, if any


def plan_output(target: str | os.PathLike[str]) -> OutputPlan:
    """Decide how `target` can be written, or raise UnsafeOutput (see module doc). Cheap and
    writes nothing, so callers may check before doing any work."""
    given = os.fspath(target)
    if given == STDOUT_NAME:
        return OutputPlan(given, Path(given), stream=True, existing=None)
    if not given.strip():
        raise UnsafeOutput("No output file was given.")
    try:
        st: os.stat_result | None = os.stat(given)  # through symlinks
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise UnsafeOutput(f"Cannot write {given}: part of that path is a file, not a folder; "
                           "nothing was written.") from None
    except OSError as exc:
        raise UnsafeOutput(f"Cannot write {given}: {_reason(exc)}; nothing was written.") from None
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        # Opened by the name given, not its resolved path: /dev/stdout on a pipe resolves to
        # "pipe:[1234]", which is no path at all.
        return OutputPlan(given, Path(given), stream=True, existing=None)
    real = Path(os.path.realpath(given))
    what = protected_as(real)
    if what is not None:
        raise UnsafeOutput(f"Refusing to write {given}: it is {what}; nothing was written.")
    if any(real == tree or tree in real.parents for tree in _SYSTEM_TREES):
        raise UnsafeOutput(f"Refusing to write {given}: it is a system file, not a place for "
                           "an export; nothing was written.")
    if st is None:
        folder = real.parent
        if not folder.is_dir():
            raise UnsafeOutput(f"Cannot write {given}: the folder {folder} does not exist; "
                               "nothing was written.")
        return OutputPlan(given, real, stream=False, existing=None)
    if stat.S_ISDIR(st.st_mode):
        raise UnsafeOutput(f"Cannot write {given}: it is a folder; name a file in it instead.")
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeOutput(f"Cannot write {given}: it is not a regular file; nothing was "
                           "written.")
    if not os.access(real, os.W_OK):
        raise UnsafeOutput(f"Cannot write {given}: the file is read-only; nothing was written.")
    return OutputPlan(given, real, stream=False, existing=st)


@contextmanager
def replaced_atomically(target: str | os.PathLike[str], mode: str = "wb",
                        **open_args: Any) -> Iterator[IO[Any]]:
    """Yield a file to write; when the block ends cleanly its content is `target`'s.

    Regular files and new names are replaced atomically, streams are written in place (see the
    module doc). Raises UnsafeOutput, before anything is written, for a target that must not or
    cannot be written, and for a write that fails (the old file is then left as it was)."""
    plan = plan_output(target)
    try:
        if plan.stream:
            with _streamed(plan, mode, open_args) as handle:
                yield handle
        else:
            with _replaced(plan, mode, open_args) as handle:
                yield handle
    except BrokenPipeError:
        raise  # the reader has gone: the caller stops quietly (crmcompanion.__main__)
    except OSError as exc:
        kept = " and was left as it was" if plan.existing is not None else ""
        raise UnsafeOutput(f"Cannot write {plan.given}: {_reason(exc)}; the file was not "
                           f"written{kept}.") from exc


@contextmanager
def _streamed(plan: OutputPlan, mode: str, open_args: dict[str, Any]) -> Iterator[IO[Any]]:
    if plan.given != STDOUT_NAME:
        # A device or a pipe, written like a shell redirection (no temporary file, no rename).
        with open(plan.real, mode, **open_args) as handle:
            yield handle
        return
    sys.stdout.flush()
    raw = sys.stdout.buffer
    if "b" in mode:
        yield raw
        raw.flush()
        return
    text = io.TextIOWrapper(raw, **open_args)
    try:
        yield text
        text.flush()
    finally:
        text.detach()  # sys.stdout keeps its buffer: the wrapper must not close it


def _temporary_name(real: Path) -> Path:
    return real.with_name(f".{real.name[:_NAME_ROOM]}.{secrets.token_hex(4)}.tmp")


@contextmanager
def _replaced(plan: OutputPlan, mode: str, open_args: dict[str, Any]) -> Iterator[IO[Any]]:
    real, existing = plan.real, plan.existing
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_BINARY", 0)
    while True:
        tmp = _temporary_name(real)
        try:
            # A new file: 0o666 less the umask, as any program's new file. A replaced file:
            # owner-only while written, its own bits (and owner) just before the rename.
            fd = os.open(tmp, flags, 0o600 if existing is not None else 0o666)
            break
        except FileExistsError:
            continue
    try:
        if existing is not None:
            _copy_ownership(fd, tmp, existing)
        with open(fd, mode, **open_args) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, real)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    sync_folder(real.parent)


def _copy_ownership(fd: int, tmp: Path, existing: os.stat_result) -> None:
    if hasattr(os, "fchown") and (existing.st_uid, existing.st_gid) != os.fstat(fd)[4:6]:
        with suppress(PermissionError):  # only root (or the group's member) may
            os.fchown(fd, existing.st_uid, existing.st_gid)
    bits = stat.S_IMODE(existing.st_mode) & 0o777  # never carry set-id bits to new content
    if hasattr(os, "fchmod"):
        os.fchmod(fd, bits)
    else:  # Windows: only the read-only bit means anything
        os.chmod(tmp, bits)


def sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); where a folder cannot be opened, skip it."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def owner_only_folder(folder: Path) -> Path:
    """Create `folder` (and its parents) 0700, or take group and other permissions off one an
    older version made under a umask of 022: the data, log, backup and scratch folders hold
    customer data. A folder whose permissions cannot be changed (another owner, a file system
    without Unix permissions such as a USB drive) is used as it is."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(OSError):
        mode = stat.S_IMODE(folder.stat().st_mode)
        if mode & 0o077:
            folder.chmod(mode & 0o700)
    return folder


def _reason(exc: OSError) -> str:
    """"no space left on device", without errno numbers or the path (the message has it)."""
    return exc.strerror.lower() if exc.strerror else str(exc)


def check_input_file(path: str | os.PathLike[str]) -> None:
    """Raise UnreadableInput unless `path` is a readable regular file, so an import of a
    folder, a device or /proc/self/mem fails with one line before any work."""
    given = os.fspath(path)
    try:
        st = os.stat(given)
    except FileNotFoundError:
        raise UnreadableInput(f"{given} does not exist.") from None
    except OSError as exc:
        raise UnreadableInput(f"Cannot read {given}: {_reason(exc)}.") from None
    if stat.S_ISDIR(st.st_mode):
        raise UnreadableInput(f"{given} is a folder, not a file.")
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableInput(f"{given} is not a regular file.")
    try:
        with open(given, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise UnreadableInput(f"Cannot read {given}: {_reason(exc)}.") from None
