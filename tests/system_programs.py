"""Tests that need a system program (notify-send, dbus-daemon, initdb, desktop-file-validate...)
say which Debian package to install, in one line, when it is missing.

Locally a missing program skips the test with that line (a developer may not want a D-Bus
daemon on their laptop); under CI (the `CI` environment variable set, as .ci/run and every
hosted CI do) the same line fails the test, so a CI image that lost a package cannot turn part
of the suite silently off.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil

import pytest

logger = logging.getLogger(__name__)


def on_ci() -> bool:
    """Whether the tests run under CI, where a missing system piece is a failure."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(what: str, package: str) -> None:
    """Skip (locally) or fail (CI) with one line naming the Debian package to install."""
    message = f"{what} is missing: install the Debian package `{package}` (apt-get install " \
              f"{package})"
    if on_ci():
        pytest.fail(message + " — CI must have it (.ci/run installs it)", pytrace=False)
    pytest.skip(message)


def require_program(name: str, *, package: str) -> str:
    """The path of the system program `name`; skips or fails (see `missing`) without it.

    `name` may be a glob of absolute paths (PostgreSQL's `initdb` lives in a versioned folder
    outside PATH on Debian: "/usr/lib/postgresql/*/bin/initdb")."""
    if os.path.isabs(name):
        found = sorted(glob.glob(name))
        path = found[-1] if found else None
    else:
        path = shutil.which(name)
    if path is None:
        missing(f"the program `{os.path.basename(name)}`", package)
    assert path is not None  # missing() never returns
    return path


def require_file(pattern: str, *, what: str, package: str) -> str:
    """A system file (a shared library, a font) matching the glob `pattern`, or skip/fail."""
    found = sorted(glob.glob(pattern))
    if not found:
        missing(what, package)
    return found[-1]
