"""Hostile paths and environments through the real command line (`python -m crmcompanion`).

Each case feeds one input from the robustness campaign (issue 18) or a new user's first hour
(issue 12) and asserts the outcome: exit code, exactly one line on stderr (never a traceback),
and the database byte for byte as it was. Run as subprocesses, so they test what a user runs
whatever the CLI's module layout.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-22T10:00"


def crm(args: list[str], home: Path, *, umask: int = 0o022,
        **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CRMCOMPANION_")}
    environ.update({"PYTHONPATH": str(ROOT), "CRMCOMPANION_HOME": str(home),
                    "CRMCOMPANION_NOW": NOW, **env})
    return subprocess.run([sys.executable, "-m", "crmcompanion", *args], env=environ,
                          capture_output=True, text=True, timeout=300, umask=umask)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line (asserted to be one, and no traceback)."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.strip()


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("filled") / "home"
    result = crm(["demo", "--customers", "50"], home)
    assert result.returncode == 0, result.stderr
    return home


@pytest.fixture
def home(filled: Path, tmp_path: Path) -> Path:
    """A copy of a home holding 50 sample customers, with a backup in backups/."""
    copy = tmp_path / "home"
    shutil.copytree(filled, copy)
    shutil.copy(copy / "crmcompanion.sqlite3", copy / "backups" / "before-upgrade.sqlite3")
    return copy


def snapshot(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*"))
            if p.is_file() and "logs" not in p.parts}


# --- 1. never over the app's own files ----------------------------------------------------

def _own_file(home: Path, tmp_path: Path, case: str) -> Path:
    db = home / "crmcompanion.sqlite3"
    if case == "symlink":
        (tmp_path / "link.csv").symlink_to(db)
        return tmp_path / "link.csv"
    if case == "hard link":
        os.link(db, tmp_path / "hard.csv")
        return tmp_path / "hard.csv"
    return {"database": db, "wal": Path(f"{db}-wal"), "shm": Path(f"{db}-shm"),
            "journal": Path(f"{db}-journal"), "backup": home / "backups" / "before-upgrade.sqlite3",
            "new file in backups": home / "backups" / "x.csv", "data folder": home,
            "log": home / "logs" / "crmcompanion.log"}[case]


@pytest.mark.parametrize("case", ["database", "wal", "shm", "journal", "symlink", "hard link",
                                  "backup", "new file in backups", "data folder", "log"])
def test_export_never_writes_over_the_app_s_own_files(home: Path, tmp_path: Path,
                                                      case: str) -> None:
    target = _own_file(home, tmp_path, case)
    before = snapshot(home)
    result = crm(["export", "--format", "csv", "-o", str(target)], home)
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith(f"crmcompanion: Refusing to write {target}: it is ")
    assert line.endswith("nothing was written.")
    assert snapshot(home) == before
    ok = crm(["customers", "search", "a", "--limit", "1"], home)
    assert ok.returncode == 0, ok.stderr  # the database still opens


@pytest.mark.parametrize("fmt", ["vcard", "ics"])
def test_every_format_refuses_the_database(home: Path, fmt: str) -> None:
    before = snapshot(home)
    result = crm(["export", "--format", fmt, "-o", str(home / "crmcompanion.sqlite3")], home)
    assert result.returncode == 1 and "it is the CRM Companion database" in one_line(result)
    assert snapshot(home) == before


# --- 2. what the target is decides how it is written -------------------------------------

def test_export_into_a_missing_folder_creates_nothing(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "out.csv"
    result = crm(["export", "--format", "csv", "-o", str(target)], home)
    assert result.returncode == 1
    assert one_line(result) == (f"crmcompanion: Cannot write {target}: the folder "
                                f"{target.parent} does not exist; nothing was written.")
    assert not (tmp_path / "no").exists()


def test_export_onto_a_folder_is_refused(home: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    result = crm(["export", "--format", "vcard", "-o", str(tmp_path / "out")], home)
    assert result.returncode == 1
    assert one_line(result) == (f"crmcompanion: Cannot write {tmp_path / 'out'}: it is a "
                                "folder; name a file in it instead.")
    assert list((tmp_path / "out").iterdir()) == []


def test_export_through_a_symlink_writes_its_target_and_keeps_the_link(
        home: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    result = crm(["export", "--format", "csv", "-o", str(link)], home)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and real.read_text(encoding="utf-8-sig").startswith("First name")
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # the replaced file keeps its mode


def test_new_export_gets_the_umask_s_mode(home: Path, tmp_path: Path) -> None:
    result = crm(["export", "--format", "ics", "-o", str(tmp_path / "dates.ics")], home,
                 umask=0o027)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "dates.ics").stat().st_mode) == 0o640


def test_dash_writes_to_standard_output(home: Path) -> None:
    result = crm(["export", "--format", "vcard", "-o", "-"], home)
    assert result.returncode == 0
    assert result.stdout.count("BEGIN:VCARD") == 50
    assert one_line(result) == "Exported 50 customers to standard output."
    assert not (home / "-").exists() and not Path("-").exists()


def test_dev_stdout_on_a_pipe_is_a_stream_and_stays_a_link(home: Path) -> None:
    was = os.readlink("/dev/stdout")
    result = crm(["export", "--format", "vcard", "-o", "/dev/stdout"], home)  # stdout: a pipe
    assert result.returncode == 0 and result.stdout.count("BEGIN:VCARD") == 50
    assert one_line(result) == "Exported 50 customers to /dev/stdout."
    assert os.readlink("/dev/stdout") == was


@pytest.mark.parametrize("command", [["import"], ["export", "--format", "csv", "-o"]])
def test_proc_self_mem_is_one_line(home: Path, command: list[str]) -> None:
    before = snapshot(home)
    result = crm([*command, "/proc/self/mem"], home)
    assert result.returncode == 1
    assert "/proc/self/mem" in one_line(result)
    assert snapshot(home) == before


def test_import_of_a_folder_is_one_line(home: Path, tmp_path: Path) -> None:
    result = crm(["import", str(tmp_path)], home)
    assert result.returncode == 1
    assert one_line(result) == f"crmcompanion: {tmp_path} is a folder, not a file."


# --- 3. the environment ------------------------------------------------------------------

def test_home_naming_a_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("I am a file")
    for home, says in ((tmp_path / "file", "is a file, not a folder"),
                       (tmp_path / "file" / "below", "part of that path is a file")):
        for args in (["customers", "search", "a"], ["demo", "--customers", "5"]):
            result = crm(args, home)
            assert result.returncode == 2
            line = one_line(result)
            assert line.startswith(f"crmcompanion: CRMCOMPANION_HOME={home}") and says in line
    assert (tmp_path / "file").read_text() == "I am a file"


@pytest.mark.parametrize("now", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("args", [["due"], ["remind", "--once"], ["demo", "--customers", "5"],
                                  ["log", "--customer", "#1", "Called"],
                                  ["export", "--format", "ics", "-o", "OUT"]])
def test_a_clock_outside_the_supported_range_exits_2_before_the_database(
        home: Path, tmp_path: Path, now: str, args: list[str]) -> None:
    args = [str(tmp_path / "x.ics") if a == "OUT" else a for a in args]
    before = snapshot(home)
    result = crm(args, home, CRMCOMPANION_NOW=now)
    assert result.returncode == 2
    assert one_line(result) == (f"crmcompanion: CRMCOMPANION_NOW={now!r} is outside the "
                                "supported range 1900-01-01 to 2200-12-31")
    assert snapshot(home) == before and not (tmp_path / "x.ics").exists()


@pytest.mark.parametrize(("url", "says"), [
    ("not a url", "is not a URL"),
    ("sqlite:", "is not a URL"),
    ("sqlite:///:memory:", "names no database file"),
    ("sqlite:////dev/null", "/dev/null is not a regular file"),
    ("mysql://user@127.0.0.1/crm", "is not supported"),
    # Nothing listens on port 1: the server's refusal, the URL without its password.
    ("postgresql+psycopg://user:pw@127.0.0.1:1/crm",
     "Cannot use the PostgreSQL database postgresql+psycopg://user:***@127.0.0.1:1/crm"),
])
def test_unusable_database_urls_exit_1_with_one_line(tmp_path: Path, url: str, says: str) -> None:
    result = crm(["demo", "--customers", "5"], tmp_path / "home", CRMCOMPANION_DATABASE_URL=url)
    assert result.returncode == 1
    line = one_line(result)
    assert says in line and "sqlalche.me" not in line and "SELECT" not in line
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_query_parameters_never_become_part_of_a_file_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}?mode=ro"
    result = crm(["demo", "--customers", "5"], tmp_path / "home", CRMCOMPANION_DATABASE_URL=url)
    assert result.returncode == 1 and "query parameters (mode)" in one_line(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]  # no "crm.sqlite3?mode=ro"


# --- integers out of range: exit 2 with the range, before the database ---------------------

@pytest.mark.parametrize(("args", "says"), [
    (["log", "--customer", "#99999999999999999999999", "Called"],
     "must be from #1 to #9,223,372,036,854,775,807"),
    (["draft", "--customer", "#9223372036854775808", "--occasion", "birthday"],
     "must be from #1 to #9,223,372,036,854,775,807"),
    (["customers", "search", "a", "--limit", "99999999999999999999"], "from 1 to 1,000,000"),
    (["due", "--days", "3000000"], "from 0 to 3,660"),
    (["export", "--format", "ics", "--days", "3000000", "-o", "OUT"], "from 0 to 3,660"),
    (["duplicates", "--limit", "1" + "0" * 30], "from 0 to 1,000,000"),
])
def test_integers_out_of_range_exit_2_with_the_range(home: Path, tmp_path: Path,
                                                    args: list[str], says: str) -> None:
    args = [str(tmp_path / "x.ics") if a == "OUT" else a for a in args]
    before = snapshot(home)
    result = crm(args, home)
    assert result.returncode == 2
    line = one_line(result)
    assert says in line
    assert snapshot(home) == before  # `due` used to rewrite its derived tables first


def test_the_clock_s_edges_work(home: Path, tmp_path: Path) -> None:
    for now in ("1900-01-01", "2200-12-31T23:00"):
        for args in (["due", "--days", "3660"],
                     ["export", "--format", "ics", "--days", "3660", "-o",
                      str(tmp_path / "x.ics")]):
            result = crm(args, home, CRMCOMPANION_NOW=now)
            assert result.returncode == 0, result.stderr


# --- 4. the log file ---------------------------------------------------------------------

def test_commands_log_to_an_owner_only_file_and_the_console_is_unchanged(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = crm(["demo", "--customers", "5"], home, umask=0)
    assert result.returncode == 0
    assert result.stderr == "Added 5 sample customers.\n"  # no INFO lines on the console
    log = home / "logs" / "crmcompanion.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    assert "Running upgrade" in log.read_text(encoding="utf-8")


# --- 5. leftovers ------------------------------------------------------------------------

def test_leftover_temporary_files_are_removed_at_the_next_start(home: Path) -> None:
    # What a killed import left: its scratch folder (the lock died with it) with a staging file.
    killed = home / "tmp" / "12345-deadbeef"
    killed.mkdir(parents=True)
    (killed / ".owner.lock").touch()
    (killed / "crmcompanion-import-abcd1234.sqlite3").write_bytes(b"\0" * 1_000_000)
    (killed / "crmcompanion-stage-x1").mkdir()
    # And what an earlier version left beside the database, two hours ago.
    legacy = home / "crmcompanion-import-old12345.sqlite3"
    legacy.write_bytes(b"\0" * 1000)
    two_hours_ago = time.time() - 7200
    os.utime(legacy, (two_hours_ago, two_hours_ago))
    result = crm(["customers", "search", "a", "--limit", "1"], home)
    assert result.returncode == 0, result.stderr
    assert not killed.exists() and not legacy.exists()
    assert stat.S_IMODE((home / "tmp").stat().st_mode) == 0o700


# --- devices last: a wrong implementation would replace them (checked in-process first) --

@pytest.mark.parametrize("device", ["/dev/null", "/dev/full"])
def test_devices_are_written_as_streams(home: Path, device: str) -> None:
    from crmcompanion.core.atomic_file import plan_output

    assert plan_output(device).stream, "would replace the device: not running the export"
    result = crm(["export", "--format", "csv", "-o", device], home)
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    if device == "/dev/full":
        assert result.returncode == 1
        assert one_line(result).startswith(
            "crmcompanion: Cannot write /dev/full: no space left on device")
    else:
        assert result.returncode == 0 and one_line(result) == "Exported 50 customers to /dev/null."
