"""Similar complaints follow the newest text: what is typed while a look-up runs is looked up
as soon as that look-up returns, and the older text's result is never shown over it. Both
places that look up (Add feedback, and the Log conversation dialog's feedback row) share one
helper (ui/feedback_common.SimilarLookup); each is tested through the user's path.

The first look-up is held on the worker thread (a gate in front of the real service call) so
that "type more while it runs" happens on every run, however slow or fast the machine is."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt, QTimer

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.feedback import FeedbackType
from crmcompanion.ui.feedback_dialog import FeedbackDialog
from crmcompanion.ui.log_conversation import LogConversationDialog

FIRST = "The parcel was fine"
MORE = " but the assistant at the till was rude to me"


def _customer(services, first: str, last: str) -> int:
    return services.customers.create(
        CustomerDraft(first_name=first, last_name=last)).customer.id


def _two_complaints(services) -> None:
    services.feedback.add(_customer(services, "Bob", "Stone"), "complaint",
                          "My parcel arrived two weeks late", themes=["Delivery"])
    services.feedback.add(_customer(services, "Cleo", "Hart"), "complaint",
                          "The shop assistant was rude to me", themes=["Staff"])


class Gate:
    """Holds the first similar-complaints call on the worker thread until `release()`;
    records the text of every call. The real service answers every call."""

    def __init__(self, services, monkeypatch) -> None:
        self.entered = threading.Event()
        self._release = threading.Event()
        self.texts: list[str] = []
        feedback = services.feedback
        real = feedback.similar

        def gated(text, *args, **kwargs):
            self.texts.append(text)
            if len(self.texts) == 1:
                self.entered.set()
                self._release.wait(60)
            return real(text, *args, **kwargs)

        monkeypatch.setattr(feedback, "similar", gated)

    def release(self) -> None:
        self._release.set()


def open_log_dialog(qtbot, services, customer_id: int, name: str) -> LogConversationDialog:
    """The Log conversation dialog for one customer, with its feedback row, on screen."""
    dialog = LogConversationDialog(services.interactions, services.clock, customer_id, name,
                                   touchpoints=services.touchpoints,
                                   feedback=services.feedback)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _shown(similar) -> list[str]:
    return [similar.item(row).text() for row in range(similar.count())]


def _first_lines_shown(similar) -> list[str]:
    """Every line the list ever shows first (filled after this call), in order."""
    firsts: list[str] = []

    def inserted(_parent, first: int, _last: int) -> None:
        if first == 0:
            firsts.append(similar.item(0).text() if similar.item(0) else "")

    similar.model().rowsInserted.connect(inserted)
    return firsts


def _pause_in_typing_passes(qtbot, widget) -> None:
    # The typing pause's single-shot timer has fired (while the first look-up still runs).
    qtbot.waitUntil(lambda: not any(timer.isActive() and timer.isSingleShot()
                                    for timer in widget.findChildren(QTimer)))


def _type_more_while_the_first_runs(qtbot, widget, editor, similar, gate: Gate) -> None:
    """Type, type more while the first look-up runs, and see the newest text's suggestions:
    its nearest complaint (Cleo's) first, the older text's (Bob's parcel first) never."""
    firsts = _first_lines_shown(similar)
    qtbot.keyClicks(editor, FIRST)
    qtbot.waitUntil(gate.entered.is_set, timeout=10000)
    qtbot.keyClicks(editor, MORE)
    _pause_in_typing_passes(qtbot, widget)
    assert gate.texts == [FIRST]  # still one look-up: the newest text waits for it
    gate.release()
    qtbot.waitUntil(lambda: similar.count() > 0, timeout=15000)
    assert gate.texts == [FIRST, FIRST + MORE]
    assert _shown(similar)[0].startswith("Cleo Hart: The shop assistant was rude")
    assert len(firsts) == 1 and firsts[0].startswith("Cleo Hart"), firsts


def test_add_feedback_shows_the_similar_complaints_of_the_newest_text(
        qtbot, services, monkeypatch):
    _two_complaints(services)
    anna = _customer(services, "Anna", "Weber")
    gate = Gate(services, monkeypatch)
    dialog = FeedbackDialog(services, customer=f"#{anna}")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(dialog.type_buttons[FeedbackType.COMPLAINT], Qt.MouseButton.LeftButton)

    _type_more_while_the_first_runs(qtbot, dialog, dialog.text, dialog.similar, gate)
    assert dialog.suggestion_buttons[0].text() == "Add to “Staff”"
    qtbot.mouseClick(dialog.suggestion_buttons[0], Qt.MouseButton.LeftButton)
    assert dialog.themes.text() == "Staff"


def test_log_conversation_row_shows_the_similar_complaints_of_the_newest_text(
        qtbot, services, monkeypatch):
    _two_complaints(services)
    anna = _customer(services, "Anna", "Weber")
    gate = Gate(services, monkeypatch)
    dialog = open_log_dialog(qtbot, services, anna, "Anna Weber")
    holder = dialog.capture
    qtbot.mouseClick(holder.chips.buttons[FeedbackType.COMPLAINT], Qt.MouseButton.LeftButton)

    _type_more_while_the_first_runs(qtbot, dialog, dialog.summary, holder.similar, gate)
    assert holder.similar.isVisible()
    assert holder.suggestion_buttons[0].text() == "Add to “Staff”"
