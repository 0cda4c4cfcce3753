"""What the CSV exporter and importer must agree on: the app's own columns and cell rules.

The export (`csv_export`) and import (`csv_import`) live in separate modules; everything that
makes an export -> import round trip exact sits here once, so the two cannot drift apart:
the column keys and headers of the app's own format, the " ::: " multi-value separator
(Google's), and the OWASP CSV-injection neutralisation and its exact inverse.
"""

from __future__ import annotations

from typing import Final

# Google Contacts joins several values in one cell with this; we do the same.
MULTI_VALUE_SEPARATOR: Final = " ::: "

# A spreadsheet runs a cell as a formula when it starts with one of these (OWASP "CSV
# injection"): =, +, -, @, tab, carriage return.
FORMULA_TRIGGERS: Final = frozenset("=+-@\t\r")
_NEUTRALISE_FIRST: Final = frozenset("=+-@\t\r'")


def neutralise(text: str) -> str:
    """Prefix a `'` when a spreadsheet would run the text as a formula.

    A text that already starts with quotes followed by a trigger (`'=x`) gets one more quote as
    well, so that `strip_neutralisation` (which removes exactly one) gives the original back.
    """
    if text and text[0] in _NEUTRALISE_FIRST and (
        text[0] != "'" or text.lstrip("'")[:1] in FORMULA_TRIGGERS
    ):
        return "'" + text
    return text


def strip_neutralisation(text: str) -> str:
    """The exact inverse of `neutralise` on everything `neutralise` can produce."""
    if text[:1] == "'" and text.lstrip("'")[:1] in FORMULA_TRIGGERS:
        return text[1:]
    return text


# The app's own format: (key, header). The export writes these headers; the import recognises
# them (case-insensitively). Keys double as the keys of plain-dict export rows.
OWN_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("display_name", "Display name"),
    ("company", "Company"),
    ("emails", "Emails"),
    ("email_labels", "Email labels"),
    ("phones", "Phones"),
    ("phone_labels", "Phone labels"),
    ("street", "Street"),
    ("city", "City"),
    ("region", "Region"),
    ("postcode", "Postcode"),
    ("country", "Country"),
    ("tags", "Tags"),
    ("status", "Status"),
    ("kind", "Kind"),
    ("key_account", "Key account"),
    ("preferred_channel", "Preferred channel"),
    ("birthday", "Birthday"),
    ("wedding_anniversary", "Wedding anniversary"),
    ("special_dates", "Special dates"),
    ("customer_since", "Customer since"),
    ("last_contact", "Last contact"),
    ("notes", "Notes"),
    ("source_uid", "UID"),
)
OWN_HEADERS: Final[dict[str, str]] = dict(OWN_COLUMNS)
