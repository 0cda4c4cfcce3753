"""Every Settings page in a 900x600 window: each field's label is level with its field (their
vertical centres within 2 pixels), not sitting at the top of a taller field, and the
Insights page's numbers share one width."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel, QWidget

from crmcompanion.ui import style
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.insights_settings import InsightThresholdsSection
from crmcompanion.ui.settings_dialog import SettingsDialog


def _centre_y(widget: QWidget, root: QWidget) -> int:
    return widget.mapTo(root, widget.rect().center()).y()


def test_labels_are_level_with_their_fields_on_every_page(qtbot, qapp, services):
    style.apply_look(qapp, "light")
    dialog = SettingsDialog(services.settings, AppState(), services=services)
    qtbot.addWidget(dialog)
    dialog.resize(900, 600)
    dialog.show()
    qtbot.waitExposed(dialog)
    checked = 0
    for row in range(dialog.page_list.count()):
        dialog.page_list.setCurrentRow(row)
        QApplication.processEvents()
        page = dialog.pages[row]
        for label in page.findChildren(QLabel):
            field = label.buddy()
            if field is None or not label.isVisible() or not field.isVisible():
                continue
            gap = abs(_centre_y(label, page) - _centre_y(field, page))
            assert gap <= 2, (page.page.title, label.text(), gap)
            checked += 1
    assert checked >= 15  # the General, Reminders, Special dates, Insights... fields
    section = next(s for p in dialog.pages for s in p.sections
                   if isinstance(s, InsightThresholdsSection))
    assert len({editor.width() for editor in section.editors.values()}) == 1
