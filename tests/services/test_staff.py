"""Staff identity: the OS login (or CRMCOMPANION_STAFF) is a staff row, made on first use,
one per person even when several processes start at once; old databases' "You" row becomes
its owner's."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.staff import STAFF_ENV_VAR, StaffIdentity, identity_from, login_key
from crmcompanion.services.container import open_services
from crmcompanion.store.database import ensure_local_staff

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "schema_versions"


def staff_rows(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, name, login FROM staff ORDER BY id").fetchall()
    finally:
        conn.close()


def test_identity_is_the_login_or_the_override_or_you() -> None:
    login = identity_from({}, os_login=lambda: "nora", full_name=lambda _: "Nora Brown")
    assert login == StaffIdentity("nora", "Nora Brown")
    assert identity_from({}, os_login=lambda: "nora", full_name=lambda _: "") == StaffIdentity(
        "nora", "nora")
    override = identity_from({STAFF_ENV_VAR: "  Sam   Lee "}, os_login=lambda: "nora")
    assert override == StaffIdentity("sam lee", "Sam Lee")
    # No login name at all (no USER, no passwd entry): the one local user "You".
    assert identity_from({}, os_login=lambda: "") == StaffIdentity("you", "You")
    assert login_key("NORA") == login_key("nora")


def test_each_identity_gets_its_own_row_once(services, clock: FixedClock) -> None:
    db = services.db
    first = ensure_local_staff(db, StaffIdentity("sam", "Sam"))
    assert ensure_local_staff(db, StaffIdentity("sam", "Sam")) == first
    assert first != services.staff_id
    other = ensure_local_staff(db, StaffIdentity("kim", "Kim"))
    assert len({services.staff_id, first, other}) == 3
    assert services.staff.current().id == services.staff_id
    assert {s.name for s in services.staff.everyone()} >= {"Sam", "Kim"}


def test_override_names_who_created_and_changed(tmp_path: Path, clock: FixedClock,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    monkeypatch.setenv(STAFF_ENV_VAR, "Nora")
    nora = open_services(url, None, clock)
    saved = nora.customers.create(CustomerDraft(first_name="Ada"))
    monkeypatch.setenv(STAFF_ENV_VAR, "Sam")
    sam = open_services(url, None, clock)
    try:
        assert nora.staff.current().name == "Nora"
        assert sam.staff.current().name == "Sam"
        customer = sam.customers.get(saved.customer.id)
        again = sam.customers.update(customer.id, CustomerDraft(first_name="Ada", company="X"),
                                     customer.version).customer
        assert (again.created_by_name, again.updated_by_name) == ("Nora", "Sam")
        logged = sam.interactions.log(customer.id, "Called")
        assert logged.interaction.staff_name == "Sam"
        assert [r.staff_name for r in nora.interactions.history(customer.id)] == ["Sam"]
    finally:
        nora.close()
        sam.close()


def test_an_old_databases_you_row_becomes_the_login_user(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "0007_customer_uids_and_search_folding.sql").read_text())
    conn.close()
    conn = sqlite3.connect(path)
    (you,) = conn.execute("SELECT id, name FROM staff").fetchall()
    conn.close()
    assert you[1] == "You"
    monkeypatch.setenv(STAFF_ENV_VAR, "Nora")
    services = open_services(f"sqlite:///{path}", tmp_path / "backups", clock)
    try:
        assert services.staff_id == you[0]
        assert services.staff.current().name == "Nora"
    finally:
        services.close()
    assert staff_rows(path) == [(you[0], "Nora", "nora")]
    # A second person on the same file gets a row of their own; the history stays Nora's.
    monkeypatch.setenv(STAFF_ENV_VAR, "Sam")
    open_services(f"sqlite:///{path}", tmp_path / "backups", clock).close()
    assert [row[2] for row in staff_rows(path)] == ["nora", "sam"]


STARTER = """
import sys, time
from pathlib import Path
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
from crmcompanion.services.container import open_services
services = open_services("sqlite:///" + sys.argv[1])
print(services.staff_id)
services.close()
"""


@pytest.mark.parametrize("existing", [False, True], ids=["new database", "existing database"])
def test_processes_starting_at_once_create_one_staff_row(tmp_path: Path, existing: bool) -> None:
    path = tmp_path / "crmcompanion.sqlite3"
    if existing:
        # Made by someone else, so the racers' own row does not exist yet.
        env = {**os.environ, STAFF_ENV_VAR: "Owner", "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", STARTER, str(path), str(tmp_path)], env=env,
                       check=True, capture_output=True, timeout=120)
    go = tmp_path / "go"
    env = {**os.environ, STAFF_ENV_VAR: "Racer", "PYTHONPATH": str(ROOT)}
    racers = [subprocess.Popen([sys.executable, "-c", STARTER, str(path), str(go)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(4)]
    time.sleep(1.0)  # let them all import and wait on the start line (not a timing assert)
    go.touch()
    results = [r.communicate(timeout=180) for r in racers]
    assert [r.returncode for r in racers] == [0] * 4, [err for _, err in results]
    ids = {int(out.strip()) for out, _ in results}
    rows = [row for row in staff_rows(path) if row[2] == "racer"]
    assert len(rows) == 1
    assert ids == {rows[0][0]}


def test_a_start_after_the_first_opens_while_another_process_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The staff row of a login that has started before is only read: opening the services
    takes no write lock, so a start never waits for another process's write (an import, a
    reminder pass from cron) before its window can show (issue 13). It used to begin a write
    transaction, which waited the busy timeout out and then failed as "locked"."""
    from crmcompanion.store import database

    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 300)  # main waited 10 s, then failed
    path = tmp_path / "db.sqlite3"
    first = open_services(f"sqlite:///{path}")  # the login's first start makes its row
    staff_id = first.staff_id
    first.close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process is writing meanwhile
    try:
        again = open_services(f"sqlite:///{path}")
        try:
            assert again.staff_id == staff_id
        finally:
            again.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert [row[0] for row in staff_rows(path)] == [staff_id]
