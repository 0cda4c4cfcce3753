"""Fixtures for reminder tests: a private D-Bus session bus and a recording notification
server, plus helpers to make customers and run the CLI as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.services.container import Services
from tests.system_programs import require_program

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def add_birthday(services: Services, first: str, last: str, month: int, day: int,
                 year: int | None = None) -> int:
    draft = CustomerDraft(
        first_name=first,
        last_name=last,
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, month, day, year),),
    )
    return services.customers.create(draft).customer.id


@dataclass
class SessionBus:
    address: str
    process: subprocess.Popen[str]


def _start_session_bus() -> SessionBus:
    daemon = require_program("dbus-daemon", package="dbus")
    process = subprocess.Popen(
        [daemon, "--session", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    address = process.stdout.readline().strip()
    if not address:
        process.kill()
        raise RuntimeError(f"dbus-daemon printed no address: {process.stderr.read()}")
    return SessionBus(address, process)


@pytest.fixture
def session_bus() -> Iterator[SessionBus]:
    bus = _start_session_bus()
    yield bus
    bus.process.terminate()
    bus.process.wait(timeout=10)


@dataclass
class NotificationRecorder:
    record: Path
    process: subprocess.Popen[str]

    def calls(self) -> list[dict[str, object]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line]


@pytest.fixture
def notification_server(session_bus: SessionBus, tmp_path: Path) -> Iterator[NotificationRecorder]:
    # The app reaches this server through plyer, which runs notify-send when dbus-python is
    # not importable: without it every wait for a notification would end in a bare False.
    require_program("notify-send", package="libnotify-bin")
    record = tmp_path / "notifications.jsonl"
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": session_bus.address}
    process = subprocess.Popen(
        [sys.executable, str(HERE / "notification_server.py"), str(record)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if line != "ready":
        process.kill()
        raise RuntimeError(f"notification server failed: {line} {process.stderr.read()}")
    yield NotificationRecorder(record, process)
    process.terminate()
    process.wait(timeout=10)


def cli_env(home: Path, now: str, bus_address: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBUS_")}
    env.update({"CRMCOMPANION_HOME": str(home), "CRMCOMPANION_NOW": now})
    env.pop("CRMCOMPANION_DATABASE_URL", None)
    if bus_address is not None:
        env["DBUS_SESSION_BUS_ADDRESS"] = bus_address
    else:
        # No XDG_RUNTIME_DIR either, or the notifier would find the user's real bus there.
        env.pop("XDG_RUNTIME_DIR", None)
    return env


def run_remind(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmcompanion", "remind", "--once", *extra],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


__all__ = ["add_birthday", "cli_env", "date", "run_remind", "wait_for"]
