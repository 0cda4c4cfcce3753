"""store.scratch: scratch files live in <data>/tmp and a process that has gone leaves nothing.

Real processes hold the locks here: one killed with SIGKILL (its folder must be swept), one
still running (its folder must survive the sweep).
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from crmcompanion.store.database import open_database
from crmcompanion.store.scratch import ScratchArea

_HOLDER = """
import sys, pathlib
from crmcompanion.store.scratch import ScratchArea
area = ScratchArea(pathlib.Path(sys.argv[1]))
folder = area.folder()
(folder / "crmcompanion-import-x.sqlite3").write_bytes(b"x" * 100_000)
print(folder, flush=True)
sys.stdin.read()  # until told to go (or killed)
"""


def _holder(root: Path) -> tuple[subprocess.Popen[str], Path]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(root)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_a_killed_process_s_scratch_is_swept_and_a_live_one_s_kept(tmp_path: Path) -> None:
    root = tmp_path / "tmp"
    killed, killed_folder = _holder(root)
    live, live_folder = _holder(root)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        assert killed_folder.is_dir() and live_folder.is_dir()
        open_database(f"sqlite:///{tmp_path / 'crmcompanion.sqlite3'}").dispose()
        assert not killed_folder.exists()
        assert (live_folder / "crmcompanion-import-x.sqlite3").is_file()
    finally:
        live.communicate("")
    assert not live_folder.exists(), "a process that ends normally removes its own folder"


def test_the_scratch_folder_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        area = ScratchArea(tmp_path / "tmp")
        folder = area.folder()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "tmp").stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    area.close()
    assert not folder.exists()


def test_an_older_version_s_leftovers_go_once_an_hour_old(tmp_path: Path) -> None:
    old_file = tmp_path / "crmcompanion-import-abc.sqlite3"
    fresh_file = tmp_path / "crmcompanion-import-def.sqlite3"
    old_folder = tmp_path / "crmcompanion-search-abc"
    for path in (old_file, fresh_file):
        path.write_bytes(b"x")
    old_folder.mkdir()
    (old_folder / "search.sqlite3").write_bytes(b"x")
    hour_ago = time.time() - 3700
    for path in (old_file, old_folder):
        os.utime(path, (hour_ago, hour_ago))
    open_database(f"sqlite:///{tmp_path / 'crmcompanion.sqlite3'}").dispose()
    assert not old_file.exists() and not old_folder.exists()
    assert fresh_file.exists()
