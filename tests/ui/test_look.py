"""The look: every control type looks different disabled (in light and dark), the dark theme
follows the setting, every control of the windows of the first run and settings has an
accessible name, and no text size is fixed in pixels."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtGui import QAction, QColor, QImage
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTimeEdit,
    QWidget,
)

from crmcompanion.core.settings import APPEARANCE, WELCOME_COMPLETED
from crmcompanion.services.changes import Changed
from crmcompanion.ui import style
from crmcompanion.ui.widgets import CONTROL_TYPES


def _image(widget: QWidget) -> QImage:
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def _differing_pixels(a: QImage, b: QImage) -> int:
    assert a.size() == b.size()
    return sum(1 for y in range(a.height()) for x in range(a.width())
               if a.pixel(x, y) != b.pixel(x, y))


def _make(kind: str) -> QWidget:
    if kind == "button":
        return QPushButton("Save")
    if kind == "primary":
        button = QPushButton("Save")
        button.setObjectName("primary")
        return button
    if kind == "line edit":
        return QLineEdit("Ada Lovelace")
    if kind == "combo box":
        combo = QComboBox()
        combo.addItems(["Email", "SMS"])
        return combo
    if kind == "date field":
        return QDateEdit(QDate(2026, 12, 6))
    if kind == "time field":
        return QTimeEdit()
    if kind == "spin box":
        return QSpinBox()
    return QCheckBox("Confirm before deleting")


def _shown_image_widget(qtbot, widget: QWidget, enabled: bool = True) -> QWidget:
    qtbot.addWidget(widget)
    widget.resize(160, 34)
    widget.setEnabled(enabled)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _shown_image(qtbot, widget: QWidget, enabled: bool) -> QImage:
    return _image(_shown_image_widget(qtbot, widget, enabled))


KINDS = ("button", "primary", "line edit", "combo box", "date field", "time field", "spin box",
         "check box")


@pytest.mark.parametrize("appearance", ["light", "dark"])
@pytest.mark.parametrize("kind", KINDS)
def test_disabled_controls_look_different(qtbot, qapp, kind, appearance):
    style.apply_look(qapp, appearance)
    try:
        images = [_shown_image(qtbot, _make(kind), enabled) for enabled in (True, False)]
        changed = _differing_pixels(*images)
        # Not a few anti-aliased pixels: the state is visible at a glance.
        assert changed > 0.05 * images[0].width() * images[0].height(), (kind, changed)
    finally:
        style.apply_look(qapp, "light")


@pytest.mark.parametrize("appearance", ["light", "dark"])
def test_a_disabled_primary_button_looks_like_any_disabled_button(qtbot, qapp, appearance):
    """The accented button (Merge, Save, Export…) greyed out reads as disabled: grey like
    every other disabled button, not a paler accent that still looks pressable."""
    style.apply_look(qapp, appearance)
    try:
        plain, primary = _make("button"), _make("primary")
        primary.setDefault(True)  # as the dialogs set their main button
        images = [_shown_image(qtbot, button, enabled=False) for button in (plain, primary)]
        assert _differing_pixels(*images) == 0
    finally:
        style.apply_look(qapp, "light")


@pytest.mark.parametrize("appearance", ["light", "dark"])
def test_disabled_menu_items_look_different(qtbot, qapp, appearance):
    style.apply_look(qapp, appearance)
    try:
        menu = QMenu()
        qtbot.addWidget(menu)
        enabled, disabled = QAction("Log conversation…", menu), QAction("Log conversation…", menu)
        disabled.setEnabled(False)
        menu.addAction(enabled)
        menu.addAction(disabled)
        menu.popup(QPoint(0, 0))
        qtbot.waitExposed(menu)
        image = _image(menu)
        first, second = menu.actionGeometry(enabled), menu.actionGeometry(disabled)
        top = image.copy(first)
        bottom = image.copy(second.translated(0, 0)).scaled(top.size())
        assert _differing_pixels(top, bottom) > 20
        menu.close()
    finally:
        style.apply_look(qapp, "light")


def test_the_appearance_setting_switches_to_dark_and_back(qtbot, qapp, services, make_window):
    window = make_window()
    before = qapp.palette().window().color().lightness()
    changed = services.settings.update({APPEARANCE.key: "dark"})
    window.bus.publish(changed)
    assert style.current_theme() is style.DARK
    assert qapp.palette().window().color().lightness() < before
    # Another module's own light stylesheet is translated to the dark colours.
    widget = QWidget(window)
    widget.setStyleSheet("background: #ffffff; color: #1f2328;")
    widget.show()
    qtbot.waitUntil(lambda: "#ffffff" not in widget.styleSheet())
    window.bus.publish(services.settings.update({APPEARANCE.key: "light"}))
    assert style.current_theme() is style.LIGHT
    assert widget.styleSheet() == "background: #ffffff; color: #1f2328;"


def test_text_sizes_follow_the_system_font(qapp):
    sheet = style.stylesheet(style.LIGHT, base_points=10)
    assert not re.search(r"font-size:\s*\d+px", sheet)
    bigger = style.stylesheet(style.LIGHT, base_points=14)
    sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)pt", sheet)]
    bigger_sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)pt", bigger)]
    assert sizes and all(b > s for s, b in zip(sizes, bigger_sizes, strict=True))


def _unnamed(root: QWidget) -> list[str]:
    """Controls of `root`'s window without an accessible name. Qt's own inner parts (a spin
    box's line edit, "qt_*") and pop-up lists (their own windows) are named by Qt."""
    return [f"{type(w).__name__} {w.objectName()!r} {getattr(w, 'text', lambda: '')()!r}"
            for w in root.findChildren(QWidget)
            if isinstance(w, CONTROL_TYPES) and not w.accessibleName()
            and w.window() is root and not w.objectName().startswith("qt_")
            and not isinstance(w.parentWidget(), QComboBox)]


def test_every_control_of_the_first_run_and_settings_has_a_name(qtbot, services,
                                                               make_window):
    services.settings.update({WELCOME_COMPLETED.key: False})
    window = make_window()
    qtbot.waitUntil(lambda: window.welcome is not None and window.welcome.isVisible())
    assert _unnamed(window.welcome) == []
    window.welcome.reject()
    dialog = window.open_settings()
    qtbot.waitExposed(dialog)
    assert _unnamed(dialog) == []
    assert window.settings_button.accessibleName() == "Settings"
    assert window.nav.accessibleName() == "Sections"


def test_every_control_of_the_draft_dialog_has_a_name(qtbot, services):
    from crmcompanion.core.customer import CustomerDraft
    from crmcompanion.ui.bus import AppState
    from crmcompanion.ui.draft_dialog import DraftDialog

    ada = services.customers.create(CustomerDraft(first_name="Ada")).customer
    dialog = DraftDialog(services, AppState(), ada.id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert _unnamed(dialog) == []


def test_shortcuts_are_in_the_menus_and_tooltips(qtbot, make_window):
    window = make_window()
    keys = {action.text().replace("&", ""): action.shortcut().toString()
            for action in window.actions()}
    assert keys["Find customer"] == "Ctrl+F"
    assert keys["New customer"] == "Ctrl+N"
    assert keys["Log conversation…"] == "Ctrl+L"
    assert keys["Draft greeting…"] == "Ctrl+D"
    assert "(Ctrl+L)" in window.log_action.toolTip()
    assert "(Ctrl+,)" in window.settings_button.toolTip()
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "Customer", "View"]


def test_find_shortcut_focuses_the_search(qtbot, make_window):
    window = make_window()
    window.find_action.trigger()
    qtbot.waitUntil(lambda: window.customers.search.hasFocus())


def test_unused_changes_do_not_touch_the_look(qtbot, qapp, make_window):
    window = make_window()
    sheet = qapp.styleSheet()
    window.bus.publish(Changed(customer_list=True))
    assert qapp.styleSheet() == sheet


def test_dark_translation_keeps_selectors_and_white_text():
    sheet = ('QFrame#touchRow:hover { border-color: #b9c4d6; }\n'
             'QLabel#rowWhen[overdue="true"] { color: #c62828; }\n'
             'QPushButton#rowDone { background: #2f6fde; color: white; }')
    dark = style.dark_equivalent(sheet)
    assert 'QFrame#touchRow:hover {' in dark and 'QLabel#rowWhen[overdue="true"] {' in dark
    assert "#b9c4d6" not in dark and style.DARK.error in dark
    assert "color: white" in dark  # text on the accent stays white
    assert style.dark_equivalent("background: #ffffff;") == f"background: {style.DARK.surface};"


def test_merge_dialog_shows_the_both_column_at_900x600(qtbot, services):
    from PySide6.QtWidgets import QRadioButton, QScrollArea

    from crmcompanion.core.customer import CustomerDraft, EmailAddress
    from crmcompanion.ui.bus import AppState
    from crmcompanion.ui.merge_dialog import MergeDialog

    for address in ("anna.weber.long.address@example.com", "anna.weber@another.example.org"):
        services.customers.create(CustomerDraft(
            first_name="Anna", last_name="Weber", company="Weber Blumen und Gartenbau GmbH",
            emails=(EmailAddress(address),)))
    dialog = MergeDialog(services, AppState())
    qtbot.addWidget(dialog)
    dialog.resize(900, 600)
    dialog.show()
    qtbot.waitExposed(dialog)
    viewport = dialog.findChild(QScrollArea).viewport()
    both = [b for b in dialog.fields.findChildren(QRadioButton) if b.text() == "Both"]
    assert both
    for button in both:
        corner = button.mapTo(viewport, button.rect().bottomRight())
        assert viewport.rect().contains(corner), "the Both column is cut off"


def test_the_system_scheme_is_followed_when_appearance_is_system(qtbot, qapp, monkeypatch):
    """The offscreen platform cannot switch its scheme: the system's answer is stood in for
    and its change signal sent, as a desktop sends it when the user switches."""
    from PySide6.QtCore import Qt

    system = {"dark": False}
    monkeypatch.setattr(style, "system_prefers_dark", lambda: system["dark"])
    hints = qapp.styleHints()
    style.apply_look(qapp, "system")
    try:
        assert style.current_theme() is style.LIGHT
        system["dark"] = True
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        assert style.current_theme() is style.DARK
        assert qapp.palette().window().color().name() == style.DARK.background
        system["dark"] = False
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
        assert style.current_theme() is style.LIGHT
        style.apply_look(qapp, "light")  # a chosen look is kept whatever the system says
        system["dark"] = True
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        assert style.current_theme() is style.LIGHT
    finally:
        style.apply_look(qapp, "light")


def test_log_and_draft_keys_act_on_the_open_customer(qtbot, services, make_window):
    from PySide6.QtWidgets import QApplication

    from crmcompanion.core.customer import CustomerDraft
    from crmcompanion.ui.draft_dialog import DraftDialog
    from crmcompanion.ui.log_conversation import LogConversationDialog

    ada = services.customers.create(CustomerDraft(first_name="Ada")).customer
    window = make_window()
    window.open_customer(ada.id)
    activity = window.customers.detail.activity
    qtbot.waitUntil(lambda: activity.isVisible() and activity.customer_id == ada.id)
    window.log_action.trigger()
    assert isinstance(activity.dialog, LogConversationDialog)
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is activity.dialog)
    activity.dialog.reject()
    window.draft_action.trigger()
    draft = window.greetings.dialog
    assert isinstance(draft, DraftDialog) and draft.customer_id == ada.id
    draft.reject()


def test_log_key_without_a_customer_says_what_to_do(qtbot, make_window):
    window = make_window()
    assert window.log_conversation() is None
    assert "Choose a customer" in window.statusBar().currentMessage()


def test_log_and_draft_keys_act_on_the_today_row_the_keyboard_is_on(qtbot, services,
                                                                      make_window):
    from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
    from crmcompanion.ui.draft_dialog import DraftDialog
    from crmcompanion.ui.log_conversation import LogConversationDialog
    from tests.ui.conftest import NOW

    ada = services.customers.create(CustomerDraft(
        first_name="Ada", last_name="Lovelace",
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, NOW.month, NOW.day, 1986),),
    )).customer
    window = make_window()
    today = window.today
    qtbot.waitUntil(lambda: today.ready and today.row_index(ada.id) >= 0)
    today.list.setFocus()
    today.list.setCurrentIndex(today.list.model().index(today.row_index(ada.id), 0))
    qtbot.waitUntil(today.list.hasFocus)
    dialog = window.log_conversation()
    assert isinstance(dialog, LogConversationDialog)
    assert dialog.customer_id == ada.id
    dialog.reject()
    today.list.setFocus()
    qtbot.waitUntil(today.list.hasFocus)
    draft = window.draft_greeting()
    assert isinstance(draft, DraftDialog) and draft.customer_id == ada.id
    draft.reject()


def _unticked(kind: str) -> QWidget:
    if kind == "check box":
        return QCheckBox("Segment reasons")
    if kind == "radio button":
        return QRadioButton("Segment reasons")
    columns = QListWidget()  # as Export's column list
    item = QListWidgetItem("Segment reasons")
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
    item.setCheckState(Qt.CheckState.Unchecked)
    columns.addItem(item)
    return columns


def _edge_contrast(widget: QWidget) -> int:
    """How far the indicator's most distinct pixel stands from the background beside the
    text (0-255, in grey level): an unticked box must show its edge."""
    image = _image(widget)
    background = QColor(image.pixel(image.width() - 2, image.height() // 2))
    indicator = [QColor(image.pixel(x, y)) for x in range(0, 20) for y in range(image.height())]
    return max(abs(colour.lightness() - background.lightness()) for colour in indicator)


@pytest.mark.parametrize("appearance", ["light", "dark"])
@pytest.mark.parametrize("kind", ["check box", "radio button", "list item"])
def test_an_unticked_box_shows_its_edge(qtbot, qapp, kind, appearance):
    """Fusion draws the edge from the window colour made darker: on the dark theme an
    unticked check box, radio button or checkable list item (Export's columns, the merge
    choices) all but vanished. Each keeps an edge that stands out."""
    style.apply_look(qapp, appearance)
    try:
        box = _shown_image_widget(qtbot, _unticked(kind))
        assert _edge_contrast(box) >= 60, (kind, _edge_contrast(box))
    finally:
        style.apply_look(qapp, "light")


def test_a_list_items_box_is_whole(qtbot, qapp):
    """The box of a checkable list item (Export's columns, rows 14 px high) shows its top
    and bottom edges too: a 16 px box was cut to "[ ]"."""
    style.apply_look(qapp, "dark")
    try:
        columns = _shown_image_widget(qtbot, _unticked("list item"))
        row = columns.visualItemRect(columns.item(0))
        image = _image(columns.viewport())
        background = QColor(image.pixel(row.right() - 2, row.center().y())).lightness()

        def edge(x: int, y: int) -> bool:
            return abs(QColor(image.pixel(x, y)).lightness() - background) >= 40

        middle = row.center().y()
        sides = [x for x in range(row.left(), row.left() + 24) if edge(x, middle)]
        assert len(sides) >= 2, sides  # the left and right edges
        across = (sides[0] + sides[-1]) // 2
        rows_with_edge = [y for y in range(row.top(), row.bottom() + 1) if edge(across, y)]
        assert rows_with_edge and rows_with_edge[0] < middle < rows_with_edge[-1], rows_with_edge
    finally:
        style.apply_look(qapp, "light")
