"""A burst of single-customer saves through the service, with synchronous=FULL and NORMAL.

Why: the database runs WAL with synchronous=FULL (every commit synced, so a power cut loses no
saved record). NORMAL would sync only at checkpoints; this measures what FULL costs for the
saves a person makes, one at a time. Run:
    PYTHONPATH=. python benchmarks/sync_saves.py [--saves 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.services.container import open_services
from crmcompanion.store import database

logger = logging.getLogger(__name__)


def burst(mode: str, saves: int, folder: Path) -> float:
    original = database._configure_sqlite

    def configure(engine, immediate):
        original(engine, immediate)

        @database.event.listens_for(engine, "connect")
        def synchronous(dbapi_connection, _record) -> None:
            dbapi_connection.execute(f"PRAGMA synchronous = {mode}")

    database._configure_sqlite = configure
    try:
        services = open_services(f"sqlite:///{folder / f'{mode}.sqlite3'}")
        try:
            started = time.perf_counter()
            for n in range(saves):
                services.customers.create(CustomerDraft(
                    first_name=f"Burst{n}", last_name="Saver",
                    emails=(EmailAddress(f"burst{n}@example.com"),),
                ))
            return time.perf_counter() - started
        finally:
            services.close()
    finally:
        database._configure_sqlite = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--saves", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"FULL": [], "NORMAL": []}
    for _ in range(args.rounds):
        for mode in results:
            with tempfile.TemporaryDirectory(dir=Path.home()) as folder:
                results[mode].append(burst(mode, args.saves, Path(folder)))
    for mode, times in results.items():
        per_save = statistics.median(times) / args.saves * 1000
        print(
            f"synchronous={mode}: {args.saves} saves, median {statistics.median(times):.2f} s "
            f"({per_save:.2f} ms a save), runs {', '.join(f'{t:.2f}' for t in times)}"
        )


if __name__ == "__main__":
    main()
