"""CSV import and export speed at N customers, each next to a raw baseline on the same file.

Usage: python benchmarks/import_export_bench.py [--customers N] [--json FILE]

- export_csv_s: ImportExportService.export_csv of all N customers (default columns).
  Baseline export_csv_raw_s: one sqlite3 SELECT of the customers table written by csv.writer.
  Beside them their CPU seconds (export_csv_cpu_s counts the forked encoder's too), and
  export_csv_reads_s / _cpu_s: the rows every export must read (profile columns and child
  rows) fetched raw into Python, nothing formatted or written: the floor of one process.
  export_csv_reads_sqlite_cpu_s: those reads with every value read inside SQLite and
  nothing returned: the part of that floor that building the lines in SQL instead of Python
  would still pay (measured 2026-12-07: SQL that builds, neutralises and quotes the cells
  costs 3-4x the Python encoder; see the README's note).
- import_csv_s: preview (pass 1: encoding, headers, date order, duplicates) + run (pass 2, one
  transaction) of that exported file into an empty database, in a child process.
  Baseline import_csv_raw_s: csv.reader over the same file + sqlite3 executemany of the raw
  cells into one table, one transaction.
- import_csv_peak_rss_mb: peak RSS (VmHWM, Linux) of the child process that imported.
- measure_shaped("google" | "outlook", n, database): a Google-shaped or Outlook-shaped
  contacts file of n rows (formatted phones such as "+33 1 31 64 44 25", birthdays, notes,
  one row in ten sharing an e-mail address with a customer already there) previewed with
  duplicate matching on, as the import wizard does, then imported, into a copy of `database`
  (the n-customer benchmark database), in a child process. Baseline: the raw import above on
  the same file. Also returned: the CPU seconds inside the clock (the child and its forked
  staging writer) and the preview's part of the wall and CPU time, and the importing
  process's own CPU seconds in each part (preview_own_cpu_s, run_own_cpu_s: what is left
  on its core while its helpers work on the other).
Targets (issue 6): 100,000 rows import <= 4 s, export <= 1 s; 1,000,000 rows import <= 400 MB.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from crmcompanion.core.clock import FixedClock  # noqa: E402
from crmcompanion.services.container import open_services  # noqa: E402
from crmcompanion.services.demo import fill_demo  # noqa: E402

NOW = datetime(2026, 11, 22, 10, 30)


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process and of its waited-for children (the import's forked
    staging writer): on a busy machine wall time grows with the others' load, this much less."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _child_import(csv_path: str, db_path: str, find_duplicates: bool = False) -> None:
    services = open_services(f"sqlite:///{db_path}", None, FixedClock(NOW))
    cpu, own = _cpu_s(), time.process_time()
    start = time.perf_counter()
    preview = services.import_export.preview(csv_path, find_duplicates=find_duplicates)
    previewed = time.perf_counter()
    preview_cpu, preview_own = _cpu_s(), time.process_time()
    result = services.import_export.run(preview.plan)
    elapsed = time.perf_counter() - start
    end_cpu, end_own = _cpu_s(), time.process_time()
    services.close()
    print(json.dumps({"seconds": elapsed, "created": result.created,
                      "duplicates": preview.duplicate_count if find_duplicates else 0,
                      "peak_rss_mb": _peak_rss_mb(), "cpu_s": end_cpu - cpu,
                      "preview_s": previewed - start, "preview_cpu_s": preview_cpu - cpu,
                      "run_cpu_s": end_cpu - preview_cpu,
                      # This process alone (its helpers work beside it on the other core).
                      "preview_own_cpu_s": preview_own - own,
                      "run_own_cpu_s": end_own - preview_own}))


_FIRST = ("Anna", "Jonas", "Sofia", "Luca", "Marie", "Ahmed", "Zoë", "Jose", "Lena", "Noah",
          "Chloé", "Mateo", "Ingrid", "Pavel", "Aoife", "Kenji")
_LAST = ("Müller", "Garcia", "Rossi", "Schmidt", "O'Brien", "Dubois", "Nowak", "Becker",
         "Silva", "Jansen", "Yilmaz", "Novak", "Lindqvist", "Moreau", "Kowalski", "Tanaka")
_COMPANIES = ("Bakery Hoffmann", "Rossi Florist", "Atelier Lumière", "Nordic Print", "", "")
_GOOGLE_HEADER = ("Name", "Given Name", "Family Name", "Birthday", "Notes", "Group Membership",
                  "E-mail 1 - Type", "E-mail 1 - Value", "Phone 1 - Type", "Phone 1 - Value",
                  "Phone 2 - Type", "Phone 2 - Value", "Organization 1 - Name")
_OUTLOOK_HEADER = ("First Name", "Last Name", "Company", "E-mail Address", "Mobile Phone",
                   "Business Phone", "Birthday", "Notes", "Categories")


def write_shaped(shape: str, n: int, path: Path, known_emails: list[str]) -> None:
    """A Google- or Outlook-shaped contacts CSV of n rows; every tenth row reuses one of
    `known_emails` (a customer already in the database: a duplicate to find)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(_GOOGLE_HEADER if shape == "google" else _OUTLOOK_HEADER)
        for i in range(n):
            first, last = _FIRST[i % len(_FIRST)], _LAST[(i // 7) % len(_LAST)]
            company = _COMPANIES[i % len(_COMPANIES)]
            if i % 10 == 0 and known_emails:
                email = known_emails[(i // 10) % len(known_emails)]
            else:
                # A domain the demo never uses: only the rows meant to match do.
                email = f"{first.lower()}.{i}@contacts.example".replace("ë", "e").replace(
                    "é", "e")
            # Unique per row (up to a million), formatted as people type them.
            mobile = (f"+33 6 {i // 1_000_000 % 90 + 10} {i // 10_000 % 100:02} "
                      f"{i // 100 % 100:02} {i % 100:02}")
            work = f"+49 30 {1000 + i // 1000} {i % 1000:03}"
            day, month, year = i % 28 + 1, i % 12 + 1, 1950 + i % 50
            notes = f"Met at the trade fair; likes lilies. Customer {i}."
            if shape == "google":
                writer.writerow((f"{first} {last}", first, last, f"{year}-{month:02}-{day:02}",
                                 notes, "* myContacts", "* Home", email, "Mobile", mobile,
                                 "Work", work, company))
            else:
                writer.writerow((first, last, company, email, mobile, work,
                                 f"{month}/{day}/{year}", notes, "Customers"))


def measure_shaped(shape: str, n: int, database: Path) -> dict[str, float]:
    """Seconds to preview (duplicate matching on) and import a shaped file of n rows into a
    copy of `database`, in a child process, beside the raw import of the same file."""
    folder = Path(tempfile.mkdtemp(prefix=f"crmcompanion-{shape}-bench-"))
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        known = [r[0] for r in conn.execute(
            "SELECT primary_email FROM customers WHERE primary_email != '' "
            "ORDER BY id LIMIT ?", (max(1, n // 10),))]
        conn.close()
        shaped = folder / f"{shape}.csv"
        write_shaped(shape, n, shaped, known)
        target = folder / "target.sqlite3"
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        source.backup(copy)
        copy.close()
        source.close()
        child = subprocess.run(
            [sys.executable, __file__, "--child-import", str(shaped), str(target),
             "--find-duplicates"],
            check=True, capture_output=True, text=True)
        imported = json.loads(child.stdout.strip().splitlines()[-1])
        raw_s = _raw_import(shaped, folder / "raw.sqlite3")
        return {"seconds": round(imported["seconds"], 3), "raw_s": round(raw_s, 3),
                "created": imported["created"], "duplicates": imported["duplicates"],
                "peak_rss_mb": round(imported["peak_rss_mb"], 1),
                # Inside the clock: CPU of the importing process and its staging writer, and
                # the preview's share of the wall and CPU time (the rest is run()).
                "cpu_s": round(imported["cpu_s"], 2),
                "preview_s": round(imported["preview_s"], 3),
                "preview_cpu_s": round(imported["preview_cpu_s"], 2),
                "run_cpu_s": round(imported["run_cpu_s"], 2),
                "preview_own_cpu_s": round(imported["preview_own_cpu_s"], 2),
                "run_own_cpu_s": round(imported["run_own_cpu_s"], 2)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _raw_export(db_path: Path, out: Path) -> float:
    start = time.perf_counter()
    conn = sqlite3.connect(db_path)
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        cursor = conn.execute("SELECT * FROM customers")
        writer.writerow([d[0] for d in cursor.description])
        writer.writerows(cursor)
    conn.close()
    return time.perf_counter() - start


# What every CSV export must read, raw: each customer's profile columns and the child rows its
# cells are made of (as store/export_cells.py reads them), fetched into Python and nothing
# more: no cell formatting, no quoting, no file. The export cannot cost less than this in one
# process; it is about as much work as the raw baseline's SELECT * (34 columns), which is why
# export_csv_s sits near that baseline (measured 2026-12-06, see the README's note).
_EXPORT_READS = (
    "SELECT id, first_name, last_name, display_name, company, street, city, region, postcode, "
    "country, status, kind, key_account, preferred_channel, customer_since, notes, source_uid "
    "FROM customers ORDER BY id",
    "SELECT customer_id, address, label FROM customer_emails ORDER BY customer_id, position",
    "SELECT customer_id, number, label FROM customer_phones ORDER BY customer_id, position",
    "SELECT customer_id, tag_id FROM customer_tags",
    "SELECT customer_id, kind, label, month, day, year FROM special_dates "
    "ORDER BY customer_id, id",
    "SELECT customer_id, MAX(occurred_at) FROM interactions GROUP BY customer_id",
)


def _export_reads(db_path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of the export's unavoidable reads (_EXPORT_READS), in this process."""
    cpu = time.process_time()
    start = time.perf_counter()
    conn = sqlite3.connect(db_path)
    for sql in _EXPORT_READS:
        conn.execute(sql).fetchall()
    conn.close()
    return time.perf_counter() - start, time.process_time() - cpu


def _export_reads_in_sqlite(db_path: Path) -> float:
    """CPU seconds of the same reads with every value they return read inside SQLite (each
    text searched for one character, each integer added up) and nothing handed to Python: the
    part of export_csv_reads_cpu_s no way of formatting the cells (Python or SQL) can remove."""
    conn = sqlite3.connect(db_path)
    statements = []
    for sql in _EXPORT_READS:  # the types from a first row: integers are summed, not searched
        cursor = conn.execute(f"SELECT * FROM ({sql}) LIMIT 1")
        first = cursor.fetchone()
        statements.append("SELECT sum({}) FROM ({})".format(" + ".join(
            f'"{d[0]}"' if isinstance(value, int) else f"""coalesce(instr("{d[0]}", '~'), 0)"""
            for d, value in zip(cursor.description, first, strict=True)), sql))
    cpu = time.process_time()
    for statement in statements:
        conn.execute(statement).fetchall()
    spent = time.process_time() - cpu
    conn.close()
    return spent


def _raw_import(csv_path: Path, db_path: Path) -> float:
    start = time.perf_counter()
    conn = sqlite3.connect(db_path)
    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        columns = ", ".join(f"c{i}" for i in range(len(header)))
        conn.execute(f"CREATE TABLE raw ({columns})")
        marks = ", ".join("?" * len(header))
        conn.executemany(f"INSERT INTO raw VALUES ({marks})",
                         (row + [""] * (len(header) - len(row)) for row in reader))
    conn.commit()
    conn.close()
    return time.perf_counter() - start


def measure(n: int) -> dict[str, float]:
    """The figures for n customers (a temporary folder, removed afterwards)."""
    folder = Path(tempfile.mkdtemp(prefix="crmcompanion-ie-bench-"))
    try:
        source_db = folder / "source.sqlite3"
        services = open_services(f"sqlite:///{source_db}", None, FixedClock(NOW))
        fill_demo(services.db, services.clock, n, staff_id=services.staff_id)
        exported = folder / "customers.csv"
        cpu = _cpu_s()
        start = time.perf_counter()
        services.import_export.export_csv(exported)
        export_s = time.perf_counter() - start
        export_cpu_s = _cpu_s() - cpu  # with the forked encoder's, once it has been waited for
        services.close()
        raw_cpu = time.process_time()
        raw_export_s = _raw_export(source_db, folder / "raw.csv")
        raw_export_cpu_s = time.process_time() - raw_cpu
        reads_s, reads_cpu_s = _export_reads(source_db)
        reads_sqlite_cpu_s = _export_reads_in_sqlite(source_db)
        child = subprocess.run(
            [sys.executable, __file__, "--child-import", str(exported),
             str(folder / "target.sqlite3")],
            check=True, capture_output=True, text=True)
        imported = json.loads(child.stdout.strip().splitlines()[-1])
        raw_import_s = _raw_import(exported, folder / "raw.sqlite3")
        return {
            "customers": n,
            "export_csv_s": round(export_s, 3),
            "export_csv_raw_s": round(raw_export_s, 3),
            "export_csv_cpu_s": round(export_cpu_s, 3),
            "export_csv_raw_cpu_s": round(raw_export_cpu_s, 3),
            "export_csv_reads_s": round(reads_s, 3),
            "export_csv_reads_cpu_s": round(reads_cpu_s, 3),
            "export_csv_reads_sqlite_cpu_s": round(reads_sqlite_cpu_s, 3),
            "import_csv_s": round(imported["seconds"], 3),
            "import_csv_raw_s": round(raw_import_s, 3),
            "import_csv_peak_rss_mb": round(imported["peak_rss_mb"], 1),
            "import_csv_created": imported["created"],
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--child-import", nargs=2, metavar=("CSV", "DB"), help=argparse.SUPPRESS)
    parser.add_argument("--find-duplicates", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_import:
        _child_import(*args.child_import, find_duplicates=args.find_duplicates)
        return 0
    figures = measure(args.customers)
    for name, value in figures.items():
        print(f"{name:32} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
