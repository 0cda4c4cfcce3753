"""The first start: the welcome asks who you are, then how to start, and leads to a Today with
customers; a database that already has customers (demo, import) opens straight on Today."""

from __future__ import annotations

from PySide6.QtCore import Qt

from crmcompanion.core.occasions import Occasion
from crmcompanion.core.settings import (
    BUSINESS_NAME,
    DEFAULT_GREETING_CHANNEL,
    DEFAULT_REGION,
    OWNER_NAME,
    WELCOME_COMPLETED,
)
from crmcompanion.services.demo import fill_demo
from crmcompanion.services.reminders import REMINDER_TIME
from crmcompanion.ui.welcome import WelcomeDialog


def click(qtbot, button) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_first_start_welcome_leads_to_a_populated_today(qtbot, services, make_window):
    services.settings.update({WELCOME_COMPLETED.key: False})  # a truly new database
    window = make_window()
    qtbot.waitUntil(lambda: isinstance(window.welcome, WelcomeDialog)
                    and window.welcome.isVisible())
    welcome = window.welcome
    qtbot.keyClicks(welcome.name_edit, "Maria Lopez")
    qtbot.keyClicks(welcome.business_edit, "Lopez Flowers")
    country = welcome.country.lineEdit()
    country.clear()
    qtbot.keyClicks(country, "Germany")
    welcome.channel.setCurrentIndex(welcome.channel.findText("SMS"))
    assert welcome.channel.currentData() == "sms"  # a word on screen, the value stored
    click(qtbot, welcome.continue_button)
    assert services.settings.get(OWNER_NAME) == "Maria Lopez"
    assert services.settings.get(BUSINESS_NAME) == "Lopez Flowers"
    assert services.settings.get(DEFAULT_REGION) == "DE"  # not "GE" (Georgia)
    assert services.settings.get(DEFAULT_GREETING_CHANNEL) == "sms"
    assert services.settings.get(REMINDER_TIME) == "09:00"
    assert services.settings.get(WELCOME_COMPLETED) is False  # not until a start is chosen

    click(qtbot, welcome.sample_button)
    qtbot.waitUntil(lambda: not welcome.isVisible())
    assert services.settings.get(WELCOME_COMPLETED) is True
    assert services.customers.total() > 0
    assert window.pages.currentWidget() is window.today
    qtbot.waitUntil(lambda: window.today.ready and len(window.today.rows()) > 0, timeout=20000)

    # A greeting drafted now is signed with the welcome's details: no gap for them.
    item = window.today.rows()[0].touchpoint
    draft = services.greetings.draft(item.customer_id, Occasion.BIRTHDAY)
    assert not {"signature", "owner_name", "business_name"} & set(draft.missing_placeholders)
    assert "Maria Lopez" in draft.values["signature"]

    # Completed: a second start opens straight on Today.
    assert services.settings.welcome_needed() is False


def test_a_database_with_customers_opens_straight_on_today(qtbot, services, make_window):
    services.settings.update({WELCOME_COMPLETED.key: False})
    fill_demo(services.db, services.clock, 20, staff_id=services.staff_id)
    window = make_window()
    qtbot.wait(50)  # the first paint has happened (make_window waited for Today)
    assert window.painted and window.welcome is None
    assert window.maybe_welcome() is None


def test_start_empty_completes_the_welcome_and_shows_today(qtbot, services, make_window):
    services.settings.update({WELCOME_COMPLETED.key: False})
    window = make_window()
    qtbot.waitUntil(lambda: window.welcome is not None and window.welcome.isVisible())
    welcome = window.welcome
    click(qtbot, welcome.continue_button)
    click(qtbot, welcome.empty_button)
    assert services.settings.get(WELCOME_COMPLETED) is True
    assert services.customers.total() == 0
    assert window.pages.currentWidget() is window.today


def test_closing_the_welcome_early_shows_it_again_next_time(qtbot, services, make_window):
    services.settings.update({WELCOME_COMPLETED.key: False})
    window = make_window()
    qtbot.waitUntil(lambda: window.welcome is not None and window.welcome.isVisible())
    click(qtbot, window.welcome.later_button)
    assert services.settings.welcome_needed() is True


def test_a_country_that_is_not_in_the_list_is_said_inline(qtbot, services, make_window):
    services.settings.update({WELCOME_COMPLETED.key: False})
    window = make_window()
    qtbot.waitUntil(lambda: window.welcome is not None and window.welcome.isVisible())
    welcome = window.welcome
    welcome.country.lineEdit().clear()
    qtbot.keyClicks(welcome.country.lineEdit(), "Atlantis")
    click(qtbot, welcome.continue_button)
    assert welcome.steps.currentIndex() == 0
    assert welcome.country_error.isVisible() and "Choose your country" in \
        welcome.country_error.text()


def test_import_contacts_opens_the_import_wizard_on_customers(qtbot, services, make_window):
    from crmcompanion.ui.main_window import CUSTOMERS

    services.settings.update({WELCOME_COMPLETED.key: False})
    window = make_window()
    qtbot.waitUntil(lambda: window.welcome is not None and window.welcome.isVisible())
    welcome = window.welcome
    click(qtbot, welcome.continue_button)
    click(qtbot, welcome.import_button)
    assert services.settings.get(WELCOME_COMPLETED) is True
    assert window.pages.currentIndex() == CUSTOMERS
    wizard = window.customers.import_wizard
    qtbot.waitUntil(wizard.isVisible)
    wizard.reject()
