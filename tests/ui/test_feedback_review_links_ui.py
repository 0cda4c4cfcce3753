"""Public-review import in the app (issue 15): the proposed customer links are shown before
anything is written (author, customer, matched by email or by name, ticked), the owner
unticks a wrong name match, and that review is imported unlinked while the others are
linked. Through the user's path: the Import reviews button, a picked file, the ticks."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog

from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.ui.feedback_review_links import ReviewLinksDialog
from tests.ui.helpers import save_shot
from tests.ui.test_feedback_ui import _click, _open_page

CSV = ("Review date,Stars,Reviewer,Comment\n"
       "2026-02-10,5,jo@example.com,Lovely bread and friendly staff\n"
       "2026-02-11,2,Sam Lee,Parcel arrived late\n"
       "2026-02-12,4,Kim Nobody,Nice little shop\n")


def test_owner_unticks_a_wrong_name_match_and_that_review_stays_unlinked(
        qtbot, services, make_window, tmp_path, monkeypatch) -> None:
    jo = services.customers.create(CustomerDraft(
        first_name="Jo", last_name="Walker",
        emails=(EmailAddress("jo@example.com"),))).customer.id
    services.customers.create(CustomerDraft(first_name="Sam", last_name="Lee"))
    path = tmp_path / "reviews.csv"
    path.write_text(CSV, encoding="utf-8")
    picked: list[str] = []

    def pick(*_args, **_kwargs) -> tuple[str, str]:
        picked.append("asked")
        return str(path), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", pick)
    window = make_window()
    page = _open_page(qtbot, window)
    _click(qtbot, page.import_button)
    qtbot.waitUntil(lambda: page.review_links is not None and page.review_links.isVisible())
    dialog = page.review_links
    assert isinstance(dialog, ReviewLinksDialog) and picked == ["asked"]
    shown = [[dialog.table.item(r, c).text() for c in range(1, 4)]
             for r in range(dialog.table.rowCount())]
    assert shown == [["jo@example.com", "Jo Walker", "Email address"],
                     ["Sam Lee", "Sam Lee", "Same name"]]
    assert all(box.isChecked() for box in dialog.boxes)
    assert services.feedback.list(limit=None) == []  # nothing written before the owner says

    sam_box = dialog.box_for("Sam Lee")
    qtbot.mouseClick(sam_box, Qt.MouseButton.LeftButton, pos=QPoint(6, sam_box.height() // 2))
    assert not sam_box.isChecked()
    assert dialog.summary.text() == "1 review will be linked, 2 imported without a customer."
    assert dialog.import_button.text() == "Import 3 reviews"
    os.environ.setdefault("CRMCOMPANION_SHOTS", "/tmp/shots/voc")
    save_shot(dialog, tmp_path, "review-links.png")
    _click(qtbot, dialog.import_button)

    qtbot.waitUntil(lambda: len(services.feedback.list(limit=None)) == 3)
    links = {i.reviewer: i.customer_id for i in services.feedback.list(limit=None)}
    assert links == {"jo@example.com": jo, "Sam Lee": None, "Kim Nobody": None}
    everything = page.everything
    page.tabs.setCurrentWidget(everything)
    qtbot.waitUntil(lambda: everything.ready and everything.table.rowCount() == 3)
    customers = {everything.table.item(r, 6).text(): everything.table.item(r, 1).text()
                 for r in range(3)}
    assert customers == {"Lovely bread and friendly staff": "Jo Walker",
                         "Parcel arrived late": "Sam Lee (not a customer)",
                         "Nice little shop": "Kim Nobody (not a customer)"}


def test_cancelling_the_link_check_imports_nothing(qtbot, services, make_window, tmp_path,
                                                   monkeypatch) -> None:
    services.customers.create(CustomerDraft(first_name="Sam", last_name="Lee"))
    path = Path(tmp_path / "reviews.csv")
    path.write_text(CSV, encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window = make_window()
    page = _open_page(qtbot, window)
    _click(qtbot, page.import_button)
    qtbot.waitUntil(lambda: page.review_links is not None and page.review_links.isVisible())
    _click(qtbot, page.review_links.cancel_button)
    assert services.feedback.list(limit=None) == []
