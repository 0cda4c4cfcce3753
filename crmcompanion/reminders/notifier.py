"""Notification backends behind one small interface, with no Qt in it.

The engine hands a `Notification` to a `Notifier`. Backends are tried in order (desktop
notification through plyer, then the tray message the GUI plugs in); a backend that cannot
show a notification raises `NotificationFailed` with the reason, which is logged, and the next
one is tried. The reminder is already in the fired-reminder log before any backend runs, so
the in-app list shows it whatever happens here.

plyer on Linux uses dbus-python if importable, else `notify-send`, and `notify-send` with no
notification server on the session bus fails *silently*. So before calling plyer on Linux we
ask the bus whether anyone owns `org.freedesktop.Notifications`.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from crmcompanion import APP_NAME

logger = logging.getLogger(__name__)

NOTIFICATIONS_BUS_NAME = "org.freedesktop.Notifications"
BUS_CHECK_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Notification:
    """What a backend shows. `customer_id` is set when it names one customer (a click on it
    opens that customer); None for a digest."""

    title: str
    body: str
    customer_id: int | None = None


class NotificationFailed(Exception):
    """A backend could not show a notification; the message says why."""


class Notifier(Protocol):
    """A way to show a notification. `name` is recorded in the log ("desktop", "tray")."""

    name: str

    def notify(self, notification: Notification) -> None:
        """Show it, or raise NotificationFailed (any other exception is treated the same)."""
        ...


def session_bus_has_notifications(timeout: float = BUS_CHECK_TIMEOUT_S) -> tuple[bool, str]:
    """Whether some process owns org.freedesktop.Notifications on the session bus, and why not.

    Asks the bus daemon with `dbus-send` (always present where D-Bus is); dbus-python is
    not needed. Returns (False, reason) on any doubt.
    """
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not os.environ.get(
        "XDG_RUNTIME_DIR"
    ):
        return False, "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
    dbus_send = shutil.which("dbus-send")
    if dbus_send is None:
        return False, "dbus-send is not installed, so the session bus cannot be asked"
    command = [
        dbus_send, "--session", "--print-reply", "--dest=org.freedesktop.DBus",
        "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
        f"string:{NOTIFICATIONS_BUS_NAME}",
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"asking the session bus failed ({exc})"
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        return False, f"the session bus did not answer ({detail[0] if detail else 'no output'})"
    if "boolean true" in result.stdout:
        return True, ""
    return False, f"no notification service owns {NOTIFICATIONS_BUS_NAME} on the session bus"


class PlyerNotifier:
    """Desktop notifications through plyer (also used by the headless CLI)."""

    name = "desktop"

    def __init__(self, app_name: str = APP_NAME, timeout_s: int = 10) -> None:
        self._app_name = app_name
        self._timeout_s = timeout_s

    def available(self) -> tuple[bool, str]:
        if sys.platform.startswith("linux") or "bsd" in sys.platform:
            return session_bus_has_notifications()
        return True, ""

    def notify(self, notification: Notification) -> None:
        ok, reason = self.available()
        if not ok:
            raise NotificationFailed(reason)
        try:
            from plyer import notification as plyer_notification

            plyer_notification.notify(
                title=notification.title,
                message=notification.body,
                app_name=self._app_name,
                timeout=self._timeout_s,
            )
        except NotImplementedError as exc:
            raise NotificationFailed(
                "plyer has no notification backend here (install dbus-python or notify-send)"
            ) from exc
        except Exception as exc:  # plyer wraps platform APIs that raise anything
            raise NotificationFailed(f"plyer failed: {exc!r}") from exc


class NotifierChain:
    """Try each backend in order; log why each failed; never raise."""

    def __init__(self, notifiers: Sequence[Notifier] = ()) -> None:
        self._notifiers: list[Notifier] = list(notifiers)

    @property
    def notifiers(self) -> list[Notifier]:
        return list(self._notifiers)

    def add(self, notifier: Notifier) -> None:
        self._notifiers.append(notifier)

    def notify(self, notification: Notification) -> tuple[str | None, str]:
        """The name of the backend that showed it (None if none could) and the failure reasons."""
        reasons: list[str] = []
        for notifier in self._notifiers:
            try:
                notifier.notify(notification)
            except NotificationFailed as exc:
                reason = f"{notifier.name}: {exc}"
            except Exception as exc:  # a broken backend must never crash or lose a reminder
                logger.exception("The %s notifier crashed", notifier.name)
                reason = f"{notifier.name}: {exc!r}"
            else:
                return notifier.name, "; ".join(reasons)
            logger.warning("Desktop notification not shown by %s", reason)
            reasons.append(reason)
        if not self._notifiers:
            reasons.append("no notification backend is configured")
        logger.warning(
            "Reminder %r is only in the app's reminder list: %s",
            notification.title,
            "; ".join(reasons),
        )
        return None, "; ".join(reasons)
