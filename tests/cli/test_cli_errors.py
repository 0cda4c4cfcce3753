"""Every error a user can run into on the command line: one line on stderr, the right exit
code (1 a domain error, 2 a usage error, 130 Ctrl-C), never a traceback, nothing lost.

Each test runs the real `crmcompanion` process on a real data folder.
"""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.conftest import cli_env, run_cli

MAX_ID = 2**63 - 1


def database_bytes(home: Path) -> str:
    """A fingerprint of every byte of the database (and of its -wal, if any)."""
    digest = hashlib.sha256()
    for suffix in ("", "-wal"):
        path = home / f"crmcompanion.sqlite3{suffix}"
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def count(home: Path, table: str) -> int:
    conn = sqlite3.connect(home / "crmcompanion.sqlite3")
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


# --- issue 12 ------------------------------------------------------------------------------


def test_a_binary_file_is_not_a_text_file(book: Path) -> None:
    program = book / "program.csv"
    program.write_bytes(Path(sys.executable).resolve().read_bytes()[:20000])
    before = database_bytes(book)
    ran = run_cli(book, "import", str(program))
    assert ran.code == 1
    line = one_line(ran.err)
    assert "this is not a text file" in line and str(program) in line
    assert "utf-16" not in line.lower() and "decode" not in line
    assert database_bytes(book) == before


def test_utf16_text_without_bom_is_still_read(tmp_path: Path) -> None:
    """The binary check must not refuse real UTF-16 (it has NUL bytes too)."""
    source = tmp_path / "people.csv"
    source.write_bytes("First Name,Last Name\nJürgen,Müller\n".encode("utf-16-le"))
    ran = run_cli(tmp_path, "import", str(source), "--dry-run")
    assert "not a text file" not in ran.err


def test_an_empty_file_does_not_suggest_skip_invalid(book: Path) -> None:
    empty = book / "empty.csv"
    empty.write_bytes(b"")
    ran = run_cli(book, "import", str(empty))
    assert ran.code == 1
    line = one_line(ran.err)
    assert "empty" in line and "--skip-invalid" not in line


def test_demo_with_no_customers_is_a_usage_error(tmp_path: Path) -> None:
    ran = run_cli(tmp_path, "demo", "--customers", "0")
    assert ran.code == 2
    assert "--customers" in one_line(ran.err) and "from 1 to 1,000,000" in ran.err
    assert not (tmp_path / "crmcompanion.sqlite3").exists()


@pytest.mark.parametrize("summary", ["", "   ", "\t\n"])
def test_an_empty_log_summary_is_a_usage_error(book: Path, summary: str) -> None:
    logged = count(book, "interactions")
    ran = run_cli(book, "log", "--customer", "#1", summary)
    assert ran.code == 2
    assert "summary is empty" in one_line(ran.err)
    assert count(book, "interactions") == logged


def test_search_and_list_say_when_the_limit_cut_them(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "demo", "--customers", "1200").code == 0
    ran = run_cli(tmp_path, "customers", "list", "--limit", "50")
    assert ran.code == 0 and len(ran.out.splitlines()) == 50
    assert one_line(ran.err) == "50 of 1,200 shown; pass --limit to see more."
    everything = json.loads(run_cli(tmp_path, "customers", "search", "a", "--limit",
                                    "1000000", "--json").out)
    assert len(everything) > 7
    ran = run_cli(tmp_path, "customers", "search", "a", "--limit", "7", "--json")
    assert len(json.loads(ran.out)) == 7
    assert one_line(ran.err) == f"7 of {len(everything):,} shown; pass --limit to see more."
    ran = run_cli(tmp_path, "customers", "search", "a", "--limit", str(len(everything)))
    assert ran.err == ""  # nothing was cut


def test_ambiguous_customers_are_told_apart(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("First Name,Last Name,E-mail Address,Company\n"
                      "Nora,Brown,nora@bakery.example,\nNora,Brown,,Brown & Sons\n",
                      encoding="utf-8")
    assert run_cli(tmp_path, "import", str(source)).code == 0
    ran = run_cli(tmp_path, "log", "--customer", "Nora Brown", "Called")
    assert ran.code == 1
    line = one_line(ran.err)
    assert "#1 Nora Brown (nora@bakery.example)" in line
    assert "#2 Nora Brown (Brown & Sons)" in line


# --- issue 18: one line and the right exit code ----------------------------------------------


@pytest.mark.parametrize(("args", "named"), [
    (["log", "--customer", "#99999999999999999999999", "hi"], f"#1 to #{MAX_ID:,}"),
    (["log", "--customer", "#9223372036854775808", "hi"], f"#1 to #{MAX_ID:,}"),
    (["draft", "--customer", "#0", "--occasion", "birthday"], f"#1 to #{MAX_ID:,}"),
    (["customers", "show", "#9223372036854775808"], f"#1 to #{MAX_ID:,}"),
    (["customers", "search", "a", "--limit", "99999999999999999999"], "from 1 to 1,000,000"),
    (["customers", "list", "--limit", "0"], "from 1 to 1,000,000"),
    (["duplicates", "--limit", "99999999999999999999"], "from 0 to 1,000,000"),
    (["due", "--days", "3000000"], "from 0 to 3,660"),
    (["due", "--days", "-1"], "from 0 to 3,660"),
    (["export", "--format", "ics", "--days", "3000000", "-o", "x.ics"], "from 0 to 3,660"),
])
def test_integers_out_of_range_name_the_range(book: Path, args: list[str], named: str) -> None:
    before = database_bytes(book)
    ran = run_cli(book, *args)
    assert ran.code == 2
    assert named in one_line(ran.err)
    # Refused before anything was opened: not even due's derived tables were rewritten.
    assert database_bytes(book) == before
    assert not (book / "x.ics").exists()


def test_the_largest_possible_id_is_simply_not_found(book: Path) -> None:
    ran = run_cli(book, "log", "--customer", f"#{MAX_ID}", "hi")
    assert ran.code == 1
    assert "does not exist" in one_line(ran.err)


def test_an_unknown_template_writes_nothing(book: Path) -> None:
    assert count(book, "greeting_templates") == 0  # not seeded yet
    ran = run_cli(book, "draft", "--customer", "#1", "--occasion", "birthday",
                  "--template", "nope")
    assert ran.code == 1
    line = one_line(ran.err)
    assert "“nope”" in line and "Templates for birthday:" in line
    assert count(book, "greeting_templates") == 0
    # A template that exists still works (and then the library is seeded).
    ran = run_cli(book, "draft", "--customer", "#1", "--occasion", "birthday",
                  "--template", line.split("Templates for birthday: ")[1].split(" (")[0])
    assert ran.code == 0, ran.err
    assert count(book, "greeting_templates") > 0


def test_map_does_not_apply_to_a_vcard(book: Path) -> None:
    card = book / "people.vcf"
    card.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nN:Lee;Ann;;;\r\nEND:VCARD\r\n",
                    encoding="utf-8")
    before = database_bytes(book)
    ran = run_cli(book, "import", str(card), "--map", "Name=first_name")
    assert ran.code == 2
    assert "--map does not apply to a vCard" in one_line(ran.err)
    ran = run_cli(book, "import", str(book / "people.vcf"), "--format", "vcard", "--map", "a=b")
    assert ran.code == 2 and "does not apply" in one_line(ran.err)
    assert database_bytes(book) == before


def test_control_bytes_from_data_and_files_are_escaped(book: Path) -> None:
    # A name as a hostile file or an old version could have stored it.
    conn = sqlite3.connect(book / "crmcompanion.sqlite3")
    with conn:
        conn.execute("UPDATE customers SET display_name = ? WHERE id = 1",
                     ("Evil\x1b[2J\x07\nForged\u202eRow",))
    conn.close()
    ran = run_cli(book, "customers", "list", "--limit", "1000")
    assert ran.code == 0
    assert "\x1b" not in ran.out and "\x07" not in ran.out and "\u202e" not in ran.out
    assert "Evil\\x1b[2J\\x07\\x0aForged\\u202eRow" in ran.out
    assert len(ran.out.splitlines()) == 60  # the newline forged no extra row
    # JSON keeps the value exactly, written with escapes only.
    ran = run_cli(book, "customers", "list", "--limit", "1000", "--json")
    assert not any(ch in ran.out for ch in "\x1b\x07\u202e")
    assert {c["id"]: c["display_name"] for c in json.loads(ran.out)}[1] == \
        "Evil\x1b[2J\x07\nForged\u202eRow"
    ran = run_cli(book, "customers", "show", "#1")
    assert ran.code == 0 and "\x1b" not in ran.out and "\\x1b[2J" in ran.out
    # A file's header with control bytes: the "Ignored column" line shows them escaped.
    source = book / "odd.csv"
    source.write_bytes(b"First Name,Last Name,E-mail Address,\x1b]0;owned\x07Col\n"
                       b"Ann,Lee,ann@example.com,x\n")
    ran = run_cli(book, "import", str(source), "--dry-run")
    assert ran.code == 0, ran.err
    assert "\x1b" not in ran.err and "\x07" not in ran.err
    assert "Ignored column “\\x1b]0;owned\\x07Col”" in ran.err


def test_ctrl_c_exits_130_with_one_line_and_a_consistent_database(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "crmcompanion", "demo", "--customers", "200000"],
        env=cli_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell that starts jobs in the background ignores SIGINT for them; Ctrl-C in a
        # terminal is not ignored, so neither is it here.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    database = tmp_path / "crmcompanion.sqlite3"
    deadline = time.monotonic() + 120  # a guard against a hang, not a timing assertion
    while not database.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # into the work: generating and writing 200,000 customers
    assert process.poll() is None, "the demo finished before it could be interrupted"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted" in one_line(err)
    assert out == ""
    customers = count(tmp_path, "customers")
    assert customers in (0, 200_000)  # all or nothing
    assert count(tmp_path, "customer_search") == customers


def test_a_wide_sheet_names_its_ignored_columns_in_one_line(tmp_path: Path) -> None:
    # 998 columns the app does not know (issue 18: "10,000 columns: one summary line").
    extra = [f"Extra {n}" for n in range(998)]
    source = tmp_path / "wide.csv"
    source.write_text(",".join(["First Name", "Last Name", *extra]) + "\n"
                      + ",".join(["Ann", "Lee", *(["x"] * len(extra))]) + "\n",
                      encoding="utf-8")
    ran = run_cli(tmp_path / "book", "import", str(source), "--dry-run")
    assert ran.code == 0, ran.err
    ignored = [line for line in ran.err.splitlines() if line.startswith("Ignored")]
    assert ignored == ["Ignored 998 columns (“Extra 0”, “Extra 1”, “Extra 2”, “Extra 3”, "
                       "“Extra 4” and 993 more); map one with --map \"HEADER=FIELD\"."]
