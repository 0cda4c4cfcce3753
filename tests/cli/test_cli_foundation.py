"""The CLI as a script would use it: real processes for exit codes, in-process for speed."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crmcompanion.__main__ import main
from crmcompanion.cli import parse, run_command

# Clock-sensitive: birthdays today by CRMCOMPANION_NOW.
pytestmark = pytest.mark.clock_sensitive


def run(args: list[str], home: Path, now: str = "2026-11-22T10:00") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    environ = {"CRMCOMPANION_HOME": str(home), "CRMCOMPANION_NOW": now}
    code = run_command(parse(args), out, err, environ)
    return code, out.getvalue(), err.getvalue()


def subprocess_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMCOMPANION_")}
    env.update(CRMCOMPANION_HOME=str(home), **extra)
    return env


def test_version_prints_without_importing_qt(tmp_path: Path) -> None:
    code = (
        "import sys; from crmcompanion.__main__ import main; rc = main(['--version']); "
        "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt imported'; "
        "assert 'sqlalchemy' not in sys.modules; sys.exit(rc)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env=subprocess_env(tmp_path), check=False,
    )
    assert result.returncode == 0, result.stderr
    from crmcompanion import __version__

    assert result.stdout == f"crmcompanion {__version__}\n"


def test_demo_then_search_json(tmp_path: Path) -> None:
    code, _, err = run(["demo", "--customers", "150", "--seed", "3"], tmp_path)
    assert code == 0, err
    code, out, _ = run(["customers", "search", "muller", "--limit", "3", "--json"], tmp_path)
    assert code == 0
    results = json.loads(out)
    assert 1 <= len(results) <= 3
    assert set(results[0]) == {
        "id", "display_name", "first_name", "last_name", "company", "emails", "phones",
        "tags", "status", "kind",
    }
    assert all("Müller" in r["display_name"] or "Müller" in r["company"] for r in results)


def test_demo_guarantees_interesting_dates(tmp_path: Path) -> None:
    run(["demo", "--customers", "10"], tmp_path)
    import sqlite3

    conn = sqlite3.connect(tmp_path / "crmcompanion.sqlite3")
    rows = conn.execute("SELECT month, day, year FROM special_dates").fetchall()
    names = [r[0] for r in conn.execute("SELECT display_name FROM customers")]
    assert (2, 29, 1988) in rows
    assert any(year is None for _, _, year in rows)
    assert (11, 22, 1986) in rows  # a birthday today (CRMCOMPANION_NOW), turning 40
    assert any(any(ord(ch) > 127 for ch in name) for name in names)


def test_demo_refuses_non_empty_database(tmp_path: Path) -> None:
    assert run(["demo", "--customers", "5"], tmp_path)[0] == 0
    code, out, err = run(["demo", "--customers", "5"], tmp_path)
    assert code == 1 and out == ""
    assert "--append" in err and err.count("\n") == 1
    assert run(["demo", "--customers", "5", "--append"], tmp_path)[0] == 0


def test_search_without_match_prints_empty_list(tmp_path: Path) -> None:
    code, out, _ = run(["customers", "search", "nobody-here", "--json"], tmp_path)
    assert code == 0 and json.loads(out) == []


@pytest.mark.parametrize(
    "argv",
    [["bogus"], ["customers"], ["customers", "search"], ["demo", "--customers", "many"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.strip()


def test_bad_now_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run(["customers", "search", "x"], tmp_path, now="yesterday")
    assert code == 2 and "CRMCOMPANION_NOW" in err


def test_corrupt_database_exits_1_and_is_untouched(tmp_path: Path) -> None:
    db = tmp_path / "crmcompanion.sqlite3"
    db.write_bytes(b"garbage" * 50)
    result = subprocess.run(
        [sys.executable, "-m", "crmcompanion", "customers", "search", "x"],
        capture_output=True, text=True, env=subprocess_env(tmp_path), check=False,
    )
    assert result.returncode == 1
    assert "left untouched" in result.stderr and result.stderr.count("\n") == 1
    assert db.read_bytes() == b"garbage" * 50


def test_unsupported_database_url_exits_1(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crmcompanion", "customers", "search", "x"],
        capture_output=True, text=True, check=False,
        env=subprocess_env(tmp_path, CRMCOMPANION_DATABASE_URL="mysql://u@127.0.0.1/x"),
    )
    assert result.returncode == 1 and "not supported" in result.stderr


def test_database_url_overrides_the_database_alone(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.sqlite3"
    environ = {
        "CRMCOMPANION_HOME": str(tmp_path / "home"),
        "CRMCOMPANION_DATABASE_URL": f"sqlite:///{other}",
    }
    out, err = io.StringIO(), io.StringIO()
    assert run_command(parse(["demo", "--customers", "3"]), out, err, environ) == 0
    assert other.exists()
    assert not (tmp_path / "home" / "crmcompanion.sqlite3").exists()
    assert (tmp_path / "home").is_dir()


def test_output_cut_short_by_its_reader_ends_quietly(tmp_path: Path) -> None:
    """`crmcompanion customers search a --json | head -c 100`: no traceback when head leaves."""
    env = subprocess_env(tmp_path)
    subprocess.run([sys.executable, "-m", "crmcompanion", "demo", "--customers", "400"],
                   env=env, check=True, capture_output=True)
    reader = subprocess.Popen(
        [sys.executable, "-m", "crmcompanion", "customers", "search", "a", "--limit", "400",
         "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.read(100)  # the start arrives, then the reader goes away
    reader.stdout.close()
    errors = reader.stderr.read().decode()
    code = reader.wait(timeout=60)
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors
    assert code == 1
