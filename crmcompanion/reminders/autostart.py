"""Start at login: an XDG autostart .desktop file on Linux, so reminders arrive on time.

The file lives in $XDG_CONFIG_HOME/autostart (default ~/.config/autostart) and starts the app
with --minimized, i.e. in the tray. Other platforms are not handled yet (the setting says so).
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from crmcompanion import APP_ID, APP_NAME

logger = logging.getLogger(__name__)


def autostart_supported(platform: str = sys.platform) -> bool:
    return platform.startswith("linux") or "bsd" in platform


def autostart_file(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    config = env.get("XDG_CONFIG_HOME", "").strip()
    base = Path(config) if config and Path(config).is_absolute() else Path.home() / ".config"
    return base / "autostart" / f"{APP_ID}.desktop"


def default_command() -> list[str]:
    """How to start this installation minimised: the running interpreter and module, or the
    bundled executable itself in a frozen (PyInstaller) build."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--minimized"]
    return [sys.executable, "-m", "crmcompanion", "--minimized"]


def desktop_entry(command: Sequence[str]) -> str:
    # Exec follows the Desktop Entry spec's quoting, which shlex.quote's output satisfies
    # for the paths we produce (no `%`, quoted spaces).
    exec_line = " ".join(shlex.quote(part) for part in command).replace("%", "%%")
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={APP_NAME}\n"
        "Comment=Birthday and follow-up reminders for your customers\n"
        f"Exec={exec_line}\n"
        f"Icon={APP_ID}\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def set_autostart(
    enabled: bool,
    command: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path | None:
    """Write (or remove) the autostart entry; returns its path, None where unsupported."""
    if not autostart_supported():
        logger.info("Start at login is only supported on Linux for now")
        return None
    path = autostart_file(environ)
    if enabled:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(desktop_entry(command or default_command()), encoding="utf-8")
        tmp.replace(path)
        logger.info("Wrote autostart entry %s", path)
    elif path.exists():
        path.unlink()
        logger.info("Removed autostart entry %s", path)
    return path
