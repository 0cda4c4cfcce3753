"""The app's own D-Bus notifications reach a real notification server on a private session
bus, with no dbus-python and no notify-send; failures are one plain line."""

from __future__ import annotations

import logging
import os

import pytest

from crmcompanion.reminders.freedesktop import NO_SERVICE, session_bus_address
from crmcompanion.reminders.notifier import (
    FreedesktopNotifier,
    Notification,
    NotificationFailed,
    NotifierChain,
    PlyerNotifier,
    desktop_backend,
)

from .conftest import wait_for


@pytest.fixture
def on_bus(monkeypatch, session_bus):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus.address)
    return session_bus


def test_notification_reaches_the_server_over_dbus(on_bus, notification_server, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no notify-send, no dbus-send: D-Bus only
    notifier = FreedesktopNotifier(app_name="CRM Companion", timeout_s=7)
    notifier.notify(Notification("Birthday: Ada Lovelace", "turns 40 · in 3 days"))
    assert wait_for(lambda: len(notification_server.calls()) == 1)
    [call] = notification_server.calls()
    assert call["app_name"] == "CRM Companion"
    assert call["summary"] == "Birthday: Ada Lovelace"
    assert call["body"] == "turns 40 · in 3 days"
    assert call["expire_timeout"] == 7000
    assert desktop_backend() == ("D-Bus", "")


def test_a_bus_without_a_notification_service_says_so(on_bus):
    with pytest.raises(NotificationFailed, match=NO_SERVICE):
        FreedesktopNotifier().notify(Notification("t", "b"))
    backend, why = desktop_backend()
    assert backend is None
    assert why == NO_SERVICE  # both desktop backends ask the same bus: the reason once


def test_no_session_bus_at_all(monkeypatch, tmp_path):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # no `bus` socket in it
    assert session_bus_address() is None
    with pytest.raises(NotificationFailed, match="there is no D-Bus session bus"):
        FreedesktopNotifier().notify(Notification("t", "b"))


def test_xdg_runtime_bus_socket_is_found(on_bus, tmp_path, monkeypatch):
    path = on_bus.address.split("path=", 1)[1].split(",", 1)[0] if "path=" in on_bus.address \
        else None
    if path is None:
        pytest.skip(f"dbus-daemon listens on an abstract socket here ({on_bus.address})")
    runtime = tmp_path / "run"
    runtime.mkdir()
    os.symlink(path, runtime / "bus")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert session_bus_address() == f"unix:path={runtime / 'bus'}"


def test_fallbacks_log_one_plain_line(on_bus, caplog):
    class Tray:
        name = "tray"

        def __init__(self) -> None:
            self.shown: list[Notification] = []

        def notify(self, notification: Notification) -> None:
            self.shown.append(notification)

    tray = Tray()
    chain = NotifierChain([FreedesktopNotifier(), PlyerNotifier(), tray])
    with caplog.at_level(logging.DEBUG, logger="crmcompanion.reminders"):
        shown_by, reasons = chain.notify(Notification("Birthday: Ada", "turns 40"))
    assert shown_by == "tray"
    assert [n.title for n in tray.shown] == ["Birthday: Ada"]
    assert reasons == f"desktop: {NO_SERVICE}"
    lines = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert [r.getMessage() for r in lines] == [
        f"Reminder “Birthday: Ada” was shown by the tray icon because no desktop "
        f"notification could be shown ({NO_SERVICE})"
    ]


def test_no_backend_at_all_logs_one_line(on_bus, caplog):
    chain = NotifierChain([FreedesktopNotifier(), PlyerNotifier()])
    with caplog.at_level(logging.DEBUG, logger="crmcompanion.reminders"):
        assert chain.notify(Notification("Birthday: Ada", "turns 40"))[0] is None
    lines = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(lines) == 1
    assert lines[0].levelno == logging.WARNING
    assert lines[0].getMessage() == (
        "Reminder “Birthday: Ada” is only in the app's reminder list: no desktop notification "
        f"could be shown ({NO_SERVICE})"
    )
