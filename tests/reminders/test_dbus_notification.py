"""A due birthday becomes exactly one real D-Bus notification through `remind --once`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from crmcompanion.paths import DATABASE_FILENAME
from crmcompanion.services.container import open_services

from .conftest import add_birthday, cli_env, run_remind, wait_for

# Clock-sensitive: `remind --once` in a real process (CRMCOMPANION_NOW) with real stamps.
pytestmark = [pytest.mark.slow, pytest.mark.clock_sensitive]


def make_home(home: Path) -> None:
    home.mkdir()
    services = open_services(f"sqlite:///{home / DATABASE_FILENAME}", home / "backups")
    try:
        # Birthday on 25 Nov, 3 days' lead: remind_on 22 Nov, deliverable from 09:00.
        add_birthday(services, "Ada", "Lovelace", 11, 25, 1986)
        add_birthday(services, "Grace", "Hopper", 6, 1)  # not due
    finally:
        services.close()


def test_due_birthday_gives_one_real_notification_then_none(
    tmp_path, session_bus, notification_server
):
    home = tmp_path / "home"
    make_home(home)
    env = cli_env(home, "2026-11-22T10:00", session_bus.address)

    first = run_remind(env)
    assert first.returncode == 0, first.stderr
    assert "Ada Lovelace" in first.stdout
    assert "Grace" not in first.stdout
    assert wait_for(lambda: len(notification_server.calls()) >= 1)
    time.sleep(0.3)  # any stray second notification would arrive now
    calls = notification_server.calls()
    assert len(calls) == 1
    assert "Ada Lovelace" in calls[0]["summary"]
    assert "Birthday" in calls[0]["summary"]
    assert "turns 40" in calls[0]["body"]

    second = run_remind(env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "0 reminders"
    time.sleep(0.3)
    assert len(notification_server.calls()) == 1


def test_without_notification_service_the_reminder_is_kept_and_the_reason_printed(
    tmp_path, session_bus
):
    home = tmp_path / "home"
    make_home(home)
    env = cli_env(home, "2026-11-22T10:00", session_bus.address)  # a bus, but no server
    result = run_remind(env, "--json")
    assert result.returncode == 0
    assert '"customer": "Ada Lovelace"' in result.stdout
    assert "no notification service owns org.freedesktop.Notifications" in result.stderr
    services = open_services(f"sqlite:///{home / DATABASE_FILENAME}")
    try:
        pending = services.reminders.unacknowledged()
    finally:
        services.close()
    assert [(p.customer_name, p.channel) for p in pending] == [("Ada Lovelace", "app")]
    assert "org.freedesktop.Notifications" in pending[0].error
