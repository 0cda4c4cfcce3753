"""Every user setting, declared once with its type, default and meaning (Picard-style).

Settings live in the database (`settings` table) so they travel with the data; later features
add their own `SettingSpec`s here and a page in the Settings dialog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: type
    default: Any
    description: str
    choices: tuple[Any, ...] | None = None
    choice_titles: tuple[str, ...] | None = None
    """What each choice reads as on screen ("Email", not "email"), in the order of `choices`."""

    def title_of(self, value: Any) -> str:
        """The on-screen word for a stored choice; the value itself when it has no title."""
        if self.choices is not None and self.choice_titles is not None and value in self.choices:
            return self.choice_titles[self.choices.index(value)]
        return str(value)

    def coerce(self, value: Any) -> Any:
        """Validate a stored or typed value; raises ValueError with a clear sentence."""
        if self.type is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{self.key} must be true or false")
        elif self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{self.key} must be a whole number")
        elif not isinstance(value, self.type):
            raise ValueError(f"{self.key} must be a {self.type.__name__}")
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(map(str, self.choices))
            raise ValueError(f"{self.key} must be one of: {allowed}")
        return value


DEFAULT_REGION = SettingSpec(
    "general.default_region", str, "US",
    "Your country: phone numbers typed without a + and country code are read as its numbers.",
)
OWNER_NAME = SettingSpec("general.owner_name", str, "", "Your name, shown on records you make.")
CONFIRM_DELETE = SettingSpec(
    "general.confirm_delete", bool, True, "Ask before deleting a customer."
)
WELCOME_COMPLETED = SettingSpec(
    "general.welcome_completed", bool, False,
    "The first-start welcome was completed (or skipped); it is not shown again.",
)

# Where an address link opens: a search for the address on one of these map services. The
# URL template gets the address percent-encoded as {query}.
MAP_SERVICES: dict[str, tuple[str, str]] = {
    "openstreetmap": ("OpenStreetMap", "https://www.openstreetmap.org/search?query={query}"),
    "google": ("Google Maps", "https://www.google.com/maps/search/?api=1&query={query}"),
    "apple": ("Apple Maps", "https://maps.apple.com/?q={query}"),
    "bing": ("Bing Maps", "https://www.bing.com/maps?q={query}"),
}
MAP_SERVICE = SettingSpec(
    "general.map_service", str, "openstreetmap",
    "Where a customer's address opens when you click it.",
    choices=tuple(MAP_SERVICES), choice_titles=tuple(t for t, _ in MAP_SERVICES.values()),
)

# Light, dark, or whatever the operating system uses (and follow it when it changes).
APPEARANCE = SettingSpec(
    "appearance.theme", str, "system",
    "Light or dark colours; System follows your computer's setting as it changes.",
    choices=("system", "light", "dark"), choice_titles=("System", "Light", "Dark"),
)

ALL_SETTINGS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (DEFAULT_REGION, OWNER_NAME, CONFIRM_DELETE, WELCOME_COMPLETED, MAP_SERVICE,
                 APPEARANCE)
}


def register(spec: SettingSpec) -> SettingSpec:
    """Later features declare their settings through this, so the registry stays complete."""
    ALL_SETTINGS[spec.key] = spec
    return spec


# --- Touchpoints (special dates, keep in touch, follow-ups) ----------------------------------
# Declared here with the defaults of `core.touchpoints`, so the Settings dialog and the
# touchpoint service read the same values. Keys under "touchpoints.cadence." also mark every
# customer's derived keep-in-touch row for recomputation (a trigger in migration 0002).


LEAP_DAY_TITLES: dict[str, str] = {"feb28": "On 28 February", "mar1": "On 1 March"}


def _touchpoint_settings() -> tuple[SettingSpec, ...]:
    from crmcompanion.core.dates import LeapDayPolicy
    from crmcompanion.core.occasions import Occasion
    from crmcompanion.core.touchpoints import DEFAULT_LEAD_DAYS, CadenceDefaults

    cadence = CadenceDefaults()
    specs = [
        SettingSpec(
            "touchpoints.leap_day_policy", str, LeapDayPolicy.FEB28.value,
            "Where a 29 February birthday or anniversary is remembered in years without one.",
            choices=tuple(p.value for p in LeapDayPolicy),
            choice_titles=tuple(LEAP_DAY_TITLES[p.value] for p in LeapDayPolicy),
        ),
        SettingSpec(
            "touchpoints.overdue_lookback_days", int, 30,
            "How many days a missed birthday or anniversary stays in Overdue.",
        ),
    ]
    specs += [
        SettingSpec(
            f"touchpoints.lead_days.{occasion.value}", int, DEFAULT_LEAD_DAYS.get(occasion, 0),
            f"Days before a {occasion.title.lower()} to remind you of it.",
        )
        for occasion in Occasion
    ]
    specs += [
        SettingSpec(
            f"touchpoints.cadence.{name}", int, getattr(cadence, name),
            f"Keep-in-touch cadence in days for {label} (unless the customer or a tag sets one).",
        )
        for name, label in (
            ("key_account", "key accounts"),
            ("active", "active customers"),
            ("lead", "leads"),
            ("internal", "internal customers"),
        )
    ]
    return tuple(specs)


TOUCHPOINT_SETTINGS: dict[str, SettingSpec] = {
    spec.key: register(spec) for spec in _touchpoint_settings()
}


# --- Greetings (the business profile used by greeting drafts) --------------------------------

GREETING_CHANNELS: tuple[str, ...] = ("email", "sms", "phone", "in_person")
"""How a drafted greeting can go out; phone and in person only copy the text."""
GREETING_CHANNEL_TITLES: tuple[str, ...] = ("Email", "SMS", "Phone call", "In person")

# The descriptions are the hints under the fields in Settings, read by the owner: they say
# where greetings use the value in words, not as the template's "$business_name".
BUSINESS_NAME = register(SettingSpec(
    "greetings.business_name", str, "",
    "Your business name, where a greeting names your business.",
))
SIGNATURE = register(SettingSpec(
    "greetings.signature", str, "",
    "How your greetings sign off; left empty, they sign with your name and business name.",
))
DEFAULT_GREETING_CHANNEL = register(SettingSpec(
    "greetings.default_channel", str, "email",
    "How you usually send greetings, when the customer has no preferred channel.",
    choices=GREETING_CHANNELS, choice_titles=GREETING_CHANNEL_TITLES,
))


def map_search_url(address: str, service: str) -> str:
    """A search for `address` on `service` (OpenStreetMap for an unknown one)."""
    from urllib.parse import quote

    _title, template = MAP_SERVICES.get(service, MAP_SERVICES[str(MAP_SERVICE.default)])
    return template.format(query=quote(" ".join(address.split()), safe=""))


# --- Feedback (issue 15: the voice of the customer) ------------------------------------------

CHECKBACK_DAYS = register(SettingSpec(
    "feedback.checkback_days", int, 14,
    "Days after a complaint is resolved to ask the customer whether they are satisfied "
    "(1 to 60).",
))
CHECKBACK_DAYS_RANGE = (1, 60)
