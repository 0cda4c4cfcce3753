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
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from crmcompanion.core.errors import DatabaseProblem
from crmcompanion.store import models

logger = logging.getLogger(__name__)

# The newest migration this build knows; a test checks it equals Alembic's head. Knowing it
# without importing Alembic keeps start-up fast when no migration is needed.
HEAD_REVISION = "0007_customer_uids_and_search_folding"
KNOWN_REVISIONS = frozenset(
    {"0001_initial", "0002_touchpoints", "0003_reminders", "0004_import_batches",
     "0005_greeting_templates", "0006_search_special_letters",
     "0007_customer_uids_and_search_folding"}
)
BUSY_TIMEOUT_MS = 10_000
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    """Naive UTC, the form every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class DatabaseInfo:
    url: str
    path: Path | None
    revision: str | None
    backup: Path | None


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _inspect_sqlite_file(path: Path) -> str | None:
    """Read-only look at an existing file: its schema revision, or DatabaseProblem."""
    if not path.exists():
        return None
    if path.is_dir():
        raise DatabaseProblem(f"The database path {path} is a folder, not a file.")
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except OSError as exc:
        raise DatabaseProblem(f"Cannot read the database {path}: {exc.strerror}.") from exc
    if not header:
        return None  # an empty file: SQLite treats it as a new database
    if header != b"SQLite format 3\x00":
        raise DatabaseProblem(
            f"{path} is not a CRM Companion database (not an SQLite file); it was left untouched."
        )
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            # Reading the schema parses page 1 and every CREATE statement: a smashed header or
            # schema fails here. The full page-by-page check waits for a migration.
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "alembic_version" not in tables:
                if tables - {"sqlite_sequence"}:
                    raise DatabaseProblem(
                        f"{path} is an SQLite file from another program; it was left untouched."
                    )
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            return row[0] if row else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseProblem(
            f"The database {path} cannot be read ({exc}); it was left untouched."
        ) from exc


def _check_integrity(path: Path) -> None:
    """`PRAGMA quick_check` over every page, read-only: DatabaseProblem when damaged.

    Run before a migration copies and rewrites the file, never at an ordinary start (it reads
    the whole file: ~250 ms for 100,000 customers)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
        finally:
            conn.close()
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


def _configure_sqlite(engine: Engine, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI types
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (the documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn) -> None:  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """Engines and session factories for one database; the only place sessions come from."""

    def __init__(self, url: str, *, info: DatabaseInfo | None = None) -> None:
        self.url = url
        self.info = info or DatabaseInfo(url, sqlite_path(url), None, None)
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.read_engine = create_engine(url)
            self.write_engine = create_engine(url)
            _configure_sqlite(self.read_engine, immediate=False)
            _configure_sqlite(self.write_engine, immediate=True)
        else:
            self.read_engine = self.write_engine = create_engine(url, pool_pre_ping=True)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work: one consistent snapshot, always closed."""
        with self._read_sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write unit of work: commit on success, roll back on any error, always close."""
        with self._write_sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()


def _backup_sqlite(path: Path, backups_dir: Path, revision: str | None) -> Path:
    backups_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = (
        backups_dir
        / f"{path.stem}-before-{HEAD_REVISION}-from-{revision or 'none'}-{stamp}.sqlite3"
    )
    conn = sqlite3.connect(str(path))
    try:
        conn.execute("VACUUM INTO ?", (str(target),))
    finally:
        conn.close()
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


def ensure_local_staff(db: Database) -> int:
    """The "you" row every record can point to; created on first start."""
    with db.write() as session:
        # On the table, not the mapped class: the first ORM statement configures every mapper
        # (~8 ms), which at start-up can wait until after the window's first paint.
        columns = models.Staff.__table__.c
        staff_id = session.scalar(select(columns.id).where(columns.is_local.is_(True)))
        if staff_id is None:
            staff = models.Staff(name="You", email="", is_local=True, created_at=utcnow())
            session.add(staff)
            session.flush()
            staff_id = staff.id
        return staff_id


def open_database(url: str, backups_dir: Path | None = None) -> Database:
    """Check, back up, migrate and open. Raises DatabaseProblem with one clear sentence."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend != "sqlite":
        raise DatabaseProblem(
            f"Database URL scheme “{backend}” is not supported yet: team mode (PostgreSQL) "
            "comes in "
            "a later version. Unset CRMCOMPANION_DATABASE_URL to use the local database."
        )
    path = sqlite_path(url)
    revision: str | None = None
    backup: Path | None = None
    if path is not None:
        if not path.parent.exists():
            raise DatabaseProblem(f"The database folder {path.parent} does not exist.")
        revision = _inspect_sqlite_file(path)
        if revision is not None and revision not in KNOWN_REVISIONS:
            raise DatabaseProblem(
                f"The database {path} was written by a newer version of CRM Companion "
                f"(schema {revision}); update the app. The database was left untouched."
            )
    db = Database(url, info=DatabaseInfo(url, path, revision, None))
    try:
        if revision != HEAD_REVISION:
            if path is not None and revision is not None:
                # An existing database is about to be copied and rewritten: check every page
                # first, so a damaged file is refused untouched rather than migrated.
                _check_integrity(path)
                if backups_dir is not None:
                    backup = _backup_sqlite(path, backups_dir, revision)
            _run_migrations(db)
            db.info = DatabaseInfo(url, path, HEAD_REVISION, backup)
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
            raise DatabaseProblem(
                f"The database {path} cannot be read ({cause}); it was left untouched. "
                "Restore a backup from the backups folder."
            ) from exc
        if isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("sqlalchemy"):
            raise DatabaseProblem(f"Cannot open the database: {exc}") from exc
        raise
    return db
