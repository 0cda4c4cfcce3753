"""The profile's "Log conversation" and "Write greeting…" buttons stand apart.

Found by an owner: the two buttons touched (their row took the 2 px spacing of the lines
around it). They now have the same gap as the profile's other row of buttons (Edit,
Archive, More), measured on the shown window.
"""

from __future__ import annotations

from pathlib import Path

from crmcompanion.core.customer import CustomerDraft, PhoneNumber
from tests.ui.helpers import save_shot

SHOTS = Path("/tmp/shots/tidy6")


def _gap(left, right) -> int:
    """Pixels between two side-by-side widgets, in window coordinates."""
    window = left.window()
    left_edge = left.mapTo(window, left.rect().topRight()).x()
    right_edge = right.mapTo(window, right.rect().topLeft()).x()
    return right_edge - left_edge - 1


def test_log_and_greeting_buttons_have_the_usual_gap(qtbot, services, window,
                                                    monkeypatch) -> None:
    monkeypatch.setenv("CRMCOMPANION_SHOTS", str(SHOTS))
    ada = services.customers.create(CustomerDraft(
        first_name="Ada", last_name="Lovelace",
        phones=(PhoneNumber("+442079460000", "mobile"),))).customer
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    window.open_customer(ada.id)
    detail = window.customers.detail
    activity = detail.activity
    qtbot.waitUntil(lambda: activity.log_button.isVisible() and detail.edit_button.isVisible())
    usual = _gap(detail.edit_button, detail.archive_button)
    assert usual >= 4  # the row it is compared with does have a gap
    assert _gap(activity.log_button, activity.draft_button) == usual
    save_shot(detail, SHOTS, "profile_button_gap.png")
