"""`crmcompanion import` of the sheets people have, as a user's shell runs it (issue 14): no
--map needed for common headers, a loud warning for a column of contacts left out, the date
order asked only when no date settles it, and --help naming every field --map takes."""

from __future__ import annotations

import json
from pathlib import Path

from crmcompanion.core.csv_import import MAPPING_FIELDS
from tests.cli.conftest import run_cli


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding, newline="")
    return path


def _show(home: Path, who: str) -> dict[str, object]:
    ran = run_cli(home, "customers", "show", who, "--json")
    assert ran.code == 0, ran.err
    return json.loads(ran.out)


def test_german_excel_sheet_imports_without_map(tmp_path: Path) -> None:
    sheet = _write(tmp_path / "Kunden.csv",
                   "Vorname;Nachname;E-Mail;Telefon;Mobil;Geburtstag;Firma;Notizen;Fax;"
                   "Handynummer privat2\r\n"
                   "Jürgen;Groß;juergen@example.de;+49 30 1234567;+49 151 23456789;03.04.1971;"
                   "Groß & Söhne;Stammkunde;+49 30 1234568;\r\n", encoding="cp1252")
    ran = run_cli(tmp_path, "import", str(sheet))
    assert ran.code == 0, ran.err
    assert "Imported 1 customers" in ran.err
    shown = json.dumps(_show(tmp_path, "Groß"), ensure_ascii=False)
    for expected in ("Jürgen", "Groß", "juergen@example.de", "+4915123456789", "+49301234567",
                     "\"month\": 4, \"day\": 3, \"year\": 1971", "Groß & Söhne"):
        assert expected in shown, (expected, shown)
    assert shown.index("+4915123456789") < shown.index("+49301234567")  # the mobile first


def test_a_column_of_phone_numbers_left_out_warns_on_stderr(tmp_path: Path) -> None:
    sheet = _write(tmp_path / "w.csv", "Name,Email,Rückruf unter\n"
                   "Ann Lee,ann@example.com,+49 30 1234567\n")
    ran = run_cli(tmp_path, "import", str(sheet))
    assert ran.code == 0, ran.err
    warning = [line for line in ran.err_lines if line.startswith("WARNING")]
    assert warning == ["WARNING: column “Rückruf unter” holds phone numbers but is not "
                       "imported; add --map \"Rückruf unter=phone\" to import them."]
    assert "Imported 1 customers" in ran.err


def test_date_order_asked_only_when_no_date_settles_it(tmp_path: Path) -> None:
    settled = _write(tmp_path / "a.csv", "Name,Email,Birthday\n"
                     "Ann Lee,ann@example.com,03/04/1971\nBo Berg,bo@example.com,25/12/1980\n")
    ran = run_cli(tmp_path, "import", str(settled))
    assert ran.code == 0, ran.err
    assert _show(tmp_path, "Ann Lee")["special_dates"][0] == {
        "kind": "birthday", "label": "", "month": 4, "day": 3, "year": 1971}
    ambiguous = _write(tmp_path / "b.csv", "Name,Email,Birthday\nCy Cole,cy@example.com,"
                       "03/04/1971\n")
    ran = run_cli(tmp_path, "import", str(ambiguous))
    assert ran.code == 1
    assert "--date-order" in ran.err_lines[-1] and "Traceback" not in ran.err


def test_import_help_lists_every_map_field(tmp_path: Path) -> None:
    ran = run_cli(tmp_path, "import", "--help")
    assert ran.code == 0
    text = " ".join(ran.out.split())
    for name in MAPPING_FIELDS:
        assert name in text, name
    assert "first_name, last_name, full_name" in text
