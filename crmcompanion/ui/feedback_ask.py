""""Ask for feedback", one action wherever a customer is at hand (the Feedback & ideas page,
a Today row's menu, the profile).

`FeedbackService.ask_for_feedback` drafts the short request through the greeting templates
and leaves a follow-up on Today to record the answer; this opens the draft in the usual
message editor so the owner reviews and sends it. One function, so the three places say and
do the same.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QDialog, QWidget

from crmcompanion.core.errors import DomainError
from crmcompanion.core.occasions import Occasion
from crmcompanion.services.container import Services
from crmcompanion.ui.bus import AppState
from crmcompanion.ui.feedback_common import short_date

logger = logging.getLogger(__name__)


def ask_for_feedback(services: Services, bus: AppState, customer_id: int, name: str,
                     parent: QWidget | None = None) -> tuple[QDialog | None, str]:
    """The drafted request in a message editor (not yet open: the caller opens it) and the
    line for the status bar; (None, the reason) when it cannot be drafted."""
    try:
        asked = services.feedback.ask_for_feedback(customer_id)
    except DomainError as exc:
        return None, str(exc)
    bus.publish(asked.changed)
    # Imported here: the message editor is not needed on the start-up path.
    from crmcompanion.ui.draft_dialog import DraftDialog

    dialog = DraftDialog(services, bus, customer_id, Occasion.FOLLOW_UP, parent=parent)
    dialog.editor.set_draft(asked.draft)
    return dialog, (f"A follow-up to record {name}'s answer is on "
                    f"{short_date(asked.follow_up.due_on)}.")
