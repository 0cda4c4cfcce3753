"""Can Qt's X11 platform plugin load here? Answered before Qt is imported.

Why this module exists: on an X11 desktop without, say, `libxcb-icccm4`, Qt fails to load its
xcb plugin, blames `libxcb-cursor0` (installed or not), and aborts the process with SIGABRT.
A user cannot act on that. So before the GUI starts, when the platform will be xcb, the plugin
(`PySide6/Qt/plugins/platforms/libqxcb.so`, found with `importlib.util.find_spec`, which does
not import PySide6) is given to `ldd`, and any library it cannot resolve is named in one line
together with the Debian/Ubuntu packages that provide it; the app exits 2.

It must never import Qt (the import-linter contract that keeps Qt out of the lower layers
lists it) and must cost nothing on a normal start: `ldd` takes ~30-40 ms, so a successful
answer is remembered in a small cache file keyed by the plugin file and the system's
`/etc/ld.so.cache` (rewritten by ldconfig whenever a package adds or removes libraries).
A failure is never cached. `crmcompanion doctor` reuses `platform_plugins` and
`missing_libraries`.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

LDD_TIMEOUT_S = 10.0
LD_SO_CACHE = Path("/etc/ld.so.cache")
CACHE_FILE_NAME = "qt-xcb-check.json"

# What libqxcb.so and the Qt libraries it pulls in need beyond a minimal system, by soname,
# with the Debian/Ubuntu package that ships each (README "System packages" maps them to
# Fedora and Arch). A library missing from this table is named as it is.
DEBIAN_PACKAGES: dict[str, str] = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}


@dataclass(frozen=True)
class PluginCheck:
    """The outcome for one plugin: the libraries that do not resolve (empty when it loads),
    or `unknown` with the reason when it could not be checked (no ldd, plugin not found)."""

    plugin: Path | None
    missing: tuple[str, ...] = ()
    unknown: str = ""

    @property
    def packages(self) -> tuple[str, ...]:
        """Debian/Ubuntu packages for the missing libraries, each once, in order."""
        return tuple(dict.fromkeys(DEBIAN_PACKAGES.get(lib, lib) for lib in self.missing))


def platforms_dir() -> Path | None:
    """PySide6's `Qt/plugins/platforms` folder, found without importing PySide6."""
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "Qt" / "plugins" / "platforms"
        if candidate.is_dir():
            return candidate
    return None


def platform_plugins(directory: Path | None = None) -> list[str]:
    """The platform plugins Qt ships here ("offscreen", "wayland", "xcb", ...)."""
    folder = platforms_dir() if directory is None else directory
    if folder is None:
        return []
    names = []
    for path in folder.iterdir():
        stem = path.name.split(".", 1)[0]
        if stem.startswith("libq") and path.suffix in (".so", ".dylib", ".dll"):
            names.append(stem.removeprefix("libq"))
        elif path.suffix == ".dll" and stem.startswith("q"):
            names.append(stem.removeprefix("q"))
    return sorted(names)


def missing_libraries(library: Path) -> PluginCheck:
    """Ask `ldd` which of `library`'s dependencies (direct or not) do not resolve."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return PluginCheck(library, unknown="ldd is not installed")
    try:
        result = subprocess.run(
            [ldd, str(library)], capture_output=True, text=True, timeout=LDD_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return PluginCheck(library, unknown=f"ldd failed ({exc})")
    missing = []
    for line in result.stdout.splitlines():
        name, arrow, target = line.strip().partition("=>")
        if arrow and target.strip() == "not found" and name.strip() not in missing:
            missing.append(name.strip())
    if not missing and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        return PluginCheck(library, unknown=f"ldd failed ({detail[0] if detail else 'no output'})")
    return PluginCheck(library, tuple(missing))


def xcb_plugin() -> Path | None:
    folder = platforms_dir()
    plugin = folder / "libqxcb.so" if folder else None
    return plugin if plugin is not None and plugin.is_file() else None


def platform_will_be_xcb(environ: Mapping[str, str]) -> bool:
    """Whether Qt will load the xcb plugin: asked for (QT_QPA_PLATFORM=xcb), or left to Qt on
    Linux/BSD with an X display and not in a Wayland session (where Qt 6 picks wayland)."""
    if not (sys.platform.startswith("linux") or "bsd" in sys.platform):
        return False
    return expected_platform(environ) == "xcb"


def expected_platform(environ: Mapping[str, str]) -> str | None:
    """The Qt platform plugin a window would use here ("xcb", "wayland", "offscreen",
    "cocoa", "windows"), or None on Linux/BSD without a display. For `crmcompanion doctor`."""
    requested = environ.get("QT_QPA_PLATFORM", "").split(":", 1)[0].split(";", 1)[0].strip()
    if requested:
        return requested
    if sys.platform == "darwin":
        return "cocoa"
    if sys.platform == "win32":
        return "windows"
    if environ.get("WAYLAND_DISPLAY") and (
        environ.get("XDG_SESSION_TYPE", "") == "wayland" or not environ.get("DISPLAY")
    ):
        return "wayland"
    return "xcb" if environ.get("DISPLAY") else None


def _cache_key(plugin: Path, environ: Mapping[str, str]) -> dict[str, object]:
    def mtime(path: Path) -> int:
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return 0

    return {
        "plugin": str(plugin),
        "plugin_mtime_ns": mtime(plugin),
        "ld_so_cache_mtime_ns": mtime(LD_SO_CACHE),
        "ld_library_path": environ.get("LD_LIBRARY_PATH", ""),
    }


def _cached_ok(cache_file: Path | None, key: dict[str, object]) -> bool:
    if cache_file is None:
        return False
    try:
        return json.loads(cache_file.read_text(encoding="utf-8")) == key
    except (OSError, ValueError):
        return False


def _remember_ok(cache_file: Path | None, key: dict[str, object]) -> None:
    if cache_file is None:
        return
    try:
        cache_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # like the data folder
        cache_file.write_text(json.dumps(key), encoding="utf-8")
    except OSError as exc:  # a read-only home only costs the next start ~30 ms
        logger.debug("Could not remember the xcb check in %s: %s", cache_file, exc)


def default_cache_file(environ: Mapping[str, str]) -> Path | None:
    """Beside the app's data when CRMCOMPANION_HOME is set (tests, portable use), else in
    the platform's user cache folder."""
    home = environ.get("CRMCOMPANION_HOME", "").strip()
    if home:
        return Path(home).expanduser() / "cache" / CACHE_FILE_NAME
    try:
        import platformdirs

        from crmcompanion import APP_NAME

        folder = platformdirs.user_cache_dir(APP_NAME.replace(" ", ""), appauthor=False)
        return Path(folder) / CACHE_FILE_NAME
    except Exception:  # no cache is fine: the check just runs every time
        return None


def xcb_check(environ: Mapping[str, str], cache_file: Path | None = None) -> PluginCheck | None:
    """The xcb plugin's check when Qt will use it; None when it will not, or when a previous
    start found it loadable on this very system (cached)."""
    if not platform_will_be_xcb(environ):
        return None
    plugin = xcb_plugin()
    if plugin is None:
        return PluginCheck(None, unknown="Qt's xcb platform plugin is not installed")
    key = _cache_key(plugin, environ)
    if _cached_ok(cache_file, key):
        return None
    check = missing_libraries(plugin)
    if not check.missing and not check.unknown:
        _remember_ok(cache_file, key)
    return check


def xcb_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """One line for the user when the xcb plugin cannot load, else None.

    A check that could not run (no ldd) does not stop the app: Qt gets its chance.
    """
    env = os.environ if environ is None else environ
    check = xcb_check(env, default_cache_file(env))
    if check is None:
        return None
    if check.unknown:
        logger.info("Qt's X11 plugin was not checked: %s", check.unknown)
        return None
    if not check.missing:
        return None
    return (
        "crmcompanion: the window cannot open on X11: Qt's xcb plugin needs "
        f"{', '.join(check.missing)}, not installed here. Install: "
        f"sudo apt install {' '.join(check.packages)} (Debian/Ubuntu; other systems: README, "
        "'System packages')."
    )
