"""The import's sanitising step, through the service, for CSV and vCard alike (issue 18:
"must be a clear row problem, not a silent change")."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import icalendar
import pytest

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.core.errors import DomainError
from crmcompanion.services.container import Services
from crmcompanion.services.import_export import (
    ImportRejected,
    ImportResult,
    NothingToImport,
)
from crmcompanion.store import bulk
from crmcompanion.store.database import utcnow
from tests.services.helpers import dump


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def run(services: Services, path: Path, skip_invalid: bool = False,
        format: str | None = None) -> ImportResult:
    service = services.import_export
    preview = service.preview(path, format=format)
    return service.run(preview.plan, skip_invalid=skip_invalid)


def rejected(services: Services, path: Path, format: str | None = None) -> ImportResult:
    with pytest.raises(ImportRejected) as info:
        run(services, path, format=format)
    return info.value.result


def stored(services: Services) -> list[CustomerDraft]:
    return [services.customers.get(i).to_draft()
            for i in range(1, services.customers.total() + 1)]


def card(*lines: str) -> str:
    return "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", *lines, "END:VCARD"]) + "\r\n"


# --- NUL bytes refuse the row ---------------------------------------------------------------


def test_nul_in_a_csv_cell_refuses_that_row(services: Services, tmp_path: Path) -> None:
    f = write(tmp_path / "nul.csv", "First name,Last name,Emails\nAna,Silva,a@example.com\n"
              "Bo\x00b,Nul,b@example.com\nCy,Ok,c@example.com\n")
    result = rejected(services, f)
    assert [(p.line, p.column.lower()) for p in result.rejected] == [(3, "first name")]
    assert "NUL" in result.rejected[0].reason and "\x00" not in result.rejected[0].reason
    done = run(services, f, skip_invalid=True)
    assert (done.created, done.rejected_count) == (2, 1)


@pytest.mark.parametrize("line", ["FN:An\x00na", "NOTE:a\x00b",
                                  "NOTE;ENCODING=QUOTED-PRINTABLE:a=00b"])
def test_nul_in_a_vcard_refuses_that_card(services: Services, tmp_path: Path,
                                          line: str) -> None:
    f = write(tmp_path / "nul.vcf", card("FN:Ok Person") + card("N:Nul;Nina;;;", line))
    result = rejected(services, f)
    assert result.rejected_count == 1 and "NUL" in result.rejected[0].reason
    assert result.rejected[0].line == 5  # the refused card's BEGIN:VCARD


# --- controls removed from one-line fields, kept where they belong ----------------------------


def test_control_characters_are_removed_from_names_emails_and_phones(
        services: Services, tmp_path: Path) -> None:
    f = write(tmp_path / "ctl.csv",
              "First name,Last name,Emails,Phones,Notes\n"
              '"A\x1b[31mna\x07","Sil\x08va\x7f\u202e\u200b","a\u200b@example.com",'
              '"+49\u200b30 1234\u202e567","line 1\n\tline 2\x1b"\n'
              '"Bo\nForged\t#99","Row\r\nTwo",b@example.com,,\n')
    run(services, f)
    ana, bo = stored(services)
    assert (ana.first_name, ana.last_name) == ("A[31mna", "Silva")
    assert ana.emails[0].address == "a@example.com"
    assert ana.phones[0].number == "+4930 1234567" or ana.phones[0].number.startswith("+49")
    assert all(ch.isprintable() for p in ana.phones for ch in p.number)
    assert ana.notes == "line 1\n\tline 2"
    assert (bo.first_name, bo.last_name) == ("Bo Forged #99", "Row Two")


def test_vcard_names_lose_controls_too(services: Services, tmp_path: Path) -> None:
    f = write(tmp_path / "ctl.vcf", card("N:Sil\u202eva;An\x1bna;;;", "FN:An\x1bna Silva",
                                          "NOTE:keep\\n\ttabs\x07"))
    run(services, f)
    (ana,) = stored(services)
    assert (ana.first_name, ana.last_name) == ("Anna", "Silva")
    assert ana.notes == "keep\n\ttabs"


# --- vCard dates and folding: problems of the card -------------------------------------------


@pytest.mark.parametrize("value", ["BDAY:--0230", "BDAY:19840230", "BDAY:00000000",
                                   "BDAY:soon", "BDAY:19841314", "BDAY:--1301",
                                   "ANNIVERSARY:19840230"])
def test_unreadable_vcard_dates_refuse_the_card(services: Services, tmp_path: Path,
                                               value: str) -> None:
    f = write(tmp_path / "d.vcf", card("FN:Fine") + card("FN:Bad Date", value))
    before = dump(services)
    result = rejected(services, f)
    assert result.rejected_count == 1 and result.rejected[0].line == 8  # the date's line
    assert "cannot be read" in result.rejected[0].reason
    assert dump(services) == before
    assert run(services, f, skip_invalid=True).created == 1


def test_a_name_cut_by_bad_folding_refuses_the_card(services: Services, tmp_path: Path) -> None:
    f = write(tmp_path / "fold.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Müller;Jür\r\n"
              "gen;;;\r\nEND:VCARD\r\n")
    result = rejected(services, f)
    assert result.rejected[0].line == 4 and "not a vCard property line" in \
        result.rejected[0].reason


# --- files with nothing importable ------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "fmt"), [
    ("cal.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "vcard"),
    ("list.csv", "First name,Emails\nAna,a@example.com\n", "vcard"),
    ("list.vcf", "First name,Emails\nAna,a@example.com\n", None),
    ("blob.vcf", bytes(range(256)) * 4, None),
    ("header.csv", "First name,Emails\n", None),
])
def test_nothing_importable_is_an_error_not_zero_imported(
        services: Services, tmp_path: Path, name: str, data: str | bytes,
        fmt: str | None) -> None:
    f = write(tmp_path / name, data)
    before = dump(services)
    with pytest.raises(DomainError) as info:
        run(services, f, format=fmt)
    message = str(info.value)
    assert "nothing to import" in message.lower() or "cannot be imported" in message
    assert dump(services) == before


def test_utf16_vcard_without_bom_is_read(services: Services, tmp_path: Path) -> None:
    f = write(tmp_path / "u16.vcf", card("FN:Zoë Ørsted").encode("utf-16-le"))
    assert run(services, f).created == 1
    assert stored(services)[0].effective_display_name() == "Zoë Ørsted"


def test_every_row_rejected_with_skip_invalid_is_nothing_imported(
        services: Services, tmp_path: Path) -> None:
    f = write(tmp_path / "bad.csv", "First name,Emails\nAna,nope\nBen,nope2\n")
    with pytest.raises(NothingToImport, match="none of the 2 rows"):
        run(services, f, skip_invalid=True)


# --- implausible values -------------------------------------------------------------------------


@pytest.mark.parametrize(("cells", "column", "words"), [
    ("Ana,a@example.com,,1799-05-01,", "birthday", "outside 1800..2200"),
    ("Ana,a@example.com,,2201-05-01,", "birthday", "outside 1800..2200"),
    ("Ana,a@example.com,,,2027-01-01", "customer since", "in the future"),
    ("Ana," + "a" * 250 + "@example.com,,,", "emails", "254"),
    ("Ana,a@example.com,+49 30 1234 5678 9012 34,,", "phones", "at most 15"),
    ("Ana,a@example.com,0800-FLOWERS,,", "phones", "letters"),
])
def test_implausible_values_are_row_problems(services: Services, tmp_path: Path, cells: str,
                                             column: str, words: str) -> None:
    f = write(tmp_path / "v.csv", f"First name,Emails,Phones,Birthday,Customer since\n{cells}\n")
    result = rejected(services, f)
    (problem,) = result.rejected
    assert words in problem.reason
    assert problem.column.lower().startswith(column.split()[0])


def test_a_phone_extension_is_not_letters(services: Services, tmp_path: Path) -> None:
    f = write(tmp_path / "ext.csv", "First name,Phones\nAna,+1 555 0100 ext. 12\n")
    assert run(services, f).created == 1


# --- counting, batches, labels ------------------------------------------------------------------


def test_skip_invalid_counts_rows_not_problems(services: Services, tmp_path: Path) -> None:
    rows = "".join(f"Bad{i},nope{i},1990-02-30\n" for i in range(20))
    f = write(tmp_path / "bad.csv", "First name,Emails,Birthday\nAna,a@example.com,\n" + rows)
    result = run(services, f, skip_invalid=True)
    assert (result.created, result.rejected_count) == (1, 20)
    assert len(result.rejected) == 40  # two problems each, all still listed


def test_an_import_creating_nobody_leaves_no_batch_to_undo(services: Services,
                                                           tmp_path: Path) -> None:
    first = write(tmp_path / "a.csv", "First name,Emails\nAna,a@example.com\n")
    assert run(services, first).created == 1
    again = run(services, first)  # every row a duplicate: nobody created
    assert (again.created, again.skipped_duplicates, again.batch_id) == (0, 1, None)
    undone = services.import_export.undo_last_import()
    assert undone.removed == 1 and services.customers.total() == 0


def test_csv_phone_without_label_column_gets_mobile(services: Services, tmp_path: Path) -> None:
    f = write(tmp_path / "p.csv", "First name,Phones\nAna,+4930123456\nBen,030 1234567\n")
    run(services, f)
    assert [p.label for d in stored(services) for p in d.phones] == ["mobile", "mobile"]


# --- headers ------------------------------------------------------------------------------------


def test_a_2mb_header_cell_says_the_cell_is_too_large(services: Services,
                                                      tmp_path: Path) -> None:
    f = write(tmp_path / "big.csv", "First name," + "H" * (2 << 20) + "\nAna,x\nBen,y\n")
    preview = services.import_export.preview(f)
    assert preview.fatal
    (problem,) = preview.problems
    assert "too large" in problem.reason and "expected 0 cells" not in problem.reason


def test_10000_columns_are_one_problem(services: Services, tmp_path: Path) -> None:
    header = ",".join(["First name", "Emails"] + [f"c{i}" for i in range(9998)])
    f = write(tmp_path / "wide.csv", header + "\nAna,a@example.com" + "," * 9998 + "\n")
    preview = services.import_export.preview(f)
    assert preview.fatal and len(preview.problems) == 1 and preview.unknown_headers == ()
    assert "10,000 columns" in preview.problems[0].reason


def test_problem_text_never_holds_raw_control_bytes(services: Services,
                                                    tmp_path: Path) -> None:
    f = write(tmp_path / "esc.csv", "First name,Emails,Status,\x1b[2Jx\n"
              "Ana,a@example.com,\x1b[31mweird\u202e,\n")
    preview = services.import_export.preview(f)
    texts = [p.reason + p.column for p in preview.problems] + list(preview.unknown_headers)
    assert texts and all("\x1b" not in t and "\u202e" not in t for t in texts)
    assert any("\\x1b" in t for t in texts)


# --- no stored value breaks a later export ------------------------------------------------------


def test_a_birthday_on_9999_12_31_does_not_break_the_ics_export(services: Services,
                                                                tmp_path: Path) -> None:
    draft = CustomerDraft(first_name="Max", special_dates=(
        SpecialDate(SpecialDateKind.BIRTHDAY, 12, 31, 9999),))
    with services.db.write() as session:
        bulk.insert_customers(session, [draft], utcnow(), services.staff_id)
    out = tmp_path / "d.ics"
    services.import_export.export_ics(out)
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    (event,) = [e for e in cal.walk("VEVENT")]
    assert event["DTSTART"].dt == date(9999, 12, 31)
    assert "DURATION:P1D" in out.read_text()
