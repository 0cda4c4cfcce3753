"""The app's files are found inside the package, never beside it or in the current folder."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import crmcompanion
from crmcompanion.core.templates import default_templates_path, read_default_templates
from crmcompanion.resources import APP_ICON_PNG_SIZES, ICONS, app_icon_png, resource_path
from crmcompanion.ui.resources import APP_ICON, icon_path

PACKAGE = Path(crmcompanion.__file__).resolve().parent


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_templates_and_icons_are_read_from_inside_the_package(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # the current folder must not matter
    templates = default_templates_path()
    icon = icon_path(APP_ICON)
    assert icon is not None
    for path in (templates, icon):
        assert path.resolve().is_relative_to(PACKAGE / "resources"), path
    assert len(read_default_templates()) > 10


@pytest.mark.parametrize("size", APP_ICON_PNG_SIZES)
def test_app_icon_ships_as_png_at_each_size(size: int) -> None:
    path = resource_path(ICONS, app_icon_png(size))
    assert path is not None, f"{app_icon_png(size)} is missing: run packaging/render_icons.py"
    assert png_size(path) == (size, size)


def test_a_missing_file_is_none_not_a_path_to_nowhere() -> None:
    assert resource_path(ICONS, "no-such-icon.svg") is None
    assert icon_path("no-such-icon.svg") is None
