"""What an app started on the Customers page imports before the list's first rows are painted
(first_useful_paint_customers_ms).

The app is started as the user starts it (`python -m crmcompanion`, offscreen, on a database
with customers) and reports, through the benchmark's hook (`CRMCOMPANION_BENCHMARK_WAIT_FOR=
customers`: the customer table painted with rows), which modules it had imported by then.
Import/export (the CSV, vCard and iCalendar codecs), the sample customers and the profile's
Log conversation and Ask for feedback dialogs (the feedback service under them) are no part of
those rows: the page imports them when one of their buttons is used. In-process, Import…,
Export… and the sample customers still work from the page built without them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.test_startup_path import launched_on_demo

# Modules the list's first rows must not wait for (each was imported with the page once).
NOT_BEFORE_THE_LIST = (
    "crmcompanion.services.import_export",
    "crmcompanion.core.csv_import",
    "crmcompanion.core.vcard",
    "crmcompanion.core.icalendar_export",
    "crmcompanion.services.demo",
    "crmcompanion.ui.log_conversation",  # the profile's dialogs: when first opened
    "crmcompanion.ui.feedback_ask",
    "crmcompanion.services.feedback",
)


def test_the_customer_list_is_painted_before_import_export_is_imported(tmp_path):
    report = launched_on_demo(tmp_path, "customers")
    assert report["rows"] == 60  # the clock stopped on the real list
    imported = set(report["modules"])
    assert "crmcompanion.ui.customers_view" in imported
    early = [name for name in NOT_BEFORE_THE_LIST if name in imported]
    assert early == []


def test_samples_import_and_export_still_work_from_the_page(qtbot, make_window, services):
    from crmcompanion.ui.main_window import CUSTOMERS

    window = make_window()
    window.show_section(CUSTOMERS)
    view = window.customers
    assert view.model.rowCount() == 0
    qtbot.mouseClick(view.sample_button, Qt.MouseButton.LeftButton)  # imports the demo data
    qtbot.waitUntil(lambda: view.model.rowCount() > 0)
    qtbot.mouseClick(view.import_button, Qt.MouseButton.LeftButton)
    assert view.import_wizard is not None and view.import_wizard.isVisible()
    view.import_wizard.close()
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    assert view.export_dialog is not None and view.export_dialog.isVisible()
    assert view.transfer is services.import_export  # the services' one, built on first use
    view.export_dialog.close()
