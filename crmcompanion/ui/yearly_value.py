"""The yearly value of one customer (issue 16), set from the profile's segment line.

An optional number: what the customer brings in a year. It orders the at-risk customers by
what is at stake (`InsightsService.members`, `crmcompanion customers value`). Kept in a small
dialog of its own so the profile stays read-only at a glance.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDoubleSpinBox, QLabel, QVBoxLayout, QWidget

from crmcompanion.core.errors import DomainError
from crmcompanion.services.changes import Changed
from crmcompanion.ui.formatting import locale, money, money_affixes
from crmcompanion.ui.widgets import DialogButtons

logger = logging.getLogger(__name__)

# The service's upper bound (services.insights.MAX_YEARLY_VALUE).
MAXIMUM = 1e12
NOT_SET = "Not set"


def value_text(value: float | None) -> str:
    """"Yearly value: £12,000" in the locale's digits and currency (no symbol in the C
    locale, which has none), or that there is none."""
    if value is None:
        return "No yearly value"
    return f"Yearly value: {money(value, 0 if float(value).is_integer() else 2)}"


class YearlyValueDialog(QDialog):
    """A number field (empty = not set) and Save; `changed` after a save."""

    def __init__(self, save: Callable[[float | None], Changed], value: float | None,
                 name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._save = save
        self.changed = Changed()
        self.setWindowTitle(f"Yearly value of {name}")
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(8)
        hint = QLabel("What this customer brings in a year. At-risk customers are listed "
                      "with the most at stake first.")
        hint.setWordWrap(True)
        hint.setObjectName("muted")
        layout.addWidget(hint)
        self.value = QDoubleSpinBox()
        self.value.setLocale(locale())
        self.value.setRange(0, MAXIMUM)
        self.value.setDecimals(2)
        self.value.setGroupSeparatorShown(True)
        # In the same currency as the profile's "Yearly value: £4,950".
        before, after = money_affixes()
        self.value.setPrefix(before)
        self.value.setSuffix(after)
        # At zero the field reads "Not set": a customer with no value is listed last.
        self.value.setSpecialValueText(NOT_SET)
        self.value.setValue(value or 0)
        self.value.setAccessibleName("Yearly value")
        layout.addWidget(self.value)
        self.error = QLabel("")
        self.error.setObjectName("formBanner")
        self.error.setVisible(False)
        layout.addWidget(self.error)
        buttons = DialogButtons(self, self.save)
        self.cancel_button, self.save_button = buttons.cancel_button, buttons.accept_button
        layout.addLayout(buttons)

    def chosen(self) -> float | None:
        value = self.value.value()
        return None if value == 0 else value

    def save(self) -> None:
        try:
            self.changed = self._save(self.chosen())
        except DomainError as exc:
            self.error.setText(str(exc))
            self.error.setVisible(True)
            return
        self.accept()
