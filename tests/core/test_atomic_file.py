"""core.atomic_file: what a target is decides how it is written, and the app's own files never are.

Device tests touch /dev/null and /dev/full only after `plan_output` has said they will be
streamed: a wrong implementation would otherwise replace them (as root) with regular files.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmcompanion.core import atomic_file
from crmcompanion.core.atomic_file import (
    UnreadableInput,
    UnsafeOutput,
    check_input_file,
    plan_output,
    protect,
    replaced_atomically,
)


@pytest.fixture(autouse=True)
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test protects its own files only."""
    monkeypatch.setattr(atomic_file, "_protected", [])


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def write(target: Path | str, data: bytes = b"new") -> None:
    with replaced_atomically(target) as handle:
        handle.write(data)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_new_file_gets_the_umask_s_normal_mode(tmp_path: Path, umask_022: None) -> None:
    write(tmp_path / "new.csv")
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o644
    os.umask(0o027)
    write(tmp_path / "other.csv")
    assert stat.S_IMODE((tmp_path / "other.csv").stat().st_mode) == 0o640


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o755])
def test_replaced_file_keeps_its_permission_bits(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    target.chmod(mode)
    write(target)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert leftovers(tmp_path) == []


def test_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_bytes(b"old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    write(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new"


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "made.csv")
    write(link)
    assert link.is_symlink() and (tmp_path / "made.csv").read_bytes() == b"new"


def test_missing_folder_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "out.csv"
    with pytest.raises(UnsafeOutput, match=r"the folder .*nope does not exist"):
        write(target)
    assert list(tmp_path.iterdir()) == []


def test_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsafeOutput, match="it is a folder"):
        write(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_path_through_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(UnsafeOutput, match="part of that path is a file"):
        write(tmp_path / "file" / "out.csv")


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")

    class Cancelled(Exception):
        pass

    with pytest.raises(Cancelled), replaced_atomically(target) as handle:
        handle.write(b"half")
        raise Cancelled
    assert target.read_bytes() == b"old" and leftovers(tmp_path) == []


@pytest.fixture
def data_folder(tmp_path: Path) -> Path:
    home = tmp_path / "data"
    (home / "backups").mkdir(parents=True)
    db = home / "crmcompanion.sqlite3"
    db.write_bytes(b"SQLite format 3\x00 live data")
    (home / "backups" / "before-0006.sqlite3").write_bytes(b"SQLite format 3\x00 backup")
    protect(home, "the data folder")
    for suffix in ("", "-wal", "-shm", "-journal"):
        protect(f"{db}{suffix}", "the CRM Companion database")
    protect(home / "backups", "the backups folder", tree=True)
    return home


def _aliases(home: Path, tmp_path: Path) -> dict[str, Path]:
    db = home / "crmcompanion.sqlite3"
    symlink = tmp_path / "innocent.csv"
    symlink.symlink_to(db)
    hard = tmp_path / "hard.csv"
    os.link(db, hard)
    folder_link = tmp_path / "alias"
    folder_link.symlink_to(home)
    backup_hard = tmp_path / "old-backup.csv"
    os.link(home / "backups" / "before-0006.sqlite3", backup_hard)
    return {
        "database": db,
        "wal that does not exist yet": Path(f"{db}-wal"),
        "dotted path": home / "backups" / ".." / "crmcompanion.sqlite3",
        "symlink": symlink,
        "hard link": hard,
        "through a linked folder": folder_link / "crmcompanion.sqlite3-shm",
        "backup": home / "backups" / "before-0006.sqlite3",
        "new file in backups": home / "backups" / "new.csv",
        "hard link to a backup": backup_hard,
        "data folder": home,
    }


@pytest.mark.parametrize("case", [
    "database", "wal that does not exist yet", "dotted path", "symlink", "hard link",
    "through a linked folder", "backup", "new file in backups", "hard link to a backup",
    "data folder"])
def test_the_app_s_own_files_are_never_written(data_folder: Path, tmp_path: Path,
                                               case: str) -> None:
    target = _aliases(data_folder, tmp_path)[case]
    before = {p: p.read_bytes() for p in data_folder.rglob("*") if p.is_file()}
    with pytest.raises(UnsafeOutput, match=r"^Refusing to write .*: it is the "):
        write(target)
    assert {p: p.read_bytes() for p in data_folder.rglob("*") if p.is_file()} == before
    assert not Path(f"{data_folder / 'crmcompanion.sqlite3'}-wal").exists()


def test_an_ordinary_file_beside_the_database_is_written(data_folder: Path) -> None:
    write(data_folder / "export.csv")
    assert (data_folder / "export.csv").read_bytes() == b"new"


def test_stdout_dash_is_a_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", out)
    with replaced_atomically("-", "w", encoding="utf-8", newline="") as handle:
        handle.write("a,b\r\n")
    write("-", b"bytes")
    assert raw.getvalue() == b"a,b\r\nbytes"
    assert not out.closed


def test_named_pipe_is_a_stream(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write(fifo, b"through the pipe")
    reader.join()
    assert got == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_system_files_are_refused() -> None:
    with pytest.raises(UnsafeOutput, match="system file"):
        write("/proc/self/mem")


def test_input_checks(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInput, match="does not exist"):
        check_input_file(tmp_path / "nope.csv")
    with pytest.raises(UnreadableInput, match="is a folder"):
        check_input_file(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableInput, match="not a regular file"):
        check_input_file(fifo)  # refused without opening it (which would block)
    with pytest.raises(UnreadableInput, match="Cannot read /proc/self/mem"):
        check_input_file("/proc/self/mem")
    (tmp_path / "ok.csv").write_text("a\n")
    check_input_file(tmp_path / "ok.csv")


# Last, and only once the plan says "stream": a wrong implementation would replace the device.
@pytest.mark.parametrize("device", ["/dev/null", "/dev/full"])
def test_character_devices_are_streams_never_replaced(device: str) -> None:
    assert stat.S_ISCHR(os.stat(device).st_mode)
    plan = plan_output(device)
    assert plan.stream, "would replace the device: not writing"
    if device == "/dev/full":
        with pytest.raises(UnsafeOutput, match=r"^Cannot write /dev/full: no space left on device"):
            write(device, b"x" * 100_000)
    else:
        write(device, b"x" * 100_000)
    assert stat.S_ISCHR(os.lstat(device).st_mode)
