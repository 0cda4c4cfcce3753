"""The Settings dialog's "Insights" page (issue 16): the health segments' thresholds.

The thresholds are registered settings (`core.segments.INSIGHT_SETTINGS`); this section shows
each as the owner thinks of it: days with their unit, a share of the rhythm in percent, and
satisfaction as a score out of 5 (stored in tenths: 2.5 of 5 is 25). Segments follow a saved
change by themselves: the thresholds are part of the key `InsightsService.refresh` compares.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QFormLayout, QSpinBox

from crmcompanion.core.segments import (
    COMPLAINT_AGE_DAYS,
    DEFAULT_RHYTHM_DAYS,
    FALLING_SATISFACTION_TENTHS,
    HAPPY_PRAISE,
    HAPPY_SATISFACTION_TENTHS,
    LOW_SATISFACTION_TENTHS,
    OVERDUE_FACTOR_PERCENT,
    WINDOW_DAYS,
)
from crmcompanion.core.settings import SettingSpec
from crmcompanion.services.changes import Changed
from crmcompanion.ui.settings_dialog import FieldLabel, SettingsSection, add_settings_page
from crmcompanion.ui.text_display import plain_label

if TYPE_CHECKING:
    from crmcompanion.services.container import Services

logger = logging.getLogger(__name__)

# (setting, label, suffix, stored in tenths and shown as a score)
FIELDS: tuple[tuple[SettingSpec, str, str, bool], ...] = (
    (OVERDUE_FACTOR_PERCENT, "At risk when out of touch longer than", " % of their rhythm",
     False),
    (DEFAULT_RHYTHM_DAYS, "Rhythm for customers without one", " days", False),
    (COMPLAINT_AGE_DAYS, "At risk with an open complaint at least", " days old", False),
    (WINDOW_DAYS, "Recent satisfaction and praise: the last", " days", False),
    (LOW_SATISFACTION_TENTHS, "At risk when satisfaction is at or below", " of 5", True),
    (FALLING_SATISFACTION_TENTHS, "At risk when satisfaction falls by", " points", True),
    (HAPPY_SATISFACTION_TENTHS, "Happiest from a satisfaction of", " of 5", True),
    (HAPPY_PRAISE, "… or with at least this much praise", "", False),
)


def _bounds(spec: SettingSpec) -> tuple[int, int]:
    choices = [int(c) for c in spec.choices or (spec.default,)]
    return min(choices), max(choices)


class InsightThresholdsSection(SettingsSection):
    """One number field per threshold, each bounded by what the setting accepts."""

    def __init__(self, services: Services | None) -> None:
        super().__init__()
        self._services = services
        stored: dict[str, Any] = services.settings.all() if services is not None else {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # Short numbers in short fields, as on the other pages (not stretched to 320 px).
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.editors: dict[str, QAbstractSpinBox] = {}
        self._stored: dict[str, int] = {}
        for spec, label, suffix, tenths in FIELDS:
            low, high = _bounds(spec)
            value = int(stored.get(spec.key, spec.default))
            self._stored[spec.key] = value
            editor: QAbstractSpinBox
            if tenths:
                editor = QDoubleSpinBox()
                editor.setDecimals(1)
                editor.setSingleStep(0.1)
                editor.setRange(low / 10, high / 10)
                editor.setValue(value / 10)
            else:
                editor = QSpinBox()
                editor.setRange(low, high)
                editor.setValue(value)
            editor.setSuffix(suffix)
            editor.setAccessibleName(label)
            editor.setToolTip(spec.description)
            editor.setMinimumWidth(170)
            layout.addRow(FieldLabel(label, editor), editor)
            self.editors[spec.key] = editor
        # One width for the column of numbers: the widest field's (its suffix).
        for editor in self.editors.values():
            editor.ensurePolished()
        widest = max(editor.sizeHint().width() for editor in self.editors.values())
        for editor in self.editors.values():
            editor.setMinimumWidth(widest)
        layout.addRow(plain_label("Every customer's segment follows these numbers as soon as "
                                  "they are saved.", "muted"))

    def values(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for spec, _label, _suffix, tenths in FIELDS:
            editor = self.editors[spec.key]
            if isinstance(editor, QDoubleSpinBox):
                out[spec.key] = round(editor.value() * 10) if tenths else int(editor.value())
            elif isinstance(editor, QSpinBox):
                out[spec.key] = editor.value()
        return out

    def save(self) -> Changed | None:
        if self._services is None:
            return None
        changes = {k: v for k, v in self.values().items() if v != self._stored.get(k)}
        if not changes:
            return None
        logger.info("Insights thresholds changed: %s", changes)
        changed = self._services.settings.update(changes)
        self._stored.update(changes)
        return changed


add_settings_page(
    "Insights",
    order=70,
    intro="When a customer counts as at risk or among the happiest (Insights, the customer "
          "list's segments).",
    sections=(InsightThresholdsSection,),
)
