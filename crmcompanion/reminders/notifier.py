"""Notification backends behind one small interface, with no Qt in it.

The engine hands a `Notification` to a `Notifier`. Backends are tried in order (on Linux the
freedesktop D-Bus protocol spoken by the app itself, then plyer; elsewhere plyer; then the tray
message the GUI plugs in); a backend that cannot show a notification raises
`NotificationFailed` with the reason and the next one is tried. The reminder is already in the
fired-reminder log before any backend runs, so the in-app list shows it whatever happens here.

Logging: one line per reminder that did not reach the first backend, in plain words (which
way it was shown, or that only the app's list has it, and why), not one line per backend.

plyer on Linux uses dbus-python if importable, else `notify-send`, and `notify-send` with no
notification server on the session bus fails *silently*. So before calling plyer on Linux we
ask the bus whether anyone owns `org.freedesktop.Notifications`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from crmcompanion import APP_ID, APP_NAME
from crmcompanion.reminders.freedesktop import (
    BUS_TIMEOUT_S,
    BusUnavailable,
    notifications_service_present,
    send_notification,
)
from crmcompanion.resources import ICONS, app_icon_png, resource_path

logger = logging.getLogger(__name__)


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


def on_freedesktop_platform() -> bool:
    """Linux and the BSDs: desktops that speak the freedesktop Notifications protocol."""
    return sys.platform.startswith("linux") or "bsd" in sys.platform


def session_bus_has_notifications(timeout: float = BUS_TIMEOUT_S) -> tuple[bool, str]:
    """Whether some process owns org.freedesktop.Notifications on the session bus, and why not.

    Asked over D-Bus directly (jeepney): no dbus-send, no dbus-python. (False, reason) on any
    doubt.
    """
    return notifications_service_present(timeout)


class DesktopBackend:
    """What the desktop backends share: they record as "desktop", and `backend` names the
    way they reach it (for `crmcompanion doctor`)."""

    name = "desktop"
    backend = ""

    def __init__(self, app_name: str = APP_NAME, timeout_s: int = 10) -> None:
        self._app_name = app_name
        self._timeout_s = timeout_s

    def available(self) -> tuple[bool, str]:
        raise NotImplementedError


class FreedesktopNotifier(DesktopBackend):
    """Desktop notifications on Linux/BSD through the freedesktop D-Bus protocol, with the
    declared pure-Python jeepney (crmcompanion.reminders.freedesktop): nothing unstated to
    install, unlike plyer's dbus-python or notify-send."""

    backend = "D-Bus"

    def available(self) -> tuple[bool, str]:
        return session_bus_has_notifications()

    def notify(self, notification: Notification) -> None:
        icon = resource_path(ICONS, app_icon_png(128))
        try:
            send_notification(
                self._app_name,
                notification.title,
                notification.body,
                icon=str(icon) if icon else "",
                desktop_entry=APP_ID,
                expire_ms=self._timeout_s * 1000,
            )
        except BusUnavailable as exc:
            raise NotificationFailed(str(exc)) from exc


class PlyerNotifier(DesktopBackend):
    """Desktop notifications through plyer: Windows and macOS, and the fallback on Linux."""

    backend = "plyer"

    def available(self) -> tuple[bool, str]:
        if on_freedesktop_platform():
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


def desktop_notifiers() -> list[DesktopBackend]:
    """The desktop backends for this platform, best first (both record as "desktop")."""
    if on_freedesktop_platform():
        return [FreedesktopNotifier(), PlyerNotifier()]
    return [PlyerNotifier()]


def desktop_backend() -> tuple[str | None, str]:
    """Which desktop backend a reminder would use now ("D-Bus", "plyer") and, when none,
    why not. For `crmcompanion doctor`; asks the bus, shows nothing."""
    reasons: list[str] = []
    for notifier in desktop_notifiers():
        ok, reason = notifier.available()
        if ok:
            return notifier.backend, ""
        if reason not in reasons:
            reasons.append(reason)
    return None, "; ".join(reasons)


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
        """The name of the backend that showed it (None if none could) and the failure reasons.

        Logs at most one WARNING line: a reminder shown by a fallback, or by none.
        Backends that fail for the same reason (both desktop backends ask the same bus) are
        named once.
        """
        reasons: list[str] = []
        for notifier in self._notifiers:
            try:
                notifier.notify(notification)
            except NotificationFailed as exc:
                reason = f"{notifier.name}: {exc}"
            except Exception as exc:  # a broken backend must never crash or lose a reminder
                logger.debug("The %s notifier crashed", notifier.name, exc_info=True)
                reason = f"{notifier.name}: {exc!r}"
            else:
                if reasons:
                    logger.warning(
                        "Reminder “%s” was shown by the %s because %s",
                        notification.title, _described(notifier.name), _plain(reasons),
                    )
                return notifier.name, "; ".join(reasons)
            if reason not in reasons:
                reasons.append(reason)
        if not self._notifiers:
            reasons.append("no notification backend is configured")
        logger.warning(
            "Reminder “%s” is only in the app's reminder list: %s",
            notification.title,
            _plain(reasons) if self._notifiers else reasons[0],
        )
        return None, "; ".join(reasons)


def _described(name: str) -> str:
    return {"desktop": "desktop", "tray": "tray icon"}.get(name, name)


def _plain(reasons: Sequence[str]) -> str:
    """'desktop: why' entries as one phrase: 'no desktop notification could be shown (why);
    no tray icon notification ...'."""
    parts = []
    for reason in reasons:
        name, _, why = reason.partition(": ")
        parts.append(f"no {_described(name)} notification could be shown ({why})")
    return "; ".join(parts)
