"""The Today agenda read page by page: the pages add up to the whole window in date order,
each page costs a bounded number of statements wherever it starts, and each row says why."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.core.touchpoints import Section
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.demo import fill_demo
from crmcompanion.services.today_support import AgendaSection, AgendaService
from tests.services.helpers import count_touchpoints_built, fixed_services
from tests.ui.helpers import counted_statements

NOW = datetime(2026, 3, 1, 9, 30)
TODAY = NOW.date()


@pytest.fixture()
def svc(tmp_path):
    yield from fixed_services(tmp_path, NOW)


def agenda(services: Services) -> AgendaService:
    return AgendaService(services.db, services.touchpoints, services.clock,
                         services.settings.all)


def all_pages(service: AgendaService, section: AgendaSection, limit: int) -> list:
    items, cursor = [], (0, 0, 0)
    while cursor is not None:
        page = service.page(section, cursor, limit)
        assert len(page.items) <= limit
        items.extend(page.items)
        cursor = page.cursor
    return items


def statements_during(services: Services, action) -> list[str]:
    with counted_statements(services) as seen:
        action()
    return seen


def test_pages_add_up_to_the_window_in_date_order_and_match_the_counts(svc):
    fill_demo(svc.db, svc.clock, 300, staff_id=svc.staff_id)
    service = agenda(svc)
    # Something recorded hides its row: pages must skip it without losing another.
    first = service.page(AgendaSection.NEXT_7_DAYS, limit=5).items[0]
    svc.touchpoints.skip(first.touchpoint.key, "seen last week")
    counts = service.counts()
    assert counts.has_customers
    for section in AgendaSection:
        paged = all_pages(service, section, 7)
        keys = [item.touchpoint.key for item in paged]
        assert len(keys) == len(set(keys)), section
        assert len(paged) == counts.totals[section], section
        dates = [item.touchpoint.date for item in paged]
        assert dates == sorted(dates), section
        start, end, open_start = service.windows()[section]
        lowest = start if open_start is None else min(start, open_start)
        assert all(d <= end for d in dates)
        if section is not AgendaSection.OLDER:
            assert all(d >= lowest for d in dates)
    assert first.touchpoint.key not in [
        i.touchpoint.key for i in all_pages(service, AgendaSection.NEXT_7_DAYS, 3)]
    # Catch up holds nothing more than a week late; Older holds the rest of the backlog.
    assert all(TODAY - i.touchpoint.date <= timedelta(days=7)
               for i in all_pages(service, AgendaSection.CATCH_UP, 50))
    assert all(TODAY - i.touchpoint.date > timedelta(days=7)
               for i in all_pages(service, AgendaSection.OLDER, 50))


def test_a_page_costs_the_same_few_statements_wherever_it_starts(svc):
    fill_demo(svc.db, svc.clock, 300, staff_id=svc.staff_id)
    service = agenda(svc)
    service.counts()  # derived tables built
    first = service.page(AgendaSection.OLDER, limit=10)
    assert first.cursor is not None
    counted = []
    for cursor in ((0, 0, 0), first.cursor):
        page: list = []
        seen = statements_during(svc, lambda c=cursor, into=page: into.append(
            service.page(AgendaSection.OLDER, c, 10)))
        assert len(page[0].items) == 10
        # Settings, staleness, recorded states, the three sources, the glances (and the
        # three reads' BEGINs): never one statement per row.
        assert len(seen) <= 10, seen
        counted.append(len(seen))
    assert counted[0] == counted[1]


def test_reasons_say_never_contacted_and_the_occasion(svc):
    never = svc.customers.create(CustomerDraft(
        first_name="Nora", customer_since=date(2013, 10, 31))).customer.id
    talked = svc.customers.create(CustomerDraft(
        first_name="Tom", customer_since=date(2013, 10, 31))).customer.id
    svc.interactions.log(talked, "Coffee", "in_person",
                         datetime(2025, 11, 27, 10, 0).astimezone())
    svc.customers.create(CustomerDraft(first_name="Bea", special_dates=(
        SpecialDate(SpecialDateKind.BIRTHDAY, 3, 1, 1986),)))
    service = agenda(svc)
    today = {i.touchpoint.customer: i for i in all_pages(service, AgendaSection.TODAY, 10)}
    assert today["Bea"].reason == "Birthday: turns 40" and today["Bea"].greeting
    older = {i.touchpoint.customer_id: i
             for section in (AgendaSection.CATCH_UP, AgendaSection.OLDER)
             for i in all_pages(service, section, 10)}
    assert older[never].reason == "Keep in touch: never contacted"
    assert not older[never].greeting
    assert older[talked].reason.startswith("Keep in touch: last contact 9")
    assert older[talked].glance.last_summary == "Coffee"


def test_counts_with_many_recorded_states_cost_a_few_statements_and_stay_exact(svc):
    """Recorded states (done, skipped, snoozed) are taken off the counts with a few
    statements for all of them, not three per customer and window (issue 13: the demo's
    ~170 recent outcomes made Today's counts ~0.9 s at 100,000 customers), and the counts
    still equal the rows the pages list."""
    fill_demo(svc.db, svc.clock, 300, staff_id=svc.staff_id)
    service = agenda(svc)
    picked = []
    for section in (AgendaSection.TODAY, AgendaSection.NEXT_7_DAYS, AgendaSection.CATCH_UP,
                    AgendaSection.OLDER):
        picked.extend(service.page(section, limit=12).items)
    assert len({item.touchpoint.customer_id for item in picked}) >= 30
    for n, item in enumerate(picked):
        point = item.touchpoint
        if n % 3 == 0 and point.occasion.value != "keep_in_touch" and point.date >= TODAY:
            svc.touchpoints.snooze(point.key, point.date + timedelta(days=1))
        else:
            svc.touchpoints.skip(point.key, "not now")
    with svc.db.read() as session:
        from sqlalchemy import text

        states = session.scalar(text("SELECT count(*) FROM touchpoint_states"))
    assert states >= 40
    seen = statements_during(svc, service.counts)
    # The settings, staleness, the recorded states, one counting statement, the three
    # sources for the customers those states name, whether there are customers (and the
    # reads' BEGINs).
    assert len(seen) <= 14, seen
    counts = service.counts()
    for section in AgendaSection:
        assert len(all_pages(service, section, 9)) == counts.totals[section], section
    view_seen = statements_during(svc, svc.touchpoints.counts)
    assert len(view_seen) <= 10, len(view_seen)
    view = svc.touchpoints.today_view(limit_per_section=None)
    for today_section in view.sections:
        assert today_section.total == len(today_section.items), today_section.section


def test_a_limited_today_view_is_the_head_of_the_whole_one(svc):
    """Touchpoints are sorted before they are built, then only the kept ones are built: a
    section cut to a limit is exactly the first rows of the whole section, texts included."""
    fill_demo(svc.db, svc.clock, 300, staff_id=svc.staff_id)
    whole = svc.touchpoints.today_view(limit_per_section=None)
    head = svc.touchpoints.today_view(limit_per_section=7)
    assert sum(len(section.items) for section in whole.sections) > 28
    for full, cut in zip(whole.sections, head.sections, strict=True):
        assert cut.items == full.items[:7], full.section
        assert cut.total == full.total


def test_overdue_reads_no_yearly_rows_when_the_keep_in_touch_backlog_fills_it(svc):
    """Overdue's keep-in-touch backlog reaches years back; once it fills the section's limit,
    the yearly dates (at most 30 days late) cannot be among the first rows, so they are not
    read at all: one yearly list read per later section, none for Overdue."""
    fill_demo(svc.db, svc.clock, 300, staff_id=svc.staff_id)
    view = svc.touchpoints.today_view(limit_per_section=7)
    overdue = view.section(Section.OVERDUE)
    assert len(overdue.items) == 7
    assert overdue.items[-1].date < TODAY - timedelta(days=31)  # the backlog fills it
    seen = statements_during(svc, lambda: svc.touchpoints.today_view(limit_per_section=7))
    # The section reads (with LIMIT), not the check of the customers recorded states name.
    yearly_reads = [s for s in seen if s.lstrip().startswith(
        "SELECT touchpoint_sources.customer_id") and "LIMIT" in s]
    assert len(yearly_reads) == 3, seen
    assert svc.touchpoints.today_view(limit_per_section=7) == view


def test_snoozed_check_ins_are_taken_off_the_counts_without_reading_yearly_dates(svc):
    """The counts take off what recorded states hide by asking each source only about the
    customers whose states are of its kind: snoozed keep-in-touch check-ins never make the
    counts read those customers' birthdays and anniversaries."""
    fill_demo(svc.db, svc.clock, 300, staff_id=svc.staff_id)
    with svc.db.write() as session:
        from sqlalchemy import text

        session.execute(text("DELETE FROM touchpoint_states"))
    before = svc.touchpoints.counts()
    overdue = svc.touchpoints.today_view(limit_per_section=None).section(Section.OVERDUE)
    check_ins = [item for item in overdue.items
                 if item.occasion.value == "keep_in_touch"][:3]
    assert len(check_ins) == 3
    for item in check_ins:
        svc.touchpoints.snooze(item.key, TODAY + timedelta(days=3))
    seen = statements_during(svc, svc.touchpoints.counts)
    after = svc.touchpoints.counts()
    assert after[Section.OVERDUE] == before[Section.OVERDUE] - 3
    yearly_reads = [s for s in seen if s.lstrip().startswith(
        "SELECT touchpoint_sources.customer_id")]
    assert yearly_reads == [], yearly_reads


def test_a_today_page_full_of_birthdays_reads_no_follow_ups_of_that_day(svc):
    """Same-day rows are listed by occasion (birthdays before follow-ups): once the page is
    full of birthdays, today's follow-ups cannot be on it and are not read, yet the whole
    list still has them after the birthdays."""
    ids = [svc.customers.create(CustomerDraft(first_name=name, special_dates=(
        SpecialDate(SpecialDateKind.BIRTHDAY, TODAY.month, TODAY.day, 1980),))).customer.id
        for name in ("Ada", "Ben", "Cleo")]
    svc.touchpoints.add_follow_up(ids[0], TODAY, "Send the quote")
    whole = svc.touchpoints.today_view(limit_per_section=None).section(Section.TODAY)
    occasions = [item.occasion.value for item in whole.items]
    assert occasions[:3] == ["birthday"] * 3 and "follow_up" in occasions[3:]
    seen = statements_during(svc, lambda: svc.touchpoints.today_view(limit_per_section=2))
    head = svc.touchpoints.today_view(limit_per_section=2).section(Section.TODAY)
    assert head.items == whole.items[:2] and head.total == whole.total
    # Overdue, Next 7 days and Days 8-30 read their follow-ups; Today does not.
    follow_up_reads = [s for s in seen if s.lstrip().startswith("SELECT follow_ups.id")
                       and "LIMIT" in s]
    assert len(follow_up_reads) == 3, follow_up_reads


def test_the_today_view_reads_the_versions_of_all_its_rows_at_once(svc, tmp_path):
    """The versions of the recorded states (an expired snooze) come with the rows in one
    statement for all four sections, and still reach the right rows. The statement binds
    ONE value (the keys as a JSON array), not one per key: SQLAlchemy rendered an expanding
    IN of the ~800 keys of a Today view again on every call (issue 13, Today 30 days)."""
    fill_demo(svc.db, svc.clock, 300, staff_id=svc.staff_id)
    upcoming = svc.touchpoints.today_view(limit_per_section=7).section(Section.NEXT_7_DAYS)
    target = upcoming.items[0]
    tomorrow = TODAY + timedelta(days=1)
    svc.touchpoints.snooze(target.key, tomorrow)
    # A day later the snooze has ended: the row is back, carrying its state's version.
    later = open_services(f"sqlite:///{tmp_path / 'crm.sqlite3'}", tmp_path / "b2",
                          FixedClock(NOW + timedelta(days=1)))
    try:
        seen = statements_during(later, lambda: later.touchpoints.today_view(None))
        view = later.touchpoints.today_view(None)
    finally:
        later.close()
    assert sum(len(section.items) for section in view.sections) < 500
    assert all(section.items for section in view.sections)
    version_reads = [s for s in (" ".join(s.split()) for s in seen)
                     if "version FROM touchpoint_states" in s]
    assert len(version_reads) == 1, version_reads
    assert version_reads[0].count("?") == 1, version_reads
    shown = {item.key: item.version for section in view.sections for item in section.items}
    assert shown[target.key] == 1


def test_a_greeting_done_before_new_year_is_checked_in_its_own_year_only(tmp_path):
    """Late in December the counts' window crosses New Year; a birthday greeted last week
    is checked against this year's dates only (one statement), not against both years'."""
    services = next(fixed_services(tmp_path, datetime(2026, 12, 20, 9, 0)))
    try:
        cid = services.customers.create(CustomerDraft(first_name="Ida", special_dates=(
            SpecialDate(SpecialDateKind.BIRTHDAY, 12, 17, 1970),))).customer.id
        services.customers.create(CustomerDraft(first_name="Jon", special_dates=(
            SpecialDate(SpecialDateKind.BIRTHDAY, 1, 3, 1975),)))
        before = services.touchpoints.counts()
        overdue = services.touchpoints.today_view(None).section(Section.OVERDUE)
        greeted = next(i for i in overdue.items
                       if i.customer_id == cid and i.occasion.value == "birthday")
        services.touchpoints.mark_done(greeted.key, "Called")
        seen = statements_during(services, services.touchpoints.counts)
        after = services.touchpoints.counts()
    finally:
        services.close()
    assert after[Section.OVERDUE] == before[Section.OVERDUE] - 1
    assert after[Section.DAYS_8_30] == before[Section.DAYS_8_30] == 1  # Jon, 3 January
    # The states are matched to their occurrences by one statement from their side (each
    # yearly state against the dates of its own year), not by reading customers' rows.
    yearly_reads = [s for s in seen if s.lstrip().startswith(
        "SELECT touchpoint_sources.customer_id")]
    assert yearly_reads == [], yearly_reads
    assert len([s for s in seen if s.lstrip().startswith("WITH h AS")]) == 1, seen


def test_occurrence_keys_are_made_only_for_the_rows_shown(svc, monkeypatch):
    """Rows are read from each source beyond what a page shows; with nothing recorded, an
    occurrence key is made for each row shown and for none of the others."""
    import crmcompanion.services.touchpoints as touchpoints_module

    fill_demo(svc.db, svc.clock, 300, staff_id=svc.staff_id)
    with svc.db.write() as session:
        from sqlalchemy import text

        session.execute(text("DELETE FROM touchpoint_states"))
    expected = svc.touchpoints.today_view(limit_per_section=7)
    made: list[str] = []
    real = touchpoints_module.occurrence_key

    def counted(*parts):
        made.append(real(*parts))
        return made[-1]

    monkeypatch.setattr(touchpoints_module, "occurrence_key", counted)
    view = svc.touchpoints.today_view(limit_per_section=7)
    shown = [item.key for section in view.sections for item in section.items]
    assert view == expected
    assert sorted(made) == sorted(shown)


def test_same_day_rows_have_one_order_in_sql_the_view_and_the_pages(svc):
    """The list order is defined once (store.touchpoints.OCCASION_RANK): by day, occasion,
    then the customer list's accent-folded sort name. A section cut to a limit is the head
    of the whole section, and the Today page lists the same rows in the same order (the
    SQL used to cut by name across occasions and Python to re-sort by case-folded name, so
    at 100,000 customers a 200-row section was not the head of the whole one)."""
    def born_today(name: str, kind: SpecialDateKind = SpecialDateKind.BIRTHDAY,
                   label: str = "") -> None:
        svc.customers.create(CustomerDraft(display_name=name, special_dates=(
            SpecialDate(kind, TODAY.month, TODAY.day, 1980, label),)))

    for name in ("Zoe Adler", "Émilie Roux", "Bea Stone", "adam Kent"):
        born_today(name)
    born_today("Aaron Abbot", SpecialDateKind.WEDDING_ANNIVERSARY)
    born_today("Aaron Custom", SpecialDateKind.CUSTOM, "Shop opening")
    whole = svc.touchpoints.today_view(limit_per_section=None).section(Section.TODAY)
    shown = [(item.occasion.value, item.customer) for item in whole.items]
    assert shown == [("birthday", "adam Kent"), ("birthday", "Bea Stone"),
                     ("birthday", "Émilie Roux"), ("birthday", "Zoe Adler"),
                     ("wedding_anniversary", "Aaron Abbot"), ("custom", "Aaron Custom")]
    for limit in (1, 2, 3, 5):
        head = svc.touchpoints.today_view(limit_per_section=limit).section(Section.TODAY)
        assert head.items == whole.items[:limit], limit
    paged = [item.touchpoint for item in all_pages(agenda(svc), AgendaSection.TODAY, 2)]
    assert paged == list(whole.items)


def test_the_today_view_reads_and_builds_only_the_rows_it_shows(svc, monkeypatch):
    """What recorded states hide is left out in SQL: with many rows done, skipped and
    snoozed, each source read asks for at most the section's limit, and a touchpoint is
    built for each row shown and for no other (issue 13: each source read its limit plus
    every hidden occurrence of the window, ~170 extra rows for Overdue at 100,000
    customers, and checked them in Python)."""
    from crmcompanion.store import touchpoints as repo

    fill_demo(svc.db, svc.clock, 300, staff_id=svc.staff_id)
    whole = svc.touchpoints.today_view(limit_per_section=None)
    recorded = 0
    for section in whole.sections:
        for n, item in enumerate(section.items[:24]):
            if n % 2:
                svc.touchpoints.skip(item.key, "not now")
            elif item.date >= TODAY and item.occasion.value != "keep_in_touch":
                svc.touchpoints.snooze(item.key, item.date + timedelta(days=1))
            else:
                svc.touchpoints.mark_done(item.key, "Called")
            recorded += 1
    assert recorded >= 60
    expected = svc.touchpoints.today_view(limit_per_section=None)
    read: list[int] = []
    for name in ("yearly_hits", "keep_in_touch_hits", "follow_up_hits"):
        real = getattr(repo, name)

        def counted(*args, _real=real, **kwargs):
            rows = _real(*args, **kwargs)
            if kwargs.get("customer_ids") is None:  # not the totals' check of states
                read.append(len(rows))
            return rows
        monkeypatch.setattr(repo, name, counted)
    built = count_touchpoints_built(monkeypatch)
    seen = statements_during(svc, lambda: svc.touchpoints.today_view(limit_per_section=7))
    monkeypatch.undo()
    view = svc.touchpoints.today_view(limit_per_section=7)
    assert read and max(read) <= 7, read
    assert built[0] == sum(len(section.items) for section in view.sections)
    for full, cut in zip(expected.sections, view.sections, strict=True):
        assert cut.items == full.items[:7], full.section
        assert cut.total == full.total == len(full.items), full.section
    # Settings, staleness, states, totals, the states' customers (3), the sections' reads
    # (at most 3 each), the versions (and the reads' BEGINs).
    assert len(seen) <= 22, seen


def test_a_section_full_of_first_day_birthdays_reads_only_those(svc):
    """When a section's first day holds at least its limit of birthdays (the occasion listed
    first; else of birthdays and the anniversaries listed next), its yearly rows are read
    from those alone (at 100,000 customers ~200-270 rows instead of the day's ~560 yearly
    dates, all read to sort them by name); when recorded states hide some of them, the
    whole read takes over. Either way the section is the head of the whole one."""
    names = ("Ada Kent", "Bea Stone", "Cleo Roux", "Dan Adler", "Eve Moss")
    ids = [svc.customers.create(CustomerDraft(display_name=name, special_dates=(
        SpecialDate(SpecialDateKind.BIRTHDAY, TODAY.month, TODAY.day, 1980),
        SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, TODAY.month, TODAY.day, 2001),
        ))).customer.id for name in names]
    svc.touchpoints.add_follow_up(ids[0], TODAY, "Send the quote")

    def today_reads(limit: int) -> tuple[list, list[str]]:
        seen = statements_during(svc, lambda: svc.touchpoints.today_view(limit))
        head = svc.touchpoints.today_view(limit).section(Section.TODAY).items
        return list(head), [s for s in seen if s.lstrip().startswith(
            "SELECT touchpoint_sources.customer_id") and "LIMIT" in s]

    whole = svc.touchpoints.today_view(None).section(Section.TODAY).items
    assert [i.customer for i in whole[:5]] == list(names)
    head, reads = today_reads(3)
    assert head == list(whole[:3])
    birthday_only = [s for s in reads if "touchpoint_sources.occasion IN" in s]
    assert len(birthday_only) == 1, reads
    # Five birthdays do not fill 7 rows; with the day's wedding anniversaries (listed next)
    # they do: read from those two occasions alone.
    head, reads = today_reads(7)
    assert head == list(whole[:7])
    assert [i.occasion.value for i in head] == ["birthday"] * 5 + ["wedding_anniversary"] * 2
    assert len([s for s in reads if "touchpoint_sources.occasion IN" in s]) == 1, reads
    # Two of the first birthdays greeted: the day's birthdays no longer fill 4 rows.
    svc.touchpoints.mark_done(whole[0].key, "Called")
    svc.touchpoints.skip(whole[2].key, "Away")
    whole = svc.touchpoints.today_view(None).section(Section.TODAY).items
    head, reads = today_reads(4)
    assert head == list(whole[:4])
    assert [i.occasion.value for i in head] == ["birthday"] * 3 + ["wedding_anniversary"]
