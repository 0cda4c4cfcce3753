"""The main window: a sidebar of sections, one page per section, menus and app-wide shortcuts.

Sections that a later feature fills show a friendly empty state until then. The window owns
the change bus wiring only through the views; it never refreshes a view itself.

It also decides three things about the whole app: the look (light, dark or the system's, from
the Appearance setting, applied again when that setting changes), the keyboard (Find Ctrl+F,
New customer Ctrl+N, Log conversation Ctrl+L, Draft greeting Ctrl+D, the sections Ctrl+1..4,
all in the menus with their keys and in the tool tips), and the first start (the welcome in
`ui/welcome.py`, shown after the first paint when the database has no customers yet).
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
from crmcompanion.core.settings import APPEARANCE
from crmcompanion.services.changes import Changed
from crmcompanion.services.container import Services
from crmcompanion.ui import crash
from crmcompanion.ui.badge import BadgeDelegate, BadgeRole, badge_text
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.icons import ICON_SIZE, icon
from crmcompanion.ui.resources import APP_ICON, icon_path
from crmcompanion.ui.style import apply_look, current_theme
from crmcompanion.ui.today_view import TodayView
from crmcompanion.ui.widgets import EmptyState, PageHeader

if TYPE_CHECKING:  # imported where first needed, after the first paint (~5 ms of modules)
    from crmcompanion.services.today_support import AgendaItem
    from crmcompanion.ui.customers_view import CustomersView
    from crmcompanion.ui.draft_dialog import GreetingsHook
    from crmcompanion.ui.feedback_page import FeedbackPage
    from crmcompanion.ui.insights import InsightsView
    from crmcompanion.ui.settings_dialog import SettingsDialog
    from crmcompanion.ui.welcome import WelcomeDialog

logger = logging.getLogger(__name__)

TODAY, CUSTOMERS, FEEDBACK, INSIGHTS = range(4)
SECTIONS = ("Today", "Customers", "Feedback & ideas", "Insights")
SECTION_SYMBOLS = ("☀", "☺", "✎", "◔")  # what EmptyState pages pass; ui/icons maps them
SECTION_ICONS = ("sun", "users", "message-square-heart", "chart-pie")

# The app-wide keys, one place: the menus show them and the tool tips repeat them. Strings
# (QKeySequence objects need the application to exist); Ctrl is Cmd on macOS.
FIND_KEY = "Ctrl+F"
NEW_CUSTOMER_KEY = "Ctrl+N"
LOG_KEY = "Ctrl+L"
DRAFT_KEY = "Ctrl+D"
SETTINGS_KEY = "Ctrl+,"


def key_text(key: QKeySequence | str) -> str:
    """A key as this platform writes it ("Ctrl+F", "⌘F")."""
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)


def with_key(text: str, key: QKeySequence | str) -> str:
    """A tool tip that names its shortcut: "Find a customer (Ctrl+F)"."""
    return f"{text} ({key_text(key)})"


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
        # Its usual size, or the screen's available area on a smaller screen (a 1366x768
        # laptop has less than 780 px of height under its panels).
        screen = QApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else None
        self.resize(min(1280, area.width()) if area else 1280,
                    min(780, area.height()) if area else 780)
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
        self.nav.setAccessibleName("Sections")
        self.nav.setIconSize(ICON_SIZE)
        for index, section in enumerate(SECTIONS):
            item = QListWidgetItem(section)
            item.setData(Qt.ItemDataRole.UserRole, section)
            item.setToolTip(with_key(section, QKeySequence(f"Ctrl+{index + 1}")))
            self.nav.addItem(item)
        side.addWidget(self.nav, 1)
        self.settings_button = QPushButton("Settings")
        self.settings_button.setObjectName("link")
        self.settings_button.setIconSize(ICON_SIZE)
        self.settings_button.setToolTip(with_key("Settings", SETTINGS_KEY))
        self.settings_button.setAccessibleName("Settings")
        self.settings_button.clicked.connect(self.open_settings)
        side.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(sidebar)

        self.pages = QStackedWidget()
        self.today = TodayView(services, self.bus)
        self.today.setAccessibleName("Today")
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
        # Insights (issue 16) is built the first time it is shown, like Customers: its
        # charts and queries are no part of the first paint. This stand-in holds its place.
        self.insights = QWidget()
        self._insights: InsightsView | None = None
        self._feedback_page: FeedbackPage | None = None  # built when first shown
        for page in (self.today, self._customers_slot, self.feedback, self.insights):
            self.pages.addWidget(page)
        layout.addWidget(self.pages, 1)
        self.nav.currentRowChanged.connect(self._show_page)
        self.nav.setCurrentRow(TODAY)
        # The unseen-reminder count as a badge on Today (kept by the Today page's list, which
        # is built once its rows are shown: the page relays the count).
        self.nav.setItemDelegate(BadgeDelegate(self.nav))
        self.today.reminder_count_changed.connect(self.set_today_badge)
        # The app's reminder glue decides what closing means (hide to the tray or quit):
        # it returns True to keep running with the window hidden.
        self.close_handler: Callable[[], bool] | None = None

        self.today.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.today.customer_requested.connect(self.open_customer)
        # The empty Today of a new database leads to the ways of starting.
        self.today.add_customer_requested.connect(self.new_customer)
        self.today.import_requested.connect(self.import_contacts)
        self.today.samples_requested.connect(self.add_sample_customers)
        # "Draft greeting" and "Draft all for today": plugged in once Today's rows are on
        # screen, or when first asked for. Its modules and its dialog (~10% of the CPU time
        # to Today's rows, issue 13) are no part of those rows; plugged before them, it
        # competed with Today's read for the interpreter. The rows still offer "Draft" from
        # the start (no Log -> Draft flip as the hook arrives): a Draft clicked before the
        # hook is plugged plugs it and drafts.
        self._greetings: GreetingsHook | None = None
        self.today.enable_drafts(True)
        self.today.draft_requested.connect(self._draft_before_hook)
        self.today.rows_shown.connect(self._plug_greetings)
        # Today's "moved to at risk this week" (issue 16): plugged in once Today's rows are
        # on screen (its modules are no part of them), computed a few seconds later off the
        # GUI thread.
        self.moved_to_at_risk = None
        self.today.rows_shown.connect(self._plug_insights_hook)
        self.settings_dialog: SettingsDialog | None = None
        self.welcome: WelcomeDialog | None = None
        self._build_menus()
        # Set by a restore from the Backups window: the app starts again once this run ends.
        self.restart_requested = False
        self.statusBar().setSizeGripEnabled(False)
        # The stored look (light, dark, system) before the first paint: no flash of the
        # other one. One small settings read.
        self.apply_appearance(str(services.settings.get(APPEARANCE)))
        self.bus.changed.connect(self._on_changed)
        self.first_painted.connect(self.maybe_welcome)

    # --- menus and keys ---------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.new_customer_action = self._add_action(
            "&New customer", NEW_CUSTOMER_KEY, self.new_customer, "user-plus")
        file_menu.addAction(self.new_customer_action)
        self.import_action = self._add_action(
            "&Import contacts…", None, self.import_contacts, "upload")
        file_menu.addAction(self.import_action)
        file_menu.addSeparator()
        # Where the database, backups and logs are: what a support question needs first.
        self.open_data_folder_action = self._add_action(
            "Open &data folder", None, self.open_data_folder, "folder-open")
        file_menu.addAction(self.open_data_folder_action)
        self.backups_action = self._add_action(
            "&Backups…", None, self.open_backups, "database-backup")
        file_menu.addAction(self.backups_action)
        self.team_database_action = self._add_action(
            "&Team database…", None, self.open_team_database, "users")
        file_menu.addAction(self.team_database_action)
        self.settings_action = self._add_action(
            "&Settings…", SETTINGS_KEY, self.open_settings, "settings")
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        self.quit_action = self._add_action(
            "&Quit", QKeySequence(QKeySequence.StandardKey.Quit), self.close, "log-out")
        file_menu.addAction(self.quit_action)

        customer_menu = bar.addMenu("&Customer")
        self.find_action = self._add_action("&Find customer", FIND_KEY, self.find_customer,
                                            "search")
        customer_menu.addAction(self.find_action)
        customer_menu.addAction(self.new_customer_action)
        customer_menu.addSeparator()
        self.log_action = self._add_action("&Log conversation…", LOG_KEY,
                                           self.log_conversation, "notebook-pen")
        customer_menu.addAction(self.log_action)
        self.draft_action = self._add_action("&Draft greeting…", DRAFT_KEY, self.draft_greeting,
                                             "mail")
        customer_menu.addAction(self.draft_action)

        view_menu = bar.addMenu("&View")
        self.section_actions: list[QAction] = []
        for index, section in enumerate(SECTIONS):
            action = self._add_action(
                section, QKeySequence(f"Ctrl+{index + 1}"),
                lambda _checked=False, i=index: self.show_section(i), SECTION_ICONS[index])
            view_menu.addAction(action)
            self.section_actions.append(action)
        for action in self.actions():
            shortcut = action.shortcut()
            plain_text = action.text().replace("&", "").rstrip("…")
            action.setToolTip(with_key(plain_text, shortcut) if not shortcut.isEmpty()
                              else plain_text)
            action.setStatusTip(action.toolTip())

    def _add_action(
        self, text: str, key: QKeySequence | str | None, slot: Callable[..., object],
        icon_name: str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if key is not None:
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if icon_name:
            action.setData(icon_name)  # re-coloured by apply_appearance
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    # --- look -------------------------------------------------------------------------------
    def apply_appearance(self, appearance: str) -> None:
        """Light, dark or the system's colours for the whole app, and icons to match."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_look(app, appearance)
        self._paint_icons()

    def _paint_icons(self) -> None:
        theme = current_theme()
        for row, name in enumerate(SECTION_ICONS):
            self.nav.item(row).setIcon(icon(name))
        self.settings_button.setIcon(icon("settings", theme.accent))
        for action in self.actions():
            name = action.data()
            if isinstance(name, str) and name:
                action.setIcon(icon(name))
        greetings = self._greetings
        if greetings is not None and hasattr(greetings, "batch_button"):
            greetings.batch_button.setIcon(icon("mail"))
        if self._customers is not None:
            self._decorate_customers(self._customers)

    def _decorate_customers(self, view: CustomersView) -> None:
        """The Customers page's main buttons get their icons and the keys in their tips."""
        for attribute, name in (("add_button", "user-plus"), ("import_button", "upload"),
                                ("export_button", "file-down"),
                                ("more_button", "more-horizontal")):
            button = getattr(view, attribute, None)
            if isinstance(button, QPushButton):  # white on the accent of a primary button
                primary = button.objectName() == "primary"
                button.setIcon(icon(name, current_theme().accent_text if primary else None))
        search = getattr(view, "search", None)
        if isinstance(search, QWidget) and not search.toolTip():
            search.setToolTip(with_key("Find a customer", FIND_KEY))

    def _on_changed(self, changed: Changed) -> None:
        if APPEARANCE.key in changed.settings:
            self.apply_appearance(str(self.services.settings.get(APPEARANCE)))

    # --- first start -------------------------------------------------------------------------
    def maybe_welcome(self) -> WelcomeDialog | None:
        """The welcome, on a first start only (no customers, never completed)."""
        if self.welcome is not None or not self.services.settings.welcome_needed():
            return None
        from crmcompanion.ui.welcome import WelcomeDialog

        dialog = WelcomeDialog(self.services.settings, self.bus, self)
        dialog.chosen.connect(self.start_with)
        self.welcome = dialog
        dialog.open()
        return dialog

    def start_with(self, choice: str) -> None:
        """Act on the welcome's last step: import, sample customers, or an empty start."""
        from crmcompanion.ui.welcome import IMPORT, SAMPLE

        if choice == SAMPLE:
            self.customers.add_sample_customers()
            self.show_section(TODAY)
        elif choice == IMPORT:
            self.import_contacts()
        else:
            self.show_section(TODAY)

    @property
    def customers(self) -> CustomersView:
        """The Customers page, built on first use in place of its stand-in."""
        if self._customers is None:
            from crmcompanion.ui.customers_view import CustomersView

            view = CustomersView(self.services, self.bus)
            self._swap_in(CUSTOMERS, self._customers_slot, view)
            self._customers = view
            self._decorate_customers(view)
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

    @property
    def feedback_page(self) -> FeedbackPage:
        """The "Feedback & ideas" page, built on first use in place of its placeholder."""
        if self._feedback_page is None:
            from crmcompanion.ui.feedback_page import FeedbackPage

            page = FeedbackPage(self.services, self.bus)
            self._swap_in(FEEDBACK, self.feedback, page)
            self._feedback_page = page
        return self._feedback_page

    def _swap_in(self, index: int, stand_in: QWidget, page: QWidget) -> None:
        """Put a page built on first use in its stand-in's place; its messages go to the
        status bar."""
        page.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        showing = self.pages.currentIndex()
        self.pages.insertWidget(index, page)
        self.pages.removeWidget(stand_in)
        stand_in.deleteLater()
        self.pages.setCurrentIndex(showing)

    INSIGHTS_SECTION = INSIGHTS

    def _plug_insights_hook(self) -> None:
        from crmcompanion.ui.insights import plug_today_hook

        if self.moved_to_at_risk is None:
            self.moved_to_at_risk = plug_today_hook(self)

    def _draft_before_hook(self, touchpoint: object) -> None:
        """A Today row's Draft clicked before the greetings hook was plugged: plug it (it
        connects itself to `draft_requested` for the next clicks) and draft this one."""
        if self._greetings is None:
            self.greetings.draft_for_touchpoint(touchpoint)

    def _plug_greetings(self) -> None:
        _ = self.greetings
        batch = getattr(self._greetings, "batch_button", None)
        if isinstance(batch, QPushButton):
            batch.setIcon(icon("mail"))

    @property
    def insights_view(self) -> InsightsView:
        """The Insights page, built on first use in place of its stand-in."""
        if self._insights is None:
            from crmcompanion.ui.insights import InsightsView

            view = InsightsView(self.services, self.bus)
            view.segment_requested.connect(self.show_segment)
            view.customer_requested.connect(self.open_customer)
            self._swap_in(INSIGHTS, self.insights, view)
            self.insights = view
            self._insights = view
        return self._insights

    def show_segment(self, segment: str) -> None:
        """The customer list filtered to one health segment (a bar clicked in Insights)."""
        self.show_section(CUSTOMERS)
        self.customers.show_segment(segment)

    def _show_page(self, row: int) -> None:
        if row == CUSTOMERS:
            _ = self.customers  # build it before it is shown
        elif row == FEEDBACK:
            _ = self.feedback_page
        elif row == INSIGHTS:
            _ = self.insights_view
        self.pages.setCurrentIndex(row)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self.painted:
            self.painted = True
            QTimer.singleShot(0, self, self.first_painted.emit)  # after the whole paint pass

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
        # The profile first: selecting the row then finds it shown and does not load it a
        # second time (selected first, the selection change loaded it, then this call again).
        self.customers.open_customer(customer_id)
        self.customers.select_customer(customer_id)

    def new_customer(self) -> None:
        self.show_section(CUSTOMERS)
        self.customers.new_customer()

    def add_sample_customers(self) -> None:
        self.customers.add_sample_customers()

    def find_customer(self) -> None:
        self.show_section(CUSTOMERS)
        self.customers.focus_search()

    def import_contacts(self) -> QWidget:
        self.show_section(CUSTOMERS)
        return self.customers.open_import()

    def _focused_item(self) -> AgendaItem | None:
        """The Today row the keyboard is on, if the focus is in Today's list."""
        if self.pages.currentIndex() != TODAY:
            return None
        return self.today.focused_item()

    def _open_customer_id(self) -> int | None:
        """The customer whose page is open on Customers, if any."""
        if self.pages.currentIndex() != CUSTOMERS or self._customers is None:
            return None
        activity = getattr(getattr(self._customers, "detail", None), "activity", None)
        shown = getattr(activity, "customer_id", None)
        if shown is not None and self._customers.detail.isVisible():
            return int(shown)
        return self._customers.selected_id()

    def log_conversation(self) -> QWidget | None:
        """Ctrl+L: log a conversation with the Today row in focus or the open customer."""
        item = self._focused_item()
        if item is not None:
            return self.today.log_conversation(item.touchpoint, item)
        customer_id = self._open_customer_id()
        if customer_id is not None:
            if self.customers.detail.activity.customer_id != customer_id:
                self.open_customer(customer_id)
            return self.customers.detail.activity.log_conversation()
        self.statusBar().showMessage(
            "Choose a customer (or a row on Today) first, then log the conversation.", 8000)
        return None

    def draft_greeting(self) -> QDialog | None:
        """Ctrl+D: a greeting for the Today row in focus or the open customer; elsewhere,
        today's greetings one after another (when any are due, as "Draft all" says)."""
        item = self._focused_item()
        if item is not None:
            return self.greetings.draft_for_touchpoint(item.touchpoint)
        customer_id = self._open_customer_id()
        if customer_id is not None:
            return self.greetings.draft_for_customer(customer_id)
        if not self.greetings.draft_all_action.isEnabled():  # as its greyed-out button says
            self.statusBar().showMessage(
                "Nothing is due today or late: choose a customer to write a greeting.", 8000)
            return None
        return self.greetings.draft_all()

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

        dialog = SettingsDialog(self.services.settings, self.bus, self, services=self.services)
        dialog.finished.connect(dialog.deleteLater)
        self.settings_dialog = dialog
        dialog.open()
        return dialog
