"""The main window: a sidebar of sections, one page per section, app-wide shortcuts.

Sections that a later feature fills show a friendly empty state until then. The window owns
the change bus wiring only through the views; it never refreshes a view itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from crmcompanion import APP_NAME
from crmcompanion.services.container import Services
from crmcompanion.ui import crash
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.reminder_list import BadgeDelegate, BadgeRole, badge_text
from crmcompanion.ui.resources import APP_ICON, icon_path
from crmcompanion.ui.today_view import TodayView
from crmcompanion.ui.widgets import EmptyState, PageHeader

if TYPE_CHECKING:  # imported where first needed, after the first paint (~5 ms of modules)
    from crmcompanion.ui.customers_view import CustomersView
    from crmcompanion.ui.draft_dialog import GreetingsHook
    from crmcompanion.ui.settings_dialog import SettingsDialog

logger = logging.getLogger(__name__)

TODAY, CUSTOMERS, FEEDBACK, INSIGHTS = range(4)
SECTIONS = ("Today", "Customers", "Feedback & ideas", "Insights")
SECTION_SYMBOLS = ("☀", "☺", "✎", "◔")


def app_icon() -> QIcon:
    path = icon_path(APP_ICON)
    return QIcon(str(path)) if path else QIcon()


class PlaceholderPage(QWidget):
    """A section a later feature will fill: its title and a friendly explanation."""

    def __init__(self, title: str, symbol: str, heading: str, text: str) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.addWidget(PageHeader(title))
        self.empty = EmptyState(symbol, heading, text)
        layout.addWidget(self.empty, 1)


class MainWindow(QMainWindow):
    # Once, right after the window's first paint pass: background work that would compete
    # with that paint for the interpreter (the reminder runner) starts from here.
    first_painted = Signal()
    customers_built = Signal(object)  # the Customers page, built on first use (see customers)

    def __init__(self, services: Services, bus: AppState | None = None) -> None:
        super().__init__()
        self.painted = False
        self.services = services
        self.bus = bus or AppState(self)
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.resize(1280, 780)
        self.setMinimumSize(900, 560)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.setCentralWidget(central)

        sidebar = QWidget()
        sidebar.setObjectName("sidebarPanel")
        sidebar.setFixedWidth(210)
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(10, 16, 10, 12)
        brand = QHBoxLayout()
        icon_label = QLabel()
        icon_label.setPixmap(app_icon().pixmap(QSize(26, 26)))
        brand.addWidget(icon_label)
        name = QLabel(APP_NAME)
        name.setObjectName("appName")
        brand.addWidget(name, 1)
        side.addLayout(brand)
        self.nav = QListWidget()
        self.nav.setObjectName("sidebar")
        self.nav.setStyleSheet("QListWidget#sidebar { border: none; padding: 0; }")
        for symbol, section in zip(SECTION_SYMBOLS, SECTIONS, strict=True):
            item = QListWidgetItem(f"{symbol}   {section}")
            item.setData(Qt.ItemDataRole.UserRole, section)
            self.nav.addItem(item)
        side.addWidget(self.nav, 1)
        self.settings_button = QPushButton("⚙  Settings")
        self.settings_button.setObjectName("link")
        self.settings_button.setToolTip("Settings (Ctrl+,)")
        self.settings_button.clicked.connect(self.open_settings)
        side.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(sidebar)

        self.pages = QStackedWidget()
        self.today = TodayView(services, self.bus)
        # The Customers page is built the first time it is needed (shown, or asked for by
        # `customers`): it is not the first page, and its model, filters and queries would
        # otherwise delay the first paint. Until then an empty stand-in holds its place.
        self._customers: CustomersView | None = None
        self._customers_slot = QWidget()
        self.feedback = PlaceholderPage(
            "Feedback & ideas", "✎", "No feedback collected yet",
            "Complaints, praise and ideas your customers share will be collected here, so "
            "you can follow up and tell them when an idea ships.",
        )
        self.insights = PlaceholderPage(
            "Insights", "◔", "Insights will appear here",
            "Once you record conversations and purchases, this page shows who is drifting "
            "away, who your best customers are and how your relationships are doing.",
        )
        for page in (self.today, self._customers_slot, self.feedback, self.insights):
            self.pages.addWidget(page)
        layout.addWidget(self.pages, 1)
        self.nav.currentRowChanged.connect(self._show_page)
        self.nav.setCurrentRow(TODAY)
        # The unseen-reminder count as a badge on Today (kept by the Today page's list).
        self.nav.setItemDelegate(BadgeDelegate(self.nav))
        self.today.reminders.count_changed.connect(self.set_today_badge)
        # The app's reminder glue decides what closing means (hide to the tray or quit):
        # it returns True to keep running with the window hidden.
        self.close_handler: Callable[[], bool] | None = None

        self.today.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.today.customer_requested.connect(self.open_customer)
        # "Draft greeting" and "Draft all for today": plugged in right after the first paint
        # (before the Today rows it enables arrive), or when first asked for.
        self._greetings: GreetingsHook | None = None
        self.first_painted.connect(self._plug_greetings)
        self.settings_dialog: SettingsDialog | None = None
        menu = self.menuBar().addMenu("&File")
        menu.addAction(
            self._add_action("New customer", QKeySequence.StandardKey.New, self.new_customer))
        menu.addAction(self._add_action("Find", QKeySequence.StandardKey.Find,
                                        self.find_customer))
        menu.addSeparator()
        # Where the database, backups and logs are: what a support question needs first.
        self.open_data_folder_action = QAction("Open data folder", self)
        self.open_data_folder_action.triggered.connect(self.open_data_folder)
        menu.addAction(self.open_data_folder_action)
        self.backups_action = QAction("Backups…", self)
        self.backups_action.triggered.connect(self.open_backups)
        menu.addAction(self.backups_action)
        self.team_database_action = QAction("Team database…", self)
        self.team_database_action.triggered.connect(self.open_team_database)
        menu.addAction(self.team_database_action)
        # Set by a restore from the Backups window: the app starts again once this run ends.
        self.restart_requested = False
        menu.addAction(self._add_action("Settings", QKeySequence("Ctrl+,"), self.open_settings))
        menu.addSeparator()
        menu.addAction(self._add_action("Quit", QKeySequence.StandardKey.Quit, self.close))
        self.statusBar().setSizeGripEnabled(False)

    def _add_action(
        self, text: str, key: QKeySequence | QKeySequence.StandardKey, slot: object
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcut(key if isinstance(key, QKeySequence) else QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    @property
    def customers(self) -> CustomersView:
        """The Customers page, built on first use in place of its stand-in."""
        if self._customers is None:
            from crmcompanion.ui.customers_view import CustomersView

            view = CustomersView(self.services, self.bus)
            view.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
            showing = self.pages.currentIndex()
            self.pages.insertWidget(CUSTOMERS, view)
            self.pages.removeWidget(self._customers_slot)
            self._customers_slot.deleteLater()
            self.pages.setCurrentIndex(showing)
            self._customers = view
            _ = self.greetings  # plugged in first (if not yet), so it hears of the page
            self.customers_built.emit(view)
        return self._customers

    @property
    def greetings(self) -> GreetingsHook:
        """The greetings feature's hook into this window, plugged in on first use."""
        if self._greetings is None:
            from crmcompanion.ui.draft_dialog import GreetingsHook

            self._greetings = GreetingsHook(self)
        return self._greetings

    def _plug_greetings(self) -> None:
        _ = self.greetings

    def _show_page(self, row: int) -> None:
        if row == CUSTOMERS:
            _ = self.customers  # build it before it is shown
        self.pages.setCurrentIndex(row)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self.painted:
            self.painted = True
            QTimer.singleShot(0, self.first_painted.emit)  # after the whole paint pass

    def show_section(self, section: int) -> None:
        self.nav.setCurrentRow(section)

    def set_today_badge(self, count: int) -> None:
        item = self.nav.item(TODAY)
        badge = badge_text(count)
        item.setData(BadgeRole, badge)
        item.setToolTip(f"{count} new reminder{'s' if count != 1 else ''}" if badge else "")

    def today_badge(self) -> str:
        return str(self.nav.item(TODAY).data(BadgeRole) or "")

    def show_reminders(self) -> None:
        """The tray's "Today's reminders": Today, with the reminder list focused."""
        self.show_section(TODAY)
        self.today.reminders.refresh()
        self.today.reminders.list.setFocus()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.close_handler is not None and self.close_handler():
            event.ignore()  # hidden to the tray; reminders keep running
            return
        super().closeEvent(event)

    def open_customer(self, customer_id: int) -> None:
        """Show one customer's page (from the Today view, a reminder, ...)."""
        self.show_section(CUSTOMERS)
        self.customers.select_customer(customer_id)
        self.customers.open_customer(customer_id)

    def new_customer(self) -> None:
        self.show_section(CUSTOMERS)
        self.customers.new_customer()

    def find_customer(self) -> None:
        self.show_section(CUSTOMERS)
        self.customers.focus_search()

    def open_data_folder(self) -> None:
        places = crash.places()
        if places is None or not crash.open_folder(places.data_folder):
            where = f" ({places.data_folder})" if places is not None else ""
            self.statusBar().showMessage(f"Could not open the data folder{where}.", 8000)

    def open_backups(self) -> QDialog:
        from crmcompanion.ui.backups import BackupsDialog

        dialog = BackupsDialog(self.services, self, restart=self.request_restart)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def open_team_database(self) -> QDialog:
        from crmcompanion.ui.team_database import TeamDatabaseDialog

        dialog = TeamDatabaseDialog(self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def request_restart(self) -> None:
        self.restart_requested = True
        QApplication.quit()

    def open_settings(self) -> SettingsDialog:
        from crmcompanion.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.services.settings, self.bus, self)
        dialog.finished.connect(dialog.deleteLater)
        self.settings_dialog = dialog
        dialog.open()
        return dialog
