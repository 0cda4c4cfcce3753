"""Run one function in a forked child process, on the other core, and take its result back.

Why fork (and only where it is safe): the big imports and exports are Python work per row that
holds the GIL, so a second thread gains nothing; a forked child starts in a millisecond with
the parent's memory (modules, caches, the data already read), while a spawned interpreter
starts empty and must import its code first (~0.07 s for store.rows or store.export_cells,
~0.4 s for anything that imports SQLAlchemy).

Fork without exec is only well defined in a process with no other thread: a thread holding a
lock (SQLite's, the allocator's, Qt's) at the fork leaves it held forever in the child. So the
GUI, which has Qt's and the scheduler's threads, never forks; the command line and the
benchmarks do (`can_fork`). The GUI's import gets its second core from `SpawnedCall` instead:
a new interpreter, started early so that its imports overlap the work before its call.

A helper never outlives this process (`fork`, and `SpawnedCall`'s interpreter): killed with
SIGKILL, or by a SIGTERM it does not handle, this process leaves no helper running on, using a
core and writing scratch files that nothing will read. On Linux the kernel kills the helper
when its parent goes (prctl PR_SET_PDEATHSIG, asked for by the helper itself, then a check that
the parent had not gone already); everywhere, the helper also holds the read end of a pipe
whose only write end this process keeps open and never writes to, and a thread in the helper
stops it at that pipe's end of file, which comes exactly when this process is gone. Helpers
only write scratch files; the database is committed to by this process alone, so nothing is
committed after it died either. Linux sends the death signal when the *thread* that started
the helper ends: a helper is waited for on the thread that started it (each caller starts and
ends its helper within one service call, on one thread).
"""

from __future__ import annotations

import importlib
import marshal
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import IO, NoReturn

# The package's parent folder: a spawned interpreter imports crmcompanion from there, as this
# process did (an installed package, a checkout, a benchmark's sys.path entry alike).
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_SERVE = "from crmcompanion.infra.forking import serve_spawned_call; serve_spawned_call()"

# <linux/prctl.h>: the signal the kernel sends this process when its parent dies.
_PR_SET_PDEATHSIG = 1

# The lifeline (read end, write end) of this process's helpers and the process it belongs to
# (a forked child inherits the variable, not the role); made on the first helper.
_lifeline: tuple[int, int, int] | None = None
_lifeline_lock = threading.Lock()


def can_fork() -> bool:
    """Linux, and no other thread in this process, Python's or native."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def can_spawn() -> bool:
    """A new interpreter of this Python can run the package's functions: a POSIX system
    (where both processes may open one SQLite file; Windows is untested) and not a frozen
    app, whose executable is the app itself rather than Python."""
    return os.name == "posix" and not getattr(sys, "frozen", False) and bool(sys.executable)


def _lifeline_ends() -> tuple[int, int]:
    """This process's lifeline pipe (read end, write end), made once. Both ends stay open
    for the life of the process: the read end is handed to each helper, the write end is
    what keeps the helpers' reads from ending."""
    global _lifeline
    with _lifeline_lock:
        if _lifeline is None or _lifeline[2] != os.getpid():
            readable, writable = os.pipe()  # not inheritable: a spawned helper gets it by name
            _lifeline = (readable, writable, os.getpid())
        return _lifeline[0], _lifeline[1]


@cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, or None off Linux (or without ctypes). Loaded once, in the parent, so a
    forked child finds it ready."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        function: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):
        return None
    return function


def _die_with_parent(parent: int, lifeline: int) -> None:  # pragma: no cover - in the helper
    """In a helper: be killed when the process `parent` goes. A failed prctl is not an
    error (the lifeline thread still watches); if this raises (no thread to be had), the
    caller ends the helper at once rather than run it unwatched."""
    prctl = _prctl()
    if prctl is not None:
        import ctypes

        prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0),
              ctypes.c_ulong(0), ctypes.c_ulong(0))
    # The parent may have died before the line above: then this process was handed to
    # another (init or a subreaper) and no death signal will ever come.
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)
    threading.Thread(target=_stop_at_end_of, args=(lifeline,), name="parent-watch",
                     daemon=True).start()


def _stop_at_end_of(lifeline: int) -> None:  # pragma: no cover - a thread in the helper
    """Block on the lifeline until its end of file (nobody writes to it), which means the
    parent is gone: stop the whole helper at once, as the death signal would."""
    try:
        while os.read(lifeline, 64):
            pass
    except OSError:  # closed under this thread by the helper's own code: nothing to watch
        return
    os.kill(os.getpid(), signal.SIGKILL)


def fork() -> int:
    """`os.fork()` for a helper that must not outlive this process: 0 in the child, which is
    killed when this process goes (see the module's docstring); the child's pid here. Only
    where `can_fork()`."""
    global _lifeline
    parent = os.getpid()
    readable, writable = _lifeline_ends()
    _prctl()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            _lifeline = None  # the child's own helpers, if any, get a lifeline of its own
            os.close(writable)  # the parent's copy must be the only one
            _die_with_parent(parent, readable)
        except BaseException:
            os._exit(1)  # never back into the parent's code
    return pid


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
        self._pid: int | None = fork()
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
        return _returned(data, status, self._failure, f"status {status}")

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
        data, code = _outcome(function)
        with os.fdopen(writable, "wb") as pipe:
            pipe.write(data)
    finally:
        os._exit(code)  # never back into the parent's code (nor its atexit handlers)


def _outcome(function: Callable[[], object]) -> tuple[bytes, int]:
    """In the second process: `function()`'s value as marshal data to send back, and the
    exit code; an error (or a value marshal cannot carry) as its text, code 1."""
    try:
        # Version 2 writes no back-references: quicker to write, a few more bytes.
        return marshal.dumps((True, function()), 2), 0
    except BaseException as error:  # reported to the caller, which raises it
        return marshal.dumps((False, f"{type(error).__name__}: {error}"[:4000]), 2), 1


def _returned(data: bytes, status: int, failure: str, ended: str) -> object:
    """In the caller: the value `_outcome` sent, or RuntimeError(`failure`: the child's
    error, or `ended` when it sent nothing)."""
    ok, value = marshal.loads(data) if data else (False, ended)
    if not ok or status != 0:
        raise RuntimeError(f"{failure}: {value}")
    return value


def send_value(stream: IO[bytes], value: object) -> None:
    """Write `value` to `stream` as one frame: its marshal data's length (8 bytes, little
    endian), then the data (version 2: no back-references, quicker to write)."""
    blob = marshal.dumps(value, 2)
    stream.write(len(blob).to_bytes(8, "little"))
    stream.write(blob)


def received_values(stream: IO[bytes]) -> Iterator[object]:
    """The values `send_value` wrote to `stream`, one frame at a time, until it ends (no
    read beyond the frame handed out)."""
    while head := stream.read(8):
        yield marshal.loads(stream.read(int.from_bytes(head, "little")))


class SpawnedCall:
    """`function(*args)`, a module-level function, run in a new interpreter; `result()`
    waits for it and returns its value. The same contract as `ForkedCall` (arguments and
    value in types marshal takes, the error's message raised by `result`, killed when the
    block is left without the result) for a process that may not fork.

    The interpreter starts at once and imports the function's module (keep it free of
    SQLAlchemy: ~0.07 s instead of ~0.4 s) while the caller gets the arguments ready;
    `call(*args)` sends them. Anything the caller writes to `input` after that, the function
    reads from sys.stdin.buffer.
    """

    def __init__(self, function: Callable[..., object],
                 failure: str = "The child process failed") -> None:
        self._failure = failure
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p)
        lifeline, _ = _lifeline_ends()
        self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-c", _SERVE, function.__module__, function.__qualname__,
             str(os.getpid()), str(lifeline)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, pass_fds=(lifeline,))
        assert self._process.stdin is not None
        self.input: IO[bytes] = self._process.stdin

    def __enter__(self) -> SpawnedCall:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.kill()

    def call(self, *args: object) -> None:
        """Send the arguments; the function starts once its module is imported."""
        try:
            send_value(self.input, args)
            self.input.flush()
        except BrokenPipeError:
            self.result()  # raises what stopped the child
            raise

    def result(self) -> object:
        """The function's return value; raises RuntimeError with its error if it failed."""
        process = self._process
        if process is None:
            raise RuntimeError("the spawned call's result was taken already")
        self._process = None
        with suppress(BrokenPipeError):
            self.input.close()
        assert process.stdout is not None
        with process.stdout:
            data = process.stdout.read()
        status = process.wait()
        return _returned(data, status, self._failure, f"exit status {status}")

    def kill(self) -> None:
        """Stop the interpreter now (no-op once the result was taken)."""
        process, self._process = self._process, None
        if process is None:
            return
        with suppress(ProcessLookupError):
            process.kill()
        with suppress(BrokenPipeError):
            self.input.close()
        if process.stdout is not None:
            process.stdout.close()
        process.wait()


def serve_spawned_call() -> NoReturn:  # pragma: no cover - runs in the spawned interpreter
    """The spawned interpreter's side of `SpawnedCall` (argv: module, function name, the
    parent's pid, the lifeline's file descriptor)."""
    try:
        _die_with_parent(int(sys.argv[3]), int(sys.argv[4]))
    except BaseException:
        os._exit(1)

    def call() -> object:
        module, name = sys.argv[1:3]
        function = getattr(importlib.import_module(module), name)
        args = next(received_values(sys.stdin.buffer), None)
        if args is None:  # the caller went away before calling
            raise EOFError("no arguments came")
        return function(*args)  # type: ignore[misc]

    code = 1
    try:
        data, code = _outcome(call)
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    finally:
        os._exit(code)  # as a forked child does: no atexit handlers, no finalizers
