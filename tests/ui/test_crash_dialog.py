"""An exception in a Qt slot: a friendly dialog with the log file's path, not a silent exit.

And "Open data folder" in the app's menu opens the data folder (QDesktopServices is
intercepted with a URL handler, so no file manager starts).
"""

from __future__ import annotations

import logging
import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QPushButton

from crmcompanion.ui import crash
from tests.ui.helpers import UrlCatcher


@pytest.fixture
def places(tmp_path, monkeypatch):
    """The app's hook installed over tmp_path (pytest-qt's own hook is put back after)."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    found = crash.Places(data_folder=tmp_path, log_file=tmp_path / "logs" / "crmcompanion.log")
    crash.install(found)
    yield found
    dialog = crash.current_dialog()
    if dialog is not None:
        dialog.close()
    crash.configure(None)


@pytest.fixture
def url_catcher():
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    yield catcher
    QDesktopServices.unsetUrlHandler("file")


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_shows_a_dialog_with_the_log_path(qtbot, window, places,
                                                                 url_catcher, caplog):
    button = QPushButton("Break", window)
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("the <b>spline</b> is not reticulated\nsecond line")

    button.clicked.connect(broken)
    button.show()
    with caplog.at_level(logging.ERROR, logger="crmcompanion.ui.crash"):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert calls == [1]
    dialog = crash.current_dialog()
    assert dialog is not None and dialog.isVisible()
    assert not dialog.isModal()  # the app keeps running under it
    assert dialog.textFormat() == Qt.TextFormat.PlainText
    assert dialog.text() == (
        "Something went wrong: ValueError: the <b>spline</b> is not reticulated")
    assert str(places.log_file) in dialog.informativeText()
    # The whole traceback reached the log.
    record = next(r for r in caplog.records if r.name == "crmcompanion.ui.crash")
    assert record.exc_info is not None and record.exc_info[0] is ValueError

    # A second failure updates the same dialog instead of stacking another.
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert crash.current_dialog() is dialog
    assert "2 times" in dialog.text()

    # Its button opens the data folder.
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert [u.toLocalFile() for u in url_catcher.urls] == [str(places.data_folder)]
    # The window still works.
    assert window.isVisible()


def test_open_data_folder_is_in_the_app_menu_and_opens_the_data_folder(qtbot, window, places,
                                                                       url_catcher):
    menus = [a.menu() for a in window.menuBar().actions() if a.menu() is not None]
    actions = {a.text().replace("&", ""): a for m in menus for a in m.actions()}
    assert "Open data folder" in actions
    actions["Open data folder"].trigger()
    assert [u.toLocalFile() for u in url_catcher.urls] == [str(places.data_folder)]
    assert [u.scheme() for u in url_catcher.urls] == ["file"]
