"""What `crmcompanion doctor` says about the database, read without changing anything.

Why this module exists: a support question needs the database's URL (never its password), its
file and the schema revision it holds, also when the file cannot be opened. Opening it through
`open_services` would create or migrate it, which a diagnostic must never do, and the CLI may
not reach the store itself (import-linter contract): so this service asks the store's
read-only inspection (the same one the app's start runs before any write).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from crmcompanion.core.errors import DatabaseProblem
from crmcompanion.store.database import HEAD_REVISION, check_url, inspect_sqlite_file, sqlite_path

logger = logging.getLogger(__name__)

# user:password@ in a URL SQLAlchemy could not parse: the password still must not be shown.
_PASSWORD = re.compile(r"(//[^:/@]*:)[^@]*@")


@dataclass(frozen=True)
class DatabaseReport:
    url: str  # the password, if any, replaced by ***
    file: Path | None  # the SQLite file, None for another kind of database
    size_bytes: int | None  # None when the file does not exist (yet)
    revision: str | None  # the schema revision the file holds; None when new or unreadable
    current_revision: str  # the revision this version of the app migrates to
    problem: str  # "" or the sentence the app would show at start


def url_without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _PASSWORD.sub(r"\1***@", url)


def database_report(url: str) -> DatabaseReport:
    """Describe the database `url` names; never creates, opens for writing or migrates it."""
    shown = url_without_password(url)
    try:
        check_url(url)
        path = sqlite_path(url)
    except DatabaseProblem as exc:  # its sentence quotes the URL: hide the password there too
        return DatabaseReport(shown, None, None, None, HEAD_REVISION, _PASSWORD.sub(
            r"\1***@", str(exc)))
    if path is None:
        return DatabaseReport(shown, None, None, None, HEAD_REVISION,
                              "only SQLite database files are supported in this version")
    try:
        size = path.stat().st_size if path.is_file() else None
        revision = inspect_sqlite_file(path)
    except DatabaseProblem as exc:
        return DatabaseReport(shown, path, size, None, HEAD_REVISION, str(exc))
    except OSError as exc:
        return DatabaseReport(shown, path, None, None, HEAD_REVISION,
                              f"cannot be read ({exc.strerror or exc})")
    return DatabaseReport(shown, path, size, revision, HEAD_REVISION, "")
