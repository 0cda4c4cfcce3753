"""The windows of the first run, Settings, greetings, the customer editor and the merge
dialog at 900x600 (or the screen's size when smaller): nothing sticks out of its parent,
and a window asked to be larger than the screen is shrunk to it."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from crmcompanion.core.customer import CustomerDraft, EmailAddress, PhoneNumber
from crmcompanion.core.settings import WELCOME_COMPLETED
from crmcompanion.ui.bus import AppState


def clipped(window: QWidget) -> list[str]:
    """Visible widgets that reach outside their parent's rectangle (scrolled content and
    its scroll bars excepted: scrolling is how they fit)."""
    found = []
    for widget in window.findChildren(QWidget):
        parent = widget.parentWidget()
        if (not widget.isVisible() or widget.isWindow() or parent is None
                or isinstance(parent.parentWidget(), QAbstractScrollArea)
                or isinstance(parent, QAbstractScrollArea)):
            continue
        bounds = parent.rect().adjusted(-1, -1, 1, 1)
        if not bounds.contains(widget.geometry()):
            found.append(f"{type(widget).__name__} {widget.objectName()!r} "
                         f"{widget.geometry()} in {type(parent).__name__} {parent.rect()}")
    return found


def at_900x600(qtbot, window: QWidget) -> QWidget:
    qtbot.addWidget(window)
    window.resize(900, 600)
    window.show()
    qtbot.waitExposed(window)
    area: QRect = window.screen().availableGeometry()
    assert window.width() <= area.width() and window.height() <= area.height()
    return window


@pytest.fixture
def customer(services):
    return services.customers.create(CustomerDraft(
        first_name="Maximiliane", last_name="Schwarzenberg-Hohenlohe",
        company="Schwarzenberg Blumen und Gartenbau GmbH",
        emails=(EmailAddress("maximiliane.schwarzenberg@blumen.example.de"),),
        phones=(PhoneNumber("+4915112345678", "mobile"),), customer_since=date(2020, 5, 1),
    )).customer


def test_welcome_fits(qtbot, services):
    from crmcompanion.ui.welcome import WelcomeDialog

    services.settings.update({WELCOME_COMPLETED.key: False})
    dialog = at_900x600(qtbot, WelcomeDialog(services.settings, AppState()))
    assert clipped(dialog) == []
    dialog.steps.setCurrentIndex(1)
    assert clipped(dialog) == []


def test_settings_fit_on_every_page(qtbot, services):
    from crmcompanion.ui.settings_dialog import SettingsDialog

    dialog = at_900x600(qtbot, SettingsDialog(services.settings, AppState(), services=services))
    for row in range(dialog.page_list.count()):
        dialog.page_list.setCurrentRow(row)
        assert clipped(dialog) == [], dialog.pages[row].page.title


def test_draft_dialog_fits(qtbot, services, customer):
    from crmcompanion.ui.draft_dialog import DraftDialog

    dialog = at_900x600(qtbot, DraftDialog(services, AppState(), customer.id))
    assert clipped(dialog) == []
    assert dialog.editor.sent_button.isVisible()


def test_template_library_fits(qtbot, services):
    from crmcompanion.ui.template_library import TemplateLibraryDialog

    dialog = at_900x600(qtbot, TemplateLibraryDialog(services, AppState()))
    assert clipped(dialog) == []


def test_customer_editor_fits_with_its_buttons_in_view(qtbot, services, customer):
    from crmcompanion.ui.customer_editor import CustomerEditor

    editor = CustomerEditor(services.customers, services.clock.today(), customer)
    editor.resize(760, 780)  # its own size: more than the screen here
    at_900x600(qtbot, editor)
    assert clipped(editor) == []
    save = editor.save_button
    corner = save.mapTo(editor, save.rect().bottomRight())
    assert editor.rect().contains(corner)


def test_merge_dialog_fits(qtbot, services, customer):
    from crmcompanion.ui.merge_dialog import MergeDialog

    services.customers.create(CustomerDraft(
        first_name="Maximiliane", last_name="Schwarzenberg-Hohenlohe",
        emails=(EmailAddress("max@example.org"),)))
    dialog = at_900x600(qtbot, MergeDialog(services, AppState()))
    assert clipped(dialog) == []


def test_the_check_sees_a_clipped_child(qtbot):
    from PySide6.QtWidgets import QPushButton

    parent = QWidget()
    qtbot.addWidget(parent)
    parent.resize(200, 100)
    button = QPushButton("Done", parent)
    button.setGeometry(150, 10, 120, 30)  # 70 px past the right edge, as Today's Done was
    parent.show()
    qtbot.waitExposed(parent)
    assert len(clipped(parent)) == 1
