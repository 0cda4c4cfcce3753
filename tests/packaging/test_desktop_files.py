"""The Linux desktop entry and AppStream metainfo validate with the distributions' own tools
(`.ci/run` installs them), and the metainfo's release is the package's version."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from crmcompanion import APP_ID, __version__

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the freedesktop tools are Linux programs"
)

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: install the {package} package (Debian/Ubuntu/Fedora/Arch)")
    return path


def test_desktop_entry_validates() -> None:
    result = subprocess.run([tool("desktop-file-validate", "desktop-file-utils"), str(DESKTOP)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""  # no warnings either


def test_metainfo_validates_strictly_offline() -> None:
    result = subprocess.run(
        [tool("appstreamcli", "appstream"), "validate", "--no-net", "--strict", str(METAINFO)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_metainfo_names_the_app_and_its_current_version() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == DESKTOP.name
    releases = [r.get("version") for r in root.iter("release")]
    assert releases and releases[0] == __version__, "add a <release> for the new version"


def test_broken_desktop_entry_is_caught(tmp_path: Path) -> None:
    """The validator really checks: a wrong key fails."""
    broken = tmp_path / DESKTOP.name
    broken.write_text(DESKTOP.read_text().replace("Type=Application", "Type=Program"))
    result = subprocess.run([tool("desktop-file-validate", "desktop-file-utils"), str(broken)],
                            capture_output=True, text=True, check=False)
    assert result.returncode != 0
