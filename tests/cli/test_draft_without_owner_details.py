"""`crmcompanion draft` on a database whose owner never gave their name or business (no
first-start welcome, no Settings): the draft still prints, with the gaps marked, a note on
stderr that says where to fill them in, and exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import run_cli

pytestmark = pytest.mark.clock_sensitive


def test_draft_without_owner_details_marks_the_signature_and_exits_0(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sheet = tmp_path / "people.csv"
    sheet.write_text("First Name,Last Name,E-mail Address\nAda,Lovelace,ada@example.com\n",
                     encoding="utf-8")
    added = run_cli(home, "import", str(sheet), "--map", "First Name=first_name",
                    "--map", "Last Name=last_name", "--map", "E-mail Address=email")
    assert added.code == 0, added.err
    ran = run_cli(home, "draft", "--customer", "ada@example.com", "--occasion",
                  "keep_in_touch")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("Subject: ")
    assert "[signature?]" in ran.out
    assert "Traceback" not in ran.err
    note = [line for line in ran.err.splitlines() if line.startswith("Note:")]
    assert len(note) == 1 and "$signature" in note[0] and "Settings" in note[0]
