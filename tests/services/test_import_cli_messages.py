"""`crmcompanion import` of hostile files through the real command line (a subprocess): one
clear line per problem, exit 1 for nothing importable, never raw control bytes (issue 18)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def crm(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRMCOMPANION_HOME": str(home), "CRMCOMPANION_NOW": "2026-11-22T10:00",
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "crmcompanion", *args], env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          check=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_one_bad_byte_is_one_rejected_row_not_mojibake(home: Path, tmp_path: Path) -> None:
    f = tmp_path / "mixed.csv"
    f.write_bytes("First name,Last name,Emails\nJürgen,Müller-Strauß,j@example.com\n".encode()
                  + b"Anna,Bad\xff,a@example.com\n")
    refused = crm(home, "import", str(f))
    assert refused.returncode == 1
    assert "line 3, Last name: the byte 0xFF is not UTF-8" in refused.stderr
    done = crm(home, "import", str(f), "--skip-invalid")
    assert done.returncode == 0 and "Imported 1 customers" in done.stderr
    assert "1 rows rejected" in done.stderr
    found = crm(home, "customers", "search", "jürgen")
    assert "Jürgen Müller-Strauß" in found.stdout


def test_shift_jis_is_read_or_refused_never_stored_as_mojibake(home: Path,
                                                              tmp_path: Path) -> None:
    f = tmp_path / "sjis.csv"
    names = ["山田,太郎", "鈴木,花子", "佐藤,一郎", "田中,美咲", "高橋,健太", "伊藤,さくら"]
    f.write_bytes(("Last name,First name,Emails\n" + "".join(
        f"{n},p{i}@example.jp\n" for i, n in enumerate(names))).encode("shift_jis"))
    done = crm(home, "import", str(f))
    if done.returncode == 1:
        assert "text encoding" in done.stderr and "UTF-8" in done.stderr
        return
    assert done.returncode == 0
    assert "太郎 山田" in crm(home, "customers", "search", "山田").stdout


@pytest.mark.parametrize(("name", "text", "args", "words"), [
    ("cal.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", ["--format", "vcard"],
     "nothing to import"),
    ("list.vcf", "First name,Emails\nAna,a@example.com\n", [], "nothing to import"),
    ("header.csv", "First name,Emails\n", [], "Nothing to import"),
    ("bad.csv", "First name,Emails\nAna,nope\n", ["--skip-invalid"], "Nothing to import"),
])
def test_nothing_importable_exits_1_saying_so(home: Path, tmp_path: Path, name: str, text: str,
                                              args: list[str], words: str) -> None:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    done = crm(home, "import", str(f), *args)
    assert done.returncode == 1, done.stderr
    assert words in done.stderr and "Imported 0" not in done.stderr
    assert "Traceback" not in done.stderr


def test_wide_and_huge_headers_are_one_line_each(home: Path, tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(["First name", "Emails"] + [f"c{i}" for i in range(9998)]) +
                    "\nAna,a@example.com" + "," * 9998 + "\n", encoding="utf-8")
    done = crm(home, "import", str(wide))
    assert done.returncode == 1 and len(done.stderr.splitlines()) <= 2
    assert "10,000 columns" in done.stderr
    big = tmp_path / "big.csv"
    big.write_text("First name," + "H" * (2 << 20) + "\nAna,x\n", encoding="utf-8")
    done = crm(home, "import", str(big))
    assert done.returncode == 1 and "a cell is too large" in done.stderr
    assert "expected 0 cells" not in done.stderr


def test_messages_never_echo_raw_control_bytes(home: Path, tmp_path: Path) -> None:
    f = tmp_path / "esc.csv"
    f.write_text("First name,Emails,Status,\x1b[2Jboom\x07\n"
                 "Ana,a@example.com,\x1b[31mweird\u202e,x\n", encoding="utf-8")
    done = crm(home, "import", str(f))
    assert done.returncode == 1
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    assert "\u202e" not in done.stderr
    assert "\\x1b[2Jboom\\x07" in done.stderr  # the ignored column, escaped
