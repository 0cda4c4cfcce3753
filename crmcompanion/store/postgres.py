"""Team mode: opening, checking and migrating a PostgreSQL database.

Why a module of its own: everything SQLite-specific about opening a database (file checks,
pragmas, `VACUUM INTO` backups, owner-only files) means nothing on a server, and a server has
its own failure modes (no driver installed, unreachable host, wrong password, an empty or
unmigrated database, a server older than 13). `store.database.open_database` hands any
`postgresql` URL here.

Rules kept here:
- The driver (psycopg 3) is an optional extra; without it a PostgreSQL URL is one sentence
  naming `pip install "crmcompanion[postgresql]"`.
- A password is never shown or logged: every URL that reaches a message or a log line goes
  through `masked`. Users keep the password out of the URL altogether with `~/.pgpass` (libpq
  reads it); TLS options (`?sslmode=verify-full&sslrootcert=...`) pass through the URL.
- Opening never changes the schema: an empty or older database is refused with "run
  `crmcompanion db migrate`", which is the one place the extensions are created and Alembic
  runs (`migrate`). Several laptops share one server: none may migrate it behind the others.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import Engine, Table, UniqueConstraint, event, text
from sqlalchemy.engine import URL, make_url

from crmcompanion.core.errors import DatabaseProblem

if TYPE_CHECKING:
    from crmcompanion.store.database import Database

logger = logging.getLogger(__name__)

EXTRA_HINT = 'pip install "crmcompanion[postgresql]"'
MIGRATE_HINT = "run `crmcompanion db migrate`"
MIN_SERVER_VERSION = 13
EXTENSIONS = ("pg_trgm", "unaccent")
DRIVER = "psycopg"


def is_postgres_url(url: str) -> bool:
    try:
        return make_url(url).get_backend_name() == "postgresql"
    except Exception:
        return False


def masked(url: str | URL) -> str:
    """The URL as it may be shown or logged: its password (if any) replaced by ***."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception:
        return "(an unreadable database URL)"
    return parsed.render_as_string(hide_password=True)


def driver_installed() -> bool:
    if DRIVER in sys.modules:  # imported already, or blocked (None) as a test does
        return sys.modules[DRIVER] is not None
    return importlib.util.find_spec(DRIVER) is not None


def engine_url(url: str) -> URL:
    """The URL SQLAlchemy should open: always the psycopg 3 driver (a bare `postgresql://`
    would ask for psycopg2, which this app does not use). DatabaseProblem for another driver
    or when psycopg is not installed."""
    parsed = make_url(url)
    driver = parsed.get_driver_name()
    if "+" in parsed.drivername and driver != DRIVER:
        raise DatabaseProblem(
            f"The database URL {masked(parsed)} asks for the PostgreSQL driver “{driver}”, "
            f"which is not supported; use postgresql+psycopg://user@host/database.")
    if not driver_installed():
        raise DatabaseProblem(
            "Team mode (PostgreSQL) needs the psycopg driver, which is not installed; "
            f"install it with: {EXTRA_HINT}")
    return parsed.set(drivername=f"postgresql+{DRIVER}")


def problem_from(exc: BaseException, url: str) -> DatabaseProblem:
    """One sentence for a failure to reach or use the server: the driver's first line (which
    never holds the password), and the masked URL."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return DatabaseProblem(f"Cannot use the PostgreSQL database {masked(url)}: {first}.")


def server_major_version(connection: object) -> int:
    number = connection.execute(text("SHOW server_version_num")).scalar_one()  # type: ignore[attr-defined]
    return int(number) // 10000


def stored_revision(connection: object) -> str | None:
    """The schema revision the database holds; None for an empty (unmigrated) database."""
    exists = connection.execute(  # type: ignore[attr-defined]
        text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar_one()
    if not exists:
        return None
    return connection.execute(  # type: ignore[attr-defined]
        text("SELECT version_num FROM alembic_version")).scalar()


def check_server(connection: object, url: str) -> None:
    version = server_major_version(connection)
    if version < MIN_SERVER_VERSION:
        raise DatabaseProblem(
            f"The PostgreSQL server of {masked(url)} runs version {version}; CRM Companion "
            f"needs PostgreSQL {MIN_SERVER_VERSION} or newer.")


def create_extensions(connection: object) -> None:
    """pg_trgm (phone digits found anywhere inside a number) and unaccent; needs a role
    allowed to create them (both are trusted extensions on PostgreSQL 13+, so the database
    owner may)."""
    for name in EXTENSIONS:
        connection.execute(text(f"CREATE EXTENSION IF NOT EXISTS {name}"))  # type: ignore[attr-defined]


def _unopened(url: str) -> Database:
    """A Database object on the server (nothing connected yet); its info shows the URL
    without the password."""
    from crmcompanion.store import database as d

    engine = engine_url(url)
    return d.Database(engine.render_as_string(hide_password=False),
                      info=d.DatabaseInfo(masked(engine), None, None, None))


def open_postgres(url: str) -> Database:
    """A `store.database.Database` on a migrated PostgreSQL database (see module doc)."""
    from crmcompanion.store import database as d

    db = _unopened(url)
    try:
        with db.read_engine.connect() as connection:
            check_server(connection, url)
            revision = stored_revision(connection)
        if revision is None:
            raise DatabaseProblem(
                f"The PostgreSQL database {masked(url)} has no CRM Companion tables yet; "
                f"{MIGRATE_HINT} first.")
        if revision not in d.KNOWN_REVISIONS:
            raise DatabaseProblem(
                f"The PostgreSQL database {masked(url)} was migrated by a newer version of CRM "
                f"Companion (schema {revision}); update the app.")
        if revision != d.HEAD_REVISION:
            raise DatabaseProblem(
                f"The PostgreSQL database {masked(url)} has an older schema ({revision}); "
                f"{MIGRATE_HINT} to update it.")
        db.info = d.DatabaseInfo(db.info.url, None, revision, None)
        d.ensure_local_staff(db)
    except DatabaseProblem:
        db.dispose()
        raise
    except Exception as exc:
        db.dispose()
        if type(exc).__module__.startswith(("sqlalchemy", "psycopg")):
            raise problem_from(exc, url) from exc
        raise
    logger.info("Opened the PostgreSQL database %s (schema %s)", masked(url), revision)
    return db


def migrate_postgres(url: str) -> tuple[str | None, str]:
    """Create the extensions and bring the database to the current schema: (revision before,
    revision after). Running it on a current database changes nothing."""
    from crmcompanion.store import database as d

    db = _unopened(url)
    try:
        with db.write_engine.connect() as connection:
            check_server(connection, url)
            before = stored_revision(connection)
            if before is not None and before not in d.KNOWN_REVISIONS:
                raise DatabaseProblem(
                    f"The PostgreSQL database {masked(url)} was migrated by a newer version of "
                    f"CRM Companion (schema {before}); update the app.")
            create_extensions(connection)
            # Alembic's own table holds 32 characters; this app's revision names are longer
            # (SQLite never enforced the length). Made first, Alembic uses it as it is.
            connection.execute(text(
                "CREATE TABLE IF NOT EXISTS alembic_version (version_num varchar(64) NOT NULL, "
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"))
            connection.commit()
        if before != d.HEAD_REVISION:
            logger.info("Migrating %s from %s to %s", masked(url), before, d.HEAD_REVISION)
            d._run_migrations(db)
        d.ensure_local_staff(db)
        return before, d.HEAD_REVISION
    except DatabaseProblem:
        raise
    except Exception as exc:
        if type(exc).__module__.startswith(("sqlalchemy", "psycopg", "alembic")):
            raise problem_from(exc, url) from exc
        raise
    finally:
        db.dispose()


def _qmark(query: object) -> object:
    if isinstance(query, str):
        return query.replace("%", "%%").replace("?", "%s")
    return query


def qmark_cursor_class() -> type:
    """A psycopg cursor that also takes SQLite's `?` placeholders.

    Why: the store's bulk paths (deletes, exports, duplicate keys) talk to the DBAPI cursor
    directly with `?` marks, the sqlite3 style; psycopg wants `%s`. With positional parameters
    (a tuple or list, never what SQLAlchemy itself passes: it binds by name) the statement's
    `?` become `%s` and its literal `%` are doubled, so those paths run unchanged on both
    engines. Named parameters and statements without parameters pass through untouched."""
    import psycopg
    from psycopg.adapt import Loader
    from psycopg.types.string import TextLoader

    class IntBoolLoader(Loader):
        """A boolean as sqlite3 returns it: 1 or 0."""

        def load(self, data: object) -> int:
            return 1 if bytes(data) == b"t" else 0  # type: ignore[call-overload]

    class QmarkCursor(psycopg.Cursor):  # type: ignore[misc, type-arg]
        sqlite_like = False

        def _positional(self) -> None:
            # Those raw paths also read values the way sqlite3 gives them (dates and
            # timestamps as ISO text, booleans as 1/0); SQLAlchemy's own statements, which bind
            # by name, keep psycopg's types, which its result processing expects.
            if not self.sqlite_like:
                for name in ("date", "timestamp", "timestamptz"):
                    self.adapters.register_loader(name, TextLoader)
                self.adapters.register_loader("bool", IntBoolLoader)
                self.sqlite_like = True

        def execute(self, query, params=None, **kw):  # noqa: ANN001 - psycopg's own
            if isinstance(params, (list, tuple)):
                if params:
                    query = _qmark(query)
                else:  # sqlite3's "no parameters": psycopg would still read % as a mark
                    params = None
                self._positional()
            return super().execute(query, params, **kw)

        def executemany(self, query, params_seq, **kw):  # noqa: ANN001
            params_seq = list(params_seq)
            if params_seq and isinstance(params_seq[0], (list, tuple)):
                query = _qmark(query)
                self._positional()
            return super().executemany(query, params_seq, **kw)

    return QmarkCursor


# Session settings every connection of the app gets (see configure_engine).
SESSION_SETTINGS = (("jit", "off"), ("plan_cache_mode", "force_custom_plan"))
# What a read unit's transaction is (store.database.Database.read): one snapshot for all its
# statements, and no write, row lock or CREATE allowed by the server. Set on psycopg's side
# (its BEGIN says so): no statement more than a plain BEGIN.
READ_UNIT_OPTIONS = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


def configure_engine(engine: Engine) -> None:
    """Every connection of a PostgreSQL engine: `?`-taking cursors (qmark_cursor_class) and
    the session settings of SESSION_SETTINGS.

    JIT off: the app runs short statements whose plans are costed from estimates, and a
    GIN prefix match without fresh statistics is estimated at a few dozen rows where tens of
    thousands match; such a plan's cost passes jit_above_cost and PostgreSQL compiles it
    first (measured at 100,000 customers: 265 ms of JIT for a 300 ms keystroke statement).
    JIT pays for long analytic queries only, which the app never runs. Set per session, so
    the server's own configuration is left alone.

    Custom plans always (`plan_cache_mode = force_custom_plan`): psycopg prepares a
    statement a connection runs a fifth time (units keep them: reads end with COMMIT,
    store.database.Database.read), and a search statement planned once generically would
    read the whole book for 'a' the way it suits 'zoë'. Each run is still planned for its
    own values; what preparing saves is the parse and analysis (and psycopg's own
    conversion of the query)."""
    cursor_class = qmark_cursor_class()

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI types
        dbapi_connection.cursor_factory = cursor_class
        for name, value in SESSION_SETTINGS:  # constants: no parameters to bind
            dbapi_connection.execute(f"SET {name} = {value}")
        # Kept for the session by this commit (a SET in the connection's first transaction
        # would be undone by the pool's rollback).
        dbapi_connection.commit()


def update_or_ignore(table: Table, sets: dict[str, str], where: str) -> str:
    """SQLite's `UPDATE OR IGNORE table SET ... WHERE ...` in PostgreSQL's words: a row whose
    new values would repeat a unique key (primary key or unique constraint) another row
    already has stays as it is, as SQLite skips it. `sets` maps each changed column to its
    SQL expression over the row being updated (named by the table's own name)."""
    keys = [tuple(c.name for c in table.primary_key.columns)] + [
        tuple(c.name for c in constraint.columns) for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)] + [
        tuple(c.name for c in index.columns) for index in table.indexes if index.unique]
    name = table.name
    clashes = []
    for key in keys:
        if not key or not set(key) & set(sets):
            continue  # unchanged by this update: the row keeps its own unique value
        same = " AND ".join(f"k.{col} = {sets.get(col, f'{name}.{col}')}" for col in key)
        clashes.append(f"NOT EXISTS (SELECT 1 FROM {name} k WHERE {same})")
    assignments = ", ".join(f"{col} = {value}" for col, value in sets.items())
    return f"UPDATE {name} SET {assignments} WHERE {' AND '.join([f'({where})', *clashes])}"


def vacuum(db: Database, tables: Iterable[str]) -> None:
    """VACUUM `tables` (team mode's stand-in for SQLite's secure_delete after an erase): the
    erased rows' dead versions are removed from the tables and their indexes at once rather
    than whenever autovacuum comes by. Best effort: outside any transaction (VACUUM refuses
    one), and a failure is logged, never raised, as the erase itself is committed. What the
    server's write-ahead log and its backups still hold is the administrator's to expire."""
    names = sorted(set(tables))
    try:
        with db.write_engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            for name in names:
                connection.exec_driver_sql(f'VACUUM "{name}"')
    except Exception as exc:  # the erase is committed: the vacuum is a clean-up
        logger.warning("VACUUM after an erase failed (%s): autovacuum will do it later",
                       type(exc).__name__)
