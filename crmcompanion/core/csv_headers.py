"""Column headers of the spreadsheets people really have, and the names in them.

Why: an owner's customer list is rarely a Google or Outlook export. It is a sheet someone typed:
`Name;E-Mail;Telefon;Mobil;Geburtstag` saved from Excel, `Nom;Prénom;Courriel;Téléphone
portable`, an Apple Numbers export with `Full Name` and `Email Address`. `csv_import` knows the
exact headers of Google, Outlook and its own export; this module recognises the rest by their
words in English, German, French, Spanish, Italian, Dutch and Portuguese, ignoring case,
accents, punctuation, slot numbers ("E-mail 1 - Value") and qualifiers ("portable", "privat",
"Home", "Work": they become the label), and splits a whole name in one cell into first and last
names with `nameparser`.

`recognise(header)` answers for one header; `settle_names` decides what the ambiguous name
words mean from the other columns (French `Nom` beside `Prénom` is the last name, alone it is
the whole name).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from typing import Final, NamedTuple

logger = logging.getLogger(__name__)


class Field(NamedTuple):
    """Where a recognised column goes: `name` is a scalar field ("first_name", "birthday"...),
    "email" or "phone" (with its `label`), an address part ("street", "city", "region",
    "postcode", "country"), or NAME_WORD (decided by `settle_names`)."""

    name: str
    label: str = ""


# The fields a caller may map a column to (`import --map HEADER=FIELD`), names first: the
# order `import --help` lists them in.
MAPPING_FIELDS: Final = (
    "first_name", "last_name", "full_name", "middle_name", "display_name", "company", "email",
    "phone", "birthday", "street", "city", "region", "postcode", "country", "notes", "tags",
    "wedding_anniversary", "special_dates", "customer_since", "last_contact", "status", "kind",
    "key_account", "preferred_channel", "source_uid")
NAME_WORD: Final = "name?"  # "Name", "Nom", "Nombre", "Nome", "Naam": depends on the others
ADDRESS_PARTS: Final = ("street", "city", "region", "postcode", "country")


def fold(header: str) -> list[str]:
    """The header's words: accents off, lower case, punctuation as spaces."""
    text = unicodedata.normalize("NFKD", header.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", " ", text).split()


# Words that say which kind of email/phone/address a column holds, and their label.
_QUALIFIERS: Final[dict[str, str]] = {
    **dict.fromkeys(("mobile", "mobil", "portable", "cell", "cellular", "handy", "gsm",
                     "cellulare", "celular", "movil", "mobiel", "telemovel", "mobiltelefon",
                     "mobilnummer", "handynummer", "mobilfunk", "cellphone", "mobilephone",
                     "telefonino"), "mobile"),
    **dict.fromkeys(("home", "private", "privat", "personal", "personnel", "perso", "prive",
                     "domicile", "maison", "casa", "particular", "thuis", "priv", "residence"),
                    "home"),
    **dict.fromkeys(("work", "business", "office", "geschaftlich", "dienstlich", "buro",
                     "arbeit", "firma", "travail", "professionnel", "pro", "bureau", "trabajo",
                     "oficina", "lavoro", "ufficio", "werk", "zakelijk", "kantoor",
                     "trabalho", "escritorio", "comercial"), "work"),
    **dict.fromkeys(("other", "andere", "sonstige", "weitere", "autre", "otro", "altro",
                     "overig", "outro", "primary", "main", "haupt", "principal",
                     "principale", "standard"), ""),
}
# Words a header may hold around the field's own words ("E-mail 1 - Value", "Numéro de
# téléphone", "Adresse e-mail privée").
_NOISE: Final = frozenset((
    "value", "wert", "valeur", "valor", "valore", "waarde", "the", "of", "de", "du", "des",
    "la", "le", "les", "del", "di", "da", "do", "dos", "das", "der", "die", "des", "van",
    "het", "een", "en", "e", "y", "et", "und", "and", "number", "no", "nr", "num", "nummer",
    "numero", "nro", "n", "address", "adresse", "adres", "direccion", "indirizzo", "endereco",
    "addr", "d", "l",
))
# Words that name an address: a header of them alone (and qualifiers) is the street.
_ADDRESS_WORDS: Final = frozenset(("address", "adresse", "adres", "direccion", "indirizzo",
                                   "endereco", "addr", "anschrift"))
# Columns that hold labels of another column, never a value ("E-mail 1 - Type").
_LABEL_WORDS: Final = frozenset(("type", "typ", "label", "labels", "art", "tipo", "soort",
                                 "etiquette"))
# Fax numbers are not phone numbers to call.
_NEVER: Final = frozenset(("fax", "telefax", "faxnummer", "pager", "funkruf"))


def never_a_phone(header: str) -> bool:
    """True for a fax or pager column: numbers, but not ones to call or to warn about."""
    return bool(_NEVER & set(fold(header)))


def _key(words: list[str]) -> str:
    return "".join(words)


def _table(entries: dict[str, tuple[str, ...]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for name, phrases in entries.items():
        for phrase in phrases:
            key = _key([w for w in fold(phrase) if w not in _NOISE])
            if key:
                table[key] = name
    return table


# Each field's words, as people write them, per language (en, de, fr, es, it, nl, pt). A
# phrase is folded like a header: "Adresse e-mail" and "E-Mail-Adresse" both read "email".
_FIELDS: Final = _table({
    "email": ("email", "e-mail", "mail", "emails", "e-mails", "email address",
              "emailaddress", "emailadresse", "mailadresse", "courriel", "mel", "adresse mail",
              "correo", "correo electronico", "correo-e", "posta elettronica", "posta",
              "emailadres", "e-mailadres", "correio eletronico", "correio electronico",
              "primary email", "secondary email", "email addresses", "mails"),
    "phone": ("phone", "telephone", "tel", "tel.", "phone number", "phones", "telephone number",
              "telefon", "telefonnummer", "rufnummer", "fon", "festnetz", "mobile", "mobil",
              "handy", "cell", "cellphone", "mobile phone", "cell phone", "portable",
              "telephone portable", "tel portable", "telefono", "movil", "celular",
              "telefono movil", "cellulare", "telefonino", "telefoon", "telefoonnummer",
              "mobiel", "gsm", "telefone", "telemovel", "phone numbers", "mobilnummer",
              "handynummer", "mobiltelefon", "mobilfunk", "numero de telephone"),
    "birthday": ("birthday", "birth date", "birthdate", "date of birth", "dob", "born",
                 "geburtstag", "geburtsdatum", "geboren", "geb", "date de naissance",
                 "naissance", "anniversaire", "fecha de nacimiento", "nacimiento",
                 "cumpleanos", "fecha nacimiento", "data di nascita", "compleanno", "nascita",
                 "geboortedatum", "verjaardag", "geboren op", "data de nascimento",
                 "nascimento", "data nascimento"),
    "company": ("company", "company name", "organization", "organisation", "org",
                "organization name", "employer", "business name", "firm", "firma",
                "firmenname", "unternehmen", "arbeitgeber", "societe", "entreprise",
                "nom de l'entreprise", "nom de la societe", "empresa", "compania",
                "organizacion", "nombre de la empresa", "azienda", "societa", "ditta",
                "bedrijf", "bedrijfsnaam", "onderneming", "organisatie", "companhia",
                "organizacao", "nome da empresa", "nome azienda"),
    "notes": ("notes", "note", "comments", "comment", "remarks", "memo", "notizen", "notiz",
              "bemerkung", "bemerkungen", "kommentar", "kommentare", "anmerkungen",
              "anmerkung", "remarques", "remarque", "commentaires", "commentaire", "notas",
              "nota", "comentarios", "comentario", "observaciones", "commenti", "osservazioni",
              "notities", "notitie", "opmerkingen", "opmerking", "observacoes", "anotacoes"),
    "street": ("street", "street address", "address line 1", "address", "strasse",
               "strasse und hausnummer", "anschrift", "adresse", "rue", "adresse postale",
               "calle", "direccion", "domicilio", "via", "indirizzo", "straat", "adres",
               "straatnaam", "rua", "endereco", "morada", "postal address", "mailing address",
               "home address", "work address", "business address", "street 1", "str"),
    "city": ("city", "town", "stadt", "ort", "wohnort", "ville", "localite", "ciudad",
             "localidad", "poblacion", "citta", "comune", "localita", "plaats", "woonplaats",
             "stad", "cidade", "localidade", "municipio", "concelho"),
    "postcode": ("postcode", "postal code", "post code", "zip", "zip code", "zipcode", "plz",
                 "postleitzahl", "code postal", "cp", "codigo postal", "cap",
                 "codice postale", "cep"),
    "region": ("state", "region", "province", "county", "bundesland", "provinz", "kanton",
               "departement", "etat", "provincia", "estado", "comunidad autonoma", "regione",
               "provincie", "distrito", "state province"),
    "country": ("country", "country region", "land", "staat", "pays", "pais", "paese",
                "nazione", "country/region"),
    "first_name": ("first name", "firstname", "given name", "forename",
                   "christian name", "vorname", "rufname", "prenom", "nombre de pila",
                   "primer nombre", "nome proprio", "primo nome", "voornaam", "roepnaam",
                   "primeiro nome"),
    "last_name": ("last name", "lastname", "surname", "family name",
                  "nachname", "familienname", "zuname", "nom de famille", "apellido",
                  "apellidos", "primer apellido", "cognome", "achternaam", "familienaam",
                  "sobrenome", "apelido", "apelidos", "ultimo nome"),
    "middle_name": ("middle name", "additional name", "zweiter vorname",
                    "second prenom", "segundo nombre", "secondo nome", "nome do meio"),
    "full_name": ("full name", "fullname", "display name", "contact name", "customer name",
                  "client name", "complete name", "vollstandiger name", "ganzer name",
                  "kundenname", "nom complet", "nom et prenom", "prenom et nom",
                  "nombre completo", "nombre y apellidos", "nome completo", "nome e cognome",
                  "volledige naam", "naam en voornaam", "nome completo do contato"),
    NAME_WORD: ("name", "names", "nom", "nombre", "nome", "naam"),
    "wedding_anniversary": ("anniversary", "wedding anniversary", "hochzeitstag",
                            "jahrestag", "anniversaire de mariage", "aniversario de boda",
                            "anniversario di matrimonio", "trouwdag", "huwelijksdatum",
                            "aniversario de casamento"),
    "customer_since": ("customer since", "client since", "kunde seit", "client depuis",
                       "cliente desde", "cliente dal", "klant sinds"),
})


@lru_cache(maxsize=4096)
def recognise(header: str) -> Field | None:
    """What a header holds, or None when its words are not a known field (or it holds the
    labels of another column)."""
    words = fold(header)
    if not words or _LABEL_WORDS & set(words) or _NEVER & set(words):
        return None
    # Slot numbers ("E-mail 1 - Value", "Telefon2") say nothing about the field.
    words = [w.rstrip("0123456789") for w in words if not w.isdigit()]
    kept = [w for w in words if w not in _NOISE]
    label = ""
    found = _FIELDS.get(_key(kept))
    if found is None:
        # Qualifiers ("privat", "Work", "portable") set the label and leave the field's words.
        qualifiers = [w for w in kept if w in _QUALIFIERS]
        rest = [w for w in kept if w not in _QUALIFIERS]
        label = next((_QUALIFIERS[w] for w in qualifiers if _QUALIFIERS[w]), "")
        found = _FIELDS.get(_key(rest)) if rest else None
        if found is None and not rest and _ADDRESS_WORDS & set(words):
            found = "street"  # "Address", "Home Address", "Adresse privée"
        if found is None:
            return None
    elif kept and kept[0] in _QUALIFIERS and found == "phone":
        label = _QUALIFIERS[kept[0]]  # "Mobile", "Handy": the phone word is the qualifier
    if found == "phone":
        return Field("phone", label or _phone_label(kept))
    if found == "email":
        return Field("email", label or "home")
    return Field(found)


def _phone_label(words: list[str]) -> str:
    return "mobile" if any(_QUALIFIERS.get(w) == "mobile" for w in words) else "main"


def settle_names(fields: list[Field | None]) -> list[Field | None]:
    """The ambiguous name words decided by the other columns: beside a first-name column
    (and no last-name one) "Nom"/"Name" is the last name, beside a last-name column (and no
    first-name one) "Nombre"/"Nome" is the first name, else it is the whole name."""
    names = {f.name for f in fields if f is not None}
    if "first_name" in names and "last_name" not in names:
        meaning = "last_name"
    elif "last_name" in names and "first_name" not in names:
        meaning = "first_name"
    else:
        meaning = "full_name"
    out: list[Field | None] = []
    for f in fields:
        if f is not None and f.name == NAME_WORD:
            out.append(Field(meaning))
            meaning = "full_name"  # a second such column cannot be the missing part too
        else:
            out.append(f)
    return out


# --- splitting a whole name ------------------------------------------------------------------

_FAMILY_NAME_FIRST: Final = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@lru_cache(maxsize=65536)  # a sheet's names repeat; nameparser costs ~50 µs a name
def split_name(full: str) -> tuple[str, str]:
    """(first name, last name) of a whole name: titles dropped ("Dr.", "Mme", "Herr"),
    hyphenated first names whole, particles (van, von, de, der, da) kept with the last name,
    middle names kept with the first. Chinese, Japanese and Korean names are written family
    name first. A name that cannot be split is all first name."""
    text = " ".join(full.split())
    if not text:
        return "", ""
    if _FAMILY_NAME_FIRST.search(text):
        family, _, given = text.partition(" ")
        return (given, family) if given else (text, "")
    from nameparser import HumanName  # imported on the first whole name only

    parsed = HumanName(text)
    first = " ".join(p for p in (parsed.first, parsed.middle) if p)
    last = " ".join(p for p in (parsed.last, parsed.suffix) if p)
    if not first and not last:
        return text, ""
    if not first:
        # "Judge Judy": the only word left after a title is the name itself.
        return last, ""
    return first, last
