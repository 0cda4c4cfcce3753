"""core.forking: a function run in a forked child gives back its value or its error, and a
child whose result is never taken is stopped (no process left behind)."""

from __future__ import annotations

import os
import time

import pytest

from crmcompanion.core import forking


@pytest.fixture(autouse=True)
def _may_fork() -> None:
    if not forking.can_fork():  # checked when the test runs: threads come and go
        pytest.skip("this process has other threads: it may not fork")


def test_the_childs_value_comes_back_computed_in_another_process() -> None:
    parent = os.getpid()
    with forking.ForkedCall(lambda: {"pid": os.getpid(), "lines": [b"a,b", b"c"]}) as child:
        value = child.result()
    assert isinstance(value, dict)
    assert value["lines"] == [b"a,b", b"c"]
    assert value["pid"] != parent


def test_an_error_in_the_child_is_raised_in_the_parent_with_its_message() -> None:
    def fails() -> object:
        raise ValueError("no such table: customers")

    with forking.ForkedCall(fails) as child, pytest.raises(
            RuntimeError, match="ValueError: no such table: customers"):
        child.result()


def test_a_value_marshal_cannot_carry_is_an_error_not_a_hang() -> None:
    with forking.ForkedCall(lambda: object()) as child, pytest.raises(
            RuntimeError, match="ValueError"):
        child.result()


def test_leaving_the_block_without_the_result_stops_the_child() -> None:
    with forking.ForkedCall(lambda: time.sleep(60)) as child:
        pid = child._pid
    assert pid is not None
    with pytest.raises(ChildProcessError):  # already reaped: no zombie left
        os.waitpid(pid, os.WNOHANG)


def test_a_result_is_taken_once() -> None:
    with forking.ForkedCall(lambda: 1) as child:
        assert child.result() == 1
        with pytest.raises(RuntimeError, match="taken already"):
            child.result()


def test_no_fork_with_another_thread_running() -> None:
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not forking.can_fork()
    finally:
        stop.set()
        thread.join()
    # join() returns once Python is done with the thread; the system thread may still be
    # leaving /proc/self/task for a moment (the test failed under load without this wait).
    deadline = time.monotonic() + 5
    while not forking.can_fork() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert forking.can_fork()
