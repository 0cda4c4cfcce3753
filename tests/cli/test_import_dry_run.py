"""`import --dry-run --merge-duplicates` computes the merges and writes nothing: the database
file is byte-for-byte what it was.

A dry run runs the whole import in a transaction and rolls it back; merges happen inside that
transaction, so a change that kept them (committing when something was merged) would make a
dry run really merge, and no test noticed. This one runs the real command in a real process.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.paths import DATABASE_FILENAME
from crmcompanion.services.container import open_services

REPO = Path(__file__).resolve().parents[2]
NOW = "2026-11-22T10:00"

# Two duplicates of stored customers (same email), each bringing something new, and one new.
FILE = ("First name,Last name,Emails,Phones,Tags,Notes\n"
        "Anna,Weber,anna@weber.example,+49 30 901820,VIP,Prefers rye\n"
        "Bob,Baker,bob@baker.example,,Newsletter,\n"
        "Cleo,New,cleo@new.example,,,\n")


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRMCOMPANION_HOME": str(home), "CRMCOMPANION_NOW": NOW}
    env.pop("CRMCOMPANION_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "crmcompanion", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def seed(home: Path) -> Path:
    home.mkdir()
    database = home / DATABASE_FILENAME
    services = open_services(f"sqlite:///{database}", home / "backups",
                             FixedClock(datetime.fromisoformat(NOW)))
    try:
        for first, last, email in (("Anna", "Weber", "anna@weber.example"),
                                   ("Bob", "Baker", "bob@baker.example")):
            services.customers.create(CustomerDraft(
                first_name=first, last_name=last, emails=(EmailAddress(email),)))
    finally:
        services.close()
    return database


def state(database: Path) -> tuple[str, list[str], list[str]]:
    """(SHA-256 of the file, its SQL dump, the files beside it) with no connection open."""
    with sqlite3.connect(database) as connection:
        dump = list(connection.iterdump())
    connection.close()
    beside = sorted(p.name for p in database.parent.iterdir()
                    if p.name.startswith(DATABASE_FILENAME))
    return hashlib.sha256(database.read_bytes()).hexdigest(), dump, beside


def test_dry_run_with_merging_leaves_the_database_byte_for_byte_unchanged(tmp_path: Path):
    home = tmp_path / "home"
    database = seed(home)
    source = tmp_path / "contacts.csv"
    source.write_text(FILE, encoding="utf-8")
    # A first ordinary command settles whatever opening the database writes once.
    settled = cli(home, "customers", "search", "anna", "--json")
    assert settled.returncode == 0, settled.stderr
    before = state(database)

    dry = cli(home, "import", str(source), "--dry-run", "--merge-duplicates", "--json")
    assert dry.returncode == 0, dry.stderr
    result = json.loads(dry.stdout)
    assert result["written"] is False
    assert "Would import 1 customers; 0 duplicates skipped, 2 merged" in dry.stderr

    after = state(database)
    assert after[1] == before[1]  # the same rows (a readable diff when not)
    assert after == before  # and the same bytes, with no journal left behind

    # The same command without --dry-run does merge: the dry run had something to keep.
    real = cli(home, "import", str(source), "--merge-duplicates", "--json")
    assert real.returncode == 0, real.stderr
    assert "Imported 1 customers; 0 duplicates skipped, 2 merged" in real.stderr
    assert state(database)[1] != before[1]
