"""infra.forking.SpawnedCall: a module-level function run in a new interpreter (the GUI's way to
a second core) gives back its value or its error, reads what is written to its input after its
arguments, and is stopped when its result is never taken."""

from __future__ import annotations

import math
import os
import time

import pytest

from crmcompanion.infra import forking

pytestmark = pytest.mark.skipif(not forking.can_spawn(), reason="no spawned interpreters here")


def test_the_value_comes_back_from_another_process() -> None:
    with forking.SpawnedCall(os.getpid) as child:
        child.call()
        pid = child.result()
    assert isinstance(pid, int) and pid != os.getpid()


def test_arguments_go_over_and_the_value_comes_back() -> None:
    with forking.SpawnedCall(math.hypot) as child:
        child.call(3.0, 4.0)
        assert child.result() == 5.0


def test_an_error_is_raised_here_with_its_message() -> None:
    with forking.SpawnedCall(math.sqrt, failure="Checking failed") as child:
        child.call(-1.0)
        with pytest.raises(RuntimeError, match="Checking failed: ValueError: math domain"):
            child.result()


def test_a_function_that_cannot_be_found_is_an_error_not_a_hang() -> None:
    def local() -> None:  # not importable by name from another interpreter
        pass

    with forking.SpawnedCall(local) as child:
        child.call()
        with pytest.raises(RuntimeError, match=r"AttributeError|ModuleNotFoundError"):
            child.result()


def test_leaving_the_block_without_calling_stops_the_interpreter() -> None:
    with forking.SpawnedCall(time.sleep) as child:
        process = child._process
        assert process is not None
    assert process.poll() is not None  # ended and reaped


def test_leaving_the_block_while_it_runs_stops_it() -> None:
    started = time.monotonic()
    with forking.SpawnedCall(time.sleep) as child:
        child.call(60)
        process = child._process
    assert process is not None and process.poll() is not None
    assert time.monotonic() - started < 30


def test_a_result_is_taken_once() -> None:
    with forking.SpawnedCall(abs) as child:
        child.call(-2)
        assert child.result() == 2
        with pytest.raises(RuntimeError, match="taken already"):
            child.result()
