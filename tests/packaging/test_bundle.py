"""The PyInstaller one-folder app starts: its `--version` (offscreen, clean environment) is
the package's, its CLI reads the shipped templates and migrations, and its window paints.

Building takes ~3 min on a 2-core machine, too long for every `make test`: these tests carry
the `bundle` marker, which pyproject's addopts deselect (`-m "not bundle"`). `make bundle`
builds the app into dist/bundle and runs them against it (CRMCOMPANION_BUNDLE names the built
folder); `pytest -m bundle tests/packaging` alone builds into a temporary folder first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crmcompanion import __version__
from tests.packaging.test_qt_platform import ICCCM_MISSING, fake_ldd

pytestmark = [pytest.mark.bundle, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "crmcompanion.spec"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled executable: the one `make bundle` built, else built here."""
    built = os.environ.get("CRMCOMPANION_BUNDLE", "").strip()
    if built:
        folder = Path(built).resolve()  # the tests run the app from other folders
    else:
        try:
            import PyInstaller  # noqa: F401
        except ImportError:
            pytest.fail("PyInstaller is missing: pip install -e '.[bundle]' (or `make bundle`)")
        work = tmp_path_factory.mktemp("bundle")
        result = subprocess.run(
            [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
             "--distpath", str(work / "dist"), "--workpath", str(work / "build"), str(SPEC)],
            cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        folder = work / "dist" / "crmcompanion"
    executable = folder / ("crmcompanion.exe" if sys.platform == "win32" else "crmcompanion")
    assert executable.is_file(), f"no bundled app at {executable}"
    return executable


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """Nothing from the checkout or its venv: the bundle must carry what it needs."""
    env = {
        "HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen", "CRMCOMPANION_HOME": str(home / "data"),
        "CRMCOMPANION_NOW": "2026-11-22T10:00",
    }
    env.update(extra)
    return env


def run(app: Path, home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(app), *args], cwd=home, env=clean_env(home, **extra),
                          capture_output=True, text=True, timeout=120, check=False)


def test_bundled_app_reports_the_package_version(app: Path, tmp_path: Path) -> None:
    result = run(app, tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"crmcompanion {__version__}\n"


def test_bundled_cli_migrates_and_drafts_from_shipped_templates(app: Path, tmp_path: Path) -> None:
    demo = run(app, tmp_path, "demo", "--customers", "5", "--seed", "2")
    assert demo.returncode == 0, demo.stderr
    draft = run(app, tmp_path, "draft", "--customer", "#1", "--occasion", "birthday", "--json")
    assert draft.returncode == 0, draft.stderr
    assert "birthday" in draft.stdout.lower()


def test_bundled_window_paints_offscreen(app: Path, tmp_path: Path) -> None:
    # The benchmark hook prints one JSON line after the first paint and quits.
    result = run(app, tmp_path, CRMCOMPANION_BENCHMARK_EXIT_AFTER_PAINT="1")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["peak_rss_kb"] > 0


def test_bundle_carries_the_app_icons(app: Path) -> None:
    icons = app.parent / "_internal" / "crmcompanion" / "resources" / "icons"
    names = {p.name for p in icons.iterdir()}
    assert {"crmcompanion.svg", "crmcompanion-48.png", "crmcompanion-256.png"} <= names


def test_bundled_app_names_missing_xcb_libraries(app: Path, tmp_path: Path) -> None:
    """The check before Qt finds the bundle's own xcb plugin (through find_spec('PySide6'))."""
    bin_dir = fake_ldd(tmp_path / "bin", ICCCM_MISSING)
    env = clean_env(tmp_path, DISPLAY=":99", PATH=f"{bin_dir}:/usr/bin:/bin")
    del env["QT_QPA_PLATFORM"]
    result = subprocess.run([str(app)], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in line
    [plugin] = (bin_dir / "calls").read_text().splitlines()
    assert Path(plugin).is_relative_to(app.parent) and plugin.endswith("libqxcb.so")
