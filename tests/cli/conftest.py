"""Running `crmcompanion` as a user's shell does: a real process, real files, real exit codes.

`cli(home, *args)` runs `python -m crmcompanion ARGS` with the data folder `home` and a fixed
clock, and returns the exit code, stdout and stderr. `demo_home` is a data folder filled once
per test module with sample customers; `book` is a fresh copy of it for one test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-22T10:00"  # the demo guarantees a birthday on this day


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


def cli_env(home: Path, now: str = NOW) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMCOMPANION_")}
    env.update(CRMCOMPANION_HOME=str(home), CRMCOMPANION_NOW=now, PYTHONPATH=str(ROOT),
               PYTHONIOENCODING="utf-8")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def run_cli(home: Path, *args: str, now: str = NOW) -> Ran:
    result = subprocess.run(
        [sys.executable, "-m", "crmcompanion", *args], env=cli_env(home, now),
        capture_output=True, text=True, encoding="utf-8", timeout=300, check=False,
    )
    return Ran(result.returncode, result.stdout, result.stderr)


@pytest.fixture()
def cli() -> Callable[..., Ran]:
    return run_cli


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("demo-home")
    ran = run_cli(home, "demo", "--customers", "60", "--seed", "3")
    assert ran.code == 0, ran.err
    return home


@pytest.fixture()
def book(demo_home: Path, tmp_path: Path) -> Path:
    """A private copy of the module's demo data folder: a test may write to it."""
    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    return home
