"""Import reviews… with one review whose author matches a customer (issue: the check said
"1 author match a customer"): the line under the title agrees with its number, "1 author
matches a customer", and "2 authors match" with two."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QLabel

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.ui.feedback_review_links import ReviewLinksDialog
from tests.ui.test_feedback_ui import _click, _open_page

ONE = ("date,rating,author,text\n"
       "2026-02-11,2,Sam Lee,Parcel arrived late\n"
       "2026-02-12,4,Kim Nobody,Nice little shop\n")
TWO = ONE + "2026-02-13,5,Jo Walker,Lovely bread\n"


def _intro(qtbot, page) -> str:
    page.review_links = None  # the check closed before: wait for the new one
    _click(qtbot, page.import_button)
    qtbot.waitUntil(lambda: page.review_links is not None and page.review_links.isVisible())
    dialog = page.review_links
    assert isinstance(dialog, ReviewLinksDialog)
    intro = next(label.text() for label in dialog.findChildren(QLabel)
                 if "in the file" in label.text())
    dialog.reject()
    return intro


def test_the_count_of_matching_authors_agrees(qtbot, services, make_window, tmp_path,
                                              monkeypatch) -> None:
    for first, last in (("Sam", "Lee"), ("Jo", "Walker")):
        services.customers.create(CustomerDraft(first_name=first, last_name=last))
    files = {"one": ONE, "two": TWO}
    chosen: list[str] = []
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *_a, **_k: (str(tmp_path / f"{chosen[-1]}.csv"), ""))
    page = _open_page(qtbot, make_window())
    chosen.append("one")
    assert "; 1 author matches a customer." in _intro(qtbot, page)
    chosen.append("two")
    assert "; 2 authors match a customer." in _intro(qtbot, page)
