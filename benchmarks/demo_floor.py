"""The floor under `demo_generate_s`: what SQLite alone spends writing the rows a demo fills.

Usage: python benchmarks/demo_floor.py DATABASE   (a database `demo --customers N` filled)

Why it exists: `demo_generate_s` (target 4 s at 100,000 customers) sits below its raw baseline
(`run.py`: executemany of every table's rows, the search index's shadow tables copied as
they are). That baseline copies the full-text index already built; the demo has to build
it. This script splits the work SQLite cannot be spared, per table, so a reader can see which
part of the target is out of reach on one core and what the app's own Python adds on top:

- each plain table's rows (read beforehand) executemany'd into an empty copy of the schema
  with its indexes and without triggers, one transaction, journal off (the cheapest SQLite
  allows), CPU seconds per table;
- the customer search index built the way the app must build it: its rows inserted into the
  FTS5 table, which tokenizes them (the baseline copies the finished index instead);
- the plain tables again without indexes, and their indexes built afterwards.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

_SHADOW_SUFFIXES = ("_data", "_idx", "_content", "_docsize", "_config")
SEARCH_TABLE = "customer_search"


def measure(database: Path) -> dict[str, float]:
    """CPU seconds per table written (over 0.05 s), their sum, the search index tokenized,
    and the whole transaction."""
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    objects = source.execute(
        "SELECT type, name, sql FROM sqlite_master "
        "WHERE sql IS NOT NULL AND type IN ('table', 'index')").fetchall()
    virtual = {name for kind, name, sql in objects if sql.upper().startswith("CREATE VIRTUAL")}
    shadows = {v + suffix for v in virtual for suffix in _SHADOW_SUFFIXES}
    tables = [name for kind, name, _ in objects
              if kind == "table" and name not in shadows and name not in virtual]
    rows = {name: source.execute(f'SELECT * FROM "{name}"').fetchall() for name in tables}
    search_columns = [r[1] for r in source.execute(f"PRAGMA table_info({SEARCH_TABLE})")]
    search_rows = source.execute(
        f"SELECT rowid, {', '.join(search_columns)} FROM {SEARCH_TABLE}").fetchall()
    source.close()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="crmcompanion-demo-floor-") as folder:
        target = sqlite3.connect(Path(folder) / "floor.sqlite3", isolation_level=None)
        target.execute("PRAGMA journal_mode = OFF")
        target.execute("PRAGMA synchronous = OFF")
        for kind, name, sql in objects:  # tables (virtual ones make their shadows), indexes
            if name not in shadows and (kind == "table" or kind == "index"):
                target.execute(sql)
        target.execute("BEGIN")
        whole = time.process_time()
        plain = 0.0
        for name in sorted(tables, key=lambda n: -len(rows[n])):
            if not rows[name]:
                continue
            cpu = time.process_time()
            marks = ", ".join("?" * len(rows[name][0]))
            target.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows[name])
            spent = time.process_time() - cpu
            plain += spent
            if spent > 0.05:
                figures[f"{name} ({len(rows[name]):,} rows)"] = spent
        figures["plain tables with their indexes"] = plain
        cpu = time.process_time()
        marks = ", ".join("?" * (len(search_columns) + 1))
        target.executemany(
            f"INSERT INTO {SEARCH_TABLE} (rowid, {', '.join(search_columns)}) VALUES ({marks})",
            search_rows)
        figures[f"{SEARCH_TABLE} tokenized ({len(search_rows):,} rows)"] = (
            time.process_time() - cpu)
        target.execute("COMMIT")
        figures["all of it, one transaction"] = time.process_time() - whole
        target.close()
        # The same plain rows into tables without indexes, the indexes built afterwards (what
        # a bulk load can do instead of updating each index row by row).
        target = sqlite3.connect(Path(folder) / "later.sqlite3", isolation_level=None)
        target.execute("PRAGMA journal_mode = OFF")
        target.execute("PRAGMA synchronous = OFF")
        for kind, name, sql in objects:
            if kind == "table" and name not in shadows and name not in virtual:
                target.execute(sql)
        target.execute("BEGIN")
        cpu = time.process_time()
        for name in tables:
            if rows[name]:
                marks = ", ".join("?" * len(rows[name][0]))
                target.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows[name])
        figures["plain tables, no index"] = time.process_time() - cpu
        cpu = time.process_time()
        for kind, name, sql in objects:
            if kind == "index" and name not in shadows:
                target.execute(sql)
        figures["their indexes built afterwards"] = time.process_time() - cpu
        target.execute("COMMIT")
        target.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path)
    args = parser.parse_args(argv)
    for name, seconds in measure(args.database).items():
        print(f"{name:45} CPU {seconds:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
