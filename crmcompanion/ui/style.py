"""The app's look in one place: palette colours, the stylesheet and status colours.

Kept apart from the widgets so a later theme (dark mode) changes one module, and so tests can
build widgets without caring about looks.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from crmcompanion.core.customer import Status
from crmcompanion.ui.resources import icon_path

ACCENT = "#2f6fde"
ACCENT_DARK = "#2459b8"
TEXT = "#1f2328"
MUTED = "#667085"
BORDER = "#d8dde6"
SURFACE = "#ffffff"
BACKGROUND = "#f5f7fa"
SIDEBAR = "#eef1f6"
ERROR = "#c62828"

# Background and text colour of each status pill: readable on white, distinct without colour
# too (the pill always carries the word).
STATUS_COLOURS: dict[Status, tuple[str, str]] = {
    Status.LEAD: ("#fff4d6", "#8a5a00"),
    Status.ACTIVE: ("#dcf5e3", "#1d6b35"),
    Status.LOST: ("#eceff3", "#555e6b"),
}

STATUS_TITLES: dict[Status, str] = {
    Status.LEAD: "Lead",
    Status.ACTIVE: "Active",
    Status.LOST: "Lost",
}

STYLESHEET_TEMPLATE = """
QMainWindow, QDialog {{ background: {BACKGROUND}; }}
QWidget {{ color: {TEXT}; }}
QListWidget#sidebar {{
    background: {SIDEBAR}; border: none; border-right: 1px solid {BORDER};
    padding: 8px 6px; font-size: 14px; outline: 0;
}}
QListWidget#sidebar::item {{ padding: 9px 12px; border-radius: 6px; margin: 1px 0; }}
QListWidget#sidebar::item:selected {{ background: {ACCENT}; color: white; }}
QListWidget#sidebar::item:hover:!selected {{ background: #e1e6ef; }}
QWidget#sidebarPanel {{ background: {SIDEBAR}; border-right: 1px solid {BORDER}; }}
QLabel#appName {{ font-size: 15px; font-weight: 600; padding: 4px 4px 10px 4px; }}
QLabel#pageTitle {{ font-size: 22px; font-weight: 600; }}
QLabel#pageSubtitle {{ color: {MUTED}; }}
QLabel#emptyTitle {{ font-size: 18px; font-weight: 600; }}
QLabel#emptyText {{ color: {MUTED}; font-size: 13px; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#sectionLabel {{
    color: {MUTED}; font-size: 11px; font-weight: 600; letter-spacing: 0.5px;
    padding-top: 8px;
}}
QLabel#fieldError {{ color: {ERROR}; }}
QLabel#formBanner {{
    background: #fdecea; color: {ERROR}; border: 1px solid #f5c2bd; border-radius: 6px;
    padding: 8px;
}}
QLabel#detailName {{ font-size: 20px; font-weight: 600; }}
QFrame#card {{ background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 8px; }}
QFrame#undoBar {{ background: #263238; border-radius: 8px; }}
QFrame#undoBar QLabel {{ color: white; }}
QFrame#undoBar QPushButton {{
    background: transparent; color: #9cc3ff; border: none; font-weight: 600; padding: 4px 10px;
}}
QTableView {{
    background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 8px;
    gridline-color: transparent; selection-background-color: #dbe7fb; selection-color: {TEXT};
    alternate-background-color: #fafbfd;
}}
QTableView::item {{ padding: 0 6px; }}
QHeaderView::section {{
    background: {SURFACE}; color: {MUTED}; border: none; border-bottom: 1px solid {BORDER};
    padding: 6px 8px; font-weight: 600;
}}
QLineEdit, QComboBox, QSpinBox, QDateEdit, QPlainTextEdit {{
    background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 6px; padding: 4px 6px;
    min-height: 20px;
}}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QDateEdit:focus, QPlainTextEdit:focus {{
    border: 1px solid {ACCENT};
}}
QLineEdit[invalid="true"], QComboBox[invalid="true"], QSpinBox[invalid="true"],
QPlainTextEdit[invalid="true"] {{
    border: 1px solid {ERROR}; background: #fff6f5;
}}
QPushButton {{
    background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 6px; padding: 6px 14px;
}}
QPushButton:hover {{ background: #f0f3f8; }}
QPushButton#primary {{ background: {ACCENT}; color: white; border: 1px solid {ACCENT}; }}
QPushButton#primary:hover {{ background: {ACCENT_DARK}; }}
QPushButton#danger {{ color: {ERROR}; }}
QPushButton#link {{ border: none; background: transparent; color: {ACCENT}; padding: 2px 4px; }}
QPushButton#iconButton {{
    border: none; background: transparent; color: {MUTED}; padding: 2px 6px;
}}
QPushButton#iconButton:hover {{ color: {ERROR}; }}
QComboBox::drop-down, QDateEdit::drop-down {{
    border: none; width: 24px; subcontrol-origin: padding; subcontrol-position: center right;
}}
QComboBox::down-arrow, QDateEdit::down-arrow {{ image: url({CHEVRON}); width: 12px; height: 12px; }}
QComboBox QAbstractItemView {{
    background: {SURFACE}; border: 1px solid {BORDER}; selection-background-color: #dbe7fb;
    selection-color: {TEXT}; outline: 0;
}}
QScrollArea {{ border: none; background: transparent; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
"""


def stylesheet() -> str:
    chevron = icon_path("chevron-down.svg")
    return STYLESHEET_TEMPLATE.format(
        ACCENT=ACCENT, ACCENT_DARK=ACCENT_DARK, TEXT=TEXT, MUTED=MUTED, BORDER=BORDER,
        SURFACE=SURFACE, BACKGROUND=BACKGROUND, SIDEBAR=SIDEBAR, ERROR=ERROR,
        CHEVRON=chevron.as_posix() if chevron else "",
    )


def apply_look(app: QApplication) -> None:
    """Fusion with a light palette: identical on every platform and offscreen."""
    app.setStyle("Fusion")
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(BACKGROUND))
    palette.setColor(QPalette.ColorRole.Base, QColor(SURFACE))
    palette.setColor(QPalette.ColorRole.Text, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#98a2b3"))
    app.setPalette(palette)
    app.setStyleSheet(stylesheet())


def repolish(widget: object) -> None:
    """Re-apply the stylesheet after a dynamic property (e.g. `invalid`) changed."""
    style = widget.style()  # type: ignore[attr-defined]
    style.unpolish(widget)
    style.polish(widget)
