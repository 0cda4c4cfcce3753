"""`crmcompanion doctor`: the report a support question needs, run as a user would, and
changing nothing (no database created or migrated, no notification shown)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from crmcompanion import __version__
from crmcompanion.paths import DATABASE_FILENAME
from tests.cli.conftest import ROOT, cli_env, run_cli
from tests.reminders.conftest import notification_server, session_bus

__all__ = ["notification_server", "session_bus"]  # fixtures shared with tests/reminders

HEAD = "0006_search_special_letters"
TOP_KEYS = {"version", "python", "system", "data_folder", "log_file", "database", "qt",
            "notifications", "free_disk_bytes"}
DATABASE_KEYS = {"url", "file", "size_bytes", "revision", "current_revision", "problem"}
QT_KEYS = {"pyside6", "platform_plugins", "platform", "xcb_missing_libraries",
           "xcb_missing_packages", "xcb_check"}


def doctor(home: Path, *args: str, **env_changes: str | None) -> subprocess.CompletedProcess:
    env = cli_env(home)
    for name in [k for k in env if k.startswith("DBUS_")] + ["XDG_RUNTIME_DIR"]:
        env.pop(name, None)  # no session bus unless a test gives one
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run([sys.executable, "-m", "crmcompanion", "doctor", *args], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_report_on_a_fresh_machine_creates_no_database(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = doctor(home)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"CRM Companion {__version__} (Python ")
    assert f"Data folder: {home} (" in result.stdout and " free)" in lines[1]
    database = next(line for line in lines if line.startswith("Database: "))
    assert database == (f"Database: sqlite:///{home / DATABASE_FILENAME}: not created yet "
                        "(the first start creates it)")
    assert any(line.startswith("Qt: PySide6 ") and "offscreen" in line for line in lines)
    assert lines[-1].startswith("Reminders: no desktop notifications (there is no D-Bus "
                                "session bus")
    assert not (home / DATABASE_FILENAME).exists()


def test_json_report_of_a_database_in_use(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "demo", "--customers", "5").code == 0
    database = home / DATABASE_FILENAME
    before = database.read_bytes()
    result = doctor(home, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == TOP_KEYS
    assert set(report["database"]) == DATABASE_KEYS
    assert set(report["qt"]) == QT_KEYS
    assert report["version"] == __version__
    assert report["data_folder"] == str(home)
    assert report["log_file"] == str(home / "logs" / "crmcompanion.log")
    assert report["database"] == {
        "url": f"sqlite:///{database}", "file": str(database), "size_bytes": len(before),
        "revision": HEAD, "current_revision": HEAD, "problem": "",
    }
    assert "offscreen" in report["qt"]["platform_plugins"]
    assert report["qt"]["platform"] == "offscreen"  # the tests' QT_QPA_PLATFORM
    assert report["free_disk_bytes"] > 0
    assert report["notifications"]["backend"] is None
    assert "no D-Bus session bus" in report["notifications"]["problem"]
    assert database.read_bytes() == before


def test_a_database_password_is_never_printed(tmp_path: Path) -> None:
    url = "postgresql://crm:s3cret-pw@db.example.com/crm"
    for args in ((), ("--json",)):
        result = doctor(tmp_path / "home", *args, CRMCOMPANION_DATABASE_URL=url)
        assert result.returncode == 0, result.stderr
        assert "s3cret-pw" not in result.stdout + result.stderr
        assert "postgresql://crm:***@db.example.com/crm" in result.stdout
        assert "only SQLite database files are supported" in result.stdout


def test_a_damaged_database_is_described_and_left_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    database = home / DATABASE_FILENAME
    database.write_bytes(b"this is a spreadsheet, not a database" * 100)
    result = doctor(home)
    assert result.returncode == 0, result.stderr
    [line] = [x for x in result.stdout.splitlines() if x.startswith("Database: ")]
    assert "problem:" in line and "not an SQLite file" in line
    assert database.read_bytes() == b"this is a spreadsheet, not a database" * 100


def test_xcb_libraries_missing_are_named_with_packages(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ldd").write_text("#!/bin/sh\necho '\tlibxcb-icccm.so.4 => not found'\n")
    (bin_dir / "ldd").chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    result = doctor(tmp_path / "home", "--json", PATH=path)
    qt = json.loads(result.stdout)["qt"]
    assert qt["xcb_missing_libraries"] == ["libxcb-icccm.so.4"]
    assert qt["xcb_missing_packages"] == ["libxcb-icccm4"]
    text = doctor(tmp_path / "home", PATH=path).stdout
    assert ("X11 (xcb) plugin: missing libxcb-icccm.so.4; install: sudo apt install "
            "libxcb-icccm4 (Debian/Ubuntu)") in text


def test_the_notification_backend_that_would_be_used(tmp_path, session_bus, notification_server):
    result = doctor(tmp_path / "home", "--json",
                    DBUS_SESSION_BUS_ADDRESS=session_bus.address)
    assert json.loads(result.stdout)["notifications"]["backend"] == "D-Bus"
    text = doctor(tmp_path / "home", DBUS_SESSION_BUS_ADDRESS=session_bus.address).stdout
    assert "Reminders: desktop notifications through D-Bus; also the tray icon" in text
    assert notification_server.calls() == []  # asked the bus; showed nothing
