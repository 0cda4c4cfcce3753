"""Run one function in a forked child process, on the other core, and take its result back.

Why fork (and only where it is safe): the big imports and exports are Python work per row that
holds the GIL, so a second thread gains nothing; a forked child starts in a millisecond with
the parent's memory (modules, caches, the data already read), while a spawned interpreter
would spend a fifth of a second importing before doing anything.

Fork without exec is only well defined in a process with no other thread: a thread holding a
lock (SQLite's, the allocator's, Qt's) at the fork leaves it held forever in the child. So the
GUI, which has Qt's and the scheduler's threads, never forks; the command line and the
benchmarks do (`can_fork`).
"""

from __future__ import annotations

import marshal
import os
import signal
import sys
from collections.abc import Callable
from contextlib import suppress
from typing import NoReturn


def can_fork() -> bool:
    """Linux, and no other thread in this process, Python's or native."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


class ForkedCall:
    """`function()` run in a forked child; `result()` waits for it and returns its value.

    The value travels back through a pipe as marshal data, so it must be made of the types
    marshal takes (numbers, str, bytes, lists, tuples, dicts...). The child touches no file
    or connection of the parent's: it opens what it needs itself and leaves with os._exit, so
    no atexit handler, finalizer or buffered output of the parent runs twice. Use it as a
    context manager: leaving the block kills a child whose result was never taken (a cancel,
    an error in the parent).
    """

    def __init__(self, function: Callable[[], object],
                 failure: str = "The child process failed") -> None:
        """`failure` starts the message of the error `result` raises if the child failed."""
        self._failure = failure
        readable, writable = os.pipe()
        self._pid: int | None = os.fork()
        if self._pid == 0:  # pragma: no cover - the child (its result is what tests check)
            os.close(readable)
            _run_in_child(function, writable)
        os.close(writable)
        self._readable: int | None = readable

    def __enter__(self) -> ForkedCall:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.kill()

    def result(self) -> object:
        """The child's return value; raises RuntimeError with the child's error if it failed."""
        if self._pid is None or self._readable is None:
            raise RuntimeError("the forked call's result was taken already")
        with os.fdopen(self._readable, "rb") as pipe:
            self._readable = None
            data = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        ok, value = marshal.loads(data) if data else (False, f"status {status}")
        if not ok or status != 0:
            raise RuntimeError(f"{self._failure}: {value}")
        return value

    def kill(self) -> None:
        """Stop the child now (no-op once its result was taken)."""
        if self._readable is not None:
            os.close(self._readable)
            self._readable = None
        if self._pid is not None:
            with suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = None


def _run_in_child(function: Callable[[], object],
                  writable: int) -> NoReturn:  # pragma: no cover - runs in the child
    code = 1
    try:
        try:
            # Version 2 writes no back-references: quicker to write, a few more bytes.
            data = marshal.dumps((True, function()), 2)
            code = 0
        except BaseException as error:  # reported to the parent, which raises it
            data = marshal.dumps((False, f"{type(error).__name__}: {error}"[:4000]), 2)
        with os.fdopen(writable, "wb") as pipe:
            pipe.write(data)
    finally:
        os._exit(code)  # never back into the parent's code (nor its atexit handlers)
