"""One way to write dates, times, numbers and phone numbers on screen: the user's locale.

Screens used to mix "06 December 2026", "(07 Nov)", "2024-04-16" and "(2026-11-09)" side by
side, each view with its own strftime pattern. Every view writes them through here instead:
QLocale's short format in lists and tables, its long format where there is room (the
profile), numbers with the locale's grouping, and phone numbers always in their formatted
international form through the core's `format_phone`.

The C/POSIX locale (LANG=C, as on many minimal Linux installs, containers and some CI or
launchers) is the one exception: QLocale's formats for it are numeric and ambiguous ("23 11
2026", "2000"), so there dates are written with English month names, day first ("23 Nov
2026" in lists, "Monday, 23 November 2026" with the weekday) and numbers grouped ("2,000").
Any real locale (en_US, de_DE, ko_KR...) is used exactly as Qt gives it. Date and time
pickers take their display format from here too (`date_edit_format`, `time_edit_format`).

`set_locale` exists for tests and screenshots; the app uses the default locale, which is the
system's (tests may also move it with `QLocale.setDefault`).
"""

from __future__ import annotations

import functools
import logging
import re
from datetime import date, datetime, time

from PySide6.QtCore import QDate, QDateTime, QLocale, QTime

logger = logging.getLogger(__name__)

_locale: list[QLocale] = []


def locale() -> QLocale:
    """The locale every screen formats with: the default locale (the system's unless
    `QLocale.setDefault` or `set_locale` chose another)."""
    return _locale[0] if _locale else QLocale()


def is_c_locale(chosen: QLocale | None = None) -> bool:
    """True for the C/POSIX locale (Qt reads "C", "C.UTF-8" and "POSIX" as language C)."""
    return (chosen or locale()).language() == QLocale.Language.C


# The C locale's own formats, replaced: its short date is "d MM yyyy" ("23 11 2026").
C_SHORT_DATE = "d MMM yyyy"
C_LONG_DATE = "d MMMM yyyy"
C_WEEKDAY_DATE = "dddd, d MMMM yyyy"
C_TIME = "HH:mm"


def set_locale(chosen: QLocale | None) -> None:
    """Format with `chosen` from now on (None: the system locale again)."""
    _locale.clear()
    if chosen is not None:
        _locale.append(chosen)


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def short_date(day: date | None) -> str:
    """A date in a list or table: the locale's short format ("06/12/2026", "12/6/26";
    "23 Nov 2026" in the C locale)."""
    if day is None:
        return ""
    return _short_date_in(day, locale())


# Lists write the same few hundred dates on every repaint (~28 us each through QLocale, ~6
# with this cache). Keyed on the locale too: a cache of the date alone (the customer list's
# own, before) went on writing dates as an earlier `QLocale.setDefault` had.
@functools.lru_cache(maxsize=4096)
def _short_date_in(day: date, chosen: QLocale) -> str:
    if is_c_locale(chosen):
        return chosen.toString(_qdate(day), C_SHORT_DATE)
    return chosen.toString(_qdate(day), QLocale.FormatType.ShortFormat)


def long_date(day: date | None) -> str:
    """A date where there is room (the profile): the locale's long format without the
    weekday ("6 December 2026", "December 6, 2026")."""
    if day is None:
        return ""
    return locale().toString(_qdate(day), _long_without_weekday())


def _long_without_weekday() -> str:
    if is_c_locale():
        return C_LONG_DATE
    pattern = locale().dateFormat(QLocale.FormatType.LongFormat)
    # The long format starts with the weekday in most locales ("dddd, d MMMM yyyy"): drop
    # it and what joins it to the rest, so a date reads as a date.
    for weekday in ("dddd, ", "dddd ", ", dddd", " dddd"):
        pattern = pattern.replace(weekday, "")
    return pattern.replace("dddd", "").strip(" ,")


def weekday_date(day: date | None) -> str:
    """A date with its weekday ("Sunday, 6 December 2026"): a page's subtitle."""
    if day is None:
        return ""
    chosen = locale()
    if is_c_locale(chosen):
        return chosen.toString(_qdate(day), C_WEEKDAY_DATE)
    return chosen.toString(_qdate(day), QLocale.FormatType.LongFormat)


def weekday_day_month(day: date | None) -> str:
    """Today's date without its year ("Sunday, 6 December", "Sunday, December 6"): the
    Today page's subtitle, which must fit one line beside its button at 900 px. Where the
    locale's long format does not simply end with the year (or the year sits in words, as
    "6 de diciembre de 2026"), the whole `weekday_date`: never a mangled pattern."""
    if day is None:
        return ""
    chosen = locale()
    if is_c_locale(chosen):
        return chosen.toString(_qdate(day), C_WEEKDAY_DATE.removesuffix(" yyyy"))
    pattern = chosen.dateFormat(QLocale.FormatType.LongFormat)
    without_year = re.sub(r"[\s,.]*y+$", "", pattern)
    if without_year == pattern or without_year.endswith("'") or "y" in without_year:
        return weekday_date(day)
    return chosen.toString(_qdate(day), without_year)


def day_month(day: date | None) -> str:
    """A date within the year, short ("6 Dec", "Dec 6"), from the locale's own order."""
    if day is None:
        return ""
    pattern = locale().dateFormat(QLocale.FormatType.ShortFormat)
    month_first = pattern.find("M") < pattern.find("d")
    return locale().toString(_qdate(day), "MMM d" if month_first else "d MMM")


def short_time(moment: time | datetime | None) -> str:
    """A time of day in the locale's short format ("09:30", "9:30 AM")."""
    if moment is None:
        return ""
    return locale().toString(QTime(moment.hour, moment.minute), QLocale.FormatType.ShortFormat)


def short_datetime(moment: datetime | None) -> str:
    """A moment in a list ("06/12/2026 09:30"), in local time when it carries a zone."""
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    value = QDateTime(_qdate(moment.date()), QTime(moment.hour, moment.minute))
    chosen = locale()
    if is_c_locale(chosen):
        return chosen.toString(value, f"{C_SHORT_DATE} {C_TIME}")
    return chosen.toString(value, QLocale.FormatType.ShortFormat)


def date_edit_format() -> str:
    """A date picker's display format: the locale's short date pattern (Qt's own default
    for a QDateEdit), in the C locale "d MMM yyyy" instead of its "d MM yyyy"."""
    if is_c_locale():
        return C_SHORT_DATE
    return locale().dateFormat(QLocale.FormatType.ShortFormat)


def time_edit_format() -> str:
    """A time picker's display format: the locale's short time ("HH:mm", "h:mm AP")."""
    if is_c_locale():
        return C_TIME
    return locale().timeFormat(QLocale.FormatType.ShortFormat)


def month_year(year: int, month: int, separator: str = " ") -> str:
    """A month of a year, short ("Nov 2026"; a chart's axis puts the year under it)."""
    return locale().toString(QDate(year, month, 1), f"MMM{separator}yyyy")


def number(value: int | float, decimals: int = 0) -> str:
    """A count or amount with the locale's digit grouping ("1,234" or "1.234"; the C
    locale, which groups nothing by default, "1,234" too)."""
    chosen = locale()
    if is_c_locale(chosen):
        chosen = QLocale(chosen)
        chosen.setNumberOptions(QLocale.NumberOption.DefaultNumberOptions)
    if isinstance(value, int) and decimals == 0:
        return chosen.toString(value)
    return chosen.toString(float(value), "f", decimals)


def money(value: int | float, decimals: int = 0) -> str:
    """An amount of money in the locale's currency ("£4,950", "4.950 €"), the app having no
    currency setting of its own. The C locale names no currency: the number alone ("4,950")
    rather than a guessed symbol."""
    chosen = locale()
    if is_c_locale(chosen):
        return number(value, decimals)
    return chosen.toCurrencyString(float(value), chosen.currencySymbol(), decimals)


def money_affixes() -> tuple[str, str]:
    """What `money` writes before and after an amount ("£", "" or "", " €"), for a number
    field of money; ("", "") in the C locale."""
    before, _zero, after = money(0).partition(number(0))
    return before, after


def phone(number_text: str | None) -> str:
    """A stored phone number as people read it ("+33 1 28 26 94 30"): always formatted,
    never the bare E.164 string; text that is not a phone number is shown as stored."""
    if not number_text:
        return ""
    from crmcompanion.core.validation import format_phone  # phonenumbers: on first use

    return format_phone(number_text.strip())


# The labels the app itself offers and stores (lowercase, as the importers and demo write
# them): shown as words, never as the stored value. Any other label (typed by the owner,
# imported in another language) is the owner's own text and is shown exactly as stored.
CONTACT_LABEL_WORDS: dict[str, str] = {
    "home": "Home",
    "mobile": "Mobile",
    "work": "Work",
    "other": "Other",
    "cell": "Cell",  # vCard's TYPE=CELL, as imported
    "fax": "Fax",
    # What the Outlook and Apple/Google importers write (core.csv_import, core.vcard).
    "main": "Main",
    "pager": "Pager",
    "car": "Car",
}


def contact_label(stored: str) -> str:
    """An email's or phone number's stored label as an owner reads it ("mobile" ->
    "Mobile"); labels the app does not know are shown unchanged."""
    return CONTACT_LABEL_WORDS.get(stored.strip(), stored)


def map_url(address: str, service: str) -> str:
    """The web address that searches for `address` on the chosen map service."""
    from crmcompanion.core.settings import map_search_url

    return map_search_url(address, service)
