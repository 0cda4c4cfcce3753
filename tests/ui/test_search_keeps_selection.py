"""Typing in the search box with a customer selected keeps that customer selected without
numbering the list (issue 13: position_of cost a count over every match per keystroke, 71 ms
for "a" at 100,000 customers). The row is found in the pages read, or once its page is read."""

from __future__ import annotations

from crmcompanion.ui.customer_model import ID_ROLE, NAME, PAGE_SIZE
from tests.ui.test_customer_list_speed import _list_page, statements_by_thread


def _first_letter_matches(view, services, row: int) -> tuple[int, str, int]:
    """The customer at `row`, a one-letter search it matches, and its row in that search."""
    from crmcompanion.store.customers import ListQuery

    customer_id = int(view.model.index(row, NAME).data(ID_ROLE))
    name = services.customers.get(customer_id).display_name
    letter = name[0].lower()
    position = services.customers.position_of(ListQuery(search=letter), customer_id)
    assert position is not None
    return customer_id, letter, position


def _beyond_first_page(view, services) -> tuple[int, str, int]:
    """A customer whose row in its one-letter search is beyond the first page."""
    for row in range(view.model.rowCount() - 1, 0, -1):
        customer_id, letter, position = _first_letter_matches(view, services, row)
        if position >= PAGE_SIZE:
            return customer_id, letter, position
    raise AssertionError("no customer beyond the first page of its search")


def test_a_keystroke_with_a_customer_selected_counts_the_list_once(qtbot, make_window,
                                                                   services):
    view = _list_page(qtbot, make_window, services, 3 * PAGE_SIZE)
    customer_id, letter, position = _beyond_first_page(view, services)
    view.select_customer(customer_id)
    assert view.selected_id() == customer_id

    view.model.fetches = 0
    with statements_by_thread(services) as seen:
        qtbot.keyClicks(view.search, letter)
        qtbot.wait(50)  # the list repaints
        view.model.wait_for_count()
    counts = [s for gui, s in seen if gui and "count(" in s.lower()]
    # The keystroke's capped probe of the matches only (the exact count is taken on the
    # counting thread); position_of added two more (present? then rows before it).
    assert len(counts) == 1 and "LIMIT" in counts[0], counts
    qtbot.waitUntil(lambda: view.model.counted)
    assert view.model.rowCount() > position
    # The new matches from the top: one page read, not the page at the old scroll offset.
    assert view.table.verticalScrollBar().value() == 0
    assert view.model.fetches == 1

    # Kept by id: selected as soon as the page holding it is read (the user scrolls there).
    assert view.selected_id() is None
    view.table.scrollTo(view.model.index(position, NAME))
    qtbot.waitUntil(lambda: view.selected_id() == customer_id)
    assert view.table.currentIndex().row() == position


def test_a_customer_on_the_first_page_stays_selected_at_once(qtbot, make_window, services):
    view = _list_page(qtbot, make_window, services, PAGE_SIZE // 2)
    customer_id, letter, position = _first_letter_matches(view, services, 10)
    view.select_customer(customer_id)
    qtbot.keyClicks(view.search, letter)
    assert view.selected_id() == customer_id
    assert view.table.currentIndex().row() == position


def test_a_customer_kept_across_keystrokes_then_escape_forgets_it(qtbot, make_window,
                                                                  services):
    view = _list_page(qtbot, make_window, services, 3 * PAGE_SIZE)
    customer_id, letter, position = _beyond_first_page(view, services)
    view.select_customer(customer_id)
    qtbot.keyClicks(view.search, letter)
    view.search.clear()  # back to everyone: still kept, found once its page is read
    row = view.model.position_of(customer_id)

    def scrolled_there() -> bool:  # as the user does: scroll until the row is on screen
        view.table.scrollTo(view.model.index(row, NAME))
        return view.selected_id() == customer_id

    qtbot.waitUntil(scrolled_there)

    qtbot.keyClicks(view.search, letter)
    view.escape()
    view.table.scrollTo(view.model.index(position, NAME))
    qtbot.wait(20)
    assert view.selected_id() is None


def test_the_open_profile_is_not_reloaded_while_its_customer_stays_selected(
        qtbot, make_window, services, monkeypatch):
    """Issue 13: a keystroke resets the list (the selection goes, then comes back on the
    first page, or stays kept by id beyond it); the profile panel of that customer must not
    be read and laid out again for it: a profile with its timeline costs more than the
    keystroke's whole page."""
    view = _list_page(qtbot, make_window, services, 3 * PAGE_SIZE)
    near, near_letter, near_position = _first_letter_matches(view, services, 10)
    assert near_position < PAGE_SIZE
    far, far_letter, _ = _beyond_first_page(view, services)
    for customer_id, letter, on_first_page in ((near, near_letter, True),
                                               (far, far_letter, False)):
        view.search.clear()
        view.select_customer(customer_id)
        view.open_customer(customer_id)
        assert view.detail.isVisible() and view.detail.customer.id == customer_id
        shown: list[int] = []
        monkeypatch.setattr(view.detail, "show_customer",
                            lambda customer, shown=shown: shown.append(customer.id))
        qtbot.keyClicks(view.search, letter)
        qtbot.wait(20)
        assert (view.selected_id() == customer_id) is on_first_page, letter
        assert view.detail.isVisible() and view.detail.customer.id == customer_id
        assert shown == [], letter  # not reloaded
        monkeypatch.undo()
