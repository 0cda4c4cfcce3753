"""Personal-data requests from the customer page: export a zip, erase after typing the name."""

from __future__ import annotations

import json
import zipfile

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.core.errors import NotFoundError
from crmcompanion.ui.personal_data import EraseConfirmDialog


def make_customer(services):
    customer = services.customers.create(CustomerDraft(
        first_name="Zoë", last_name="Brandt", emails=(EmailAddress("zoe@example.com"),),
        notes="Prefers tulips",
    )).customer
    services.interactions.log(customer.id, "Talked about the wedding flowers")
    return customer


def open_profile(qtbot, window, customer_id):
    window.open_customer(customer_id)
    detail = window.customers.detail
    qtbot.waitUntil(lambda: detail.isVisible() and detail.customer is not None
                    and detail.customer.id == customer_id)
    return detail


def test_export_personal_data_from_the_more_menu(qtbot, services, make_window, tmp_path,
                                                 monkeypatch):
    customer = make_customer(services)
    window = make_window()
    detail = open_profile(qtbot, window, customer.id)
    target = tmp_path / "zoe.zip"
    # The native save dialog cannot be driven offscreen: answer it with our path.
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args, **kwargs: (str(target), "")))
    detail.export_data_action.trigger()
    with zipfile.ZipFile(target) as archive:
        document = json.loads(archive.read("customer.json"))
        names = set(archive.namelist())
    assert document["customer_id"] == customer.id
    assert document["tables"]["customers"][0]["notes"] == "Prefers tulips"
    summaries = [row["summary"] for row in document["tables"]["interactions"]]
    assert summaries == ["Talked about the wedding flowers"]
    assert {"customer.json", "customers.csv", "interactions.csv"} <= names
    assert "Exported Zoë Brandt" in window.customers.personal_data.last_message


def test_erase_needs_the_typed_name_then_removes_the_person(qtbot, services, make_window):
    customer = make_customer(services)
    window = make_window()
    detail = open_profile(qtbot, window, customer.id)
    assert window.customers.model.rowCount() == 1
    detail.erase_action.trigger()
    dialog = window.customers.personal_data.dialog
    assert isinstance(dialog, EraseConfirmDialog)
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.name_edit, "Zoe Brand")
    assert not dialog.erase_button.isEnabled()
    qtbot.keyClicks(dialog.name_edit, "t")  # accents and case are ignored: "Zoe Brandt"
    assert dialog.erase_button.isEnabled()
    qtbot.mouseClick(dialog.erase_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.customers.model.rowCount() == 0)
    try:
        services.customers.get(customer.id)
        raise AssertionError("the customer should be gone")
    except NotFoundError:
        pass
    assert services.customers.search("tulips", include_archived=True) == []
    assert "Erased Zoë Brandt" in window.customers.personal_data.last_message


def test_cancelled_erase_changes_nothing(qtbot, services, make_window):
    customer = make_customer(services)
    window = make_window()
    detail = open_profile(qtbot, window, customer.id)
    detail.erase_action.trigger()
    dialog = window.customers.personal_data.dialog
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.name_edit, "Someone else")
    qtbot.mouseClick(dialog.erase_button, Qt.MouseButton.LeftButton)  # disabled: no effect
    assert dialog.isVisible()
    dialog.reject()
    assert services.customers.get(customer.id).notes == "Prefers tulips"
