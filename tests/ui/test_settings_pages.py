"""The Settings pages an owner understands: words for choices, days with their unit, the
per-tag keep-in-touch rhythm, 29 February, appearance, the map service and where the data
lives, each saved through its service."""

from __future__ import annotations

from PySide6.QtCore import Qt

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.settings import (
    APPEARANCE,
    DEFAULT_GREETING_CHANNEL,
    MAP_SERVICE,
    TOUCHPOINT_SETTINGS,
)
from crmcompanion.ui import style
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.settings_dialog import SettingsDialog, TagRhythmSection

LEAP = TOUCHPOINT_SETTINGS["touchpoints.leap_day_policy"]
ACTIVE = TOUCHPOINT_SETTINGS["touchpoints.cadence.active"]


def open_settings(qtbot, services) -> SettingsDialog:
    dialog = SettingsDialog(services.settings, AppState(), services=services)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def items(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def test_choices_read_as_words(qtbot, services):
    dialog = open_settings(qtbot, services)
    channel = dialog.page("Greetings").editors[DEFAULT_GREETING_CHANNEL.key]
    assert items(channel) == ["Email", "SMS", "Phone call", "In person"]
    leap = dialog.page("Special dates").editors[LEAP.key]
    assert items(leap) == ["On 28 February", "On 1 March"]
    assert items(dialog.page("Appearance").editors[APPEARANCE.key]) == ["System", "Light", "Dark"]
    maps = dialog.page("Appearance").editors[MAP_SERVICE.key]
    assert maps.currentText() == "OpenStreetMap"


def test_29_february_days_and_map_service_are_saved(qtbot, services):
    dialog = open_settings(qtbot, services)
    leap = dialog.show_page("Special dates").editors[LEAP.key]
    leap.setCurrentIndex(leap.findText("On 1 March"))
    cadence = dialog.show_page("Keep in touch").editors[ACTIVE.key]
    assert cadence.text() == "90 days"
    cadence.setValue(1)
    assert cadence.text() == "1 day"  # the unit follows the number
    cadence.setValue(45)
    maps = dialog.show_page("Appearance").editors[MAP_SERVICE.key]
    maps.setCurrentIndex(maps.findText("Google Maps"))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert services.settings.get(LEAP) == "mar1"
    assert services.settings.get(ACTIVE) == 45
    assert services.settings.get(MAP_SERVICE) == "google"


def test_rhythm_by_tag_is_set_through_the_touchpoint_service(qtbot, services):
    for name, tags in (("Ada", ("VIP",)), ("Bob", ("VIP", "Newsletter")), ("Cy", ())):
        services.customers.create(CustomerDraft(first_name=name, tags=tags))
    services.touchpoints.set_tag_cadence("Newsletter", 120)
    dialog = open_settings(qtbot, services)
    page = dialog.show_page("Keep in touch")
    section = next(s for s in page.sections if isinstance(s, TagRhythmSection))
    rows = {section.table.item(r, 0).text(): section.table.item(r, 1).text()
            for r in range(section.table.rowCount())}
    assert rows == {"Newsletter": "1", "VIP": "2"}
    assert section.spins["Newsletter"].value() == 120
    assert section.spins["VIP"].text() == "Default"
    section.spins["VIP"].setValue(14)
    section.spins["Newsletter"].setValue(0)  # back to the default
    assert dialog.save()
    assert services.touchpoints.tag_cadences() == {"VIP": 14}


def test_appearance_page_switches_the_look(qtbot, qapp, services, make_window):
    window = make_window()
    dialog = window.open_settings()
    qtbot.waitExposed(dialog)
    combo = dialog.show_page("Appearance").editors[APPEARANCE.key]
    combo.setCurrentIndex(combo.findText("Dark"))
    try:
        assert dialog.save()
        assert style.current_theme() is style.DARK
    finally:
        window.bus.publish(services.settings.update({APPEARANCE.key: "light"}))
    assert style.current_theme() is style.LIGHT


def test_your_data_page_says_where_the_database_and_backups_are(qtbot, services):
    dialog = open_settings(qtbot, services)
    page = dialog.show_page("Your data")
    section = page.sections[0]
    assert section.paths["Database"] == str(services.backups.database)
    assert section.paths["Backups"] == str(services.backups.folder())


def test_a_reminder_on_the_day_reads_so(qtbot, services):
    follow_up = TOUCHPOINT_SETTINGS["touchpoints.lead_days.follow_up"]
    birthday = TOUCHPOINT_SETTINGS["touchpoints.lead_days.birthday"]
    dialog = open_settings(qtbot, services)
    page = dialog.show_page("Special dates")
    lead = page.editors[follow_up.key]
    assert services.settings.get(follow_up) == 0
    assert lead.text() == "On the day"  # was "0 days before"
    lead.setValue(1)
    assert lead.text() == "1 day before"
    lead.setValue(0)
    other = page.editors[birthday.key]
    other.setValue(0)
    assert other.text() == "On the day"
    other.setValue(3)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert (services.settings.get(follow_up), services.settings.get(birthday)) == (0, 3)


def test_no_template_variable_shown_to_the_owner(qtbot, services):
    """Every word on every Settings page reads as words: Greetings said "for $business_name
    in greetings" and "Your sign-off for $signature" under its fields."""
    from PySide6.QtWidgets import QLabel

    dialog = open_settings(qtbot, services)
    shown = [label.text() for page in dialog.pages for label in page.findChildren(QLabel)]
    assert any("business name" in text for text in shown)
    assert [text for text in shown if "$" in text] == []
