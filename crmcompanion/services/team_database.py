"""Team mode use cases: connect to a PostgreSQL server, test it, migrate it, copy a book in.

Why a service: the command line (`crmcompanion db ...`) and the window's "Team database"
dialog do the same things and may not reach the store themselves (convention 1). Every URL
that comes back for display has its password masked; a password is best kept out of the URL
altogether, in `~/.pgpass`, which the driver reads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from crmcompanion.core.errors import DomainError
from crmcompanion.store import postgres
from crmcompanion.store.database import check_url, open_database, sqlite_path

logger = logging.getLogger(__name__)

URL_EXAMPLE = "postgresql+psycopg://user@host:5432/database"


@dataclass(frozen=True)
class Migrated:
    url: str  # masked
    before: str | None  # the schema revision found (None: an empty database)
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class ServerCheck:
    url: str  # masked
    server_version: str
    revision: str | None  # None: no CRM Companion tables yet
    current: bool


def masked(url: str) -> str:
    return postgres.masked(url)


def is_team_url(url: str) -> bool:
    return postgres.is_postgres_url(url)


def checked_team_url(url: str) -> str:
    """`url` stripped, if it names a PostgreSQL database; DomainError in one sentence if not."""
    url = url.strip()
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise DomainError(f"“{url[:60]}” is not a database URL; use one such as "
                          f"{URL_EXAMPLE}.") from None
    if parsed.get_backend_name() != "postgresql" or not parsed.host or not parsed.database:
        raise DomainError(f"{postgres.masked(parsed)} is not a PostgreSQL database URL with a "
                          f"host and a database; use one such as {URL_EXAMPLE}.")
    return url


def test_connection(url: str) -> ServerCheck:
    """Connect and look: the server's version and the schema it holds."""
    from sqlalchemy import create_engine, text

    from crmcompanion.store.database import HEAD_REVISION

    url = checked_team_url(url)
    engine = create_engine(postgres.engine_url(url), pool_pre_ping=True)
    try:
        with _server_errors(url), engine.connect() as connection:
            postgres.check_server(connection, url)
            version = connection.execute(text("SHOW server_version")).scalar_one()
            revision = postgres.stored_revision(connection)
    finally:
        engine.dispose()
    return ServerCheck(postgres.masked(url), str(version), revision, revision == HEAD_REVISION)


def migrate(url: str, backups_dir: Path | None = None) -> Migrated:
    """Bring the database `url` names to the current schema (PostgreSQL: create the
    extensions first; SQLite: what every start does)."""
    if is_team_url(url):
        before, after = postgres.migrate_postgres(url)
        return Migrated(postgres.masked(url), before, after)
    check_url(url)
    path = sqlite_path(url)
    before = None
    if path is not None and path.exists():
        from crmcompanion.store.database import inspect_sqlite_file

        before = inspect_sqlite_file(path)
    db = open_database(url, backups_dir)
    try:
        return Migrated(url, before, db.info.revision or "")
    finally:
        db.dispose()


def copy_to_team_database(source_url: str, target_url: str,
                          backups_dir: Path | None = None) -> int:
    """Copy the local SQLite database into an empty PostgreSQL one; the customers copied."""
    from crmcompanion.store.postgres_copy import copy_sqlite_to_postgres

    target_url = checked_team_url(target_url)
    if is_team_url(source_url):
        raise DomainError("The database in use is a PostgreSQL one already; `db copy` copies "
                          "a local (SQLite) database into PostgreSQL.")
    source: Path | None = sqlite_path(source_url)
    if source is None or not source.exists():
        raise DomainError("There is no local database to copy yet.")
    # Opened first so an older local schema is migrated (after its backup) before it is read.
    db = open_database(source_url, backups_dir)
    db.dispose()
    with _server_errors(target_url):
        return copy_sqlite_to_postgres(source, target_url)


@contextmanager
def _server_errors(url: str) -> Iterator[None]:
    """The driver's and SQLAlchemy's errors as one DatabaseProblem sentence (masked URL)."""
    try:
        yield
    except DomainError:
        raise
    except Exception as exc:
        if type(exc).__module__.startswith(("sqlalchemy", "psycopg")):
            raise postgres.problem_from(exc, url) from exc
        raise
