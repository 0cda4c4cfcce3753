"""Helper processes never outlive their parent: a forked child (`fork`, `ForkedCall`) or a
spawned interpreter (`SpawnedCall`) whose parent is killed is killed too, at once, instead of
running on (using a core, writing scratch files, holding the scratch folder's lock); and
`crmcompanion demo` killed while its helper runs leaves a sound database with all of the demo
or none of it.

The test process makes itself a child subreaper (Linux) while a test runs, so the orphaned
helper becomes its child: it can then wait for it and read how it ended, killed by SIGKILL
(the parent-death signal, or the lifeline's end of file) rather than finishing its work.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from crmcompanion.infra import forking

ROOT = Path(__file__).resolve().parents[2]
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
# Generous bounds for waiting on another process on a busy machine; never a timing assertion.
PATIENCE_S = 120.0

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="subreapers and /proc are Linux's")


@contextmanager
def adopting_orphans() -> Iterator[None]:
    """Orphaned descendants of this process become its children while the block runs."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    assert prctl(PR_SET_CHILD_SUBREAPER, ctypes.c_ulong(1), ctypes.c_ulong(0),
                 ctypes.c_ulong(0), ctypes.c_ulong(0)) == 0
    try:
        yield
    finally:
        prctl(PR_SET_CHILD_SUBREAPER, ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0),
              ctypes.c_ulong(0))


def how_it_ended(pid: int) -> int:
    """The wait status of `pid`, an (adopted) child of this process; kills it and fails if it
    still runs after PATIENCE_S."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"the helper {pid} was still running {PATIENCE_S:.0f} s after its parent died")


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with open(task / "children") as file:
                found.extend(int(p) for p in file.read().split())
    except OSError:  # the process (or one of its threads) has just gone
        pass
    return found


def threads_of(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"waited {PATIENCE_S:.0f} s for {what}")
        time.sleep(0.005)


def environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


# The parent: starts one helper that would sleep for minutes, prints its pid, waits to be
# killed. argv: forked|spawned, and which of the two safeguards to switch off (to show that
# each alone is enough): "no-prctl", "no-lifeline" or "both-on".
PARENT = """
import sys, time
from crmcompanion.infra import forking

kind, off = sys.argv[1:3]
if off == "no-prctl":
    forking._prctl = lambda: None
    switch = "f._prctl = lambda: None"
elif off == "no-lifeline":
    forking._stop_at_end_of = lambda fd: None
    switch = "f._stop_at_end_of = lambda fd: None"
else:
    switch = "pass"
forking._SERVE = f"import crmcompanion.infra.forking as f; {switch}; f.serve_spawned_call()"
if kind == "forked":
    call = forking.ForkedCall(lambda: time.sleep(600))
    pid = call._pid
else:
    call = forking.SpawnedCall(time.sleep)
    call.call(600)
    pid = call._process.pid
print(pid, flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("off", ["both-on", "no-prctl", "no-lifeline"])
@pytest.mark.parametrize("kind", ["forked", "spawned"])
def test_a_helper_is_killed_with_its_parent(kind: str, off: str) -> None:
    with adopting_orphans():
        parent = subprocess.Popen([sys.executable, "-c", PARENT, kind, off],
                                  stdout=subprocess.PIPE, text=True, env=environment())
        try:
            assert parent.stdout is not None
            helper = int(parent.stdout.readline())
            if off != "no-lifeline":  # its watching thread is there: the lifeline is in use
                wait_for(lambda: threads_of(helper) >= 2, "the helper's watching thread")
        finally:
            parent.kill()
            parent.wait()
        status = how_it_ended(helper)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status


def test_a_helper_whose_parent_died_before_it_started_watching_stops() -> None:
    """The race prctl leaves open: the parent gone before the death signal was asked for
    (seen here as a parent pid that is not this helper's parent)."""
    if not forking.can_fork():
        pytest.skip("this process has other threads: it may not fork")
    readable, _ = forking._lifeline_ends()
    with forking.ForkedCall(lambda: forking._die_with_parent(1, readable)) as child, \
            pytest.raises(RuntimeError, match=f"status {signal.SIGKILL}$"):
        child.result()


def test_helpers_do_not_hold_each_others_lifeline() -> None:
    """A forked helper closes its copy of the lifeline's write end: otherwise a sibling forked
    later would keep the first one's lifeline open after the parent died."""
    if not forking.can_fork():
        pytest.skip("this process has other threads: it may not fork")
    _, writable = forking._lifeline_ends()

    def write_end_open() -> bool:
        try:
            os.fstat(writable)
        except OSError:
            return False
        return True

    with forking.ForkedCall(write_end_open) as child:
        assert child.result() is False
    assert write_end_open()  # and this process keeps its own


def demo_process(home: Path) -> subprocess.Popen[str]:
    # 200,000 customers: the demo forks its staging helper (bulk.StagedParts) for a few
    # seconds of work, long enough to be caught in the act.
    return subprocess.Popen(
        [sys.executable, "-m", "crmcompanion", "demo", "--customers", "200000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environment(CRMCOMPANION_HOME=str(home), CRMCOMPANION_NOW="2026-11-22T10:30"))


def helper_of(process: subprocess.Popen[str]) -> int:
    found: list[int] = []

    def started() -> bool:
        found[:] = children_of(process.pid)
        return bool(found) or process.poll() is not None

    wait_for(started, "the demo's helper process")
    assert found, f"the demo ended (exit {process.returncode}) without a helper process"
    return found[0]


def assert_all_or_nothing(home: Path) -> int:
    """The database is sound and holds no demo customer or all 200,000; returns how many."""
    database = home / "crmcompanion.sqlite3"
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        count = connection.execute("SELECT count(*) FROM customers").fetchone()[0]
    finally:
        connection.close()
    assert count in (0, 200_000)
    return int(count)


def test_a_killed_demo_leaves_no_helper_running_and_commits_nothing_after(
        tmp_path: Path) -> None:
    home = tmp_path / "home"
    with adopting_orphans():
        demo = demo_process(home)
        try:
            helper = helper_of(demo)
        finally:
            demo.kill()
            demo.communicate()
        status = how_it_ended(helper)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
    assert assert_all_or_nothing(home) == 0  # killed before its commit


def test_a_terminated_demo_stops_its_helper_says_so_and_keeps_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with adopting_orphans():
        demo = demo_process(home)
        try:
            helper = helper_of(demo)
            demo.send_signal(signal.SIGTERM)
            out, err = demo.communicate(timeout=PATIENCE_S)
        finally:
            demo.kill()
            demo.wait()
        # The demo reaped its helper itself; an orphan would be ours to reap.
        with pytest.raises(ChildProcessError):
            os.waitpid(helper, os.WNOHANG)
    assert not Path(f"/proc/{helper}").exists()
    assert demo.returncode == 128 + signal.SIGTERM, err
    assert err.count("\n") == 1 and "interrupted" in err and "Traceback" not in err, err
    assert out == ""
    assert assert_all_or_nothing(home) == 0
    assert not list(home.rglob("crmcompanion-stage-*"))  # its scratch files removed


# `crmcompanion demo` whose SIGTERM comes while it forks its helper: the signal's handler
# runs inside an at-fork hook, where Python cannot raise, so the interruption must be raised
# again once out of it (it was dropped, and the demo ran on to its end).
TERMINATED_WHILE_FORKING = """
import os, signal, sys
from crmcompanion.__main__ import main

def terminate_now():
    os.kill(os.getpid(), signal.SIGTERM)
    os.getpid()  # a call: the handler runs here, inside the hook

os.register_at_fork(after_in_parent=terminate_now)
sys.exit(main())
"""


def test_a_sigterm_that_comes_while_forking_still_stops_the_command(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with adopting_orphans():
        demo = subprocess.run(
            [sys.executable, "-c", TERMINATED_WHILE_FORKING, "demo", "--customers", "20000"],
            capture_output=True, text=True, timeout=PATIENCE_S,
            env=environment(CRMCOMPANION_HOME=str(home), CRMCOMPANION_NOW="2026-11-22T10:30"))
        with pytest.raises(ChildProcessError):  # no orphaned helper left for us to reap
            os.waitpid(-1, os.WNOHANG)
    assert demo.returncode == 128 + signal.SIGTERM, demo.stderr
    assert demo.stderr.count("\n") == 1 and "interrupted" in demo.stderr, demo.stderr
    assert demo.stdout == ""
    connection = sqlite3.connect(home / "crmcompanion.sqlite3")
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("SELECT count(*) FROM customers").fetchone()[0] == 0
    finally:
        connection.close()
