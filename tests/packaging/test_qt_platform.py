"""The GUI never dies with a misleading Qt message: the xcb plugin's libraries are checked
before Qt loads, and a missing one is named in one line with its Debian package (exit 2)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crmcompanion import qt_platform
from crmcompanion.qt_platform import (
    PluginCheck,
    missing_libraries,
    platform_plugins,
    platform_will_be_xcb,
    xcb_check,
    xcb_plugin,
)

ROOT = Path(__file__).resolve().parents[2]
ICCCM_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffc8a5f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f0d2c000000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f0d2bf00000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0d2bc00000)
"""
ALL_FOUND = """\
\tlibxcb-icccm.so.4 => /lib/x86_64-linux-gnu/libxcb-icccm.so.4 (0x00007f0d2c000000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0d2bc00000)
"""


def fake_ldd(folder: Path, output: str) -> Path:
    """An `ldd` on PATH that prints `output` and counts its calls in `calls`."""
    folder.mkdir(exist_ok=True)
    (folder / "output").write_text(output)
    script = folder / "ldd"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$1" >> "{folder / "calls"}"\n'
        f'{shutil.which("cat")} "{folder / "output"}"\n'
    )
    script.chmod(0o755)
    return folder


def calls(folder: Path) -> int:
    path = folder / "calls"
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"DISPLAY": ":0"}, True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, True),
        ({"QT_QPA_PLATFORM": "xcb"}, True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, False),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland"}, False),
        ({}, False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, False),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, False),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "x11"}, True),
    ],
)
def test_only_an_xcb_start_is_checked(environ, expected) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("xcb is the Linux/BSD platform")
    assert platform_will_be_xcb(environ) is expected


def test_ldd_output_gives_missing_libraries_and_their_packages(tmp_path, monkeypatch) -> None:
    bin_dir = fake_ldd(tmp_path / "bin", ICCCM_MISSING)
    monkeypatch.setenv("PATH", str(bin_dir))
    check = missing_libraries(tmp_path / "libqxcb.so")
    assert check.missing == ("libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    assert check.packages == ("libxcb-icccm4", "libxcb-keysyms1")
    assert check.unknown == ""


def test_an_unknown_library_is_named_as_it_is() -> None:
    check = PluginCheck(Path("x"), ("libxcb-icccm.so.4", "libfancy.so.9"))
    assert check.packages == ("libxcb-icccm4", "libfancy.so.9")


def test_without_ldd_the_check_is_unknown_not_an_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    check = missing_libraries(tmp_path / "libqxcb.so")
    assert check.missing == () and check.unknown == "ldd is not installed"


@pytest.mark.skipif(xcb_plugin() is None, reason="PySide6 here has no xcb plugin")
def test_a_loadable_plugin_is_remembered_until_the_system_changes(tmp_path, monkeypatch) -> None:
    bin_dir = fake_ldd(tmp_path / "bin", ALL_FOUND)
    monkeypatch.setenv("PATH", str(bin_dir))
    ld_cache = tmp_path / "ld.so.cache"
    ld_cache.write_text("v1")
    monkeypatch.setattr(qt_platform, "LD_SO_CACHE", ld_cache)
    cache_file = tmp_path / "cache" / "check.json"
    environ = {"DISPLAY": ":0"}
    assert xcb_check(environ, cache_file) == PluginCheck(xcb_plugin())
    assert xcb_check(environ, cache_file) is None  # cached: ldd not run again
    assert calls(bin_dir) == 1
    os.utime(ld_cache, ns=(1, 1))  # ldconfig ran: libraries were added or removed
    (bin_dir / "output").write_text(ICCCM_MISSING)
    assert xcb_check(environ, cache_file).missing == ("libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    assert xcb_check(environ, cache_file).missing  # a failure is never cached
    assert calls(bin_dir) == 3


@pytest.mark.skipif(xcb_plugin() is None, reason="PySide6 here has no xcb plugin")
def test_the_real_plugin_check_agrees_with_the_linker_cache() -> None:
    """On this machine, with the real ldd: whatever it reports missing, ldconfig does not
    know either (this machine may lack libxcb-icccm4 and libxcb-keysyms1, or have them)."""
    check = missing_libraries(xcb_plugin())
    assert check.unknown == ""
    known = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    for library in check.missing:
        assert f"{library} (" not in known, library
    for library in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1"):  # the plugin needs both
        assert (library in check.missing) is (f"{library} (" not in known), library


def test_platform_plugins_are_listed_without_importing_qt() -> None:
    code = (
        "import sys; from crmcompanion.qt_platform import platform_plugins; "
        "names = platform_plugins(); "
        "print(','.join(names)); print(sorted(m for m in sys.modules if 'PySide6' in m))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    names, qt_modules = result.stdout.splitlines()
    assert "offscreen" in names.split(",")
    assert qt_modules == "[]"
    assert platform_plugins(ROOT) == []  # a folder without plugins


@pytest.mark.skipif(xcb_plugin() is None, reason="PySide6 here has no xcb plugin")
def test_the_app_exits_2_with_one_line_naming_the_packages(tmp_path) -> None:
    """The user's path: `crmcompanion` on an X display where libxcb-icccm4 is missing."""
    bin_dir = fake_ldd(tmp_path / "bin", ICCCM_MISSING)
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update({
        "DISPLAY": ":99", "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "CRMCOMPANION_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT),
    })
    result = subprocess.run([sys.executable, "-m", "crmcompanion"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in line
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in line
    assert "cursor" not in line  # not Qt's misleading libxcb-cursor0
    assert calls(bin_dir) == 1
