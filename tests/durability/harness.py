"""The crash-test harness: start a writer process, SIGKILL it at a random moment, and check
the database it left: `integrity_check`, `foreign_key_check`, and every save it reported.

Used by the short tests in the suite and, with CRM_LONG_TESTS=1, by the long ones.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("writer.py")
LONG = os.environ.get("CRM_LONG_TESTS") == "1"


def writer_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMCOMPANION_")}
    env["CRMCOMPANION_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


@dataclass
class Reported:
    customers: set[int] = field(default_factory=set)
    interactions: dict[int, int] = field(default_factory=dict)

    def read(self, line: str) -> None:
        parts = line.split()
        if parts[:1] == ["C"]:
            self.customers.add(int(parts[1]))
        elif parts[:1] == ["I"]:
            self.interactions[int(parts[1])] = int(parts[2])


@dataclass
class CrashFigures:
    kills: int = 0
    killed_before_ready: int = 0
    committed: int = 0
    corrupt: int = 0
    lost: int = 0
    seconds: float = 0.0


class Writer:
    """One writer process and the lines it printed, read on a thread as they come."""

    def __init__(self, database: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WRITER), str(database), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=writer_env(database.parent),
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.ready = threading.Event()
        # Each pipe has its own reader thread, and nothing else reads them: communicate()
        # beside a reader thread would race it for stdout and steal report lines.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._error_reader = threading.Thread(target=self._read_errors, daemon=True)
        self._error_reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.strip() == "ready":
                self.ready.set()
            self.lines.append(line)
        self.ready.set()  # ended (killed, or an error) before or after being ready

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        self.errors.extend(self.process.stderr)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.finish()

    def finish(self) -> tuple[int, str]:
        self.process.wait()
        self._reader.join()
        self._error_reader.join()
        return self.process.returncode, "".join(self.errors)

    def report(self, into: Reported) -> None:
        for line in self.lines:
            if line.endswith("\n"):  # a line cut by the kill was not a complete report
                into.read(line)


def check(database: Path, reported: Reported) -> tuple[bool, int]:
    """(whole, number of reported saves missing) for the database as a killed writer left it."""
    conn = sqlite3.connect(database)
    try:
        whole = conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        whole = whole and conn.execute("PRAGMA foreign_key_check").fetchall() == []
        customers = {r[0] for r in conn.execute("SELECT id FROM customers")}
        interactions = dict(conn.execute("SELECT id, customer_id FROM interactions"))
    except sqlite3.DatabaseError:
        return False, len(reported.customers) + len(reported.interactions)
    finally:
        conn.close()
    lost = len(reported.customers - customers)
    lost += sum(1 for i, c in reported.interactions.items() if interactions.get(i) != c)
    return whole, lost


def kill_writers(database: Path, kills: int, seed: int) -> CrashFigures:
    """`kills` writers in a row on one database, each SIGKILLed at a random moment: mostly
    while saving, one in six while it is still starting (opening, migrating)."""
    rng = random.Random(seed)
    figures = CrashFigures()
    reported = Reported()
    started = time.monotonic()
    for _ in range(kills):
        writer = Writer(database)
        if rng.random() < 1 / 6:
            time.sleep(rng.uniform(0.0, 0.6))
            figures.killed_before_ready += not writer.ready.is_set()
        else:
            writer.ready.wait(60)
            time.sleep(rng.uniform(0.0, 0.5))
        writer.kill()
        writer.report(reported)
        figures.kills += 1
        whole, lost = check(database, reported)
        figures.corrupt += not whole
        figures.lost += lost
        if not whole:
            break  # a corrupt file: the next writer would only report it
    figures.committed = len(reported.customers) + len(reported.interactions)
    figures.seconds = time.monotonic() - started
    return figures
