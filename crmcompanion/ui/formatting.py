"""One way to write dates, times, numbers and phone numbers on screen: the user's locale.

Screens used to mix "06 December 2026", "(07 Nov)", "2024-04-16" and "(2026-11-09)" side by
side, each view with its own strftime pattern. Every view writes them through here instead:
QLocale's short format in lists and tables, its long format where there is room (the
profile), numbers with the locale's grouping, and phone numbers always in their formatted
international form through the core's `format_phone`.

`set_locale` exists for tests and screenshots; the app uses the system locale.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time

from PySide6.QtCore import QDate, QDateTime, QLocale, QTime

logger = logging.getLogger(__name__)

_locale: list[QLocale] = []


def locale() -> QLocale:
    """The locale every screen formats with (the system's unless `set_locale` chose one)."""
    return _locale[0] if _locale else QLocale.system()


def set_locale(chosen: QLocale | None) -> None:
    """Format with `chosen` from now on (None: the system locale again)."""
    _locale.clear()
    if chosen is not None:
        _locale.append(chosen)


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def short_date(day: date | None) -> str:
    """A date in a list or table: the locale's short format ("06/12/2026", "12/6/26")."""
    if day is None:
        return ""
    return locale().toString(_qdate(day), QLocale.FormatType.ShortFormat)


def long_date(day: date | None) -> str:
    """A date where there is room (the profile): the locale's long format without the
    weekday ("6 December 2026", "December 6, 2026")."""
    if day is None:
        return ""
    return locale().toString(_qdate(day), _long_without_weekday())


def _long_without_weekday() -> str:
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
    return locale().toString(_qdate(day), QLocale.FormatType.LongFormat)


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
    return locale().toString(value, QLocale.FormatType.ShortFormat)


def number(value: int | float, decimals: int = 0) -> str:
    """A count or amount with the locale's digit grouping ("1,234" or "1.234")."""
    if isinstance(value, int) and decimals == 0:
        return locale().toString(value)
    return locale().toString(float(value), "f", decimals)


def phone(number_text: str | None) -> str:
    """A stored phone number as people read it ("+33 1 28 26 94 30"): always formatted,
    never the bare E.164 string; text that is not a phone number is shown as stored."""
    if not number_text:
        return ""
    from crmcompanion.core.validation import format_phone  # phonenumbers: on first use

    return format_phone(number_text.strip())


def map_url(address: str, service: str) -> str:
    """The web address that searches for `address` on the chosen map service."""
    from crmcompanion.core.settings import map_search_url

    return map_search_url(address, service)
