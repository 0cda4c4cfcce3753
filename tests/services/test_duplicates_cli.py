"""`crmcompanion duplicates [--json]` lists the finder's groups with their reasons."""

from __future__ import annotations

import io
import json
from pathlib import Path

from crmcompanion.cli import parse, run_command


def _run(args: list[str], home: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_command(parse(args), out, err, {"CRMCOMPANION_HOME": str(home)})
    return code, out.getvalue(), err.getvalue()


def test_duplicates_command_lists_groups(tmp_path: Path) -> None:
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("First Name,Last Name,Email\nAnna,Berg,anna@example.com\n"
                        "Anna,Berg,\nPeter,Pan,peter@example.com\n", encoding="utf-8")
    assert _run(["import", str(csv_file)], tmp_path)[0] == 0
    code, out, err = _run(["duplicates", "--json"], tmp_path)
    assert code == 0
    groups = json.loads(out)
    assert len(groups) == 1
    assert [c["name"] for c in groups[0]["customers"]] == ["Anna Berg", "Anna Berg"]
    assert groups[0]["pairs"][0]["reasons"] == [{"kind": "same_name", "value": "anna berg"}]
    code, out, err = _run(["duplicates"], tmp_path)
    assert code == 0 and "same_name anna berg" in out and "1 group(s)" in err
