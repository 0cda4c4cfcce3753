"""The customer list's Segment and Reasons columns (issue 16): hidden by default, ticked in
the header's column chooser, filled from the stored segments read with the page (one read
per page, never one per row), brought up to date when shown."""

from __future__ import annotations

from datetime import date

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.ui.customer_model import PAGE_SIZE, SEGMENT, SEGMENT_REASONS
from tests.ui.helpers import counted_statements
from tests.ui.test_customer_columns import _action, _customers_page, _right_click_header


def test_segment_columns_from_the_chooser(qtbot, make_window, services) -> None:
    quiet = services.customers.create(CustomerDraft(
        first_name="Quinn", last_name="Quiet", customer_since=date(2025, 3, 1))).customer.id
    services.customers.create(CustomerDraft(first_name="Fay", last_name="Fresh"))
    _window, view = _customers_page(make_window)
    table = view.table
    assert table.isColumnHidden(SEGMENT) and table.isColumnHidden(SEGMENT_REASONS)

    menu = _right_click_header(qtbot, view, 0)
    assert not _action(menu, "Segment").isChecked()
    _action(menu, "Segment").trigger()
    menu.close()
    menu = _right_click_header(qtbot, view, 0)
    _action(menu, "Reasons").trigger()
    menu.close()
    assert not table.isColumnHidden(SEGMENT) and not table.isColumnHidden(SEGMENT_REASONS)
    model = view.model

    def shown() -> dict[str, tuple[str, str]]:
        return {model.row_at(r).display_name: (model.index(r, SEGMENT).data(),
                                               model.index(r, SEGMENT_REASONS).data())
                for r in range(model.rowCount())}

    qtbot.waitUntil(lambda: shown().get("Quinn Quiet", ("",))[0] == "At risk", timeout=15000)
    rows = shown()
    assert rows["Quinn Quiet"][1] == \
        "No contact in the 365 days since joining (you aim for every 90 days)"
    assert rows["Fay Fresh"][0] == "Healthy"
    assert services.insights.health([quiet])[quiet][0].value == "at_risk"


def test_segments_come_with_the_page_not_one_query_per_row(qtbot, make_window,
                                                           services) -> None:
    for n in range(PAGE_SIZE):
        services.customers.create(CustomerDraft(first_name=f"Pat{n:02d}", last_name="Page"))
    services.insights.refresh()
    _window, view = _customers_page(make_window)
    model = view.model
    with counted_statements(services) as statements:
        model.refresh()  # the first page, then its count (issue 13)
        texts = [model.index(r, SEGMENT).data() for r in range(PAGE_SIZE)]
    assert texts == ["Healthy"] * PAGE_SIZE
    health_reads = [s for s in statements if "customer_health" in s]
    assert len(health_reads) == 1, statements
    # BEGIN, the page, its contacts, dates, health; then BEGIN and the two counts of "all
    # but the archived" (the count is its own read: a keystroke shows the page before it)
    assert len(statements) <= 8, statements
