"""ui/formatting: one way to write dates, numbers and phones, from the locale."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from PySide6.QtCore import QDate, QDateTime, QLocale, QTime
from PySide6.QtWidgets import QDateEdit

from crmcompanion.core.settings import MAP_SERVICE, map_search_url
from crmcompanion.ui import formatting


@pytest.fixture
def use_locale():
    def use(language: QLocale.Language, country: QLocale.Country) -> None:
        formatting.set_locale(QLocale(language, country))

    yield use
    formatting.set_locale(None)


def test_british_dates_numbers(qapp, use_locale):
    use_locale(QLocale.Language.English, QLocale.Country.UnitedKingdom)
    day = date(2026, 12, 6)
    assert formatting.short_date(day) == "06/12/2026"
    assert formatting.long_date(day) == "6 December 2026"
    assert formatting.weekday_date(day) == "Sunday, 6 December 2026"
    assert formatting.day_month(day) == "6 Dec"
    assert formatting.short_datetime(datetime(2026, 12, 6, 9, 5)) == "06/12/2026 09:05"
    assert formatting.number(1234567) == "1,234,567"


def test_american_and_german_orders(qapp, use_locale):
    day = date(2026, 12, 6)
    use_locale(QLocale.Language.English, QLocale.Country.UnitedStates)
    assert formatting.long_date(day) == "December 6, 2026"
    assert formatting.day_month(day) == "Dec 6"
    assert formatting.short_date(day) == "12/6/26"
    use_locale(QLocale.Language.German, QLocale.Country.Germany)
    assert formatting.long_date(day) == "6. Dezember 2026"
    assert formatting.number(1234567) == "1.234.567"
    assert formatting.number(2.5, 1) == "2,5"


def test_phones_are_always_formatted(qapp):
    assert formatting.phone("+4915112345678") == "+49 1511 2345678"
    assert formatting.phone(" +33128269430 ") == "+33 1 28 26 94 30"
    assert formatting.phone("") == ""
    assert formatting.phone("not a number") == "not a number"


def test_map_links_default_to_openstreetmap():
    assert MAP_SERVICE.default == "openstreetmap"
    assert formatting.map_url("Hauptstraße 72, 10115 Berlin", "openstreetmap") == (
        "https://www.openstreetmap.org/search?query=Hauptstra%C3%9Fe%2072%2C%2010115%20Berlin")
    assert map_search_url("1 Main St", "google").startswith("https://www.google.com/maps/")
    assert map_search_url("1 Main St", "nonsense").startswith("https://www.openstreetmap.org/")


@pytest.fixture
def default_locale(qapp):
    """Moves Qt's default locale (what QLocale() and every screen use) for one test, then
    puts the previous one back."""
    previous = QLocale()

    def use(chosen: QLocale) -> None:
        QLocale.setDefault(chosen)

    yield use
    QLocale.setDefault(previous)


@pytest.mark.parametrize("name", ["C", "POSIX", "C.UTF-8"])
def test_the_c_locale_writes_month_names_day_first(default_locale, name):
    default_locale(QLocale(name))
    assert formatting.is_c_locale()
    day = date(2026, 11, 23)
    assert formatting.short_date(day) == "23 Nov 2026"  # Qt's own: "23 11 2026"
    assert formatting.long_date(day) == "23 November 2026"
    assert formatting.weekday_date(day) == "Monday, 23 November 2026"
    assert formatting.day_month(day) == "23 Nov"
    assert formatting.short_datetime(datetime(2026, 11, 23, 9, 5)) == "23 Nov 2026 09:05"
    assert formatting.month_year(2026, 11) == "Nov 2026"
    assert formatting.number(2000) == "2,000"  # Qt's own: "2000"
    assert formatting.number(2.5, 1) == "2.5"
    assert formatting.date_edit_format() == "d MMM yyyy"
    assert formatting.time_edit_format() == "HH:mm"


@pytest.mark.parametrize("name", ["en_US", "en_GB", "de_DE", "ko_KR", "fr_FR"])
def test_a_real_locale_is_used_exactly_as_qt_gives_it(default_locale, name):
    chosen = QLocale(name)
    default_locale(chosen)
    assert not formatting.is_c_locale()
    day = date(2026, 11, 23)
    qday = QDate(2026, 11, 23)
    short, long = QLocale.FormatType.ShortFormat, QLocale.FormatType.LongFormat
    assert formatting.short_date(day) == chosen.toString(qday, short)
    assert formatting.weekday_date(day) == chosen.toString(qday, long)
    assert formatting.short_datetime(datetime(2026, 11, 23, 9, 5)) == chosen.toString(
        QDateTime(qday, QTime(9, 5)), short)
    assert formatting.number(1234567) == chosen.toString(1234567)
    assert formatting.date_edit_format() == chosen.dateFormat(short)
    assert formatting.time_edit_format() == chosen.timeFormat(short)
    # A date picker with the app's format shows what Qt's default picker shows.
    assert QDateEdit(qday).displayFormat() == formatting.date_edit_format()


@pytest.mark.parametrize(("name", "expected"), [
    ("C", "Wednesday, 30 September"), ("en_US", "Wednesday, September 30"),
    ("de_DE", "Mittwoch, 30. September"),
    # The year sits among words or leads: the locale's whole long date, never half a pattern.
    ("es_ES", "miércoles, 30 de septiembre de 2026"), ("ja_JP", "2026年9月30日水曜日"),
])
def test_weekday_day_month_drops_the_year_only_where_it_is_a_clean_end(
        default_locale, name, expected):
    default_locale(QLocale(name))
    assert formatting.weekday_day_month(date(2026, 9, 30)) == expected


def test_yearly_value_in_the_locales_currency(qapp, use_locale):
    """The profile read "Yearly value: 4,950", no currency: the app has no currency setting,
    so the locale's currency is shown; the C locale names none, so the number stays alone."""
    from crmcompanion.ui.yearly_value import value_text

    use_locale(QLocale.Language.English, QLocale.Country.UnitedKingdom)
    assert value_text(4950) == "Yearly value: £4,950"
    assert value_text(4950.5) == "Yearly value: £4,950.50"
    assert formatting.money_affixes() == ("£", "")
    use_locale(QLocale.Language.German, QLocale.Country.Germany)
    assert value_text(4950) == "Yearly value: 4.950\N{NO-BREAK SPACE}€"
    assert formatting.money_affixes() == ("", "\N{NO-BREAK SPACE}€")
    use_locale(QLocale.Language.C, QLocale.Country.AnyCountry)
    assert value_text(4950) == "Yearly value: 4,950"
    assert formatting.money_affixes() == ("", "")
    assert value_text(None) == "No yearly value"
