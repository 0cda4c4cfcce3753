"""The customer list writes its dates in the locale of the moment: the app opened again in
another locale (Qt's default locale moved, as tests and a changed system setting do) shows
that locale's dates, never the text cached for the locale before (the list's date cache was
keyed on the day alone)."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QDate, QLocale

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.ui.customer_model import LAST_CONTACT, NEXT_OCCASION
from crmcompanion.ui.main_window import CUSTOMERS


def _list_row(qtbot, make_window) -> tuple[str, str]:
    """Open the app on Customers, as the owner does, and read the one row's two dates."""
    window = make_window()
    window.show_section(CUSTOMERS)
    view = window.customers
    qtbot.waitUntil(lambda: view.model.rowCount() == 1)
    texts = (view.model.index(0, LAST_CONTACT).data(),
             view.model.index(0, NEXT_OCCASION).data())
    window.close()
    return texts


def _short(locale: QLocale, year: int, month: int, day: int) -> str:
    return locale.toString(QDate(year, month, day), QLocale.FormatType.ShortFormat)


def test_list_dates_follow_the_locale(qtbot, qapp, make_window, services):
    nora = services.customers.create(CustomerDraft(
        first_name="Nora", last_name="Brown",
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 4, 12, 1980),),
    )).customer
    services.interactions.log(nora.id, "Coffee", when=datetime(2026, 2, 20, 15, 0))
    previous = QLocale()
    american = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    german = QLocale(QLocale.Language.German, QLocale.Country.Germany)
    try:
        QLocale.setDefault(american)
        last, occasion = _list_row(qtbot, make_window)
        assert last == _short(american, 2026, 2, 20)  # "2/20/26"
        assert occasion == f"Birthday · {_short(american, 2026, 4, 12)}"

        QLocale.setDefault(german)
        last, occasion = _list_row(qtbot, make_window)
        assert _short(german, 2026, 2, 20) != _short(american, 2026, 2, 20)
        assert last == _short(german, 2026, 2, 20)  # "20.02.26"
        assert occasion == f"Birthday · {_short(german, 2026, 4, 12)}"
    finally:
        QLocale.setDefault(previous)
