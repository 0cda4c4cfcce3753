"""Entry point: arguments -> paths -> logging -> database -> GUI or CLI command.

`--version` and CLI commands never import Qt. Opening the window without a display exits 2
with one line instead of letting Qt abort the process.
"""

from __future__ import annotations

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


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["--version"]:
        print(f"crmcompanion {__version__}")
        return 0
    from crmcompanion.cli import UsageError, parse, run_command

    try:
        args = parse(args_list)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.version:
        print(f"crmcompanion {__version__}")
        return 0
    logging.basicConfig(
        level=os.environ.get("CRMCOMPANION_LOG_LEVEL", "WARNING").upper(),
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command is not None:
        return run_command(args)
    if not has_display(os.environ):
        print(
            "crmcompanion: no display to open the window on (set DISPLAY or WAYLAND_DISPLAY, or "
            "use a command such as `crmcompanion customers search`).",
            file=sys.stderr,
        )
        return 2
    from crmcompanion.app import run_gui

    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
