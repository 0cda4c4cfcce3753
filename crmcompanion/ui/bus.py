"""One signal that tells every view what a service call changed (Anki's `OpChanges` idea).

Each mutating service call returns a `Changed`; whoever made the call publishes it here, and
each view decides for itself whether it cares. Views never call each other to refresh.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from crmcompanion.services.changes import Changed

logger = logging.getLogger(__name__)


class AppState(QObject):
    """The app-wide change bus; `changed` carries a `Changed` value."""

    changed = Signal(object)

    def publish(self, changed: Changed) -> None:
        if changed.is_empty:
            return
        logger.debug("Publishing %s", changed)
        self.changed.emit(changed)
