"""The freedesktop Notifications protocol over the D-Bus session bus, in pure Python.

Why this module exists: desktop notifications on Linux must work after a plain
`pip install crmcompanion`, with nothing the installer does not declare. plyer on Linux needs
dbus-python (a C extension built against system headers) or the `notify-send` program, and
neither is a Python dependency we can declare. So the app speaks the protocol itself through
jeepney: pure Python, ~50 kB, and synchronous (the reminder pass runs on a worker thread or in
the headless CLI, where a blocking call with a timeout is exactly right; dbus-fast would bring
an asyncio loop and a compiled extension for one method call).

Only the client side is here: find the session bus, ask whether anyone owns
`org.freedesktop.Notifications`, send `Notify`. Every failure is a `BusUnavailable` whose
message says in plain words why, for the reminder log and `crmcompanion doctor`.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

NOTIFICATIONS_BUS_NAME = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
BUS_TIMEOUT_S = 3.0
NO_SERVICE = f"no notification service owns {NOTIFICATIONS_BUS_NAME} on the session bus"


class BusUnavailable(Exception):
    """The session bus or its notification service cannot be reached; the message says why."""


def session_bus_address(environ: Mapping[str, str] | None = None) -> str | None:
    """The session bus address: DBUS_SESSION_BUS_ADDRESS, else systemd's per-user socket
    `$XDG_RUNTIME_DIR/bus` when it exists (desktops that do not export the variable)."""
    env = os.environ if environ is None else environ
    address = env.get("DBUS_SESSION_BUS_ADDRESS", "").strip()
    if address:
        return address
    runtime = env.get("XDG_RUNTIME_DIR", "").strip()
    if runtime:
        socket_path = Path(runtime) / "bus"
        try:
            if stat.S_ISSOCK(socket_path.stat().st_mode):
                return f"unix:path={socket_path}"
        except OSError:
            pass
    return None


def _call(method: str, signature: str | None, body: tuple, *, bus_name: str, path: str,
          interface: str, timeout: float) -> tuple:
    """One method call on the session bus and its reply body; BusUnavailable on any failure."""
    try:
        from jeepney import DBusAddress, DBusErrorResponse, new_method_call
        from jeepney.io.blocking import open_dbus_connection
        from jeepney.wrappers import unwrap_msg
    except ImportError as exc:  # declared in pyproject; a broken install still must not crash
        raise BusUnavailable(f"the jeepney package is not installed ({exc})") from exc
    address = session_bus_address()
    if address is None:
        raise BusUnavailable(
            "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
        )
    target = DBusAddress(path, bus_name=bus_name, interface=interface)
    message = new_method_call(target, method, signature, body)
    try:
        with open_dbus_connection(bus=address, auth_timeout=timeout) as connection:
            reply = connection.send_and_get_reply(message, timeout=timeout)
    except TimeoutError as exc:
        raise BusUnavailable(f"the session bus did not answer within {timeout:g} s") from exc
    except (OSError, RuntimeError, ValueError) as exc:
        # Socket refused or gone, an unsupported transport, a failed authentication.
        raise BusUnavailable(f"cannot connect to the session bus ({exc})") from exc
    try:
        return unwrap_msg(reply)
    except DBusErrorResponse as exc:
        if exc.name == "org.freedesktop.DBus.Error.ServiceUnknown":
            raise BusUnavailable(NO_SERVICE) from exc
        raise BusUnavailable(f"{exc.name}: {' '.join(map(str, exc.data))}") from exc


def notifications_service_present(timeout: float = BUS_TIMEOUT_S) -> tuple[bool, str]:
    """Whether some process owns org.freedesktop.Notifications, and why not."""
    try:
        (owned,) = _call(
            "NameHasOwner", "s", (NOTIFICATIONS_BUS_NAME,), bus_name="org.freedesktop.DBus",
            path="/org/freedesktop/DBus", interface="org.freedesktop.DBus", timeout=timeout,
        )
    except BusUnavailable as exc:
        return False, str(exc)
    return (True, "") if owned else (False, NO_SERVICE)


def send_notification(
    app_name: str,
    summary: str,
    body: str,
    *,
    icon: str = "",
    desktop_entry: str = "",
    expire_ms: int = -1,
    timeout: float = BUS_TIMEOUT_S,
) -> int:
    """Show a notification; the server's id for it. Raises BusUnavailable.

    `desktop_entry` (the .desktop file's id) lets the desktop group it under the app.
    """
    hints: dict[str, tuple[str, str]] = {}
    if desktop_entry:
        hints["desktop-entry"] = ("s", desktop_entry)
    (notification_id,) = _call(
        "Notify", "susssasa{sv}i",
        (app_name, 0, icon, summary, body, [], hints, expire_ms),
        bus_name=NOTIFICATIONS_BUS_NAME, path=NOTIFICATIONS_PATH,
        interface=NOTIFICATIONS_BUS_NAME, timeout=timeout,
    )
    logger.debug("Notification %s shown over D-Bus", notification_id)
    return int(notification_id)
