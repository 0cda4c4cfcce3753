"""Entry point: arguments -> paths -> logging -> database -> GUI or CLI command.

`--version` and CLI commands never import Qt. Opening the window without a display exits 2
with one line instead of letting Qt abort the process.

Start-up speed: the cyclic garbage collector is paused while the modules load (hundreds of
thousands of long-lived objects: classes, ORM mappers, Qt wrappers that it would otherwise walk
again and again for nothing) and resumed, with those objects frozen out of later collections,
once the command starts or the window has been shown (crmcompanion.app).
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Sequence

from crmcompanion import __version__


def has_display(environ: dict[str, str] | os._Environ[str]) -> bool:
    if environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc"):
        return True
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))
    return True  # Windows and macOS always have a session display for a GUI app


def resume_gc() -> None:
    """End the start-up pause: what exists now lives as long as the process, so freeze it out
    of future collections, then collect normally again."""
    gc.freeze()
    gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["--version"]:
        print(f"crmcompanion {__version__}")
        return 0
    if argv is None:  # the process itself, not a caller (tests) that keeps running after us
        gc.disable()
    try:
        return _main(args_list)
    except KeyboardInterrupt:
        # Ctrl-C before a command got going (while modules load or arguments are parsed);
        # during a command the CLI says it itself (crmcompanion.cli.run_command).
        print("crmcompanion: interrupted.", file=sys.stderr)
        return 130
    finally:
        if not gc.isenabled():
            resume_gc()


def _set_up_logging() -> str | None:
    """Console at CRMCOMPANION_LOG_LEVEL (WARNING), and INFO to the data folder's rotating,
    owner-only log file (crmcompanion.logfile), for the window and every command alike.
    Returns the one sentence to exit 2 with when the level or the data folder is unusable."""
    from crmcompanion.logfile import install_file_log
    from crmcompanion.paths import DataFolderProblem, resolve_paths

    level = os.environ.get("CRMCOMPANION_LOG_LEVEL", "WARNING").strip().upper() or "WARNING"
    if not isinstance(logging.getLevelName(level), int):
        return (f"CRMCOMPANION_LOG_LEVEL={level!r} is not a level "
                "(DEBUG, INFO, WARNING, ERROR or CRITICAL).")
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        paths = resolve_paths()
        paths.ensure()
    except DataFolderProblem as exc:
        return str(exc)
    try:
        install_file_log(paths.log_file)
    except OSError as exc:  # a read-only logs folder must not stop the app: console only
        logging.getLogger(__name__).warning("No log file (%s): %s", paths.log_file,
                                            exc.strerror or exc)
    return None


def _main(args_list: list[str]) -> int:
    args = None  # a plain launch opens the window: no parser (nor the CLI's modules) needed
    if args_list:
        from crmcompanion.cli import UsageError, parse

        try:
            args = parse(args_list)
        except UsageError as exc:
            print(exc, file=sys.stderr)
            return 2
        if args.version:
            print(f"crmcompanion {__version__}")
            return 0
    problem = _set_up_logging()
    if problem is not None:
        print(f"crmcompanion: {problem}", file=sys.stderr)
        return 2
    if args is not None and args.command is not None:
        from crmcompanion.cli import run_command

        resume_gc()  # a command may build many short-lived cycles (ORM objects): collect them
        try:
            code = run_command(args)
            # Flushed here, not at exit: a reader that left mid-output (a partial write of a
            # large JSON document) is then caught below instead of failing the final flush.
            sys.stdout.flush()
            return code
        except BrokenPipeError:
            # The reader has gone (`crmcompanion customers search a | head`): stop quietly like
            # any Unix tool instead of a traceback; stdout goes to devnull so the interpreter's
            # final flush cannot fail again (Python's documented recipe for SIGPIPE).
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1
    if not has_display(os.environ):
        print(
            "crmcompanion: no display to open the window on (set DISPLAY or WAYLAND_DISPLAY, or "
            "use a command such as `crmcompanion customers search`).",
            file=sys.stderr,
        )
        return 2
    from crmcompanion.qt_platform import xcb_problem

    problem = xcb_problem()  # Qt would abort (SIGABRT) blaming the wrong library: say which
    if problem:
        print(problem, file=sys.stderr)
        return 2
    # The Qt-free layers first: importing PySide6 installs an import hook (shiboken's
    # `__feature__` support) that makes every later import slower, ~30 ms over SQLAlchemy's.
    import crmcompanion.paths
    import crmcompanion.services.container  # noqa: F401
    from crmcompanion.app import run_gui

    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
