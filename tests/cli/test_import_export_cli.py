"""`crmcompanion import` / `export`: exit codes, --json shape, all-or-nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

from crmcompanion.cli import parse, run_command


def run(args: list[str], home: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    environ = {"CRMCOMPANION_HOME": str(home), "CRMCOMPANION_NOW": "2026-11-22T10:00"}
    code = run_command(parse(args), out, err, environ)
    return code, out.getvalue(), err.getvalue()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_import_json_shape_and_reimport(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", "First name,Emails,Shoe size\nAna,ana@example.com,38\n"
              "Ben,ben@example.com,44\n")
    code, out, err = run(["import", str(f), "--json"], tmp_path)
    assert code == 0, err
    assert json.loads(out) == {"rows": 2, "created": 2, "skipped_duplicates": 0,
                               "rejected": [], "written": True}
    assert "Shoe size" in err
    code, out, _ = run(["import", str(f), "--json"], tmp_path)
    assert code == 0 and json.loads(out)["skipped_duplicates"] == 2
    assert json.loads(out)["created"] == 0


def test_rejected_row_exits_1_and_writes_nothing_unless_skip_invalid(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", "First name,Emails\nAna,ana@example.com\nBob,nope\n")
    code, out, _err = run(["import", str(f), "--json"], tmp_path)
    assert code == 1
    data = json.loads(out)
    assert data["written"] is False and data["created"] == 0
    assert data["rejected"] == [{"line": 3, "column": "Emails",
                                 "reason": "“nope” is not an email address"}]
    code, out, _ = run(["customers", "search", "ana", "--json"], tmp_path)
    assert json.loads(out) == []
    code, out, _ = run(["import", str(f), "--json", "--skip-invalid"], tmp_path)
    assert code == 0 and json.loads(out)["created"] == 1


def test_ambiguous_dates_need_date_order_and_mapping(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", "Name,Mail,Born\nAna,ana@example.com,3/4/1980\n")
    code, _, err = run(["import", str(f), "--map", "Name=first_name", "--map", "Mail=email",
                        "--map", "Born=birthday"], tmp_path)
    assert code == 1 and "--date-order" in err
    code, _, err = run(["import", str(f), "--map", "Name=first_name", "--map", "Mail=email",
                        "--map", "Born=birthday", "--date-order", "dmy", "--dry-run"], tmp_path)
    assert code == 0 and "Would import 1" in err
    code, _, err = run(["import", str(f), "--map", "Name=first_name", "--map", "Mail=email",
                        "--map", "Born=birthday", "--date-order", "mdy"], tmp_path)
    assert code == 0, err
    code, _out, _ = run(["export", "--format", "csv", "--columns", "first_name,birthday",
                        "--delimiter", ";", "--no-bom", "-o", str(tmp_path / "o.csv")], tmp_path)
    assert code == 0
    assert (tmp_path / "o.csv").read_bytes().decode("utf-8") == \
        "First name;Birthday\r\nAna;1980-03-04\r\n"


def test_export_formats_and_usage_errors(tmp_path: Path) -> None:
    write(tmp_path / "c.csv", "First name,Emails,Tags\nAna,ana@example.com,vip\n"
          "Ben,ben@example.com,\n")
    assert run(["import", str(tmp_path / "c.csv")], tmp_path)[0] == 0
    code, _, err = run(["export", "--format", "vcard", "--tag", "vip",
                        "-o", str(tmp_path / "v.vcf")], tmp_path)
    assert code == 0 and "Exported 1 customers" in err
    assert (tmp_path / "v.vcf").read_text(encoding="utf-8").count("BEGIN:VCARD") == 1
    code, _, _ = run(["export", "--format", "ics", "-o", str(tmp_path / "d.ics")], tmp_path)
    assert code == 0 and (tmp_path / "d.ics").read_text().startswith("BEGIN:VCALENDAR")
    code, _, err = run(["export", "--format", "csv", "--columns", "shoe",
                        "-o", str(tmp_path / "x.csv")], tmp_path)
    assert code == 2 and "shoe" in err and not (tmp_path / "x.csv").exists()
    code, _, err = run(["import", str(tmp_path / "missing.csv")], tmp_path)
    assert code == 1
