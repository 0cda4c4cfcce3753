"""Import › Check before importing, with a Google Contacts file: every choice in the "Imports
as" column reads as words starting with a capital ("Not imported", "First name (auto)"),
where a column left out read "ignored", lowercase like a raw value."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from crmcompanion.ui.import_wizard import CHECK_PAGE
from tests.ui.test_import_wizard import choose_file, google_file, open_wizard


def test_every_mapping_choice_reads_as_words(qtbot, window, tmp_path: Path) -> None:
    wizard = open_wizard(qtbot, window)
    choose_file(qtbot, wizard, google_file(tmp_path))
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.page == CHECK_PAGE
    table = wizard.mapping_table
    shown = set()
    for row in range(table.rowCount()):
        combo = table.cellWidget(row, 1)
        for index in range(combo.count()):
            text = combo.itemText(index)
            assert text[:1].isupper(), (table.item(row, 0).text(), text)
            shown.add(text)
    assert "Not imported" in shown
    assert wizard.mapping_combo("Nickname").currentText() == "Not imported"
