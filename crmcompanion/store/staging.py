"""A temporary SQLite file holding an import's validated rows, in the shapes of the live tables.

Why: an import is previewed first (every row parsed and checked, nothing written) and run later,
maybe after the user looked at the problems for a while. Parsing and checking 100,000 rows is
most of an import's cost, and doing it twice (once for the preview, once for the run) was most
of its time. So the preview writes each valid row here as the plain tuples `bulk` inserts, with
file-relative row numbers instead of customer ids and tag names instead of tag ids, and the run
copies them into the live database with INSERT ... SELECT (`bulk.insert_staged`), numbering
them from the live database's next free id. A 1,000,000-row file streams through this file on
disk: nothing of it is held in memory.

The file is written with the journal and fsync off (it is scratch: a crash loses nothing that
the CSV file does not still hold) and removed when `discard` is called or the object is
garbage-collected (the preview's plan is dropped) or the process exits. A file left behind by a
killed process is removed by the next import after a day.
"""

from __future__ import annotations

import gc
import logging
import os
import sqlite3
import sys
import tempfile
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import IO, cast

try:
    import fcntl
except ImportError:  # Windows: no fcntl (and no forked child either)
    fcntl = None  # type: ignore[assignment]

from crmcompanion.core import forking
from crmcompanion.core.customer import (
    Channel,
    CustomerDraft,
    EmailAddress,
    Kind,
    PhoneNumber,
    PostalAddress,
    SpecialDate,
    SpecialDateKind,
    Status,
)
from crmcompanion.core.customer_values import CustomerValues
from crmcompanion.store.rows import (
    DATA_COLUMNS,
    ENUM_VALUES,
    BulkRows,
    open_scratch,
    rows_from_values,
)

logger = logging.getLogger(__name__)

SCHEMA = "import_stage"  # its name while attached to the live connection
PREFIX = "crmcompanion-import-"
STALE_AFTER_S = 24 * 3600
STAGING_PAGE_SIZE = 32768

# The live tables' columns, the customer id replaced by `row` (1, 2, ... in file order) and
# tag ids by tag names; `line` is the row's first line in the file.
_TABLES = (
    f"CREATE TABLE customers ({', '.join(('row INTEGER PRIMARY KEY', *DATA_COLUMNS))},"
    " line INTEGER NOT NULL)",
    "CREATE TABLE emails (row INTEGER, position INTEGER, label, address, address_key, "
    "PRIMARY KEY (row, position)) WITHOUT ROWID",
    "CREATE TABLE phones (row INTEGER, position INTEGER, label, number, digits, "
    "PRIMARY KEY (row, position)) WITHOUT ROWID",
    # seq: the order within a row (the draft's order of tags and dates).
    "CREATE TABLE tags (row INTEGER, seq INTEGER, name, key, PRIMARY KEY (row, seq)) "
    "WITHOUT ROWID",
    "CREATE TABLE dates (row INTEGER, seq INTEGER, kind, label, month, day, year, md_key, "
    "PRIMARY KEY (row, seq)) WITHOUT ROWID",
    "CREATE TABLE search (row INTEGER PRIMARY KEY, name, company, emails, phones, tags, notes, "
    "flags)",
)
# The staged rows sharing a duplicate key with another row of the file (`FileKeys`).
FILE_CANDIDATES = "file_candidates"
_UID_AT = 1 + DATA_COLUMNS.index("source_uid")  # in a staged customers row
_ROW, _KEY = itemgetter(0), itemgetter(4)  # of staged emails and phones rows
_CUSTOMER_MARKS = ", ".join("?" * (len(DATA_COLUMNS) + 2))


def _remove(path: str) -> None:
    for suffix in ("", "-journal"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass
        except OSError as error:  # still open elsewhere (Windows): the OS temp cleanup's turn
            logger.warning("Could not remove the import staging file %s: %s", path, error)


def remove_stale(folder: str | os.PathLike[str] | None) -> None:
    """Remove staging files a killed process left in `folder` more than a day ago."""
    where = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    cutoff = time.time() - STALE_AFTER_S
    try:
        for path in where.glob(f"{PREFIX}*.sqlite3"):
            try:
                if path.stat().st_mtime < cutoff:
                    _remove(str(path))
            except OSError:
                continue
    except OSError:
        return


class FileKeys:
    """Which staged rows share a duplicate key (source UID, email, E.164 phone digits) with
    another row of the file, noted as the rows are written: what `mark_candidates` would
    otherwise find with three GROUP BY sorts of the staged keys (~0.24 s of 100,000 rows, in
    the run, on the one busy core), for ~0.1 s here (in the staging writer, the forked one
    when there is one).

    Keys are kept as their hash, so the memory stays ~100 bytes per key: a hash shared by two
    different keys only makes two more rows candidates, which the duplicate matcher then
    checks on their real keys. Past LIMIT rows nothing is noted any more (memory), and the run
    sorts the keys in SQL as before."""

    LIMIT = 250_000

    def __init__(self) -> None:
        self.complete = True
        self._rows = 0
        self._firsts: tuple[dict[int, int], dict[int, int], dict[int, int]] = ({}, {}, {})
        self._shared: set[int] = set()

    def add(self, rows: BulkRows) -> None:
        if not self.complete:
            return
        self._rows += len(rows.customers)
        if self._rows > self.LIMIT:
            self.complete = False
            self._firsts = ({}, {}, {})
            self._shared = set()
            return
        uids, emails, phones = self._firsts
        with_uid = [c for c in rows.customers if c[_UID_AT]]
        self._note(uids, [hash(c[_UID_AT]) for c in with_uid], [c[0] for c in with_uid])
        self._note(emails, list(map(hash, map(_KEY, rows.emails))), list(map(_ROW, rows.emails)))
        e164 = [p for p in rows.phones if p[3][:1] == "+"]
        self._note(phones, list(map(hash, map(_KEY, e164))), list(map(_ROW, e164)))

    def _note(self, firsts: dict[int, int], keys: list[int], rows: list[int]) -> None:
        """Note the keys of one batch (rows ascending): dictionary and set operations in C,
        a loop over the batch only when a key repeats."""
        shared = self._shared
        batch = dict(zip(keys, rows, strict=True))
        if len(batch) < len(keys):  # a key twice in this batch (maybe in one row)
            batch = {}
            for key, row in zip(keys, rows, strict=True):
                first = batch.setdefault(key, row)
                if first != row:
                    shared.add(first)
                    shared.add(row)
        clashes = batch.keys() & firsts.keys()  # keys of earlier batches' rows too
        if clashes:
            for key, row in zip(keys, rows, strict=True):
                if key in clashes:
                    shared.add(firsts[key])
                    shared.add(row)
            for key in clashes:
                del batch[key]
        firsts.update(batch)

    def write(self, conn: sqlite3.Connection) -> None:
        """The rows found, as table FILE_CANDIDATES, when every row was seen."""
        if self.complete:
            conn.execute(f"CREATE TABLE {FILE_CANDIDATES} (row INTEGER PRIMARY KEY)")
            conn.executemany(f"INSERT INTO {FILE_CANDIDATES} VALUES (?)",
                             [(row,) for row in sorted(self._shared)])


class StagingFile:
    """The staged rows of one import: written by one thread (`add`, then `finish`), then read
    by any number of runs through `bulk.attached`."""

    def __init__(self, folder: str | os.PathLike[str] | None = None,
                 in_child: bool = False) -> None:
        """`in_child`: a second process writes the rows (see `_ChildWriter`); only where
        `core.forking.can_fork()` or `can_spawn()`."""
        remove_stale(folder)
        handle, self.path = tempfile.mkstemp(prefix=PREFIX, suffix=".sqlite3", dir=folder)
        os.close(handle)
        self._finalizer = weakref.finalize(self, _remove, self.path)
        self.rows = 0  # staged so far; row numbers are 1..rows
        self._conn: sqlite3.Connection | None = None
        self._child: _ChildWriter | None = None
        if in_child:
            try:
                self._child = _ChildWriter(self.path)  # before any connection: none is forked
            except OSError as error:  # no interpreter to spawn: written here after all
                logger.warning("Staging the import in this process: %s", error)
        # Noted by whoever writes the rows: the child has its own (see `_write_batches`).
        self._keys: FileKeys | None = None if self._child is not None else FileKeys()
        if self._child is None:
            self._conn = _open_for_writing(self.path, create=True)

    def add(self, items: Sequence[tuple[int, CustomerValues]]) -> None:
        """Stage validated customers, each with the line it starts on, as the next rows."""
        if not items:
            return
        first = self.rows + 1
        if self._child is not None:
            self._child.send(first, items)
        else:
            self._write(first, items)
        self.rows += len(items)

    def replace(self, items: Sequence[tuple[int, CustomerValues]]) -> None:
        """Stage these customers instead of the rows staged earlier from the same lines (dates
        read before the file's day/month order was known, read again)."""
        self._join_child()
        if self._conn is None:
            self._conn = _open_for_writing(self.path, create=False)
        conn = self._open()
        conn.execute("CREATE INDEX IF NOT EXISTS customers_line ON customers (line)")
        by_line: dict[int, int] = {}
        lines = [line for line, _ in items]
        for start in range(0, len(lines), 500):
            part = lines[start:start + 500]
            by_line.update(conn.execute(
                f"SELECT line, row FROM customers WHERE line IN ({', '.join('?' * len(part))})",
                part))
        # Keys may differ from the rows replaced: the run finds the shared ones in SQL.
        conn.execute(f"DROP TABLE IF EXISTS {FILE_CANDIDATES}")
        self._keys = None
        kept = [(line, values) for line, values in items if line in by_line]
        gone = [(by_line[line],) for line, _ in kept]
        for table in ("customers", "emails", "phones", "tags", "dates", "search"):
            conn.executemany(f"DELETE FROM {table} WHERE row = ?", gone)
        rows = rows_from_values([values for _, values in kept], 0, fill_uids=False)
        # Made as rows 0..n-1: give each back its own row number.
        numbers = [row for (row,) in gone]
        for table in (rows.customers, rows.emails, rows.phones, rows.tags, rows.dates,
                      rows.search):
            table[:] = [(numbers[t[0]], *t[1:]) for t in table]
        write_rows(conn, rows, [line for line, _ in kept])

    def finish(self) -> None:
        """Commit and close the writer; the file is then read-only."""
        self._join_child()
        if self._conn is not None:
            if self._keys is not None:
                self._keys.write(self._conn)
            self._conn.execute("COMMIT")
            self._conn.close()
            self._conn = None

    def discard(self) -> None:
        """Stop writing (if still at it) and remove the file now."""
        if self._child is not None:
            self._child.kill()
            self._child = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._finalizer()

    def _join_child(self) -> None:
        if self._child is not None:
            child, self._child = self._child, None
            child.finish()

    @property
    def exists(self) -> bool:
        return self._finalizer.alive and os.path.exists(self.path)

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the staging file is finished")
        return self._conn

    def _write(self, first: int, items: Sequence[tuple[int, CustomerValues]]) -> None:
        rows = rows_from_values([values for _, values in items], first, fill_uids=False)
        if self._keys is not None:
            self._keys.add(rows)
        write_rows(self._open(), rows, [line for line, _ in items])


def _open_for_writing(path: str, create: bool) -> sqlite3.Connection:
    """A scratch connection (`rows.open_scratch`) in a transaction."""
    conn = open_scratch(path)
    if create:
        # Rows only ever appended: bigger pages mean fewer to fill and link (writing 100,000
        # rows: 0.94 -> 0.87 s).
        conn.execute(f"PRAGMA page_size = {STAGING_PAGE_SIZE}")
    conn.execute("BEGIN")
    if create:
        for statement in _TABLES:
            conn.execute(statement)
    return conn


# --- writing in a forked child ---------------------------------------------------------------


def _wire(values: CustomerValues) -> tuple[object, ...]:
    """The values in types marshal takes: enum members as their values (equal to them as
    dictionary keys, which is all `rows.rows_from_values` does with them), the customer-since
    date as ISO text (which `rows.rows_from_values` takes as it is)."""
    plain = ENUM_VALUES
    (first, last, display, company, emails, phones, address, tags, status, kind, key_account,
     channel, since, notes, specials, uid) = values
    return (first, last, display, company, emails, phones, address, tags, plain[status],
            plain[kind], key_account, plain[channel] if channel else None,
            since.isoformat() if since else None, notes,
            [(plain[k], m, d, y, label) for k, m, d, y, label in specials] if specials else (),
            uid)


class _ChildWriter:
    """A second process that writes the staged rows into the file while this one reads and
    checks the rest of the CSV file (~1.2 s of 100,000 rows bound value by value, plus
    making the row tuples, off the reading process's core).

    Why a process: binding values holds the GIL, and two busy SQLite connections in one
    process slow each other down (see `bulk.StagedParts`). Batches go down a pipe as marshal
    data (~0.2 s of 100,000 rows each way). The child only writes this file; an error it meets
    comes back as text and is raised by `finish`. Forked where this process may fork
    (`core.forking.ForkedCall`), else (the GUI's worker thread) a spawned interpreter
    (`core.forking.SpawnedCall`) that reads the batches from its standard input.
    """

    def __init__(self, path: str) -> None:
        self._child: forking.ForkedCall | forking.SpawnedCall
        if not forking.can_fork():
            self._child = forking.SpawnedCall(_write_spawned, failure="Staging the import failed")
            self._child.call(path)
            self._batches: IO[bytes] | None = self._child.input
            _widen_pipe(self._child.input.fileno())
            return
        readable, writable = os.pipe()

        def write_all() -> None:  # pragma: no cover - runs in the child (its file is compared)
            os.close(writable)  # the child's copy: the parent's close must end its reading
            with os.fdopen(readable, "rb") as batches:
                _write_batches(path, batches)

        _widen_pipe(writable)
        self._child = forking.ForkedCall(write_all, failure="Staging the import failed")
        os.close(readable)
        self._batches = os.fdopen(writable, "wb")

    def send(self, first: int, items: Sequence[tuple[int, CustomerValues]]) -> None:
        assert self._batches is not None
        try:
            forking.send_value(self._batches, (first, [(line, _wire(v)) for line, v in items]))
        except BrokenPipeError:
            self.finish()  # raises what stopped the child
            raise

    def finish(self) -> None:
        """Wait for the child to write all it was sent; raise if it failed."""
        self._close_batches()
        self._child.result()

    def kill(self) -> None:
        self._child.kill()
        self._close_batches()

    def _close_batches(self) -> None:
        if self._batches is not None:
            with suppress(BrokenPipeError):
                self._batches.close()
            self._batches = None


# A pipe holds 64 KB by default, less than one batch (~0.3 MB of 1,000 rows): the reader
# then waited at every batch until the writer had taken it. With room for a few batches it
# reads on while the writer is slower on one.
_PIPE_BYTES = 1024 * 1024


def _widen_pipe(fd: int) -> None:
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if set_size is None:
        return
    # Above the system's limit (/proc/sys/fs/pipe-max-size) the default stays.
    with suppress(OSError):
        fcntl.fcntl(fd, set_size, _PIPE_BYTES)


def _write_spawned(path: str) -> None:  # pragma: no cover - runs in the spawned interpreter
    _write_batches(path, sys.stdin.buffer)


def _write_batches(path: str, batches: IO[bytes]) -> None:  # pragma: no cover - in the child
    """Write the batches `_ChildWriter.send` sent, until the stream ends, then commit."""
    gc.disable()  # only short-lived tuples here
    conn = _open_for_writing(path, create=True)
    keys = FileKeys()
    for first, items in forking.received_values(batches):  # type: ignore[misc]
        # As wired: rows_from_values takes the enum values and ISO dates as they are.
        rows = rows_from_values(cast("list[CustomerValues]", [v for _, v in items]), first,
                                fill_uids=False)
        keys.add(rows)
        write_rows(conn, rows, [line for line, _ in items])
    keys.write(conn)
    conn.execute("COMMIT")
    conn.close()


def write_rows(conn: sqlite3.Connection, rows: BulkRows, lines: Sequence[int]) -> None:
    """Write `rows` (customer ids are the staged row numbers, tags are (row, name, folded
    name)) to the staging tables; `lines[i]` is the file line of `rows.customers[i]`."""
    conn.executemany(f"INSERT INTO customers VALUES ({_CUSTOMER_MARKS})",
                     [(*c, line) for c, line in zip(rows.customers, lines, strict=True)])
    conn.executemany("INSERT INTO emails VALUES (?, ?, ?, ?, ?)", rows.emails)
    conn.executemany("INSERT INTO phones VALUES (?, ?, ?, ?, ?)", rows.phones)
    conn.executemany("INSERT INTO tags VALUES (?, ?, ?, ?)",
                     [(t[0], i, t[1], t[2]) for i, t in enumerate(rows.tags)])
    conn.executemany("INSERT INTO dates VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     [(d[0], i, *d[1:]) for i, d in enumerate(rows.dates)])
    conn.executemany("INSERT INTO search VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows.search)


# --- reading, on the live connection with the file attached as SCHEMA -----------------------


StagedKeys = tuple[int, int, str, list[str], list[str]]

# The tables of one run (or preview) over the attached staging file, in the connection's
# temporary schema: the rows that may be duplicates, the rows that are, and the customer id
# each remaining row gets.
_WORK_TABLES = (
    "CREATE TEMP TABLE import_candidates (row INTEGER PRIMARY KEY)",
    "CREATE TEMP TABLE import_dups (row INTEGER PRIMARY KEY)",
    "CREATE TEMP TABLE import_ids (id INTEGER PRIMARY KEY, row INTEGER NOT NULL)",
)
_E164 = "substr(number, 1, 1) = '+'"  # the phones duplicates are matched on


@contextmanager
def work_tables(cursor: sqlite3.Cursor) -> Iterator[None]:
    """The temporary tables `mark_candidates`, `add_duplicates`, `number_rows` and
    `bulk.insert_staged` use, dropped after the block."""
    for statement in _WORK_TABLES:
        cursor.execute(statement)
    try:
        yield
    finally:
        for table in ("import_candidates", "import_dups", "import_ids"):
            cursor.execute(f"DROP TABLE IF EXISTS temp.{table}")


def mark_candidates(cursor: sqlite3.Cursor, lookup: bool) -> None:
    """Note the staged rows that may be duplicates: those sharing a key (source UID, email,
    E.164 phone digits) with another row of the file and, with `lookup`, those with a key
    stored in the database (a UID only matches one stored on a customer here).
    Every other row is new: nothing stored has its keys and no other row shares them, so the
    duplicate matcher (and its memory of keys) needs to see only these, in SQL's time."""
    s = SCHEMA
    noted = cursor.execute(f"SELECT 1 FROM {s}.sqlite_master WHERE name = ?",
                           (FILE_CANDIDATES,)).fetchone()
    sources = [f"SELECT row FROM {s}.{FILE_CANDIDATES}"] if noted else [  # see FileKeys
        f"SELECT row FROM {s}.customers WHERE source_uid IN (SELECT source_uid FROM "
        f"{s}.customers WHERE source_uid <> '' GROUP BY source_uid HAVING count(*) > 1)",
        f"SELECT row FROM {s}.emails WHERE address_key IN (SELECT address_key FROM {s}.emails "
        "GROUP BY address_key HAVING count(DISTINCT row) > 1)",
        f"SELECT row FROM {s}.phones WHERE {_E164} AND digits IN (SELECT digits FROM "
        f"{s}.phones WHERE {_E164} GROUP BY digits HAVING count(DISTINCT row) > 1)",
    ]
    if lookup:
        sources += [
            f"SELECT row FROM {s}.customers WHERE source_uid <> '' AND source_uid IN "
            "(SELECT source_uid FROM main.customers)",
            f"SELECT row FROM {s}.emails WHERE address_key IN "
            "(SELECT address_key FROM main.customer_emails)",
            f"SELECT row FROM {s}.phones WHERE {_E164} AND digits IN "
            "(SELECT digits FROM main.customer_phones)",
        ]
    for source in sources:
        cursor.execute(f"INSERT OR IGNORE INTO temp.import_candidates (row) {source}")


def add_duplicates(cursor: sqlite3.Cursor, rows: Sequence[int]) -> None:
    cursor.executemany("INSERT INTO temp.import_dups (row) VALUES (?)", [(r,) for r in rows])


def number_rows(cursor: sqlite3.Cursor, first_id: int) -> int:
    """Give the staged rows that are not duplicates the customer ids first_id, first_id + 1,
    ... in file order (temp.import_ids); returns how many."""
    # SQLite gives a row inserted without a rowid the table's largest rowid + 1: after a
    # placeholder at first_id - 1, the rows (in row order) get first_id, first_id + 1, ...
    # A third of the time of numbering them with row_number() (0.02 s of 100,000, not 0.06).
    cursor.execute("INSERT INTO temp.import_ids (id, row) VALUES (?, 0)", (first_id - 1,))
    cursor.execute(
        f"INSERT INTO temp.import_ids (row) SELECT row FROM {SCHEMA}.customers "
        "WHERE row NOT IN (SELECT row FROM temp.import_dups) ORDER BY row")
    count = cursor.rowcount
    cursor.execute("DELETE FROM temp.import_ids WHERE id = ?", (first_id - 1,))
    return count


def iter_keys(cursor: sqlite3.Cursor, size: int) -> Iterator[list[StagedKeys]]:
    """The duplicate keys of the candidate rows (`mark_candidates`) in row order, in lists of
    `size`: the source UID, the lowercased emails, and the digits of the phones written in
    E.164 (as `services.import_export._Matcher.keys` takes them from a draft)."""
    # From the candidates (usually few) to their staged rows: CROSS JOIN keeps SQLite from
    # scanning every staged row instead (0.04 s of 100,000).
    only = "temp.import_candidates k CROSS JOIN {table} s ON s.row = k.row"
    emails = cursor.connection.execute(
        f"SELECT s.row, s.address_key FROM {only.format(table=SCHEMA + '.emails')} "
        "ORDER BY s.row, s.position")
    phones = cursor.connection.execute(
        f"SELECT s.row, s.digits FROM {only.format(table=SCHEMA + '.phones')} "
        "WHERE substr(s.number, 1, 1) = '+' ORDER BY s.row, s.position")
    next_email = next(emails, None)
    next_phone = next(phones, None)
    batch: list[StagedKeys] = []
    for row, line, uid in cursor.connection.execute(  # cursors of its own: the caller's
            f"SELECT s.row, s.line, s.source_uid "  # is free
            f"FROM {only.format(table=SCHEMA + '.customers')} ORDER BY s.row"):
        row_emails: list[str] = []
        while next_email is not None and next_email[0] == row:
            row_emails.append(next_email[1])
            next_email = next(emails, None)
        row_phones: list[str] = []
        while next_phone is not None and next_phone[0] == row:
            row_phones.append(next_phone[1])
            next_phone = next(phones, None)
        batch.append((row, line, uid, row_emails, row_phones))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def drafts(cursor: sqlite3.Cursor, rows: Sequence[int]) -> dict[int, CustomerDraft]:
    """The drafts staged as these rows (for merging them into stored customers)."""
    out: dict[int, CustomerDraft] = {}
    for row in rows:
        found = cursor.execute(
            f"SELECT first_name, last_name, company, street, city, region, postcode, country, "
            f"status, kind, key_account, preferred_channel, customer_since, notes, source_uid "
            f"FROM {SCHEMA}.customers WHERE row = ?", (row,)).fetchone()
        if found is None:
            continue
        (first, last, company, street, city, region, postcode, country, status, kind, key,
         channel, since, notes, uid) = found
        emails = tuple(EmailAddress(address, label) for label, address in cursor.execute(
            f"SELECT label, address FROM {SCHEMA}.emails WHERE row = ? ORDER BY position",
            (row,)))
        phones = tuple(PhoneNumber(number, label) for label, number in cursor.execute(
            f"SELECT label, number FROM {SCHEMA}.phones WHERE row = ? ORDER BY position",
            (row,)))
        tags = tuple(name for (name,) in cursor.execute(
            f"SELECT name FROM {SCHEMA}.tags WHERE row = ? ORDER BY seq", (row,)))
        specials = tuple(
            SpecialDate(SpecialDateKind(kind_), month, day, year, label)
            for kind_, label, month, day, year in cursor.execute(
                f"SELECT kind, label, month, day, year FROM {SCHEMA}.dates WHERE row = ? "
                "ORDER BY seq", (row,)))
        out[row] = CustomerDraft(
            first_name=first, last_name=last, company=company, emails=emails, phones=phones,
            address=PostalAddress(street, city, region, postcode, country), tags=tags,
            status=Status(status), kind=Kind(kind), key_account=bool(key),
            preferred_channel=Channel(channel) if channel else None,
            customer_since=date.fromisoformat(since) if since else None, notes=notes,
            special_dates=specials, source_uid=uid)
    return out
