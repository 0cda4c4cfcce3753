"""CSV import and export speed at N customers, each next to a raw baseline on the same file.

Usage: python benchmarks/import_export_bench.py [--customers N] [--json FILE]

- export_csv_s: ImportExportService.export_csv of all N customers (default columns).
  Baseline export_csv_raw_s: one sqlite3 SELECT of the customers table written by csv.writer.
- import_csv_s: preview (pass 1: encoding, headers, date order, duplicates) + run (pass 2, one
  transaction) of that exported file into an empty database, in a child process.
  Baseline import_csv_raw_s: csv.reader over the same file + sqlite3 executemany of the raw
  cells into one table, one transaction.
- import_csv_peak_rss_mb: peak RSS (VmHWM, Linux) of the child process that imported.
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


def _child_import(csv_path: str, db_path: str) -> None:
    services = open_services(f"sqlite:///{db_path}", None, FixedClock(NOW))
    start = time.perf_counter()
    preview = services.import_export.preview(csv_path, find_duplicates=False)
    result = services.import_export.run(preview.plan)
    elapsed = time.perf_counter() - start
    services.close()
    print(json.dumps({"seconds": elapsed, "created": result.created,
                      "peak_rss_mb": _peak_rss_mb()}))


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
        start = time.perf_counter()
        services.import_export.export_csv(exported)
        export_s = time.perf_counter() - start
        services.close()
        raw_export_s = _raw_export(source_db, folder / "raw.csv")
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
    args = parser.parse_args(argv)
    if args.child_import:
        _child_import(*args.child_import)
        return 0
    figures = measure(args.customers)
    for name, value in figures.items():
        print(f"{name:28} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
