"""The app's look in one place: light and dark palettes, the stylesheet and status colours.

Kept apart from the widgets so the theme (light, dark, or the system's, followed as it
changes) is decided in one module, and so tests can build widgets without caring about looks.

Every interactive widget type gets a distinct disabled look here (buttons, menu items, date
and time fields, line edits, combo boxes, check boxes): without it a greyed-out action looked
exactly like one that works. Font sizes are relative to the system font (points scaled from
the application font), never fixed pixels, so the text follows the user's font size.

Some views still carry small stylesheets of their own written with the light colours; in dark
mode `DarkSheets` translates those colours (`dark_equivalent`) as each such widget is
polished, so they stay readable until they take their colours from here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, fields

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from crmcompanion.core.customer import Channel, Status
from crmcompanion.ui.resources import icon_path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Theme:
    """One colour scheme: every colour the stylesheet and the palette use."""

    name: str
    accent: str
    accent_dark: str
    accent_text: str  # text on an accent background
    text: str
    muted: str
    border: str
    surface: str
    background: str
    sidebar: str
    hover: str
    selection: str
    alternate: str
    error: str
    error_background: str
    error_border: str
    disabled_text: str
    disabled_background: str
    disabled_border: str
    # The edge of a check box or radio button: Fusion draws it from the window colour made
    # darker, which on the dark theme left an unticked box all but invisible.
    control_edge: str
    placeholder: str
    undo_bar: str
    link_on_dark: str


LIGHT = Theme(
    name="light", accent="#2f6fde", accent_dark="#2459b8", accent_text="#ffffff",
    text="#1f2328", muted="#667085", border="#d8dde6", surface="#ffffff",
    background="#f5f7fa", sidebar="#eef1f6", hover="#e1e6ef", selection="#dbe7fb",
    alternate="#fafbfd", error="#c62828", error_background="#fdecea", error_border="#f5c2bd",
    disabled_text="#a3aab6", disabled_background="#eef0f3", disabled_border="#e3e6eb",
    control_edge="#98a2b3", placeholder="#98a2b3",
    undo_bar="#263238", link_on_dark="#9cc3ff",
)
DARK = Theme(
    name="dark", accent="#5b8def", accent_dark="#3f73d6", accent_text="#ffffff",
    text="#e6e9ef", muted="#9aa4b2", border="#3a414d", surface="#23272f",
    background="#1a1d23", sidebar="#20242b", hover="#2e3440", selection="#2c4a7a",
    alternate="#262a33", error="#ff6b6b", error_background="#3d2326", error_border="#6e3338",
    disabled_text="#5d6573", disabled_background="#1e2127", disabled_border="#2b3039",
    control_edge="#6b7483", placeholder="#6b7483",
    undo_bar="#0f1115", link_on_dark="#9cc3ff",
)

# The light colours as names other modules import (their values never change; dark mode
# reaches those modules' stylesheets through `dark_equivalent`).
ACCENT = LIGHT.accent
ACCENT_DARK = LIGHT.accent_dark
TEXT = LIGHT.text
MUTED = LIGHT.muted
BORDER = LIGHT.border
SURFACE = LIGHT.surface
BACKGROUND = LIGHT.background
SIDEBAR = LIGHT.sidebar
ERROR = LIGHT.error

# Background and text colour of each status pill: readable on white, distinct without colour
# too (the pill always carries the word). Changed in place for dark mode (see apply_look).
LIGHT_STATUS_COLOURS: dict[Status, tuple[str, str]] = {
    Status.LEAD: ("#fff4d6", "#8a5a00"),
    Status.ACTIVE: ("#dcf5e3", "#1d6b35"),
    Status.LOST: ("#eceff3", "#555e6b"),
}
DARK_STATUS_COLOURS: dict[Status, tuple[str, str]] = {
    Status.LEAD: ("#4a3b12", "#ffd479"),
    Status.ACTIVE: ("#173d25", "#8fe0a9"),
    Status.LOST: ("#30353e", "#b8c0cc"),
}
STATUS_COLOURS: dict[Status, tuple[str, str]] = dict(LIGHT_STATUS_COLOURS)

STATUS_TITLES: dict[Status, str] = {
    Status.LEAD: "Lead",
    Status.ACTIVE: "Active",
    Status.LOST: "Lost",
}
# Here, beside the status titles, rather than in the customer editor: Today's rows and the
# timeline name channels too, and they are on screen before the editor's modules are loaded.
CHANNEL_TITLES: dict[Channel, str] = {
    Channel.EMAIL: "Email",
    Channel.PHONE: "Phone call",
    Channel.SMS: "Text message",
    Channel.IN_PERSON: "In person",
    Channel.LETTER: "Letter",
    Channel.OTHER: "Other",
}

# Light colours written into other modules' own stylesheets, and what each becomes in dark
# mode. Anything not listed stays as written.
_DARK_MAP: dict[str, str] = {
    "#ffffff": DARK.surface, "#fff": DARK.surface, "white": DARK.surface,
    "#1f2328": DARK.text, "#344054": "#c9d1dc", "#667085": DARK.muted,
    "#d8dde6": DARK.border, "#eef1f5": "#2b3039", "#e4e7ec": DARK.disabled_border,
    "#b9c4d6": "#56627a", "#f5f7fa": DARK.background, "#eef1f6": DARK.sidebar,
    "#dbe7fb": DARK.selection, "#e7ecf5": "#30384a", "#e6eefc": "#263a5e",
    "#2459b8": "#8fb4ff", "#2f6fde": DARK.accent, "#fdecea": DARK.error_background,
    "#c62828": DARK.error, "#f5c2bd": DARK.error_border, "#dcf5e3": "#173d25",
    "#1d6b35": "#8fe0a9", "#b7e4c4": "#2c5a3b", "#eceff3": "#30353e", "#555e6b": "#b8c0cc",
    "#fff4d6": "#4a3b12", "#8a5a00": "#ffd479", "#a0a8b5": DARK.disabled_text,
    "#98a2b3": DARK.placeholder, "#fff6f5": DARK.error_background,
    "#9aa4b2": "#6b7483",
    # Today's initials circles: the same hues, deep enough for light text.
    "#fde2c8": "#4a3523", "#d5f0e3": "#1f4434", "#ece0fb": "#3b2f55", "#fbe0e6": "#4d2a35",
    "#e2eef3": "#25404b",
}
_COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b|\bwhite\b")
# "color: white" on an accent button stays white: only backgrounds and borders turn dark.
_PROPERTY_RE = re.compile(r"(?P<prop>[\w-]+)\s*:\s*(?P<value>[^;{}]*)")
_BLOCK_RE = re.compile(r"\{([^{}]*)\}")


def dark_equivalent(sheet: str) -> str:
    """A stylesheet written with the light colours, with each one swapped for its dark twin
    (text colours that are white stay white: they sit on the accent)."""

    def swap_value(match: re.Match[str]) -> str:
        prop, value = match.group("prop"), match.group("value")

        def swap(colour: re.Match[str]) -> str:
            word = colour.group(0).lower()
            if word in ("white", "#ffffff", "#fff") and prop == "color":
                return colour.group(0)
            return _DARK_MAP.get(word, colour.group(0))

        return f"{prop}: {_COLOUR_RE.sub(swap, value)}"

    def declarations(text: str) -> str:
        return _PROPERTY_RE.sub(swap_value, text)

    if "{" not in sheet:  # a widget's bare declarations: "background: #fff; color: ..."
        return declarations(sheet)
    # Only inside the braces: a selector such as "QFrame#row:hover" is no declaration.
    return _BLOCK_RE.sub(lambda block: "{" + declarations(block.group(1)) + "}", sheet)


STYLESHEET_TEMPLATE = """
QMainWindow, QDialog {{ background: {background}; }}
QWidget {{ color: {text}; }}
QWidget:disabled {{ color: {disabled_text}; }}
QToolTip {{
    background: {surface}; color: {text}; border: 1px solid {border}; padding: 4px;
}}
QListWidget#sidebar {{
    background: {sidebar}; border: none; border-right: 1px solid {border};
    padding: 8px 6px; font-size: {size_nav}pt; outline: 0;
}}
QListWidget#sidebar::item {{ padding: 9px 12px; border-radius: 6px; margin: 1px 0; }}
QListWidget#sidebar::item:selected {{ background: {accent}; color: {accent_text}; }}
QListWidget#sidebar::item:hover:!selected {{ background: {hover}; }}
QListWidget#sidebar::item:disabled {{ color: {disabled_text}; }}
QWidget#sidebarPanel {{ background: {sidebar}; border-right: 1px solid {border}; }}
QLabel#appName {{ font-size: {size_brand}pt; font-weight: 600; padding: 4px 4px 10px 4px; }}
QLabel#pageTitle {{ font-size: {size_title}pt; font-weight: 600; }}
QLabel#pageSubtitle {{ color: {muted}; }}
QLabel#emptyTitle {{ font-size: {size_empty}pt; font-weight: 600; }}
QLabel#emptyText {{ color: {muted}; }}
QLabel#muted {{ color: {muted}; }}
QLabel#sectionLabel {{
    color: {muted}; font-size: {size_small}pt; font-weight: 600; letter-spacing: 0.5px;
    padding-top: 8px;
}}
QLabel#fieldError {{ color: {error}; }}
QLabel#formBanner {{
    background: {error_background}; color: {error}; border: 1px solid {error_border};
    border-radius: 6px; padding: 8px;
}}
QLabel#detailName {{ font-size: {size_name}pt; font-weight: 600; }}
QFrame#card {{ background: {surface}; border: 1px solid {border}; border-radius: 8px; }}
QFrame#undoBar {{ background: {undo_bar}; border-radius: 8px; }}
QFrame#undoBar QLabel {{ color: white; }}
QFrame#undoBar QPushButton {{
    background: transparent; color: {link_on_dark}; border: none; font-weight: 600;
    padding: 4px 10px;
}}
QTableView {{
    background: {surface}; border: 1px solid {border}; border-radius: 8px;
    gridline-color: transparent; selection-background-color: {selection};
    selection-color: {text}; alternate-background-color: {alternate};
}}
QTableView::item {{ padding: 0 6px; }}
QHeaderView::section {{
    background: {surface}; color: {muted}; border: none; border-bottom: 1px solid {border};
    padding: 6px 8px; font-weight: 600;
}}
QListWidget, QListView, QTreeView, QTextBrowser {{
    background: {surface}; color: {text}; border: 1px solid {border};
    selection-background-color: {selection}; selection-color: {text};
}}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QDateEdit, QTimeEdit, QDateTimeEdit,
QPlainTextEdit, QTextEdit {{
    background: {surface}; color: {text}; border: 1px solid {border}; border-radius: 6px;
    padding: 4px 6px; min-height: 20px; selection-background-color: {accent};
    selection-color: {accent_text};
}}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QDoubleSpinBox:focus, QDateEdit:focus,
QTimeEdit:focus, QDateTimeEdit:focus, QPlainTextEdit:focus, QTextEdit:focus {{
    border: 1px solid {accent};
}}
QLineEdit:disabled, QComboBox:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled,
QDateEdit:disabled, QTimeEdit:disabled, QDateTimeEdit:disabled, QPlainTextEdit:disabled,
QTextEdit:disabled {{
    background: {disabled_background}; color: {disabled_text};
    border: 1px dashed {disabled_border};
}}
QLineEdit[readOnly="true"], QPlainTextEdit[readOnly="true"] {{ background: {alternate}; }}
QLineEdit[invalid="true"], QComboBox[invalid="true"], QSpinBox[invalid="true"],
QDoubleSpinBox[invalid="true"], QPlainTextEdit[invalid="true"] {{
    border: 1px solid {error}; background: {error_background};
}}
QPushButton {{
    background: {surface}; color: {text}; border: 1px solid {border}; border-radius: 6px;
    padding: 6px 14px;
}}
QPushButton:hover {{ background: {hover}; }}
QPushButton:focus {{ border: 1px solid {accent}; }}
QPushButton:disabled {{
    background: {disabled_background}; color: {disabled_text};
    border: 1px dashed {disabled_border};
}}
QPushButton#primary {{
    background: {accent}; color: {accent_text}; border: 1px solid {accent};
}}
QPushButton#primary:hover {{ background: {accent_dark}; }}
QPushButton#primary:disabled {{
    background: {disabled_background}; color: {disabled_text};
    border: 1px dashed {disabled_border};
}}
QPushButton#danger {{ color: {error}; }}
QPushButton#danger:disabled {{ color: {disabled_text}; }}
QPushButton#link {{
    border: none; background: transparent; color: {accent}; padding: 2px 4px;
}}
QPushButton#link:disabled {{ color: {disabled_text}; }}
QPushButton#iconButton {{
    border: none; background: transparent; color: {muted}; padding: 2px 6px;
}}
QPushButton#iconButton:hover {{ color: {error}; }}
QPushButton#iconButton:disabled {{ color: {disabled_text}; }}
QCheckBox:disabled, QRadioButton:disabled, QLabel:disabled {{ color: {disabled_text}; }}
/* 12 px and the edge: the 14 px Fusion lays out for, so a list item's box is not cut. */
QCheckBox::indicator, QRadioButton::indicator, QListView::indicator {{
    width: 12px; height: 12px; border: 1px solid {control_edge}; background: {surface};
}}
QCheckBox::indicator, QListView::indicator {{ border-radius: 3px; }}
QRadioButton::indicator {{ border-radius: 7px; }}
QCheckBox::indicator:hover, QRadioButton::indicator:hover {{ border: 1px solid {accent}; }}
QCheckBox::indicator:checked, QListView::indicator:checked {{
    background: {accent}; border: 1px solid {accent}; image: url({check});
}}
QRadioButton::indicator:checked {{
    border: 1px solid {accent};
    background: qradialgradient(cx: 0.5, cy: 0.5, radius: 0.5, fx: 0.5, fy: 0.5,
        stop: 0 {accent}, stop: 0.45 {accent}, stop: 0.55 {surface}, stop: 1 {surface});
}}
QCheckBox::indicator:disabled, QRadioButton::indicator:disabled,
QListView::indicator:disabled {{
    background: {disabled_background}; border: 1px dashed {disabled_text};
}}
QCheckBox::indicator:checked:disabled, QListView::indicator:checked:disabled {{
    image: url({check_disabled}); }}
QRadioButton::indicator:checked:disabled {{
    background: qradialgradient(cx: 0.5, cy: 0.5, radius: 0.5, fx: 0.5, fy: 0.5,
        stop: 0 {disabled_text}, stop: 0.45 {disabled_text}, stop: 0.55 {disabled_background},
        stop: 1 {disabled_background});
}}
QComboBox::drop-down, QDateEdit::drop-down, QTimeEdit::drop-down, QDateTimeEdit::drop-down {{
    border: none; width: 24px; subcontrol-origin: padding; subcontrol-position: center right;
}}
QComboBox::down-arrow, QDateEdit::down-arrow, QDateTimeEdit::down-arrow {{
    image: url({chevron}); width: 12px; height: 12px;
}}
QComboBox::down-arrow:disabled, QDateEdit::down-arrow:disabled,
QDateTimeEdit::down-arrow:disabled {{
    image: url({chevron_disabled});
}}
QAbstractSpinBox {{ padding-right: 20px; }}
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{
    subcontrol-origin: border; width: 18px; border: none; background: transparent;
}}
QAbstractSpinBox::up-button {{ subcontrol-position: top right; }}
QAbstractSpinBox::down-button {{ subcontrol-position: bottom right; }}
QAbstractSpinBox::up-arrow {{ image: url({chevron_up}); width: 10px; height: 10px; }}
QAbstractSpinBox::down-arrow {{ image: url({chevron}); width: 10px; height: 10px; }}
QAbstractSpinBox::up-arrow:disabled, QAbstractSpinBox::up-arrow:off {{
    image: url({chevron_up_disabled});
}}
QAbstractSpinBox::down-arrow:disabled, QAbstractSpinBox::down-arrow:off {{
    image: url({chevron_disabled});
}}
QComboBox QAbstractItemView {{
    background: {surface}; color: {text}; border: 1px solid {border};
    selection-background-color: {selection}; selection-color: {text}; outline: 0;
}}
QMenuBar {{ background: {background}; color: {text}; }}
QMenuBar::item:selected {{ background: {hover}; }}
QMenu {{ background: {surface}; color: {text}; border: 1px solid {border}; padding: 4px; }}
QMenu::item {{ padding: 5px 28px 5px 22px; border-radius: 4px; }}
QMenu::item:selected {{ background: {selection}; color: {text}; }}
QMenu::item:disabled {{ color: {disabled_text}; background: transparent; }}
QMenu::separator {{ height: 1px; background: {border}; margin: 4px 8px; }}
QStatusBar {{ background: {background}; color: {muted}; }}
QScrollArea {{ border: none; background: transparent; }}
QScrollBar:vertical, QScrollBar:horizontal {{
    background: {hover}; border: none; border-radius: 5px; margin: 0;
}}
QScrollBar:vertical {{ width: 10px; }}
QScrollBar:horizontal {{ height: 10px; }}
QScrollBar::handle:vertical, QScrollBar::handle:horizontal {{
    background: {disabled_text}; border: none; border-radius: 4px; margin: 1px;
}}
QScrollBar::handle:vertical {{ min-height: 32px; }}
QScrollBar::handle:horizontal {{ min-width: 32px; }}
QScrollBar::handle:hover, QScrollBar::handle:pressed {{ background: {muted}; }}
QScrollBar::add-line, QScrollBar::sub-line {{
    border: none; background: none; width: 0; height: 0;
}}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
QTabBar::tab:disabled {{ color: {disabled_text}; }}
"""


# Relative font sizes: multiples of the system font's point size.
FONT_SCALES: dict[str, float] = {
    "size_nav": 1.05, "size_brand": 1.12, "size_title": 1.6, "size_empty": 1.3,
    "size_small": 0.85, "size_name": 1.45,
}


def stylesheet(theme: Theme = LIGHT, base_points: float | None = None) -> str:
    """The app's stylesheet in `theme`, with sizes relative to `base_points` (the system
    font's point size, read from the application when not given)."""
    if base_points is None:
        font = QGuiApplication.font()
        base_points = font.pointSizeF() if font.pointSizeF() > 0 else 10.0
    values: dict[str, object] = {f.name: getattr(theme, f.name) for f in fields(theme)}
    values.update({name: round(base_points * scale, 1) for name, scale in FONT_SCALES.items()})
    shade = "-light" if theme is DARK else ""
    for key, file in (("chevron", f"chevron-down{shade}"), ("chevron_up", f"chevron-up{shade}"),
                      ("chevron_disabled", "chevron-down-disabled"),
                      ("chevron_up_disabled", "chevron-up-disabled"),
                      ("check", "check-white"), ("check_disabled", "check-disabled")):
        path = icon_path(f"{file}.svg")
        values[key] = path.as_posix() if path else ""
    return STYLESHEET_TEMPLATE.format(**values)


def system_prefers_dark() -> bool:
    """True when the operating system asks for dark colours (Qt 6.5+ style hints)."""
    hints = QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark


def resolve_theme(appearance: str) -> Theme:
    """"light", "dark", or "system" (anything else) read from the operating system."""
    if appearance == "dark":
        return DARK
    if appearance == "light":
        return LIGHT
    return DARK if system_prefers_dark() else LIGHT


def _palette(theme: Theme) -> QPalette:
    palette = QPalette()
    role = QPalette.ColorRole
    for name, colour in (
        (role.Window, theme.background), (role.Base, theme.surface),
        (role.AlternateBase, theme.alternate), (role.Text, theme.text),
        (role.WindowText, theme.text), (role.Button, theme.surface),
        (role.ButtonText, theme.text), (role.Highlight, theme.accent),
        (role.HighlightedText, theme.accent_text), (role.PlaceholderText, theme.placeholder),
        (role.ToolTipBase, theme.surface), (role.ToolTipText, theme.text),
        (role.Link, theme.accent), (role.Mid, theme.border), (role.Dark, theme.border),
        (role.Light, theme.surface), (role.Midlight, theme.hover),
    ):
        palette.setColor(name, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for name in (role.Text, role.WindowText, role.ButtonText):
        palette.setColor(disabled, name, QColor(theme.disabled_text))
    palette.setColor(disabled, role.Base, QColor(theme.disabled_background))
    palette.setColor(disabled, role.Button, QColor(theme.disabled_background))
    return palette


class DarkSheets(QObject):
    """In dark mode, gives each widget that carries its own (light) stylesheet the dark
    colours, once, when Qt polishes it. Installed only while the dark theme is on."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Polish and isinstance(watched, QWidget):
            translate_widget(watched)
        return False


_LIGHT_SHEET = "crmLightSheet"


def translate_widget(widget: QWidget) -> None:
    """Swap `widget`'s own stylesheet to the current theme's colours (kept as written in a
    property, so switching back to light restores it)."""
    sheet = widget.styleSheet()
    original = widget.property(_LIGHT_SHEET)
    if not sheet and original is None:
        return
    if original is None:
        original = sheet
        widget.setProperty(_LIGHT_SHEET, original)
    wanted = dark_equivalent(original) if current_theme() is DARK else original
    if wanted != sheet:
        widget.setStyleSheet(wanted)


_state: dict[str, object] = {"theme": LIGHT, "appearance": "system", "filter": None}


def current_theme() -> Theme:
    return _state["theme"]  # type: ignore[return-value]


def themed(colour: str) -> QColor:
    """A colour written in its light form (as the light stylesheets have it), in the current
    theme: what code that paints by hand uses, so dark mode reaches painted rows too."""
    if current_theme() is DARK:
        colour = _DARK_MAP.get(colour.lower(), colour)
    return QColor(colour)


def apply_look(app: QApplication, appearance: str = "system") -> Theme:
    """Fusion with the light or dark palette and stylesheet: identical on every platform and
    offscreen. "system" follows the operating system now and whenever it changes."""
    # setStyle re-polishes every widget (~70 ms with the window built): once per app. (Under
    # a stylesheet, app.style() is Qt's stylesheet proxy, whose name says nothing.)
    if not app.property("crmFusion"):
        app.setStyle("Fusion")
        app.setProperty("crmFusion", True)
    _state["appearance"] = appearance
    theme = resolve_theme(appearance)
    changed = theme is not _state["theme"] or not app.styleSheet()
    _state["theme"] = theme
    STATUS_COLOURS.clear()
    STATUS_COLOURS.update(DARK_STATUS_COLOURS if theme is DARK else LIGHT_STATUS_COLOURS)
    if changed:
        app.setPalette(_palette(theme))
        app.setStyleSheet(stylesheet(theme))
        for widget in app.allWidgets():
            translate_widget(widget)
    sheets = _state["filter"]
    if theme is DARK and sheets is None:
        sheets = DarkSheets(app)
        app.installEventFilter(sheets)
        _state["filter"] = sheets
    elif theme is not DARK and isinstance(sheets, DarkSheets):
        app.removeEventFilter(sheets)
        sheets.deleteLater()
        _state["filter"] = None
    _follow_system(app)
    logger.info("Look: %s (appearance setting %s)", theme.name, appearance)
    return theme


def _follow_system(app: QApplication) -> None:
    """Re-apply the look when the operating system switches between light and dark."""
    if app.property("crmFollowsScheme"):
        return
    hints = QGuiApplication.styleHints()
    if hints is None:
        return
    hints.colorSchemeChanged.connect(
        lambda _scheme: apply_look(app, str(_state["appearance"]))
        if _state["appearance"] == "system" else None
    )
    app.setProperty("crmFollowsScheme", True)


def repolish(widget: object) -> None:
    """Re-apply the stylesheet after a dynamic property (e.g. `invalid`) changed."""
    style = widget.style()  # type: ignore[attr-defined]
    style.unpolish(widget)
    style.polish(widget)
