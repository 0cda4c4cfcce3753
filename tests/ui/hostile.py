"""Hostile and real-world customer data for the GUI tests, and checks of how it is shown.

Markup in every user field (it must show literally, never rendered: `<img src=file:...>` would
load a local file), very long unbroken text (it must wrap, never widen a window past its
screen) and an unterminated right-to-left override (it must not reverse the app's own text).
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from crmcompanion.core.customer import (
    CustomerDraft,
    PhoneNumber,
    SpecialDate,
    SpecialDateKind,
)
from crmcompanion.core.occasions import Occasion

FIRST = "<b>Bold</b>"
LAST = "<font size=7>Big</font>"
COMPANY = '<img src="file:///etc/hostname">Co'
NOTES = '<i>note</i> <img src="file:///etc/hostname"> & more'
TAG = "<u>tag</u>"
CUSTOM_LABEL = "<font color=red>Opening</font>"
TEMPLATE_NAME = "<b>Tmpl</b>"
TEMPLATE_BODY = '<img src="file:///etc/hostname">Hello $first_name'
# What must never be rendered: each is specific to the data above, never the app's own markup.
MARKERS = ("<b>Bold", "<font size=7>", '<img src="file:', "<i>note", "<u>tag",
           "<font color=red>", "<b>Tmpl")

LONG_NAME = "W" * 200  # no space anywhere: 200 characters, the most a first name may have
LONG_URL = "https://example.com/" + "a1b2c3d4e5" * 198  # 2,000 characters, no space
RLO_NAME = "\u202eSalam"  # an override nobody closes


def hostile_draft(today: date, first: str = FIRST, last: str = LAST) -> CustomerDraft:
    return CustomerDraft(
        first_name=first, last_name=last, company=COMPANY, notes=NOTES, tags=(TAG,),
        phones=(PhoneNumber("+44 20 7946 0018"),),
        special_dates=(
            SpecialDate(SpecialDateKind.BIRTHDAY, today.month, today.day, 1980),
            SpecialDate(SpecialDateKind.CUSTOM, today.month, today.day, None, CUSTOM_LABEL),
        ),
    )


def add_hostile_template(services) -> None:
    services.greetings.save_template(
        occasion=Occasion.BIRTHDAY, name=TEMPLATE_NAME, tone="warm",
        subject="<b>Bold</b> subject", body=TEMPLATE_BODY, is_default=True,
    )


def rendered_markup(root: QWidget) -> list[str]:
    """Labels and tooltips under `root` (itself included) that would render user markup."""
    bad: list[str] = []
    widgets = [root, *root.findChildren(QWidget)]
    for widget in widgets:
        if isinstance(widget, QLabel):
            text = widget.text()
            if any(m in text for m in MARKERS) and (
                widget.textFormat() != Qt.TextFormat.PlainText
            ):
                bad.append(f"label {widget.objectName()!r} ({widget.textFormat()}): {text!r}")
        tip = widget.toolTip()
        if any(m in tip for m in MARKERS):
            bad.append(f"tooltip of {type(widget).__name__}: {tip!r}")
    return bad


def plain_texts(root: QWidget) -> str:
    """Every plain-text label's text under `root`, joined: what the user reads literally
    (zero-width break opportunities taken out)."""
    return "\n".join(label.text().replace("\u200b", "")
                     for label in [root, *root.findChildren(QLabel)]
                     if isinstance(label, QLabel)
                     and label.textFormat() == Qt.TextFormat.PlainText)
