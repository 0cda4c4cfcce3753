"""Add feedback, opened from the Feedback page of a 900x600 window (issue: it spread its
rows down a tall dialog, and a complaint's similar complaints scrolled in a short list): the
dialog is as tall as its fields, the customer field has the cursor, and a complaint with
five similar complaints shows all of them and the Save button without a scroll bar, inside
the window."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QFormLayout, QWidget

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.feedback import FeedbackType
from crmcompanion.ui.feedback_dialog import FeedbackDialog
from tests.ui.helpers import save_shot
from tests.ui.test_feedback_ui import _open_page

PARCELS = ("My parcel arrived two weeks late", "The parcel never arrived at all",
           "The parcel was left in the rain and arrived late",
           "Ordered online, the parcel never arrived and nobody answered the phone",
           "The courier lost my parcel and the delivery was late again")


def _inside(widget: QWidget, dialog: QWidget) -> bool:
    top_left = widget.mapTo(dialog, widget.rect().topLeft())
    bottom_right = widget.mapTo(dialog, widget.rect().bottomRight())
    return dialog.rect().contains(top_left) and dialog.rect().contains(bottom_right)


def _gaps(form: QFormLayout) -> list[int]:
    """Vertical space between one visible row's field and the next one's."""
    fields = [form.itemAt(row, QFormLayout.ItemRole.FieldRole).widget()
              for row in range(form.rowCount())]
    shown = [f for f in fields if f is not None and f.isVisible()]
    return [b.geometry().top() - a.geometry().bottom() - 1 for a, b in pairwise(shown)]


def test_add_feedback_fits_a_900x600_window(qtbot, services, make_window,
                                            tmp_path: Path) -> None:
    for n, text in enumerate(PARCELS):
        cid = services.customers.create(CustomerDraft(first_name=f"Other{n}")).customer.id
        services.feedback.add(cid, "complaint", text, themes=["Delivery"])
    services.customers.create(CustomerDraft(first_name="Agnes", last_name="Varda"))
    window = make_window()
    window.resize(900, 600)
    page = _open_page(qtbot, window)
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, FeedbackDialog)
    qtbot.waitExposed(dialog)
    QApplication.processEvents()
    save_shot(dialog, tmp_path, "add_feedback_opened.png")
    assert dialog.focusWidget() is dialog.customer  # the first field is the one to fill
    form = dialog.findChild(QFormLayout)
    spacing = form.verticalSpacing()
    assert all(gap <= spacing + 2 for gap in _gaps(form)), _gaps(form)
    assert dialog.height() <= 600 and _inside(dialog.save_button, dialog)

    qtbot.keyClicks(dialog.customer, "Agnes")
    complaint = next(b for b in dialog.chips.findChildren(QAbstractButton)
                     if b.text() == FeedbackType.COMPLAINT.title)
    qtbot.mouseClick(complaint, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.text, "The parcel never arrived and the delivery was late")
    qtbot.waitUntil(lambda: dialog.similar.count() == 5 and dialog.similar.isVisible(),
                    timeout=60_000)
    QApplication.processEvents()
    save_shot(dialog, tmp_path, "add_feedback_complaint.png")
    listed = dialog.similar
    assert not listed.verticalScrollBar().isVisible()
    assert not listed.horizontalScrollBar().isVisible()
    last = listed.visualItemRect(listed.item(listed.count() - 1))
    assert last.bottom() < listed.viewport().height()  # the fifth row whole, in view
    assert dialog.height() <= 600 and dialog.width() <= 900
    for part in (dialog.save_button, dialog.cancel_button, listed, dialog.severity,
                 *dialog.suggestion_buttons):
        assert part.isVisible() and _inside(part, dialog), part
    assert all(gap <= spacing + 2 for gap in _gaps(form)), _gaps(form)
