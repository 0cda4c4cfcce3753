"""`crmcompanion backup` and `restore` in real subprocesses, and what the CLI says about a
bad database at start (the newest good backup and the restore command; it never restores)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

HERE_REPO = Path(__file__).resolve().parents[2]


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMCOMPANION_")}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(HERE_REPO), env.get("PYTHONPATH", "")) if p
    )
    env.update(CRMCOMPANION_HOME=str(home), **extra)
    return env


def crm(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmcompanion", *args], capture_output=True, text=True,
        env=env_for(home, **extra), check=False, stdin=subprocess.DEVNULL,
    )


def customers(database: Path) -> list[str]:
    conn = sqlite3.connect(database)
    try:
        return [r[0] for r in conn.execute("SELECT display_name FROM customers ORDER BY id")]
    finally:
        conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    result = crm(home, "demo", "--customers", "5")
    assert result.returncode == 0, result.stderr
    return home


def test_backup_prints_its_path_and_writes_an_owner_only_verified_copy(home: Path) -> None:
    os.umask(0o022)  # the subprocess inherits it
    result = crm(home, "backup")
    assert result.returncode == 0, result.stderr
    made = Path(result.stdout.strip())
    assert made.parent == home / "backups" and made.is_file()
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert customers(made) == customers(home / "crmcompanion.sqlite3")


def test_backup_to_a_chosen_file(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "usb" / "copy.sqlite3"
    result = crm(home, "backup", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{target}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(customers(target)) == 5


def test_restore_swaps_and_says_where_the_replaced_database_is(home: Path) -> None:
    database = home / "crmcompanion.sqlite3"
    made = Path(crm(home, "backup").stdout.strip())
    assert crm(home, "demo", "--append", "--customers", "3").returncode == 0
    result = crm(home, "restore", str(made))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    kept = Path(result.stderr.strip().rsplit(" kept as ", 1)[1].rstrip("."))
    assert len(customers(database)) == 5
    assert len(customers(kept)) == 8


@pytest.mark.parametrize("kind", ["not sqlite", "truncated", "newer", "other program"])
def test_restore_refuses_a_bad_backup_with_the_reason(
    home: Path, tmp_path: Path, kind: str
) -> None:
    database = home / "crmcompanion.sqlite3"
    good = Path(crm(home, "backup").stdout.strip())
    bad = tmp_path / f"{kind}.sqlite3"
    if kind == "not sqlite":
        bad.write_text("name,email\n", encoding="utf-8")
        reason = "not an SQLite file"
    elif kind == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        reason = "truncated"
    elif kind == "newer":
        bad.write_bytes(good.read_bytes())
        conn = sqlite3.connect(bad)
        conn.execute("UPDATE alembic_version SET version_num = '0999_future'")
        conn.commit()
        conn.close()
        reason = "newer version"
    else:
        conn = sqlite3.connect(bad)
        conn.execute("CREATE TABLE moz_places (id INTEGER)")
        conn.commit()
        conn.close()
        reason = "another program"
    before = digest(database)
    result = crm(home, "restore", str(bad))
    assert result.returncode == 1
    assert reason in result.stderr and str(bad) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert digest(database) == before


def test_damaged_database_at_start_names_the_newest_good_backup(home: Path) -> None:
    database = home / "crmcompanion.sqlite3"
    older = Path(crm(home, "backup", **{"CRMCOMPANION_NOW": "2026-12-01T09:00"}).stdout.strip())
    newest = Path(crm(home, "backup", **{"CRMCOMPANION_NOW": "2026-12-05T09:00"}).stdout.strip())
    broken = home / "backups" / "crmcompanion-backup-20261206-090000.sqlite3"
    broken.write_bytes(b"half a file")  # a newer backup that is not good is passed over
    assert older != newest
    database.write_bytes(b"")
    result = crm(home, "customers", "search", "a")
    assert result.returncode == 1
    assert "is empty (0 bytes)" in result.stderr
    assert f"crmcompanion restore '{newest}'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert database.read_bytes() == b""  # the CLI never restores on its own
    # The command it names works.
    assert crm(home, "restore", str(newest)).returncode == 0
    assert len(customers(database)) == 5


def test_bad_database_without_backups_says_so(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "crmcompanion.sqlite3").write_bytes(os.urandom(4096))
    result = crm(home, "due")
    assert result.returncode == 1
    assert "not an SQLite file" in result.stderr
    assert "No good backup was found" in result.stderr


def test_remind_once_makes_the_daily_backup_when_the_newest_is_a_day_old(home: Path) -> None:
    backups = home / "backups"

    def routine() -> list[str]:
        return sorted(p.name for p in backups.glob("*-backup-*.sqlite3"))

    assert crm(home, "remind", "--once", CRMCOMPANION_NOW="2026-12-01T09:00").returncode == 0
    assert routine() == ["crmcompanion-backup-20261201-090000.sqlite3"]
    assert crm(home, "remind", "--once", CRMCOMPANION_NOW="2026-12-02T08:00").returncode == 0
    assert len(routine()) == 1  # 23 hours later: not yet
    assert crm(home, "remind", "--once", CRMCOMPANION_NOW="2026-12-02T09:30").returncode == 0
    assert routine()[-1] == "crmcompanion-backup-20261202-093000.sqlite3"
