"""Sheets people really have import without a mapping (issue 14): headers in English, German,
French, Spanish, Italian, Dutch and Portuguese, Google's and Outlook's real header rows, an
Excel sheet saved with `;`, an Apple Numbers export; whole names split into first and last;
names in several scripts; a column of emails or phones that would be left behind is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmcompanion.core.customer import Customer
from crmcompanion.services.container import Services
from crmcompanion.services.customers import ListQuery


def _import(services: Services, path: Path, **kwargs: object) -> list[Customer]:
    preview = services.import_export.preview(path, **kwargs)  # type: ignore[arg-type]
    assert preview.ok, preview.problems
    result = services.import_export.run(preview.plan)
    assert result.created == preview.row_count
    customers = services.customers.list_customers(ListQuery(archived=None), 100)
    return sorted(customers, key=lambda c: c.id)


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


# header row, data row, delimiter: every field the app has a column for, in each language.
LANGUAGES = {
    "en": ("First name,Last name,Email address,Mobile phone,Date of birth,Company,Street,Zip code,"
           "City,Country,Notes"),
    "de": ("Vorname;Nachname;E-Mail-Adresse;Handy;Geburtsdatum;Firma;Straße;PLZ;Ort;Land;"
           "Bemerkungen"),
    "fr": ("Prénom;Nom;Courriel;Téléphone portable;Date de naissance;Société;Adresse;"
           "Code postal;Ville;Pays;Remarques"),
    "es": ("Nombre,Apellidos,Correo electrónico,Teléfono móvil,Fecha de nacimiento,Empresa,"
           "Dirección,Código postal,Ciudad,País,Notas"),
    "it": ("Nome,Cognome,Indirizzo email,Cellulare,Data di nascita,Azienda,Indirizzo,CAP,Città,"
           "Paese,Note"),
    "nl": ("Voornaam,Achternaam,E-mailadres,Mobiel,Geboortedatum,Bedrijf,Adres,Postcode,"
           "Plaats,Land,Opmerkingen"),
    "pt": ("Nome,Sobrenome,E-mail,Celular,Data de nascimento,Empresa,Endereço,CEP,Cidade,País,"
           "Observações"),
}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_headers_in_each_language_set_every_field(services: Services, tmp_path: Path,
                                                  language: str) -> None:
    header = LANGUAGES[language]
    sep = ";" if ";" in header else ","
    row = sep.join(["Élodie", "Marchand", "elodie@example.fr", "+33 6 12 34 56 78",
                    "1971-03-14", "Atelier Lumière", "12 rue des Lilas", "75011", "Paris",
                    "France", "Prefers lilies"])
    path = _write(tmp_path, f"{language}.csv", f"{header}\n{row}\n")
    preview = services.import_export.preview(path)
    assert preview.recognised != "crmcompanion"
    assert preview.unknown_headers == ()
    [customer] = _import(services, path)
    assert (customer.first_name, customer.last_name) == ("Élodie", "Marchand")
    assert [e.address for e in customer.emails] == ["elodie@example.fr"]
    assert [(p.number, p.label) for p in customer.phones] == [("+33612345678", "mobile")]
    assert [(s.kind.value, s.month, s.day, s.year) for s in customer.special_dates] == [
        ("birthday", 3, 14, 1971)]
    assert customer.company == "Atelier Lumière"
    a = customer.address
    assert (a.street, a.postcode, a.city, a.country) == ("12 rue des Lilas", "75011", "Paris",
                                                         "France")
    assert customer.notes == "Prefers lilies"


@pytest.mark.parametrize("header", ["Name", "Full name", "Nom complet", "Nombre completo",
                                    "Vollständiger Name", "Nome completo", "Volledige naam"])
def test_one_name_column_is_split(services: Services, tmp_path: Path, header: str) -> None:
    path = _write(tmp_path, "names.csv", f"{header},Email,Phone,Birthday\n"
                  "Dr. Mary-Ann O'Neil,mary@example.com,+44 20 7946 0958,1980-05-06\n"
                  "Pieter van der Berg,pieter@example.nl,+31 20 123 4567,1975-01-02\n"
                  "Ludwig von Mises,ludwig@example.at,,\n"
                  "Maria da Silva,maria@example.pt,,\n")
    customers = _import(services, path)
    assert [(c.first_name, c.last_name) for c in customers] == [
        ("Mary-Ann", "O'Neil"), ("Pieter", "van der Berg"), ("Ludwig", "von Mises"),
        ("Maria", "da Silva")]
    assert customers[0].emails[0].address == "mary@example.com"  # used to need --map
    assert customers[0].phones[0].number == "+442079460958"


@pytest.mark.parametrize(("first", "last"), [("Prénom", "Nom"), ("Nombre", "Apellido"),
                                             ("Vorname", "Nachname"), ("Nome", "Cognome"),
                                             ("Voornaam", "Achternaam"), ("Nome", "Sobrenome"),
                                             ("Vorname", "Name"), ("Nombre", "Apellidos")])
def test_first_and_last_name_words(services: Services, tmp_path: Path, first: str,
                                   last: str) -> None:
    # Written last name first, as French and German forms often are.
    path = _write(tmp_path, "n.csv", f"{last};{first};E-Mail\nDupont;Jean;jean@example.fr\n")
    [customer] = _import(services, path)
    assert (customer.first_name, customer.last_name) == ("Jean", "Dupont")


def test_google_contacts_header_row(services: Services, tmp_path: Path) -> None:
    header = ("First Name,Middle Name,Last Name,Phonetic First Name,Phonetic Middle Name,"
              "Phonetic Last Name,Name Prefix,Name Suffix,Nickname,File As,Organization Name,"
              "Organization Title,Organization Department,Birthday,Notes,Photo,Labels,"
              "E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,"
              "Phone 2 - Label,Phone 2 - Value,Address 1 - Label,Address 1 - Formatted,"
              "Address 1 - Street,Address 1 - City,Address 1 - PO Box,Address 1 - Region,"
              "Address 1 - Postal Code,Address 1 - Country,Address 1 - Extended Address")
    row = ("Anna,,Schmidt,,,,,,,,Bäckerei Hoffmann,,,1980-02-29,Likes rye,,* myContacts ::: VIP,"
           "* Home,anna@example.de,Mobile,+49 151 2345 6789,Work,+49 30 1234567,Home,"
           "\"Hauptstr. 1, Berlin\",Hauptstr. 1,Berlin,,BE,10115,Germany,")
    path = _write(tmp_path, "google.csv", f"{header}\n{row}\n")
    preview = services.import_export.preview(path)
    assert preview.recognised == "google_2023"
    [c] = _import(services, path)
    assert (c.first_name, c.last_name, c.company) == ("Anna", "Schmidt", "Bäckerei Hoffmann")
    assert [e.address for e in c.emails] == ["anna@example.de"]
    assert [(p.number, p.label) for p in c.phones] == [("+4915123456789", "mobile"),
                                                        ("+49301234567", "work")]
    assert (c.address.street, c.address.city, c.address.postcode) == ("Hauptstr. 1", "Berlin",
                                                                       "10115")
    assert c.tags == ("VIP",) and c.notes == "Likes rye"
    assert [(s.month, s.day, s.year) for s in c.special_dates] == [(2, 29, 1980)]


OUTLOOK_HEADER = (
    "First Name,Middle Name,Last Name,Title,Suffix,Nickname,Given Yomi,Surname Yomi,"
    "E-mail Address,E-mail 2 Address,E-mail 3 Address,Home Phone,Home Phone 2,Business Phone,"
    "Business Phone 2,Mobile Phone,Car Phone,Other Phone,Primary Phone,Pager,Business Fax,"
    "Home Fax,Other Fax,Company Main Phone,Callback,Radio Phone,Telex,TTY/TDD Phone,IMAddress,"
    "Job Title,Department,Company,Office Location,Manager's Name,Assistant's Name,"
    "Assistant's Phone,Company Yomi,Business Street,Business City,Business State,"
    "Business Postal Code,Business Country/Region,Home Street,Home City,Home State,"
    "Home Postal Code,Home Country/Region,Other Street,Other City,Other State,"
    "Other Postal Code,Other Country/Region,Personal Web Page,Spouse,Schools,Hobby,Location,"
    "Web Page,Birthday,Anniversary,Notes")


def test_outlook_header_row_is_never_called_the_apps_own(services: Services,
                                                         tmp_path: Path) -> None:
    cells = dict.fromkeys(OUTLOOK_HEADER.split(","), "")
    cells.update({"First Name": "Ann", "Last Name": "Lee", "E-mail Address": "ann@example.com",
                  "Mobile Phone": "+1 415 555 0100", "Home Phone": "+1 415 555 0199",
                  "Company": "Lee & Co", "Home Street": "1 Main St", "Home City": "Springfield",
                  "Birthday": "3/14/1971", "Notes": "Met in May", "Business Fax": "+1 415 1"})
    path = _write(tmp_path, "outlook.csv", OUTLOOK_HEADER + "\n" + ",".join(
        f'"{v}"' for v in cells.values()) + "\n")
    preview = services.import_export.preview(path)
    assert preview.recognised == "outlook"
    assert preview.unimported_contacts == ()  # the fax column is not a phone to warn about
    [c] = _import(services, path)
    assert [e.address for e in c.emails] == ["ann@example.com"]
    assert {p.number for p in c.phones} == {"+14155550100", "+14155550199"}
    assert (c.company, c.address.street, c.notes) == ("Lee & Co", "1 Main St", "Met in May")
    assert [(s.month, s.day, s.year) for s in c.special_dates] == [(3, 14, 1971)]


def test_the_short_outlook_shape_is_not_the_apps_own(services: Services, tmp_path: Path) -> None:
    path = _write(tmp_path, "o.csv", "First Name,Last Name,Company,Notes,E-mail Address,"
                  "Mobile Phone\nAnn,Lee,Lee & Co,Hi,ann@example.com,+1 415 555 0100\n")
    preview = services.import_export.preview(path)
    assert preview.recognised != "crmcompanion"
    [c] = _import(services, path)
    assert c.emails[0].address == "ann@example.com" and c.phones[0].number == "+14155550100"


def test_excel_sheet_with_semicolons_german_headers_two_phones(services: Services,
                                                               tmp_path: Path) -> None:
    # Excel's "CSV (Trennzeichen-getrennt)": `;`, Windows-1252, dotted dates.
    path = _write(tmp_path, "kunden.csv",
                  "Anrede;Vorname;Nachname;E-Mail;Telefon;Mobil;Geburtstag;Firma;Straße;PLZ;"
                  "Ort;Notizen\r\n"
                  "Frau;Jürgen;Groß;juergen@example.de;+49 30 1234567;+49 151 23456789;"
                  "03.04.1971;Groß & Söhne;Hauptstraße 1;10115;Berlin;Kunde seit 2010\r\n",
                  encoding="cp1252")
    [c] = _import(services, path)
    assert (c.first_name, c.last_name, c.company) == ("Jürgen", "Groß", "Groß & Söhne")
    assert [(p.number, p.label) for p in c.phones] == [("+4915123456789", "mobile"),
                                                        ("+49301234567", "main")]
    assert [(s.month, s.day, s.year) for s in c.special_dates] == [(4, 3, 1971)]  # day first
    assert (c.address.street, c.address.postcode, c.address.city) == ("Hauptstraße 1",
                                                                      "10115", "Berlin")


def test_apple_numbers_export(services: Services, tmp_path: Path) -> None:
    # Numbers writes the headers as typed and dates in the locale's order (one day above 12
    # settles it).
    path = _write(tmp_path, "Contacts.csv",
                  "Full Name,Email Address,Phone Number,Birthday,Company,Address,Notes\n"
                  "Sofia Rossi,sofia@example.it,+39 06 1234 5678,03/04/1985,Rossi Florist,"
                  "\"Via Roma 1, Roma\",Roses\n"
                  "Luca Bianchi,luca@example.it,,25/12/1990,,,\n")
    customers = _import(services, path)
    assert [(c.first_name, c.last_name) for c in customers] == [("Sofia", "Rossi"),
                                                                 ("Luca", "Bianchi")]
    assert customers[0].address.street == "Via Roma 1, Roma"
    assert [(s.month, s.day) for s in customers[0].special_dates] == [(4, 3)]
    assert customers[0].phones[0].number == "+390612345678"


@pytest.mark.parametrize(("whole", "first", "last"), [
    ("Иван Петров", "Иван", "Петров"),
    ("Γιώργος Παπαδόπουλος", "Γιώργος", "Παπαδόπουλος"),
    ("محمد علي", "محمد", "علي"),
    ("山田 太郎", "太郎", "山田"),  # family name first
    ("김 민수", "민수", "김"),
    ("王小明", "王小明", ""),
    ("राहुल शर्मा", "राहुल", "शर्मा"),
    ("<b>Ann</b> <i>Lee</i>", "<b>Ann</b>", "<i>Lee</i>"),  # kept as text, never markup
    ("Ann\x07 Lee\u200b", "Ann", "Lee"),  # control characters go
])
def test_names_in_scripts_and_with_markup(services: Services, tmp_path: Path, whole: str,
                                          first: str, last: str) -> None:
    path = _write(tmp_path, "s.csv", f"Name,Email\n\"{whole}\",x@example.com\n")
    [c] = _import(services, path)
    assert (c.first_name, c.last_name) == (first, last)


def test_a_column_of_contacts_left_out_is_reported(services: Services, tmp_path: Path) -> None:
    path = _write(tmp_path, "w.csv", "Name,Kontakt 2,Rückruf unter,Kundennummer\n"
                  "Ann Lee,ann@example.com,+49 30 1234567,100234\n"
                  "Bo Berg,bo@example.com,030 7654321,100235\n")
    preview = services.import_export.preview(path)
    assert preview.unimported_contacts == (("Kontakt 2", "email"), ("Rückruf unter", "phone"))
    # The import proceeds with what it recognised.
    assert preview.ok and len(_import(services, path)) == 2
    mapped = services.import_export.preview(path, {"Kontakt 2": None, "Rückruf unter": "phone"})
    assert mapped.unimported_contacts == ()


def test_dates_that_settle_their_order(services: Services, tmp_path: Path) -> None:
    settled = _write(tmp_path, "a.csv", "Name,Birthday\nAnn Lee,03/04/1971\nBo Berg,4/25/1980\n")
    assert not services.import_export.preview(settled).date_order_ambiguous
    dotted = _write(tmp_path, "b.csv", "Name,Birthday\nAnn Lee,03.04.1971\n")
    assert not services.import_export.preview(dotted).date_order_ambiguous
    iso = _write(tmp_path, "c.csv", "Name,Birthday\nAnn Lee,1971-04-03\n")
    assert not services.import_export.preview(iso).date_order_ambiguous
    ambiguous = _write(tmp_path, "d.csv", "Name,Birthday\nAnn Lee,03/04/1971\n")
    assert services.import_export.preview(ambiguous).date_order_ambiguous
