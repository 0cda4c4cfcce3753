"""Header words and name splitting (core/csv_headers.py, issue 14)."""

from __future__ import annotations

import pytest

from crmcompanion.core import csv_import
from crmcompanion.core.csv_headers import (
    MAPPING_FIELDS,
    NAME_WORD,
    Field,
    recognise,
    settle_names,
    split_name,
)


@pytest.mark.parametrize(("header", "expected"), [
    ("E-mail 1 - Value", Field("email", "home")),
    ("E-Mail (geschäftlich)", Field("email", "work")),
    ("Adresse e-mail", Field("email", "home")),
    ("Mobile Phone", Field("phone", "mobile")),
    ("Téléphone portable", Field("phone", "mobile")),
    ("Telefon privat", Field("phone", "home")),
    ("Telefon2", Field("phone", "main")),
    ("TEL.", Field("phone", "main")),
    ("Geburtsdatum", Field("birthday")),
    ("date_of_birth", Field("birthday")),
    ("Nom complet", Field("full_name")),
    ("Nom", Field(NAME_WORD)),
    ("Código postal", Field("postcode")),
    ("Home Address", Field("street")),
    ("Observações", Field("notes")),
])
def test_recognised_headers(header: str, expected: Field) -> None:
    assert recognise(header) == expected


@pytest.mark.parametrize("header", ["E-mail 1 - Type", "Phone 1 - Label", "Fax", "Business Fax",
                                    "Last contact", "ID", "No.", "Kundennummer", "Nickname",
                                    "Address 1 - Formatted", "Job Title", ""])
def test_headers_left_alone(header: str) -> None:
    assert recognise(header) is None


def test_name_words_settled_by_the_other_columns() -> None:
    name = Field(NAME_WORD)
    assert settle_names([Field("first_name"), name]) == [Field("first_name"), Field("last_name")]
    assert settle_names([name, Field("last_name")]) == [Field("first_name"), Field("last_name")]
    assert settle_names([name, Field("email")]) == [Field("full_name"), Field("email")]
    assert settle_names([name, Field("first_name"), Field("last_name")])[0] == Field("full_name")


@pytest.mark.parametrize(("whole", "parts"), [
    ("Dr. Mary-Ann O'Neil", ("Mary-Ann", "O'Neil")),
    ("Pieter van der Berg", ("Pieter", "van der Berg")),
    ("Prof. Dr. Hans-Peter Müller", ("Hans-Peter", "Müller")),
    ("Jean de la Fontaine", ("Jean", "de la Fontaine")),
    ("John Fitzgerald Kennedy", ("John Fitzgerald", "Kennedy")),
    ("Martin Luther King Jr.", ("Martin Luther", "King Jr.")),
    ("Madonna", ("Madonna", "")),
    ("Judge Judy", ("Judy", "")),
    ("  Ann   Lee ", ("Ann", "Lee")),
    ("", ("", "")),
])
def test_split_name(whole: str, parts: tuple[str, str]) -> None:
    assert split_name(whole) == parts


def test_mapping_fields_are_the_importers() -> None:
    # Every field the row parser reads, except the two tag spellings of Google and Outlook.
    assert set(MAPPING_FIELDS) == (csv_import._SCALARS - {"google_labels", "categories"}) | {
        "email", "phone", *csv_import._ADDRESS_PARTS}
    assert len(MAPPING_FIELDS) == len(set(MAPPING_FIELDS))
    assert {"full_name", "last_contact", "email", "phone"} <= csv_import.MAPPING_FIELDS
