"""The search index of a big import into an empty index, built on the other core.

Why: a run of an import is SQLite work on one connection (~2.3 s of 100,000 rows), and
indexing the search rows is ~0.85 s of it. FTS5 cannot merge an index built elsewhere into
one that has rows, but an empty index can be replaced by another one of the same definition:
its shadow tables (`customer_search_data`, `_idx`, `_content`, `_docsize`) hold nothing else
than those rows, with the rowids (customer ids) as they are. So when the search index is
empty (a first import, the usual big one), a child process (forked, or spawned where this
process may not fork: `infra.forking`) indexes the staged search rows into a scratch file,
with the very ids and statement `bulk.insert_staged` would use, while the loading connection
copies the other rows and rebuilds their indexes; the shadow tables are then copied in, in
the same transaction (all or nothing, as before).

The loading connection must not index anything itself afterwards: FTS5 keeps the index
structure it last read in the connection's memory and notices only other connections'
commits. `copy_into` is therefore the last thing done to the index in that transaction, and
the caller closes the connection after the commit (the next one reads the new structure).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from crmcompanion.infra import forking
from crmcompanion.store import rows, staging
from crmcompanion.store.fts_structure import STRUCTURE_ROWID, level_sizes

# The search index's shadow tables that hold its rows (its settings, `_config`, stay).
_SHADOW_TABLES = ("data", "idx", "content", "docsize")
SEARCH_TABLE = "customer_search"
# Below this many new customers indexing them in line costs less than the fork and the copy;
# a spawned interpreter (where this process may not fork) first spends ~0.07 s starting.
MIN_ROWS = 10_000
MIN_SPAWNED_ROWS = 20_000
SCHEMA = "search_aside"
_PREFIX = "crmcompanion-search-"
# FTS5 settings for the load, (name, value) as `INSERT INTO t(t, rank)` takes them.
Settings = tuple[tuple[str, int], ...]


def worth_it(rows: int) -> bool:
    """Whether indexing `rows` new customers aside gains time here (fork or spawn)."""
    if forking.can_fork():
        return rows >= MIN_ROWS
    return rows >= MIN_SPAWNED_ROWS and forking.can_spawn()


def index_levels(cursor: sqlite3.Cursor) -> list[int] | None:
    """The number of segments on each level of the search index ([]: none yet), or None when
    its structure cannot be read."""
    found = cursor.execute(f"SELECT block FROM main.{SEARCH_TABLE}_data WHERE id = ?",
                           (STRUCTURE_ROWID,)).fetchone()
    return [] if found is None else level_sizes(bytes(found[0]))


def fullest_level(cursor: sqlite3.Cursor) -> int | None:
    """The most segments one level of the search index holds (0: none), or None when its
    structure cannot be read."""
    sizes = index_levels(cursor)
    return None if sizes is None else max(sizes, default=0)


def index_is_empty(cursor: sqlite3.Cursor) -> bool:
    return cursor.execute(
        f"SELECT 1 FROM main.{SEARCH_TABLE}_content LIMIT 1").fetchone() is None


class SearchAside:
    """A scratch file for the search index, in a folder of its own, and the child that
    creates and fills it. Removed by `close`, used or not.

    Only the child opens the file until it is done: SQLite keeps one record of a file's
    locks per process, and a forked child has a copy of the parent's, so a file the parent
    had open could look locked to the child (the parent attaches it once the child is gone,
    and the caller closes that connection after the commit, which also detaches it)."""

    def __init__(self, folder: Path | None) -> None:
        """Raises OSError when no interpreter can be spawned (the caller indexes in line)."""
        self._child: forking.ForkedCall | forking.SpawnedCall | None = None
        # Where this process may not fork, the interpreter that will index is started now:
        # its imports then overlap the duplicate matching that comes before `start`.
        self._spawned = None if forking.can_fork() else forking.SpawnedCall(
            _index_in_child, failure="Indexing the search rows failed")
        try:
            self._folder = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=folder))
        except BaseException:
            if self._spawned is not None:
                self._spawned.kill()
            raise
        self.path = self._folder / "search.sqlite3"

    def start(self, cursor: sqlite3.Cursor, stage_path: str, first_id: int,
              search_statement: str, chunk: int, settings: Settings) -> None:
        """Fork the child that indexes the staged search rows not in temp.import_dups, the
        rows `staging.number_rows(cursor, first_id)` numbered (the child numbers them again,
        with the same function and the same duplicates)."""
        (definition,) = cursor.execute(
            "SELECT sql FROM main.sqlite_master WHERE name = ?", (SEARCH_TABLE,)).fetchone()
        duplicates = [row for (row,) in cursor.execute("SELECT row FROM temp.import_dups")]
        args = (str(self.path), stage_path, definition, first_id, duplicates, search_statement,
                chunk, settings)
        if self._spawned is not None:
            self._child, self._spawned = self._spawned, None
            self._child.call(*args)
        else:
            self._child = forking.ForkedCall(partial(_index_in_child, *args),
                                             failure="Indexing the search rows failed")

    def copy_into(self, cursor: sqlite3.Cursor, expected: int) -> None:
        """Wait for the child, then replace the (empty) index's rows by the built ones."""
        assert self._child is not None
        indexed = self._child.result()
        if indexed != expected:
            raise RuntimeError(f"The search index was built for {indexed} customers, "
                               f"not {expected}.")
        cursor.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (str(self.path),))
        for suffix in _SHADOW_TABLES:
            table = f"{SEARCH_TABLE}_{suffix}"
            cursor.execute(f"DELETE FROM main.{table}")
            cursor.execute(f"INSERT INTO main.{table} SELECT * FROM {SCHEMA}.{table}")

    def close(self) -> None:
        for child in (self._child, self._spawned):
            if child is not None:
                child.kill()
        self._child = self._spawned = None
        shutil.rmtree(self._folder, ignore_errors=True)


def _index_in_child(path: str, stage_path: str, definition: str, first_id: int,
                    duplicates: Sequence[int], search_statement: str, chunk: int,
                    settings: Settings) -> int:  # pragma: no cover - runs in the child
    """Index the staged rows into the scratch file at `path`; returns how many."""
    # The staging file is only read (the parent holds its read lock meanwhile, see
    # export_cells.part_reader for why sharing it is safe).
    conn = rows.open_scratch(path)
    try:
        conn.execute(definition)
        conn.execute(f"ATTACH DATABASE ? AS {staging.SCHEMA}", (stage_path,))
        cursor = conn.cursor()
        conn.execute("BEGIN")
        with staging.work_tables(cursor):
            cursor.executemany("INSERT INTO temp.import_dups (row) VALUES (?)",
                               [(row,) for row in duplicates])
            count = staging.number_rows(cursor, first_id)
            for key, value in settings:
                cursor.execute(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rank) VALUES (?, ?)",
                               (key, value))
            last_id = first_id + count - 1
            for start in range(first_id, last_id + 1, chunk):
                cursor.execute(search_statement,
                               {"first": start, "last": min(last_id, start + chunk - 1)})
        conn.execute("COMMIT")
        return count
    finally:
        conn.close()
