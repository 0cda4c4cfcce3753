"""Two real processes running `remind --once` on one database at the same time: every
occurrence is claimed and notified by exactly one of them."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from crmcompanion.paths import DATABASE_FILENAME
from crmcompanion.services.container import open_services

from .conftest import REPO, add_birthday, cli_env, wait_for

# Clock-sensitive: `remind --once` in real processes (CRMCOMPANION_NOW) with real stamps.
pytestmark = [pytest.mark.slow, pytest.mark.clock_sensitive]


def test_two_processes_notify_each_occurrence_once(tmp_path, session_bus, notification_server):
    home = tmp_path / "home"
    home.mkdir()
    services = open_services(f"sqlite:///{home / DATABASE_FILENAME}", home / "backups")
    try:
        # Remind-on days spread over the first-pass week; 3 due items stay below the digest.
        add_birthday(services, "Ada", "Lovelace", 11, 25)
        add_birthday(services, "Alan", "Turing", 11, 23)
        add_birthday(services, "Edsger", "Dijkstra", 11, 21)
    finally:
        services.close()
    env = cli_env(home, "2026-11-22T10:00", session_bus.address)
    command = [sys.executable, "-m", "crmcompanion", "remind", "--once", "--json"]
    runs = [
        subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    claimed = [item["occurrence_key"] for out, _ in outputs for item in json.loads(out)]
    assert len(claimed) == 3
    assert len(set(claimed)) == 3
    assert wait_for(lambda: len(notification_server.calls()) >= 3)
    time.sleep(0.3)
    summaries = sorted(call["summary"] for call in notification_server.calls())
    assert summaries == [
        "Birthday: Ada Lovelace", "Birthday: Alan Turing", "Birthday: Edsger Dijkstra"
    ]
