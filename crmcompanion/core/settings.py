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
    "Country used to read phone numbers typed without an international prefix (ISO code).",
)
OWNER_NAME = SettingSpec("general.owner_name", str, "", "Your name, shown on records you make.")
CONFIRM_DELETE = SettingSpec(
    "general.confirm_delete", bool, True, "Ask before deleting a customer."
)

ALL_SETTINGS: dict[str, SettingSpec] = {
    spec.key: spec for spec in (DEFAULT_REGION, OWNER_NAME, CONFIRM_DELETE)
}


def register(spec: SettingSpec) -> SettingSpec:
    """Later features declare their settings through this, so the registry stays complete."""
    ALL_SETTINGS[spec.key] = spec
    return spec


# --- Touchpoints (special dates, keep in touch, follow-ups) ----------------------------------
# Declared here with the defaults of `core.touchpoints`, so the Settings dialog and the
# touchpoint service read the same values. Keys under "touchpoints.cadence." also mark every
# customer's derived keep-in-touch row for recomputation (a trigger in migration 0002).


def _touchpoint_settings() -> tuple[SettingSpec, ...]:
    from crmcompanion.core.dates import LeapDayPolicy
    from crmcompanion.core.occasions import Occasion
    from crmcompanion.core.touchpoints import DEFAULT_LEAD_DAYS, CadenceDefaults

    cadence = CadenceDefaults()
    specs = [
        SettingSpec(
            "touchpoints.leap_day_policy", str, LeapDayPolicy.FEB28.value,
            "Where a 29 February date is celebrated in other years: feb28 or mar1.",
            choices=tuple(p.value for p in LeapDayPolicy),
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

BUSINESS_NAME = register(SettingSpec(
    "greetings.business_name", str, "",
    "Your business name, for $business_name in greetings.",
))
SIGNATURE = register(SettingSpec(
    "greetings.signature", str, "",
    "Your sign-off for $signature; empty signs with your name and business name.",
))
DEFAULT_GREETING_CHANNEL = register(SettingSpec(
    "greetings.default_channel", str, "email",
    "How you usually send greetings, when the customer has no preferred channel.",
    choices=GREETING_CHANNELS,
))

# --- Feedback (issue 15: the voice of the customer) ------------------------------------------

CHECKBACK_DAYS = register(SettingSpec(
    "feedback.checkback_days", int, 14,
    "Days after a complaint is resolved to ask the customer whether they are satisfied "
    "(1 to 60).",
))
CHECKBACK_DAYS_RANGE = (1, 60)
