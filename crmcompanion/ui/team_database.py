"""The "Team database" window: connect to a PostgreSQL server, test it, migrate it.

Why: team mode runs the app on a shared PostgreSQL database (CRMCOMPANION_DATABASE_URL). Typing
a URL by hand is error-prone; this window builds it from the server's address, the database
and the user, tests it and brings an empty database to the current schema (what `crmcompanion
db migrate` does). It never asks for or keeps a password: the driver reads it from
~/.pgpass (or the OS's PGPASSFILE), so credentials stay out of settings and logs. TLS is part
of the URL (`sslmode`). Talks to services only (services.team_database), on a worker thread.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from crmcompanion.core.errors import DomainError
from crmcompanion.services import team_database
from crmcompanion.ui.text_display import plain_label
from crmcompanion.ui.widgets import FieldLabel
from crmcompanion.ui.workers import BackgroundTask

logger = logging.getLogger(__name__)

# (shown, sslmode): libpq's modes in the words a user chooses by.
TLS_CHOICES = (
    ("When the server offers it", "prefer"),
    ("Always", "require"),
    ("Always, and check the server's certificate", "verify-full"),
)


NEEDS_SERVER_TIP = "Enter the server and the database first"
TEST_TIP = "Connect to this database with the password in .pgpass, changing nothing"
MIGRATE_TIP = "Create CRM Companion's tables (or bring them up to date) in this database"


class TeamDatabaseDialog(QDialog):
    """Server, port, database, user and TLS; Test connection and Migrate."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Team database (PostgreSQL)")
        self.task: BackgroundTask | None = None
        layout = QVBoxLayout(self)
        # A heading like the Backups window's: it opened on a bare paragraph.
        self.title = QLabel("Team database")
        self.title.setObjectName("pageTitle")
        layout.addWidget(self.title)
        self.explanation = plain_label(
            "Share one customer book with your team on a PostgreSQL server (version 13 or "
            "newer). CRM Companion never stores the password: put it in the file .pgpass in "
            "your home folder.")
        layout.addWidget(self.explanation)
        form = QFormLayout()
        self.host = QLineEdit()
        # "e.g.": a bare "crm" in grey read as filled in, beside buttons greyed out for it.
        self.host.setPlaceholderText("e.g. db.example.com")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(5432)
        self.database = QLineEdit()
        self.database.setPlaceholderText("e.g. crm")
        self.user = QLineEdit()
        self.tls = QComboBox()
        for shown, mode in TLS_CHOICES:
            self.tls.addItem(shown, mode)
        form.addRow(FieldLabel("Server", self.host), self.host)
        form.addRow(FieldLabel("Port", self.port), self.port)
        form.addRow(FieldLabel("Database", self.database), self.database)
        form.addRow(FieldLabel("User", self.user), self.user)
        form.addRow(FieldLabel("Encryption (TLS)", self.tls), self.tls)
        layout.addLayout(form)
        self.status = plain_label("", selectable=True)
        layout.addWidget(self.status)
        # A taller window keeps the fields under their explanation; the room goes below.
        layout.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.test_button = QPushButton("Test connection")
        self.migrate_button = QPushButton("Prepare database")
        buttons.addButton(self.test_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.migrate_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.test_button.clicked.connect(self.test_connection)
        self.migrate_button.clicked.connect(self.migrate)
        # Both actions need a server and a database: greyed out until both are typed, so
        # nothing on the window invites a click that can only answer "enter the server".
        self.host.textChanged.connect(self._update_buttons)
        self.database.textChanged.connect(self._update_buttons)
        self._update_buttons()
        self.resize(520, 360)

    def _filled(self) -> bool:
        return bool(self.host.text().strip() and self.database.text().strip())

    def _update_buttons(self) -> None:
        ready = self._filled() and (self.task is None or self.task.done)
        self.test_button.setEnabled(ready)
        self.migrate_button.setEnabled(ready)
        # Greyed out, each says what it waits for; ready, what it does.
        filled = self._filled()
        self.test_button.setToolTip(TEST_TIP if filled else NEEDS_SERVER_TIP)
        self.migrate_button.setToolTip(MIGRATE_TIP if filled else NEEDS_SERVER_TIP)

    def url(self) -> str:
        """The URL the fields describe, without any password."""
        user = quote(self.user.text().strip(), safe="")
        host = self.host.text().strip()
        name = quote(self.database.text().strip(), safe="")
        at = f"{user}@" if user else ""
        mode = self.tls.currentData()
        return f"postgresql+psycopg://{at}{host}:{self.port.value()}/{name}?sslmode={mode}"

    def _run(self, work: object, done: object, doing: str) -> None:
        if not self._filled():  # the buttons are greyed out then; a shortcut may still ask
            self.status.setText("Enter the server and the database.")
            return
        self.test_button.setEnabled(False)
        self.migrate_button.setEnabled(False)
        self.status.setText(doing)
        url = self.url()
        self.task = BackgroundTask(lambda _state: work(url), "team-database", self)  # type: ignore[operator]
        self.task.succeeded.connect(done)  # type: ignore[arg-type]
        self.task.failed.connect(self._failed)
        self.task.finished.connect(self._finished)
        self.task.start()

    def test_connection(self) -> None:
        self._run(team_database.test_connection, self._tested, "Connecting…")

    def migrate(self) -> None:
        self._run(team_database.migrate, self._migrated, "Preparing the database…")

    def _tested(self, check: team_database.ServerCheck) -> None:
        if check.current:
            state = "It is ready for CRM Companion."
        elif check.revision is None:
            state = "It has no CRM Companion tables yet: press Prepare database."
        else:
            state = "Its tables are from an older version: press Prepare database."
        self.status.setText(f"Connected to PostgreSQL {check.server_version}. {state}\n\n"
                            f"{self._how_to_use()}")

    def _migrated(self, done: team_database.Migrated) -> None:
        what = "prepared" if done.before is None else (
            "brought up to date" if done.changed else "already up to date")
        self.status.setText(f"The database is {what}.\n\n{self._how_to_use()}")

    def _how_to_use(self) -> str:
        return ("To work in it, start CRM Companion with this setting:\n"
                f"CRMCOMPANION_DATABASE_URL={team_database.masked(self.url())}")

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, DomainError):
            self.status.setText(str(error))
        else:
            logger.error("Team database check failed", exc_info=error)
            self.status.setText(f"Something went wrong: {error}")

    def _finished(self) -> None:
        self.test_button.setEnabled(self._filled())
        self.migrate_button.setEnabled(self._filled())
