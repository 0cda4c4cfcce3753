"""One delivery pass: claim what is due (exactly once), then notify, digesting when many.

Order matters: the log rows are committed *before* any backend is called, so a crash or a
failing backend can never cause a second notification, and the in-app list always has the
reminder. Used by the GUI's scheduler and by `crmcompanion remind --once` alike.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from crmcompanion.reminders.notifier import Notification, NotifierChain
from crmcompanion.services.changes import Changed
from crmcompanion.services.reminders import DeliveredReminder, ReminderService

logger = logging.getLogger(__name__)

# More than this many reminders in one pass become one digest notification.
DIGEST_THRESHOLD = 3
DIGEST_LINES = 8


@dataclass(frozen=True)
class PassReport:
    """What one pass delivered and through which backend(s)."""

    delivered: list[DeliveredReminder]
    notifications: list[Notification] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)  # per notification: backend or "app"
    changed: Changed = field(default_factory=Changed)


def _line(item: DeliveredReminder) -> str:
    return f"{item.customer_name}: {item.occasion.title.lower()} ({item.description})"


def compose(
    items: list[DeliveredReminder], *, catch_up: bool, daily_digest: bool
) -> list[tuple[Notification, list[DeliveredReminder]]]:
    """The notifications for one pass, each with the reminders it covers.

    One per reminder normally; one digest when there are many (or the owner chose a daily
    digest). A catch-up digest says "While you were away".
    """
    if not items:
        return []
    if len(items) == 1 or (len(items) <= DIGEST_THRESHOLD and not daily_digest):
        return [
            (
                Notification(
                    title=item.title,
                    body=f"{item.customer_name} - {item.description}",
                    customer_id=item.customer_id,
                ),
                [item],
            )
            for item in items
        ]
    count = len(items)
    title = (
        f"While you were away: {count} reminders" if catch_up else f"{count} reminders today"
    )
    lines = [_line(item) for item in items[:DIGEST_LINES]]
    if count > DIGEST_LINES:
        lines.append(f"... and {count - DIGEST_LINES} more in the app")
    customers = {item.customer_id for item in items}
    only = next(iter(customers)) if len(customers) == 1 else None
    return [(Notification(title=title, body="\n".join(lines), customer_id=only), list(items))]


class ReminderEngine:
    """Runs passes; thread-safe (the scheduler's worker and a manual "check now" may race)."""

    def __init__(self, service: ReminderService, notifiers: NotifierChain) -> None:
        self.service = service
        self.notifiers = notifiers
        self._lock = threading.Lock()
        self._listeners: list[Callable[[PassReport], None]] = []

    def add_listener(self, listener: Callable[[PassReport], None]) -> None:
        """Called after every pass that delivered something (from the pass's thread)."""
        self._listeners.append(listener)

    def run_pass(self, now: datetime | None = None) -> PassReport:
        with self._lock:
            claim = self.service.claim_due(now)
            if not claim.delivered:
                return PassReport([], changed=claim.changed)
            report = PassReport(list(claim.delivered), changed=claim.changed)
            for notification, covered in compose(
                claim.delivered,
                catch_up=claim.window.catch_up,
                daily_digest=self.service.daily_digest(),
            ):
                channel, error = self.notifiers.notify(notification)
                shown_by = channel or "app"
                report.notifications.append(notification)
                report.channels.append(shown_by)
                try:
                    self.service.record_channel([c.id for c in covered], shown_by, error)
                except Exception:  # the reminder is delivered; a bookkeeping failure is not fatal
                    logger.exception("Could not record how reminders were shown")
        for listener in list(self._listeners):
            try:
                listener(report)
            except Exception:
                logger.exception("A reminder listener failed")
        return report
