"""Bytes to text for imports (issue 18, "silent mojibake"): a file is read in its own encoding
or refused naming the encoding question; never stored as mojibake."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmcompanion.core import csv_import, import_text
from crmcompanion.core.vcard import parse_vcards

JAPANESE = ["山田 太郎", "鈴木 花子", "佐藤 一郎", "田中 美咲", "高橋 健太", "伊藤 さくら",
            "渡辺 大輔", "中村 優子", "小林 翔太", "加藤 愛"]
POLISH = ["Łukasz Żółć", "Agnieszka Wójcik", "Paweł Kowalczyk", "Małgorzata Dąbrowska",
          "Grzegorz Woźniak", "Józef Kamiński", "Bożena Lewandowska", "Jędrzej Zieliński"]
RUSSIAN = ["Дмитрий Иванов", "Ольга Смирнова", "Сергей Кузнецов", "Анна Попова",
           "Михаил Соколов", "Елена Лебедева", "Андрей Козлов", "Наталья Новикова"]
GREEK = ["Γιώργος Παπαδόπουλος", "Μαρία Ιωάννου", "Νίκος Γεωργίου", "Ελένη Δημητρίου"]
KOREAN = ["김 민준", "이 서연", "박 지훈", "최 수빈", "정 예준", "강 하은"]
CHINESE = ["王 伟", "李 娜", "张 敏", "刘 洋", "陈 静", "杨 磊", "赵 强", "黄 丽"]
TRADITIONAL = ["王 小明", "李 美玲", "陳 志強", "林 怡君", "黃 家豪", "張 淑芬"]
WESTERN = ["Jürgen Müller-Strauß", "Renée Lefèvre", "Ørjan Ångström", "José Núñez",
           "Françoise Çelik", "Søren Kelly"]


def csv_bytes(names: list[str], rows: int, encoding: str) -> tuple[bytes, list[tuple[str, str]]]:
    chosen = [(names * rows)[i].split(" ", 1) for i in range(rows)]
    lines = ["First name,Last name,Emails"] + [
        f"{first},{last},p{i}@example.com" for i, (first, last) in enumerate(chosen)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding), [(f, la) for f, la in chosen]


CASES = [(names, enc) for names, enc in [
    (JAPANESE, "shift_jis"), (JAPANESE, "euc_jp"), (POLISH, "cp1250"), (RUSSIAN, "cp1251"),
    (RUSSIAN, "koi8_r"), (GREEK, "cp1253"), (KOREAN, "euc_kr"), (CHINESE, "gb2312"),
    (TRADITIONAL, "big5"), (WESTERN, "cp1252"), (WESTERN, "latin-1")]]


@pytest.mark.parametrize("rows", [1, 3, 12, 40])
@pytest.mark.parametrize(("names", "encoding"), CASES, ids=[e for _, e in CASES])
def test_legacy_files_are_read_right_or_refused_never_mojibake(
        tmp_path: Path, names: list[str], encoding: str, rows: int) -> None:
    data, expected = csv_bytes(names, rows, encoding)
    path = tmp_path / "legacy.csv"
    path.write_bytes(data)
    report = csv_import.inspect_csv(path)
    if not report.ok:
        (issue,) = report.issues
        assert issue.code == "encoding"
        assert "cannot tell the file's text encoding" in issue.reason and "UTF-8" in \
            issue.reason
        return
    rows_read = csv_import.read_customers(path)
    assert [(r.values.first_name, r.values.last_name) for r in rows_read] == expected


def test_shift_jis_and_windows_1252_address_books_are_detected(tmp_path: Path) -> None:
    for names, encoding in ((JAPANESE, "shift_jis"), (WESTERN, "cp1252")):
        data, expected = csv_bytes(names, 12, encoding)
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(data)
        rows = csv_import.read_customers(path)
        assert [(r.values.first_name, r.values.last_name) for r in rows] == expected


def test_one_bad_byte_refuses_its_row_not_the_whole_file_as_mojibake(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes("First name,Last name,Emails\nJürgen,Müller-Strauß,j@example.com\n"
                     .encode() + b"Anna,Bad\xff,a@example.com\n" +
                     "Zoë,Ørsted,z@example.com\n".encode())
    assert csv_import.detect_encoding(path) == import_text.UTF8_WITH_ERRORS
    report = csv_import.inspect_csv(path)
    assert [(i.line, i.column, i.code) for i in report.issues] == [(3, "Last name",
                                                                    "invalid_byte")]
    assert "0xFF" in report.issues[0].reason
    skipped: list[csv_import.ImportIssue] = []
    rows = [r for batch in csv_import.iter_parsed_batches(report, skipped=skipped)
            for r in batch]
    assert [(r.values.first_name, r.values.last_name) for r in rows] == [
        ("Jürgen", "Müller-Strauß"), ("Zoë", "Ørsted")]
    assert len(skipped) == 1


def test_bad_bytes_in_an_ignored_column_refuse_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ignored.csv"
    path.write_bytes("First name,Emails,Shoe\nJürgen,j@example.com,ok\n".encode()
                     + b"Ana,a@example.com,\xfe\n")
    report = csv_import.inspect_csv(path)
    assert report.ok
    assert len(csv_import.read_customers(path)) == 2


@pytest.mark.parametrize(("bom", "encoding"), [(b"\xef\xbb\xbf", "utf-8"),
                                               (b"\xff\xfe", "utf-16-le"),
                                               (b"\xfe\xff", "utf-16-be"),
                                               (b"", "utf-16-le")])
def test_boms_and_utf16_still_work(tmp_path: Path, bom: bytes, encoding: str) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(bom + "First name,Emails\nJürgen,j@example.com\n".encode(encoding))
    (row,) = csv_import.read_customers(path)
    assert row.values.first_name == "Jürgen"


def test_vcard_files_go_through_the_same_decoding() -> None:
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{}\r\nEND:VCARD\r\n"
    western = parse_vcards(card.format("Jürgen Müller").encode("cp1252"))
    assert [d.display_name or d.effective_display_name() for d in western.drafts] == \
        ["Jürgen Müller"]
    japanese = "".join(card.format(n) for n in JAPANESE).encode("shift_jis")
    result = parse_vcards(japanese)
    assert [d.effective_display_name() for d in result.drafts] == JAPANESE
    utf16 = parse_vcards(card.format("Zoë").encode("utf-16-le"))  # no BOM
    assert [d.effective_display_name() for d in utf16.drafts] == ["Zoë"]


def test_utf8_fast_path_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_bytes("First name,Emails\nJürgen,j@example.com\n".encode())
    assert csv_import.detect_encoding(path) == "utf-8"


def test_a_bad_byte_in_the_header_refuses_the_file(tmp_path: Path) -> None:
    # Read as an unknown column, the "Last name" data would be left out without a word.
    path = tmp_path / "header.csv"
    path.write_bytes(b"First name,Las\xfft name,Emails\n" + "Zoë,Ørsted,z@example.com\n"
                     .encode())
    report = csv_import.inspect_csv(path)
    (issue,) = report.issues
    assert issue.code == "bad_header" and "column 2" in issue.reason and "0xFF" in issue.reason


@pytest.mark.parametrize("charset", [b"UTF-\xff8", b"rot13", b"base64", b"nope"])
def test_a_vcard_charset_that_is_no_text_encoding_is_read_as_utf8(charset: bytes) -> None:
    # A bad byte in CHARSET raised UnicodeEncodeError (a traceback) before; found by the long
    # property run.
    data = (b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=" + charset +
            b";ENCODING=QUOTED-PRINTABLE:M=C3=BCller;Anna\r\nEND:VCARD\r\n" + "Zoë".encode())
    (draft,) = parse_vcards(data).drafts
    assert (draft.first_name, draft.last_name) == ("Anna", "Müller")
