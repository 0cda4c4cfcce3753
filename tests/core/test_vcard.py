"""vCard import of real-world dialects, export, and export -> import round trips."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import vobject

from crmcompanion.core.customer import (
    Channel,
    CustomerDraft,
    EmailAddress,
    Kind,
    PhoneNumber,
    PostalAddress,
    SpecialDate,
    SpecialDateKind,
    Status,
)
from crmcompanion.core.vcard import (
    VCardVersion,
    escape_text,
    export_vcards,
    fold_content_line,
    normalize_phone,
    parse_vcards,
    read_vcard_file,
    vcard_for,
)

FIXTURES = Path(__file__).parent / "fixtures" / "vcard"
BIRTHDAY = SpecialDateKind.BIRTHDAY
WEDDING = SpecialDateKind.WEDDING_ANNIVERSARY
CUSTOM = SpecialDateKind.CUSTOM


def read(name: str):
    return read_vcard_file(FIXTURES / name, default_region="DE")


# --------------------------------------------------------------------------- fixtures


def test_apple_contacts_export():
    result = read("apple_contacts.vcf")
    assert result.problems == ()
    anna, acme = result.drafts
    assert (anna.first_name, anna.last_name, anna.display_name) == ("Anna", "Müller", "")
    assert anna.company == "Bäckerei Müller GmbH"
    assert anna.emails == (
        EmailAddress("anna.mueller@example.de", "home"),
        EmailAddress("anna@baeckerei-mueller.example", "other"),
    )
    assert anna.phones == (
        PhoneNumber("+491701234567", "mobile"),
        PhoneNumber("+493012345678", "work"),
    )
    assert anna.address == PostalAddress("Hauptstraße 5", "Berlin", "", "10115", "Deutschland")
    assert anna.notes == (
        "Prefers calls before noon, never on Mondays.\nAllergic to nuts; ask first."
    )
    # item3.X-ABDATE + _$!<Anniversary>!$_, and the yearless X-APPLE-OMIT-YEAR birthday.
    assert anna.special_dates == (
        SpecialDate(WEDDING, 6, 18, 2005),
        SpecialDate(BIRTHDAY, 3, 14, None),
    )
    assert anna.tags == ("Stammkunden", "VIP")
    assert anna.source_uid == "6E1C3F58-2E4B-4A1F-9C5D-1B2A3C4D5E6F"
    # The base64 PHOTO block is skipped without leaking into other fields.
    assert "/9j/" not in repr(anna)

    assert acme.company == "Acme Holding, Einkauf"
    assert (acme.first_name, acme.last_name) == ("", "")
    assert acme.phones == (PhoneNumber("+442079460958", "Zentrale London"),)
    assert acme.special_dates == (SpecialDate(CUSTOM, 2, 29, None, "Firmenjubiläum"),)


def test_google_contacts_export():
    result = read("google_contacts.vcf")
    assert result.problems == ()
    picard, crusher = result.drafts
    assert (picard.first_name, picard.last_name) == ("Jean-Luc", "Picard")
    assert picard.emails == (EmailAddress("jl.picard@example.com", "work"),)
    assert picard.phones == (
        PhoneNumber("+33612345678", "mobile"),
        PhoneNumber("+14155550132", "Büro San Francisco"),
    )
    assert picard.address.street == "12 Rue de la Paix"
    assert picard.address.country == "France"
    assert picard.special_dates == (
        SpecialDate(BIRTHDAY, 7, 13, 1961),
        SpecialDate(WEDDING, 6, 12, 2010),
    )
    assert picard.notes == "Met at the trade fair in Lyon, 2023."
    assert picard.tags == ("Kunden",)  # Google's system group myContacts is not a tag
    assert crusher.special_dates == (SpecialDate(BIRTHDAY, 5, 1, None),)  # BDAY:--05-01
    assert crusher.tags == ()


def test_android_21_quoted_printable_soft_breaks_and_photo():
    result = read("android_21.vcf")
    assert result.problems == ()
    (ayse,) = result.drafts
    assert (ayse.first_name, ayse.last_name) == ("Ayşe", "Öztürk")
    assert ayse.display_name == ""  # FN repeats the name
    assert ayse.phones == (
        PhoneNumber("+4915123456789", "mobile"),  # TEL;CELL;PREF:
        PhoneNumber("+493012345678", "home"),
    )
    assert ayse.emails == (EmailAddress("ayse@example.com", "home"),)
    assert ayse.address == PostalAddress("Mühlenweg 3", "Köln", "", "50667", "Deutschland")
    assert ayse.notes == (
        "Kauft jedes Jahr zum Geburtstag Blumen für die Mutter.\nZweite Zeile: äöüß"
    )
    # 19710314T000000Z is a date, not shifted by a time zone.
    assert ayse.special_dates == (SpecialDate(BIRTHDAY, 3, 14, 1971),)


def test_outlook_21_windows_1252():
    (weiss,) = read("outlook_21.vcf").drafts
    assert (weiss.first_name, weiss.last_name) == ("Jürgen", "Weiß")
    assert weiss.company == "Weiß & Söhne KG"
    assert weiss.address == PostalAddress("Leopoldstraße 12", "München", "Bayern", "80802",
                                          "Deutschland")
    assert weiss.phones == (
        PhoneNumber("+49891234567", "work"),
        PhoneNumber("+491712345678", "mobile"),
    )
    assert weiss.special_dates == (SpecialDate(BIRTHDAY, 9, 5, 1968),)


def test_vcard_4_card():
    result = read("v4_card.vcf")
    assert result.problems == ()
    (sophie,) = result.drafts
    assert sophie.display_name == "Dr. Sophie Dubois"  # differs from the N name: kept
    assert sophie.phones == (PhoneNumber("+33698765432", "mobile"),)  # TYPE="voice,cell" tel:
    assert sophie.special_dates == (
        SpecialDate(BIRTHDAY, 3, 14, None),
        SpecialDate(WEDDING, 6, 20, 2009),
    )
    assert sophie.tags == ("Partner", "Paris")
    assert sophie.source_uid == "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"


def test_malformed_cards_each_give_a_specific_problem():
    result = read("malformed.vcf")
    found = [(p.line, p.card_name, p.skipped_card) for p in result.problems]
    assert found == [
        (5, "Bad Birthday", True),
        (10, "Not A Date", True),
        (11, "Not A Date", True),
        (13, "Never Closed", True),
        (16, "", True),
        (19, "", False),
        (23, "Leap Without Leap Year", True),
        (26, "Truncated At End", True),
    ]
    messages = [p.message for p in result.problems]
    assert "February 1971 has 28 days" in messages[0]
    assert "not a date" in messages[1]
    assert "no NAME:value" in messages[2]
    assert "missing END:VCARD" in messages[3] and "line 16" in messages[3]
    assert "no name, organisation, email address or phone number" in messages[4]
    assert "outside BEGIN:VCARD" in messages[5]
    assert "29 February does not exist in 2023" in messages[6]
    assert "file ends inside this card" in messages[7]
    assert str(result.problems[0]).startswith("line 5 (Bad Birthday): BDAY '1971-02-30'")
    # A card with a value that cannot be read is refused as a whole (issue 18: never
    # imported without its birthday, silently); only text outside any card is passed over.
    assert result.drafts == ()


def test_not_a_vcard_at_all():
    result = parse_vcards("hello\nworld\n")
    assert result.drafts == ()
    assert [(p.line, p.message) for p in result.problems] == [
        (1, "text outside BEGIN:VCARD ... END:VCARD ignored")
    ]
    assert parse_vcards("").problems[0].message.startswith("no BEGIN:VCARD found")


# --------------------------------------------------------------------------- parsing details


def card(*lines: str, version: str = "3.0", newline: str = "\r\n") -> str:
    return newline.join(["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD", ""])


def one(text: str, region: str | None = None) -> CustomerDraft:
    result = parse_vcards(text, default_region=region)
    assert result.problems == ()
    assert len(result.drafts) == 1
    return result.drafts[0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("BDAY:1971-03-14", (3, 14, 1971)),
        ("BDAY:19710314", (3, 14, 1971)),
        ("BDAY:--0314", (3, 14, None)),
        ("BDAY:--03-14", (3, 14, None)),
        ("BDAY;VALUE=date:--0229", (2, 29, None)),
        ("BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-14", (3, 14, None)),
        ("BDAY;X-APPLE-OMIT-YEAR=1604;VALUE=date:1604-02-29", (2, 29, None)),
        ("BDAY:19710314T000000Z", (3, 14, 1971)),
        # Late evening west of UTC: still the 14th (no conversion through UTC).
        ("BDAY:1971-03-14T23:30:00-05:00", (3, 14, 1971)),
        ("BDAY:1972-02-29", (2, 29, 1972)),
    ],
)
def test_birthday_forms(value, expected):
    draft = one(card("FN:X", value))
    (special,) = draft.special_dates
    assert (special.kind, special.month, special.day, special.year) == (BIRTHDAY, *expected)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("BDAY:1971-13-01", "Month must be"),
        ("BDAY:--0230", "February never has a day 30"),
        ("BDAY:1971-03", "not a date"),
        ("BDAY:1971-03-14Tnoon", "not a time"),
    ],
)
def test_bad_birthdays(value, reason):
    result = parse_vcards(card("FN:X", value))
    (problem,) = result.problems
    assert problem.line == 4
    assert reason in problem.message
    assert problem.skipped_card  # the card is refused, not imported without its birthday
    assert result.drafts == ()


def test_anniversary_properties_and_duplicates():
    draft = one(card(
        "FN:X",
        "X-ANNIVERSARY:2001-05-05",
        "ANNIVERSARY:20010505",  # the same date twice: one special date
        "item1.X-ABDATE:2010-01-02",  # no label: a custom date without a name
        "item2.X-ABDATE:2011-01-02",
        "item2.X-ABLabel:_$!<Other>!$_",
    ))
    assert draft.special_dates == (
        SpecialDate(WEDDING, 5, 5, 2001),
        SpecialDate(CUSTOM, 1, 2, 2010),
        SpecialDate(CUSTOM, 1, 2, 2011),
    )


def test_folded_lines_lf_and_tab():
    text = card("FN:Anna", "NOTE:first part", " second part", "\tthird", newline="\n")
    assert one(text).notes == "first partsecond partthird"


def test_escapes_and_structured_values():
    draft = one(card(
        "N:Müller\\, Jr.;Anna\\;Maria;;;",
        "FN:Anna",
        "ORG:Foo\\, Bar;",
        "NOTE:a\\\\b\\nc\\Nd\\,e\\;f C:\\Users",
        "CATEGORIES:VIP\\, gold,Stammkunde,VIP\\, gold",
    ))
    assert draft.last_name == "Müller, Jr."
    assert draft.first_name == "Anna;Maria"
    assert draft.company == "Foo, Bar"
    assert draft.notes == "a\\b\nc\nd,e;f C:\\Users"  # unknown escape \U kept as typed
    assert draft.tags == ("VIP, gold", "Stammkunde")


def test_company_only_card_has_no_display_name():
    draft = one(card("N:;;;;", "FN:Acme GmbH", "ORG:Acme GmbH;"))
    assert (draft.company, draft.display_name) == ("Acme GmbH", "")


def test_phone_normalisation_uses_default_region():
    assert normalize_phone("030 12345678", "DE") == "+493012345678"
    assert normalize_phone("030 12345678", None) == "030 12345678"  # no region: as typed
    assert normalize_phone("+1 (415) 555-0132", None) == "+14155550132"
    assert normalize_phone("ask reception", "DE") == "ask reception"
    assert one(card("FN:X", "TEL:030 12345678"), region="DE").phones == (
        PhoneNumber("+493012345678", "other"),
    )


def test_several_cards_and_bytes_with_bom():
    text = card("FN:One") + card("FN:Two", version="4.0") + card("FN:Three", version="2.1")
    result = parse_vcards(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert [d.display_name for d in result.drafts] == ["One", "Two", "Three"]


def test_app_fields_with_bad_values_are_reported():
    result = parse_vcards(card(
        "FN:X", "X-CRMCOMPANION-STATUS:sleeping", "X-CRMCOMPANION-KEY-ACCOUNT:maybe",
        "X-CRMCOMPANION-CUSTOMER-SINCE:--0101",
    ))
    assert [p.line for p in result.problems] == [4, 5, 6]
    assert "expected lead, active, lost" in result.problems[0].message
    assert all(p.skipped_card for p in result.problems) and result.drafts == ()


# --------------------------------------------------------------------------- export


def test_escape_text():
    assert escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"


def test_fold_never_splits_utf8_or_escapes():
    line = "NOTE:" + "ä" * 100 + "\\n" + "€" * 40
    folded = fold_content_line(line)
    pieces = folded.encode("utf-8").split(b"\r\n")
    assert len(pieces) > 2
    for piece in pieces:
        assert len(piece) <= 75
        piece.decode("utf-8")  # raises if a sequence was split
    assert all(p.startswith(b" ") for p in pieces[1:])
    assert folded.replace("\r\n ", "") == line
    assert not any(p.endswith(b"\\") for p in pieces)
    assert fold_content_line("FN:short") == "FN:short"



VARIED = [
    CustomerDraft(
        first_name="Anna",
        last_name="Müller-Lüdenscheidt",
        company="Bäckerei; Konditorei, Café",
        emails=(EmailAddress("anna@example.de", "home"), EmailAddress("a.m@work.example", "work"),
                EmailAddress("misc@example.org", "other"),
                EmailAddress("shop@example.de", "Laden")),
        phones=(PhoneNumber("+491701234567", "mobile"), PhoneNumber("+493012345678", "work"),
                PhoneNumber("+4930987654", "fax"), PhoneNumber("ask at the counter", "other"),
                PhoneNumber("+4989123456", "Filiale München")),
        address=PostalAddress("Hauptstraße 5\nHinterhaus", "Berlin", "Berlin", "10115",
                              "Deutschland"),
        tags=("VIP, gold", "Stammkunde", "naïve;tag"),
        status=Status.LOST,
        kind=Kind.INTERNAL,
        key_account=True,
        preferred_channel=Channel.IN_PERSON,
        customer_since=date(2015, 4, 1),
        notes="Line one, with comma; semicolon\nLine two \\ backslash\n\nÜmlauts "
              + "and a very long sentence that certainly needs folding across lines " * 3,
        special_dates=(
            SpecialDate(BIRTHDAY, 3, 14, None),
            SpecialDate(WEDDING, 6, 18, 2005),
            SpecialDate(CUSTOM, 9, 1, None, "Erster Einkauf, 1. Filiale"),
            SpecialDate(CUSTOM, 12, 24, 2020, ""),
        ),
    ),
    CustomerDraft(
        first_name="Leap",
        last_name="Day",
        display_name="Mr. Leap Day, Esq.",
        special_dates=(
            SpecialDate(BIRTHDAY, 2, 29, 1988),
            SpecialDate(WEDDING, 2, 29, None),
            SpecialDate(WEDDING, 3, 1, 2010),
        ),
    ),
    CustomerDraft(company="Acme GmbH", emails=(EmailAddress("info@acme.example", "work"),),
                  special_dates=(SpecialDate(CUSTOM, 2, 29, None, "Gründung"),)),
    CustomerDraft(first_name="Zoë", phones=(PhoneNumber("+33612345678", "mobile"),),
                  special_dates=(SpecialDate(BIRTHDAY, 2, 29, None),)),
    CustomerDraft(last_name="東京太郎", notes="日本語のメモ" * 20),
]


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_round_trip_gives_identical_drafts(version):
    contacts = [(_uid(i), draft) for i, draft in enumerate(VARIED, start=1)]
    text = export_vcards(contacts, version=version)
    result = parse_vcards(text.encode("utf-8"), default_region="DE")
    assert result.problems == ()
    expected = [replace(draft, source_uid=uid) for uid, draft in contacts]
    assert list(result.drafts) == expected


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_export_is_crlf_and_folded(version):
    text = export_vcards([(_uid(1), VARIED[0]), ("u2", VARIED[4])],
                         version=version)
    data = text.encode("utf-8")
    assert data.endswith(b"END:VCARD\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # long notes were folded
    for line in lines:
        line.decode("utf-8")


def test_yearless_and_leap_day_forms_per_version():
    draft = VARIED[3]
    v4 = vcard_for(draft, uid="u", version=VCardVersion.V4_0)
    v3 = vcard_for(draft, uid="u", version="3.0")
    assert "\r\nBDAY:--0229\r\n" in v4
    assert "\r\nBDAY;X-APPLE-OMIT-YEAR=1604:1604-02-29\r\n" in v3
    leap = vcard_for(VARIED[1], uid="u", version="4.0")
    assert "\r\nBDAY:19880229\r\n" in leap
    assert "\r\nANNIVERSARY:--0229\r\n" in leap
    # A second anniversary has no room in ANNIVERSARY (one per card): Apple's labelled form.
    assert "\r\nitem1.X-ABDATE:20100301\r\nitem1.X-ABLabel:_$!<Anniversary>!$_\r\n" in leap


def _vobject_cards(text: str) -> list:
    return list(vobject.readComponents(text))


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_export_parses_with_vobject(version):
    contacts = [(_uid(i), d) for i, d in enumerate(VARIED, start=1)]
    cards = _vobject_cards(export_vcards(contacts, version=version))
    assert len(cards) == len(VARIED)
    anna, leap, acme, zoe, taro = cards
    assert anna.version.value == version
    assert anna.fn.value == "Anna Müller-Lüdenscheidt"
    assert anna.n.value.family == "Müller-Lüdenscheidt"
    assert anna.n.value.given == "Anna"
    assert [e.value for e in anna.contents["email"]] == [
        "anna@example.de", "a.m@work.example", "misc@example.org", "shop@example.de"]
    assert [t.value for t in anna.contents["tel"]][:2] == ["+491701234567", "+493012345678"]
    cell_params = [p.upper() for p in anna.contents["tel"][0].params["TYPE"]]
    assert "CELL" in cell_params
    assert anna.note.value == VARIED[0].notes
    assert anna.categories.value == ["VIP, gold", "Stammkunde", "naïve;tag"]
    assert anna.uid.value == _uid(1)
    assert anna.adr.value.street == "Hauptstraße 5\nHinterhaus"
    assert anna.adr.value.city == "Berlin"
    assert anna.adr.value.code == "10115"
    labels = [c.value for c in anna.contents["x-ablabel"]]
    assert "Laden" in labels and "Filiale München" in labels
    assert "Erster Einkauf, 1. Filiale" in labels
    assert leap.fn.value == "Mr. Leap Day, Esq."
    assert acme.fn.value == "Acme GmbH"
    assert acme.org.value == ["Acme GmbH"]
    assert taro.note.value == "日本語のメモ" * 20
    if version == "4.0":
        assert anna.bday.value == "--0314"
        assert zoe.bday.value == "--0229"
        assert leap.bday.value == "19880229"
        assert acme.kind.value == "org"
    else:
        assert anna.bday.value == "1604-03-14"
        assert anna.bday.params["X-APPLE-OMIT-YEAR"] == ["1604"]
        assert leap.bday.value == "1988-02-29"
        assert acme.contents["x-abshowas"][0].value == "COMPANY"


def _uid(number: int) -> str:
    """A fixed UID for the n-th test contact (customers' own are random, core.customer)."""
    return f"urn:uuid:00000000-0000-4000-8000-{number:012d}"
