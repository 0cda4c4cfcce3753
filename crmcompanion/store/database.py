"""Opening the database safely: checks first, backup, migrations, then engines and sessions.

Order matters. A database file is inspected read-only before anything can write to it, so a
corrupt file, a file from a newer version or an unreadable one is reported and left untouched
(never "repaired" into a fresh empty database). A database that needs migrating is first
integrity-checked (`PRAGMA quick_check`), then copied with `VACUUM INTO`, then migrated by
Alembic.

What is detected when: the full `quick_check` reads every page (a quarter of a second for
100,000 customers), so it runs only before a migration, where a damaged file must not be
copied and rewritten. An ordinary start relies on SQLite's own checks instead: a file whose
header, schema or first pages are damaged fails while it is opened and first read (the
schema, the revision, the local staff row, both ends of the customer list), and that error
becomes the same clear `DatabaseProblem`. Damage deep inside a table surfaces later, as an
error on the read that touches it, and the next migration's check refuses the file.

Writes start with `BEGIN IMMEDIATE` (SQLAlchemy's pysqlite recipe): a second writer waits on the
busy timeout instead of failing half-way with "database is locked".

Durability: WAL with `synchronous = FULL` (each commit is synced to the WAL, so a power cut
loses no saved record; one fsync a commit: a burst of 1,000 single-customer saves through the
service took 10.2 ms a save against 6.8 with NORMAL, medians of 3 runs on a busy 2-core
machine, `benchmarks/sync_saves.py`: ~3 ms a save no person notices, for saves a power cut
cannot take back), `secure_delete` so erased data is zeroed in the file.
Customer data is owner-only whatever the umask: a new database is built under a temporary
0600 name and linked into place once migrated (so a half-created file never exists under the
real name, and an empty file there is a damaged one), and SQLite gives its -wal and -shm files
the database's own permissions.

A bad database at start gets one specific message per cause (empty, truncated, not SQLite,
another program's, newer schema, locked, a read-only folder, a full disk) and is never
overwritten or deleted.

Before any of that the URL itself is checked (`check_url`): a URL that does not parse, names no
file, an in-memory database (everything would vanish at exit), a device such as /dev/null, or
carries query parameters (`?mode=ro` would otherwise end up in a file name or half-apply) is one
clear sentence, never SQLAlchemy's text. Once open, the database file, its companions and the
backups and scratch folders are registered with `core.atomic_file.protect`, so no export can
ever be written over them, and scratch files a killed process left are swept (`store.scratch`).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, insert, select, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crmcompanion.core.atomic_file import protect
from crmcompanion.core.errors import DatabaseProblem, DomainError
from crmcompanion.core.staff import StaffIdentity, current_identity
from crmcompanion.store import models
from crmcompanion.store.scratch import FOLDER_NAME as SCRATCH_FOLDER
from crmcompanion.store.scratch import ScratchArea

logger = logging.getLogger(__name__)

# The newest migration this build knows; a test checks it equals Alembic's head. Knowing it
# without importing Alembic keeps start-up fast when no migration is needed.
HEAD_REVISION = "0014_sqlite_customer_sort_name_by_id"
KNOWN_REVISIONS = frozenset(
    {"0001_initial", "0002_touchpoints", "0003_reminders", "0004_import_batches",
     "0005_greeting_templates", "0006_search_special_letters",
     "0007_customer_uids_and_search_folding", "0008_staff_and_versions",
     "0009_voice_of_the_customer", "0010_insights", "0011_feedback_rhythm",
     "0012_postgres_partial_indexes", "0013_postgres_customer_sort_name_by_id",
     "0014_sqlite_customer_sort_name_by_id"}
)
BUSY_TIMEOUT_MS = 10_000
URL_ENV_VAR = "CRMCOMPANION_DATABASE_URL"
_URL_EXAMPLE = "sqlite:////path/to/crmcompanion.sqlite3"
# SQLite's own files beside the database: never a place for an export.
COMPANION_SUFFIXES = ("", "-wal", "-shm", "-journal")
# How long the read-only look at start waits for another program's lock before saying so.
INSPECT_LOCK_WAIT_S = 2.0
OWNER_ONLY_FILE = 0o600
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_SIDE_FILES = COMPANION_SUFFIXES[1:]
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    """Naive UTC, the form every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


# What a user is told when the server connection drops (see Database.write / read).
WRITE_DROPPED = ("The connection to the database dropped during the save; nothing was "
                 "saved. Save again to retry.")
READ_DROPPED = "The connection to the database dropped; try again."
_T = TypeVar("_T")


class ConnectionDropped(DomainError):
    """The database server's connection dropped during a unit of work (team mode): it was
    rolled back whole, and the next call opens a fresh connection. A form keeps what was
    typed (it is a DomainError: one sentence, nothing lost), so saving again works."""


class RetryingReadSession(Session):
    """A read unit's session on a database server: a statement whose connection dropped
    (server restart, network, an administrator ending the session) runs once more on a fresh
    connection before the user is told anything; a second drop in the same unit is
    ConnectionDropped. Only reads: nothing was changed, so running a statement again cannot
    do anything twice (a save whose connection drops is never retried blindly: the user saves
    again, Database.write). A unit reads one snapshot (PostgreSQL: REPEATABLE READ, see
    `Database.read`) until a drop; the retried statement and those after it read the fresh
    connection's, which may hold writes committed meanwhile: for a unit that lost its
    connection, as consistent as READ COMMITTED (each statement its own snapshot), which is
    what every read unit was before. Statements through ORM loads, `execute`, `scalar` and
    `scalars` are covered, and so are the raw DBAPI cursors the store takes from
    `session.connection().connection` (exports, the duplicate finder, display names, insight
    facts: `_RetryingCursor`).

    State a read made on its connection (a session SET or set_config, a named cursor or
    prepared statement: `_makes_state`; not a temporary table on PostgreSQL, whose read
    units are READ ONLY, see `Database.read`) is made again on the fresh connection, by
    running those statements of the unit again in their order, before the dropped
    statement runs once more; if that fails the unit is ConnectionDropped. Not
    covered, and why: a raw cursor's COPY (`cursor.copy()`, not wrapped: the rows already
    streamed in or out cannot be taken back or handed out twice), and a result already
    partly read from a server-side (named) cursor when the drop came (its first rows are
    with the caller): both raise the driver's error. No read of this app does either on
    PostgreSQL today: its only COPY is a bulk load's (store.postgres_bulk, a write: writes
    are never retried), and the import's temporary tables are made in writes too."""

    _retried = False
    _state: list[Callable[[], object]] | None = None

    def _remember(self, statement: object, call: Callable[[], object]) -> None:
        """Keep `call` to run again on a fresh connection if `statement` made session state."""
        if _makes_state(statement):
            if self._state is None:
                self._state = []
            self._state.append(call)

    def _restore(self) -> None:
        """Make this unit's session state again on the (fresh) connection it holds now; any
        failure (SQLAlchemy's or a raw cursor's driver error) is ConnectionDropped."""
        for call in self._state or ():
            try:
                call()
            except Exception as again:
                raise ConnectionDropped(READ_DROPPED) from again

    def connection(self, *args: Any, **kw: Any) -> Any:
        # Only what the store's raw paths reach through it is wrapped; the session's own
        # statements never come here.
        return _RetryingConnection(self, super().connection(*args, **kw))

    def _raw_dropped(self, cursor: Any, exc: BaseException) -> bool:
        """Whether `exc`, raised by a raw cursor's statement, is a dropped connection this
        unit may read again after (the first one); if so the dead connection is gone and
        the session holds none. A second drop is ConnectionDropped, as for the ORM reads."""
        broken = getattr(getattr(cursor, "connection", None), "broken", False)
        if not broken:
            return False
        if self._retried:
            raise ConnectionDropped(READ_DROPPED) from exc
        self._retried = True
        logger.warning("The database connection dropped during a read; reading again: %s",
                       type(exc).__name__)
        with suppress(DBAPIError):
            super().connection().invalidate(exc)  # type: ignore[arg-type]
        self.rollback()
        return True

    def _once_more(self, call: Callable[[], _T], statement: object = None) -> _T:
        try:
            result = call()
        except DBAPIError as exc:
            if not exc.connection_invalidated or self._retried:
                raise
            self._retried = True
            logger.warning("The database connection dropped during a read; reading again: %s",
                           type(exc.orig).__name__)
            self.rollback()  # the dead connection goes; the next statement takes a new one
            self._restore()
            result = call()
        self._remember(statement, call)
        return result

    def execute(self, *args: Any, **kw: Any) -> Any:
        return self._once_more(lambda: super(RetryingReadSession, self).execute(*args, **kw),
                               args[0] if args else None)

    def scalar(self, *args: Any, **kw: Any) -> Any:
        return self._once_more(lambda: super(RetryingReadSession, self).scalar(*args, **kw),
                               args[0] if args else None)

    def scalars(self, *args: Any, **kw: Any) -> Any:
        return self._once_more(lambda: super(RetryingReadSession, self).scalars(*args, **kw),
                               args[0] if args else None)


# Statements that leave state on the server session a later statement may need (see
# RetryingReadSession): settings, cursors and prepared statements (temporary tables and what
# is written into them where a read unit may make them). A read unit runs nothing that
# writes.
_STATEFUL = re.compile(
    r"\s*(CREATE\s+(GLOBAL\s+|LOCAL\s+)?TEMP|INSERT\s|UPDATE\s|DELETE\s|TRUNCATE\s|"
    r"DROP\s|ALTER\s|SET\s|SELECT\s+set_config\s*\(|DECLARE\s|PREPARE\s|ANALYZE\b)",
    re.IGNORECASE)


def _makes_state(statement: object) -> bool:
    """Whether `statement` (SQL text, a text() clause; ORM/Core selects never) is one of
    _STATEFUL's."""
    sql = statement if isinstance(statement, str) else getattr(statement, "text", None)
    return isinstance(sql, str) and _STATEFUL.match(sql) is not None


class _RetryingConnection:
    """A read session's Connection as the raw paths see it (RetryingReadSession): its
    statements (`execute`, `exec_driver_sql`, `scalar`, `scalars`) run once more on a fresh
    connection after a drop, as the session's own do, and its `.connection` hands out
    cursors that do the same (_RetryingCursor)."""

    def __init__(self, session: RetryingReadSession, connection: Any) -> None:
        self._session = session
        self._connection = connection

    def _current(self) -> Any:
        if self._connection.closed or self._connection.invalidated:  # a retry replaced it
            self._connection = Session.connection(self._session)
        return self._connection

    def _call(self, name: str, *args: Any, **kw: Any) -> Any:
        return self._session._once_more(lambda: getattr(self._current(), name)(*args, **kw),
                                        args[0] if args else None)

    def execute(self, *args: Any, **kw: Any) -> Any:
        return self._call("execute", *args, **kw)

    def exec_driver_sql(self, *args: Any, **kw: Any) -> Any:
        return self._call("exec_driver_sql", *args, **kw)

    def scalar(self, *args: Any, **kw: Any) -> Any:
        return self._call("scalar", *args, **kw)

    def scalars(self, *args: Any, **kw: Any) -> Any:
        return self._call("scalars", *args, **kw)

    @property
    def connection(self) -> Any:
        return _RetryingDBAPIConnection(self._session, self._current().connection)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._current(), name)


class _RetryingDBAPIConnection:
    def __init__(self, session: RetryingReadSession, fairy: Any) -> None:
        self._session = session
        self._fairy = fairy

    def cursor(self, *args: Any, **kw: Any) -> _RetryingCursor:
        return _RetryingCursor(self._session, self._fairy.cursor(*args, **kw), args, kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fairy, name)


class _RetryingCursor:
    """A raw DBAPI cursor of a read unit on a server: a statement whose connection dropped
    runs once more on a cursor of a fresh connection (reads only: nothing to do twice; the
    statements before it in the unit have given their rows already, and each statement reads
    its own snapshot at READ COMMITTED anyway). A second drop is ConnectionDropped; the
    state the unit made on the dead connection (a temporary table) is made again first
    (RetryingReadSession._restore)."""

    def __init__(self, session: RetryingReadSession, cursor: Any, args: tuple[Any, ...],
                 kw: dict[str, Any]) -> None:
        self._session = session
        self._cursor = cursor
        self._made = (args, kw)

    def _run(self, method: str, *args: Any, **kw: Any) -> _RetryingCursor:
        try:
            getattr(self._cursor, method)(*args, **kw)
        except Exception as exc:
            if not self._session._raw_dropped(self._cursor, exc):
                raise
            self._session._restore()
            self._cursor = self._fresh()
            getattr(self._cursor, method)(*args, **kw)
        # Made again, if need be, on a cursor of whatever connection the unit then holds.
        self._session._remember(args[0] if args else None,
                                lambda: getattr(self._fresh(), method)(*args, **kw))
        return self

    def _fresh(self) -> Any:
        made_args, made_kw = self._made
        return Session.connection(self._session).connection.cursor(*made_args, **made_kw)

    def execute(self, *args: Any, **kw: Any) -> _RetryingCursor:
        return self._run("execute", *args, **kw)

    def executemany(self, *args: Any, **kw: Any) -> _RetryingCursor:
        return self._run("executemany", *args, **kw)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)

    def __enter__(self) -> _RetryingCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cursor.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@dataclass(frozen=True)
class DatabaseInfo:
    url: str
    path: Path | None
    revision: str | None
    backup: Path | None
    backups_dir: Path | None = None


class UnusableFile(DatabaseProblem):
    """A database (or backup) file that cannot be used; `reason` says why in a few words,
    so the same finding reads right for the database at start and for a backup to restore."""

    def __init__(
        self, path: Path, reason: str, advice: str = "", *, restorable: bool = True
    ) -> None:
        self.path = path
        self.reason = reason
        # Would putting a backup in its place help? Not for a file another program locks.
        self.restorable = restorable
        text = f"The database {path} {reason}; it was left untouched."
        super().__init__(f"{text} {advice}".strip())


def read_only_uri(path: Path) -> str:
    """An SQLite URI opening `path` read-only, whatever characters its name holds."""
    return f"file:{quote(str(path))}?mode=ro"


def make_owner_only(path: Path) -> None:
    """Take group and other permissions off a file or folder (made by an older version under
    a umask of 022); a missing file is fine."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        os.chmod(path, mode & 0o700)


def create_owner_only_file(path: Path) -> None:
    """An empty 0600 file under `path`, which must not exist (umask only removes bits)."""
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, OWNER_ONLY_FILE))
    os.chmod(path, OWNER_ONLY_FILE)  # in case a umask took the owner's bits too


def remove_sqlite_files(path: Path) -> None:
    """Remove a scratch database and its side files (never called on the real database)."""
    for name in (path, *(path.with_name(path.name + s) for s in SQLITE_SIDE_FILES)):
        with suppress(FileNotFoundError):
            name.unlink()


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def check_url(url: str) -> URL:
    """The parsed URL if it can name this app's database, else DatabaseProblem in one sentence
    (see module doc). Any non-SQLite URL parses and is refused later with its own message."""
    shown = url if len(url) <= 80 else url[:77] + "..."
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise DatabaseProblem(
            f"The database URL “{shown}” is not a URL; {URL_ENV_VAR} takes one such as "
            f"{_URL_EXAMPLE}.") from None
    if parsed.get_backend_name() != "sqlite":
        return parsed
    if parsed.get_driver_name() != "pysqlite":
        raise DatabaseProblem(
            f"The database URL “{shown}” asks for the SQLite driver "
            f"“{parsed.get_driver_name()}”, which is not supported; use {_URL_EXAMPLE}.")
    if parsed.query:
        names = ", ".join(sorted(parsed.query))
        raise DatabaseProblem(
            f"The database URL “{shown}” has query parameters ({names}), which are not "
            f"supported; name the database file alone, as in {_URL_EXAMPLE}.")
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise DatabaseProblem(
            f"The database URL “{shown}” names no database file (an in-memory database would "
            f"lose everything at exit); use {_URL_EXAMPLE}.")
    try:
        st = os.stat(database)
    except FileNotFoundError:
        return parsed
    except OSError as exc:
        raise DatabaseProblem(
            f"Cannot use the database {database}: {exc.strerror or exc}.") from None
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        raise DatabaseProblem(
            f"The database {database} is not a regular file (a device, a pipe or a socket); "
            "it was left untouched.")
    return parsed


def _truncated(path: Path, header: bytes) -> bool:
    """Is the file shorter than the page count its header vouches for? The count is valid
    only while the header's change counter matches its "valid for" copy, and a non-empty WAL
    may legitimately hold pages a checkpoint has not written yet."""
    if len(header) < 100:
        return True
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if header[24:28] != header[92:96] or not pages or page_size < 512:
        return False
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return False
    return path.stat().st_size < pages * page_size


def inspect_sqlite_file(path: Path) -> str | None:
    """Read-only look at an existing file: its schema revision, or UnusableFile."""
    if not path.exists():
        return None
    if path.is_dir():
        raise DatabaseProblem(f"The database path {path} is a folder, not a file.")
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise DatabaseProblem(f"Cannot read the database {path}: {exc.strerror}.") from exc
    if not header:
        raise UnusableFile(path, "is empty (0 bytes)")
    if not header.startswith(SQLITE_MAGIC[: len(header)]) or len(header) < len(SQLITE_MAGIC):
        if header.startswith(SQLITE_MAGIC[: len(header)]):
            raise UnusableFile(path, "is truncated (only its first bytes are there)")
        raise UnusableFile(path, "is not a CRM Companion database (not an SQLite file)")
    if _truncated(path, header):
        raise UnusableFile(path, "is truncated (shorter than its header says)")
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True, timeout=INSPECT_LOCK_WAIT_S)
        try:
            # Reading the schema parses page 1 and every CREATE statement: a smashed header or
            # schema fails here. The full page-by-page check waits for a migration.
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "alembic_version" not in tables:
                if tables - {"sqlite_sequence"}:
                    raise UnusableFile(path, "is an SQLite file from another program")
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            return row[0] if row else None
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        raise _operational_problem(path, exc) from exc
    except sqlite3.DatabaseError as exc:
        raise UnusableFile(path, f"cannot be read ({exc})") from exc


def _operational_problem(path: Path, exc: sqlite3.Error) -> DatabaseProblem:
    """The clear sentence for SQLite's operational errors at start (lock, read-only, full)."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return UnusableFile(
            path, "is locked by another program",
            "Close the other program (or the other CRM Companion) and start again.",
            restorable=False,
        )
    if "readonly" in text or "read-only" in text:
        return DatabaseProblem(
            f"The database {path} is read-only here (a read-only folder or disk); "
            "CRM Companion needs to write beside it. It was left untouched."
        )
    if "full" in text:
        return DatabaseProblem(
            f"The disk holding the database {path} is full; free some space and start "
            "again. The database was left untouched."
        )
    return UnusableFile(path, f"cannot be opened ({exc})")


def _probe_writable_folder(folder: Path) -> None:
    """Write and remove a small scratch file where SQLite keeps its -wal and -shm files: a
    read-only folder or a full disk is reported before the database is touched."""
    probe = folder / f".crmcompanion-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, OWNER_ONLY_FILE)
        try:
            os.write(fd, b"\0" * 4096)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
    except OSError as exc:
        if exc.errno == errno.EROFS:
            raise DatabaseProblem(
                f"The database folder {folder} is on a read-only disk; CRM Companion needs to "
                "write there. Nothing was changed."
            ) from exc
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DatabaseProblem(
                f"The disk holding the database folder {folder} is full; free some space and "
                "start again. Nothing was changed."
            ) from exc
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise DatabaseProblem(
                f"CRM Companion may not write in the database folder {folder} (permission "
                "denied). Nothing was changed."
            ) from exc
        raise DatabaseProblem(
            f"Cannot write in the database folder {folder}: {exc.strerror}."
        ) from exc


def page_check(path: Path, pragma: str = "quick_check") -> list[str]:
    """SQLite's verdict on every page of `path`, read-only: ["ok"] when whole. `pragma` is
    quick_check or the fuller integrity_check (which also compares indexes with tables)."""
    conn = sqlite3.connect(read_only_uri(path), uri=True)
    try:
        return [r[0] for r in conn.execute(f"PRAGMA {pragma}(5)")]
    finally:
        conn.close()


def _check_integrity(path: Path) -> None:
    """`PRAGMA quick_check` over every page, read-only: DatabaseProblem when damaged.

    Run before a migration copies and rewrites the file, never at an ordinary start (it reads
    the whole file: ~250 ms for 100,000 customers)."""
    try:
        rows = page_check(path)
    except sqlite3.OperationalError as exc:  # unreadable, locked: not a verdict on the pages
        raise DatabaseProblem(
            f"The database {path} cannot be checked ({exc}); it was left untouched."
        ) from exc
    except sqlite3.DatabaseError as exc:
        # A page too broken to walk stops the check itself with "malformed".
        rows = [str(exc)]
    if rows != ["ok"]:
        raise DatabaseProblem(
            f"The database {path} is damaged ({rows[0] if rows else 'no answer'}); it was left "
            "untouched. Restore a backup from the backups folder."
        )


def _probe_first_reads(db: Database) -> None:
    """Read what the first window reads first: both ends of the customer list's sort index
    and the rows they point to. Cheap (a few pages), and damage there fails at open with the
    clear message instead of as a broken first page."""
    with db.read() as session:
        connection = session.connection()
        for direction in ("", "DESC"):
            # SQLite reads each row to measure it; one number comes back, not 200 tuples.
            connection.exec_driver_sql(
                "SELECT max(length(display_name) + length(company) + length(notes)) FROM "
                "(SELECT display_name, company, notes FROM customers WHERE archived_at IS NULL "
                f"ORDER BY sort_name {direction}, id {direction} LIMIT 200)"
            ).fetchall()


# FTS5's vocabulary of the customer search index (one row per term instance), per connection.
SEARCH_TERMS = "temp.customer_search_terms"


def _configure_sqlite(engine: Engine, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI types
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (the documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit is on disk once it returns, also across a power cut (~3 ms a save
        # more than NORMAL, see the module docstring; bulk loads switch journal mode apart).
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA secure_delete = ON")
        # The search index's terms, in order, for store.customers._exact_terms: a table of the
        # connection's temporary schema (made here, outside any transaction, whose rollback
        # would drop it; it finds customer_search when first read).
        cursor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TERMS} "
                       "USING fts5vocab(main, customer_search, instance)")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn) -> None:  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """Engines and session factories for one database; the only place sessions come from."""

    def __init__(self, url: str, *, info: DatabaseInfo | None = None,
                 scratch_root: Path | None = None) -> None:
        self.url = url
        self.info = info or DatabaseInfo(url, sqlite_path(url), None, None)
        # Scratch files (import staging, bulk-load parts): `<database folder>/tmp` unless
        # told otherwise, so they sit on the disk that will hold the rows (see store.scratch).
        if scratch_root is None and self.info.path is not None:
            scratch_root = self.info.path.parent / SCRATCH_FOLDER
        self.scratch = ScratchArea(scratch_root)
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.read_engine = create_engine(url)
            self.write_engine = create_engine(url)
            _configure_sqlite(self.read_engine, immediate=False)
            _configure_sqlite(self.write_engine, immediate=True)
        else:
            # A server: one engine, a dropped connection replaced before use (pre-ping).
            self.read_engine = self.write_engine = create_engine(url, pool_pre_ping=True)
            if self.read_engine.dialect.name == "postgresql":
                from crmcompanion.store.postgres import configure_engine

                configure_engine(self.read_engine)
        read_bind: Engine = self.read_engine
        # A read unit's end: COMMIT on PostgreSQL (see `read`), ROLLBACK elsewhere.
        self._read_commits = self.read_engine.dialect.name == "postgresql"
        if self._read_commits:
            from crmcompanion.store.postgres import READ_UNIT_OPTIONS

            read_bind = self.read_engine.execution_options(**READ_UNIT_OPTIONS)
        self._read_sessions = sessionmaker(
            read_bind, expire_on_commit=False,
            class_=Session if self.is_sqlite else RetryingReadSession)
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work: one consistent snapshot, always closed. A connection
        the server dropped between calls is replaced before use (pre-ping); on a server, a
        statement whose connection drops during the read runs once more on a new one
        (RetryingReadSession), and a second drop is `ConnectionDropped` (the next call
        reconnects).

        On PostgreSQL the unit is a `REPEATABLE READ READ ONLY` transaction
        (store.postgres.READ_UNIT_OPTIONS): one snapshot for all its statements, as on
        SQLite (the Today view's counts and rows agree), and the server refuses any write,
        row lock or CREATE in it. It ends with COMMIT, which ends a read-only transaction as
        ROLLBACK would, but psycopg clears its prepared statements on every rollback():
        ended so, no statement the app repeats was ever prepared."""
        with self._read_sessions() as session:
            done = False
            try:
                yield session
                done = True
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    raise ConnectionDropped(READ_DROPPED) from exc
                raise
            finally:
                with suppress(DBAPIError):  # a dead connection has nothing to end
                    if done and self._read_commits:
                        # A unit that caught a failed statement ends the same way: the
                        # server answers the COMMIT of an aborted transaction with ROLLBACK.
                        session.commit()
                    else:
                        session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write unit of work: commit on success, roll back on any error, always close.
        A connection dropped mid-save (server restart, network, an administrator ending
        the session) rolls the whole unit back on the server and is `ConnectionDropped`;
        the pool has discarded the dead connection, so the next call reconnects."""
        with self._write_sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException as exc:
                with suppress(DBAPIError):  # a dead connection has nothing to roll back
                    session.rollback()
                if isinstance(exc, DBAPIError) and exc.connection_invalidated:
                    logger.warning("The database connection dropped during a save: %s",
                                   exc.orig)
                    raise ConnectionDropped(WRITE_DROPPED) from exc
                raise

    def dispose(self) -> None:
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()
        self.scratch.close()


def _backup_sqlite(path: Path, backups_dir: Path, revision: str | None) -> Path:
    from crmcompanion.store.backups import write_backup

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = (
        backups_dir
        / f"{path.stem}-before-{HEAD_REVISION}-from-{revision or 'none'}-{stamp}.sqlite3"
    )
    write_backup(path, target)
    logger.info("Backed up %s to %s before migrating", path, target)
    return target


def _run_migrations(db: Database) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.write_engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()


def ensure_local_staff(db: Database, identity: StaffIdentity | None = None) -> int:
    """The staff row of `identity` (by default this process's: core.staff.current_identity),
    created on first use, so no command ever refuses to run for lack of one.

    Insert-or-get on the unique login key, in words every engine speaks: look it up; else
    claim the "You" row of a database older than 0008 (its history becomes its owner's, and
    a guarded UPDATE lets only one process claim it); else INSERT inside a savepoint, and a
    unique-key violation (another process inserted the same login first) reads the winner's
    row. Two processes starting at once therefore end up with one row.

    Every start after a login's first finds its row, so the lookup is a read unit first: a
    start opens no write transaction (on SQLite it would wait, up to the busy timeout, for
    any other process's write, an import or a reminder pass, before the window could show)
    and no write connection before Today's rows (issue 13).
    """
    who = identity or current_identity()
    table = models.Staff.__table__
    # On the table, not the mapped class: the first ORM statement configures every mapper
    # (~8 ms), which at start-up can wait until after the window's first paint.
    columns = table.c
    by_login = select(columns.id).where(columns.login == who.login)
    with db.read() as session:
        staff_id = session.scalar(by_login)
    if staff_id is not None:
        return staff_id
    with db.write() as session:
        staff_id = session.scalar(by_login)
        if staff_id is not None:
            return staff_id
        try:
            with session.begin_nested():
                legacy = session.scalar(
                    select(columns.id)
                    .where(columns.is_local.is_(True), columns.login.is_(None))
                    .order_by(columns.id).limit(1))
                if legacy is not None and session.execute(
                    update(table).where(columns.id == legacy, columns.login.is_(None))
                    .values(login=who.login, name=who.name)
                ).rowcount == 1:
                    logger.info("The local staff row #%s is now %s", legacy, who.login)
                    return legacy
                created = session.execute(insert(table).values(
                    name=who.name, email="", is_local=True, created_at=utcnow(),
                    login=who.login))
                logger.info("Created the staff row for %s", who.login)
                return int(created.inserted_primary_key[0])
        except IntegrityError:
            logger.info("Another process created the staff row for %s first", who.login)
        staff_id = session.scalar(by_login)
        if staff_id is None:  # cannot happen: the violation names this very key
            raise DatabaseProblem(f"Cannot create the staff member {who.name}.")
        return staff_id


def _protect_and_sweep(db: Database, backups_dir: Path | None) -> None:
    """Register the database's files with `core.atomic_file.protect` and remove the scratch
    files a process that has gone left behind."""
    path = db.info.path
    if path is not None:
        for suffix in COMPANION_SUFFIXES:
            protect(f"{path}{suffix}", "the CRM Companion database" if not suffix
                    else f"the CRM Companion database's {suffix[1:]} file")
    if backups_dir is not None:
        protect(backups_dir, "in the CRM Companion backups folder", tree=True)
    if db.scratch.root is not None:
        protect(db.scratch.root, "in CRM Companion's temporary folder", tree=True)
    db.scratch.clean([path.parent] if path is not None else [])


def _prepare_sqlite_file(path: Path) -> str | None:
    """The file's schema revision after the checks that come before any write: its folder
    is writable, the file is a usable CRM Companion database of a known schema. A missing
    file is created (migrated, owner-only) first; an existing one is made owner-only."""
    if not path.parent.exists():
        raise DatabaseProblem(f"The database folder {path.parent} does not exist.")
    _probe_writable_folder(path.parent)
    if not path.exists():
        _create_sqlite_file(path)
    revision = inspect_sqlite_file(path)
    if revision is not None and revision not in KNOWN_REVISIONS:
        raise UnusableFile(
            path, f"was written by a newer version of CRM Companion (schema {revision})",
            "Update the app, or restore a backup made by this version.",
        )
    for name in (path, *(path.with_name(path.name + s) for s in SQLITE_SIDE_FILES)):
        make_owner_only(name)
    return revision


def _create_sqlite_file(path: Path) -> None:
    """Build a new database under a temporary 0600 name beside `path`, migrated to the head
    and checkpointed, then link it into place: `path` never names a half-made database, and
    of two processes starting at once the second one simply uses the first one's file."""
    scratch = path.with_name(f".{path.name}.new-{os.getpid()}")
    remove_sqlite_files(scratch)
    create_owner_only_file(scratch)
    try:
        db = Database(f"sqlite:///{scratch}")
        try:
            _run_migrations(db)
            ensure_local_staff(db)
        finally:
            db.dispose()
        conn = sqlite3.connect(scratch)
        try:
            # Everything into the main file: only that file is linked into place.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        try:
            os.link(scratch, path)
        except FileExistsError:
            logger.info("%s was created by another process meanwhile: using it", path)
        except OSError:  # a file system without hard links (FAT, some network shares)
            if not path.exists():
                os.replace(scratch, path)
        logger.info("Created the database %s", path)
    finally:
        remove_sqlite_files(scratch)


def open_database(url: str, backups_dir: Path | None = None) -> Database:
    """Check, back up, migrate and open. Raises DatabaseProblem with one clear sentence."""
    parsed = check_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        from crmcompanion.store.postgres import open_postgres  # team mode (store/postgres.py)

        return open_postgres(url)
    if backend != "sqlite":
        raise DatabaseProblem(
            f"Database URL scheme “{backend}” is not supported: use an SQLite file or, for "
            "team mode, postgresql+psycopg://user@host/database. Unset "
            "CRMCOMPANION_DATABASE_URL to use the local database."
        )
    path = sqlite_path(url)
    revision = _prepare_sqlite_file(path) if path is not None else None
    backup: Path | None = None
    db = Database(url, info=DatabaseInfo(url, path, revision, None, backups_dir))
    _protect_and_sweep(db, backups_dir)
    try:
        if revision != HEAD_REVISION:
            if path is not None and revision is not None:
                # An existing database is about to be copied and rewritten: check every page
                # first, so a damaged file is refused untouched rather than migrated.
                _check_integrity(path)
                if backups_dir is not None:
                    backup = _backup_sqlite(path, backups_dir, revision)
            _run_migrations(db)
            db.info = DatabaseInfo(url, path, HEAD_REVISION, backup, backups_dir)
        ensure_local_staff(db)
        _probe_first_reads(db)
    except DatabaseProblem:
        db.dispose()
        raise
    except Exception as exc:
        db.dispose()
        # SQLAlchemy wraps the driver's error; its own text is the one sentence worth showing.
        cause = getattr(exc, "orig", None) or exc
        # Damage (SQLITE_CORRUPT, SQLITE_NOTADB) is a plain DatabaseError; a locked or
        # missing file is an OperationalError and keeps its own wording below.
        if type(cause) is sqlite3.DatabaseError and path is not None:
            raise UnusableFile(path, f"cannot be read ({cause})") from exc
        if isinstance(cause, sqlite3.OperationalError) and path is not None:
            raise _operational_problem(path, cause) from exc
        if isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("sqlalchemy"):
            # The driver's sentence alone: SQLAlchemy's text adds the SQL and a web link.
            where = f" {path}" if path is not None else ""
            raise DatabaseProblem(f"Cannot open the database{where}: {cause}.") from exc
        raise
    return db
