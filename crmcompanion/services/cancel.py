"""The token a long service call checks to stop early (imports, exports, previews).

A module of its own, with nothing but `threading` in it: every background task the window
starts (ui.workers.TaskState) makes one, also tasks that never import or export (Today's
"moved to at risk" three seconds after start, a bulk tag). Defined in services.import_export,
the first task of a session imported the CSV parser, the vCard and iCalendar writers and the
store's bulk loaders on the GUI thread to make it: ~100-150 ms of CPU landing on whatever the
user did then (issue 13: the one 180-200 ms search keystroke of each benchmark run).
"""

from __future__ import annotations

import threading


class CancelToken:
    """Set from any thread (the GUI's Cancel button); the import checks it between batches."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()
