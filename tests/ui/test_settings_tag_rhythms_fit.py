"""Settings › Keep in touch in a 900x600 window with twelve tags (issue: the "Rhythm by tag"
table had a scroll bar of its own inside the scrolling page, five of the twelve tags in view,
and its "Tag" heading sat centred over left-aligned names): every tag's row is reached by the
page's one scroll bar, the table never scrolls on its own, and the headings line up with
their columns."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QScrollArea

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.ui.settings_dialog import TagRhythmSection
from tests.ui.helpers import save_shot
from tests.ui.test_fit_900x600 import at_900x600
from tests.ui.test_settings_pages import open_settings

TAGS = ("Café", "Catering", "Corporate", "Gift cards", "Newsletter", "Online", "Referral",
        "Regular", "Trade fair", "VIP", "Wedding", "Wholesale")


def test_every_tag_row_is_reached_by_the_page(qtbot, services, tmp_path: Path) -> None:
    for n, tag in enumerate(TAGS):
        services.customers.create(CustomerDraft(first_name=f"Ann{n}", tags=(tag,)))
    dialog = at_900x600(qtbot, open_settings(qtbot, services))
    page = dialog.show_page("Keep in touch")
    QApplication.processEvents()
    section = next(s for s in page.sections if isinstance(s, TagRhythmSection))
    table = section.table
    scroll = page.parentWidget().parentWidget()
    assert isinstance(scroll, QScrollArea)
    assert table.rowCount() == len(TAGS)
    assert table.verticalScrollBar().maximum() == 0  # no scrolling inside the page
    bar = scroll.verticalScrollBar()
    bar.setValue(bar.maximum())  # the owner scrolls the page to its end
    QApplication.processEvents()
    save_shot(dialog, tmp_path, "settings_tag_rhythms.png")
    viewport = scroll.viewport()
    for tag in (TAGS[0], TAGS[-1]):
        spin = section.spins[tag]
        scroll.ensureWidgetVisible(spin)
        QApplication.processEvents()
        top = spin.mapTo(viewport, QPoint(0, 0)).y()
        assert top >= 0 and top + spin.height() <= viewport.height(), tag
        assert table.viewport().rect().contains(spin.geometry()), tag  # whole, not cut
    header = table.horizontalHeader()
    tag_heading = table.horizontalHeaderItem(0).textAlignment()
    assert tag_heading & Qt.AlignmentFlag.AlignLeft or (
        header.defaultAlignment() & Qt.AlignmentFlag.AlignLeft and not tag_heading)
    assert table.horizontalHeaderItem(1).textAlignment() & Qt.AlignmentFlag.AlignRight
