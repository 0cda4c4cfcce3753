"""What runs before Today's first rows are on screen (issue 13, first_useful_paint_ms).

The app is started as the user starts it (`python -m crmcompanion`, offscreen, on a database
with customers) and reports, through the benchmark's hook (`CRMCOMPANION_BENCHMARK_WAIT_FOR=
today`: Today's rows painted), which modules it had imported by then: the phone library, the
feedback and insights services, the log dialog and the embedding model are no part of those
rows and come later. In-process, the work deferred to `TodayView.rows_shown` (phones formatted,
the reminder badge, "moved to at risk") still happens once the rows are painted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt

from crmcompanion.core.clock import SystemClock
from crmcompanion.core.settings import WELCOME_COMPLETED
from crmcompanion.services.container import open_services
from crmcompanion.services.demo import fill_demo

ROOT = Path(__file__).resolve().parents[2]

# Modules Today's first rows must not wait for (each was imported before them once).
NOT_BEFORE_TODAY = (
    "phonenumbers",  # formatting the shown phones: after the rows, on a thread
    "crmcompanion.services.feedback",  # the check-back and log dialogs, on first use
    "crmcompanion.ui.log_conversation",
    "crmcompanion.ui.feedback_checkback",
    "crmcompanion.services.insights",  # "moved to at risk": after the rows
    "crmcompanion.ui.insights",
    "PySide6.QtNetwork",  # answering second launches: after the rows
    "crmcompanion.ui.draft_dialog",  # the greetings hook: plugged once the rows are shown
    "crmcompanion.services.greetings",
    "crmcompanion.core.templates",
    "crmcompanion.store.transfer",  # deleting customers, imports and exports: when used
    "crmcompanion.core.csv_export",
    "wordllama",
    "numpy",
    # Pages and dialogs not on screen at start: built when first shown (issue 13, boot).
    "crmcompanion.ui.customers_view",  # the Customers page
    "crmcompanion.ui.customer_editor",  # the editor (Today's channel names are in ui.style)
    "crmcompanion.ui.reminder_list",  # the delivered reminders' list: once the rows are shown
    "crmcompanion.ui.feedback_page",
    "crmcompanion.ui.settings_dialog",
    "crmcompanion.ui.backups",
    "crmcompanion.ui.welcome",
    "crmcompanion.services.customers",  # Services.customers: built on first use
    "crmcompanion.store.customers",
    # Reminders: the engine, its notification backends and the autostart file come with the
    # runner, once the rows are shown (issue 13, boot5); APScheduler and plyer later still.
    "crmcompanion.reminders.engine",
    "crmcompanion.reminders.notifier",
    "crmcompanion.reminders.freedesktop",
    "crmcompanion.reminders.autostart",
    "crmcompanion.reminders.runner",
    "apscheduler",
    "plyer",
    "crmcompanion.services.staff",  # Services.staff: the Settings dialog's, on first use
)

# Run in the app's process: add the imported modules to the hook's one JSON line.
REPORT_MODULES = """
import sys
import crmcompanion.ui.bench_hooks as hooks
emit = hooks._emit
def with_modules(result):
    result["modules"] = sorted(sys.modules)
    from crmcompanion.store.models import Base
    result["configured"] = sorted(mapper.class_.__name__ for mapper in Base.registry.mappers
                                  if mapper.configured)
    emit(result)
hooks._emit = with_modules
from crmcompanion.__main__ import main
sys.argv = ["crmcompanion"]
sys.exit(main())
"""


def launched_on_demo(tmp_path: Path, wait_for: str, customers: int = 60) -> dict[str, object]:
    """Start the app (a real process) on a database of `customers` demo customers; the
    benchmark hook's JSON line for `wait_for`, with the modules imported by then."""
    home = tmp_path / "home"
    home.mkdir()
    services = open_services(f"sqlite:///{home / 'crmcompanion.sqlite3'}", None, SystemClock())
    try:
        fill_demo(services.db, services.clock, customers, staff_id=services.staff_id)
        services.settings.update({WELCOME_COMPLETED.key: True})
    finally:
        services.close()
    env = {**os.environ, "CRMCOMPANION_HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
           "CRMCOMPANION_BENCHMARK_WAIT_FOR": wait_for, "PYTHONPATH": str(ROOT)}
    env.pop("CRMCOMPANION_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", REPORT_MODULES], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1])


def test_todays_first_rows_are_painted_before_the_modules_they_do_not_need(tmp_path):
    report = launched_on_demo(tmp_path, "today")
    assert report["rows"] > 0  # the clock stopped on real rows
    imported = set(report["modules"])
    early = [name for name in NOT_BEFORE_TODAY
             if name in imported or any(m.startswith(f"{name}.") for m in imported)]
    assert early == []
    # Today's reads are Core statements over the tables (store.tables): the ORM's mappers
    # are configured by the first ORM statement after the rows, not before them (~25 ms).
    assert report["configured"] == []


def test_a_sessions_start_leaves_the_dialogs_it_does_not_open_unloaded(tmp_path):
    """Once settled (Today's rows, the greetings hook, the first reminder pass, Customers
    shown), the template library and the settings dialog it leads to are still not loaded:
    they come with the first dialog that opens them, not with the greetings hook."""
    report = launched_on_demo(tmp_path, "settled")
    assert report["passes"] >= 1 and report["customer_rows"] > 0
    imported = set(report["modules"])
    assert "crmcompanion.ui.draft_dialog" in imported  # the hook is plugged by then
    assert [name for name in ("crmcompanion.ui.template_library",
                              "crmcompanion.ui.settings_dialog") if name in imported] == []


def test_what_waits_for_the_rows_still_happens_once_they_are_painted(qtbot, make_window,
                                                                      services):
    fill_demo(services.db, services.clock, 60, staff_id=services.staff_id)
    window = make_window()
    qtbot.waitUntil(lambda: window.today.ready, timeout=10_000)
    # The main window plugs "moved to at risk" in on `rows_shown` (and only then).
    qtbot.waitUntil(lambda: window.moved_to_at_risk is not None, timeout=10_000)
    assert not window.today._rows_pending
    qtbot.waitUntil(lambda: window.today.model.formatted, timeout=10_000)
    assert window.today.reminders.loaded
    phones = [item.glance.phone for item in window.today.rows()
              if item.glance is not None and item.glance.phone_uri]
    assert phones and all(" " in phone for phone in phones)  # "+33 1 23 45 67 89"


def test_todays_first_load_reads_a_bounded_number_of_statements(services):
    """The worker's read before Today's first rows: the settings once, the counts (with the
    recorded states taken off for all of them at once) and the first page with its glances.
    Not one statement per recorded state, customer or row (issue 13: ~170 recorded outcomes
    made it ~500 statements)."""
    from crmcompanion.services.today_support import AgendaSection, AgendaService
    from crmcompanion.ui.today_view import SHOWN, read_today
    from tests.ui.helpers import counted_statements

    fill_demo(services.db, services.clock, 300, staff_id=services.staff_id)
    agenda = AgendaService(services.db, services.touchpoints, services.clock,
                           services.settings.all)
    for section in (*SHOWN, AgendaSection.OLDER):
        for item in agenda.page(section, limit=5).items:
            services.touchpoints.skip(item.touchpoint.key, "not now")
    shown = sum(agenda.counts().totals[section] for section in SHOWN)
    assert shown >= 10
    with counted_statements(services) as seen:
        load = read_today(services, agenda, list(SHOWN), 30, formatted=False)
    assert sum(len(page.items) for _section, page in load.pages) == min(30, shown)
    settings_reads = [s for s in seen if "FROM settings" in s]
    assert len(settings_reads) == 1, settings_reads
    # The counts: the settings, staleness, recorded states, one counting statement, the
    # recorded states' customers (three sources), whether there are customers, with their
    # reads' BEGINs (11); then each page read: staleness, recorded states, the three
    # sources, the glances, with BEGINs (8).
    read = sum(1 for section, page in load.pages if load.counts.totals[section])
    assert len(seen) <= 11 + 8 * read, seen


def test_the_window_opens_without_the_greeting_templates(tmp_path):
    """The app module and its services, as the window is built and painted, import neither
    the greeting service nor its templates (the drafting hook asks for them afterwards)."""
    home = tmp_path / "home"
    home.mkdir()
    code = (
        "import sys\n"
        "from crmcompanion.app import build_services\n"
        "from crmcompanion.store.database import open_database\n"
        f"services = build_services(open_database({f'sqlite:///{home}/crm.sqlite3'!r}))\n"
        "services.touchpoints.counts()\n"
        "print(sorted(m for m in sys.modules if m in ('crmcompanion.services.greetings', "
        "'crmcompanion.core.templates')))\n"
        "services.close()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"


def _greeting_window(qtbot, qapp, services, plug_after_rows: bool = True):
    """A main window over a customer whose birthday is today, shown as the app shows it;
    what Today's `loaded` saw (the hook, Ada's main action) is recorded in `seen`."""
    from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
    from crmcompanion.ui.main_window import MainWindow
    from crmcompanion.ui.style import apply_look

    today = services.clock.today()
    ada = services.customers.create(CustomerDraft(
        first_name="Ada", last_name="Lovelace", special_dates=(SpecialDate(
            SpecialDateKind.BIRTHDAY, today.month, today.day, 1986),),
    )).customer.id
    apply_look(qapp)
    window = MainWindow(services)
    qtbot.addWidget(window)
    if not plug_after_rows:  # a click that comes before the hook is plugged
        window.today.rows_shown.disconnect(window._plug_greetings)
    seen: dict[str, object] = {}
    window.today.loaded.connect(lambda: seen.update(
        hook=window._greetings, main=window.today.list.delegate.main_text(
            window.today.entry_for(ada))))
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.today.ready)
    return window, ada, seen


def test_the_greetings_hook_waits_for_todays_rows_which_offer_draft_from_the_start(
        qtbot, qapp, services):
    """The greetings hook (its dialog and templates, ~10% of the CPU time to Today's rows)
    is plugged once the rows are shown, not before them; a greeting row still says "Draft"
    when its rows are first painted (no Log -> Draft flip as the hook arrives)."""
    window, _ada, seen = _greeting_window(qtbot, qapp, services)
    assert seen == {"hook": None, "main": "Draft"}
    qtbot.waitUntil(lambda: window._greetings is not None, timeout=10_000)
    # Added to the shown header: Qt shows it on the next pass of the event loop.
    qtbot.waitUntil(lambda: window.greetings.batch_button.isVisible(), timeout=10_000)


def test_draft_clicked_before_the_hook_is_plugged_opens_one_draft(qtbot, qapp, services):
    from crmcompanion.ui.draft_dialog import DraftDialog
    from tests.ui.helpers import click_row_part

    window, ada, _seen = _greeting_window(qtbot, qapp, services, plug_after_rows=False)
    assert window._greetings is None
    click_row_part(qtbot, window.today, ada, "main")
    dialog = window.greetings.dialog
    assert isinstance(dialog, DraftDialog) and dialog.isVisible()
    assert [w for w in window.findChildren(DraftDialog) if w.isVisible()] == [dialog]
    dialog.reject()
    # The next click goes to the hook alone: still one dialog, not two.
    click_row_part(qtbot, window.today, ada, "main")
    drafts = [w for w in window.findChildren(DraftDialog) if w.isVisible()]
    assert len(drafts) == 1 and drafts[0] is window.greetings.dialog
    drafts[0].reject()


def test_pages_left_for_later_are_built_when_first_asked_for(qtbot, make_window, services):
    """The pages and lists Today's rows do not need are built by the key or click that first
    shows them, and work as if they had been there from the start: the reminder list once
    the rows are painted (read from the database: nothing delivered, no badge), the
    Customers page on Ctrl+2, the editor on Ctrl+N (a customer saved through it is listed)."""
    from crmcompanion.ui.main_window import CUSTOMERS, TODAY

    fill_demo(services.db, services.clock, 60, staff_id=services.staff_id)
    window = make_window()
    assert window._customers is None  # a stand-in holds its place until it is shown
    qtbot.waitUntil(lambda: window.today._reminders is not None, timeout=10_000)
    assert window.today.reminders.loaded and window.today_badge() == ""
    # Ctrl+2: the Customers page, built now, with the demo's customers listed.
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentIndex() == CUSTOMERS
    view = window.customers
    assert window.pages.currentWidget() is view
    qtbot.waitUntil(lambda: view.model.rowCount() == services.customers.total(), timeout=10_000)
    assert view.model.rowCount() > 0
    # Ctrl+N: the editor, whose module was not loaded for Today; saving lists the customer.
    before = services.customers.total()
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    editor = view.editor
    assert editor is not None and editor.windowTitle() == "New customer"
    qtbot.keyClicks(editor.first_name, "Zelda")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: services.customers.total() == before + 1, timeout=10_000)
    # Ctrl+1: back on Today, its rows still there.
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentIndex() == TODAY and window.today.rows()


def test_a_reminder_delivered_before_the_list_is_built_shows_on_the_badge(qtbot, services):
    """A window whose Today has not shown its rows (never painted: started in the tray)
    has no reminder list yet; a reminder pass that delivers builds it, and the sidebar's
    badge counts the delivered reminder as before."""
    from datetime import timedelta

    from PySide6.QtGui import QIcon

    from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
    from crmcompanion.reminders.engine import ReminderEngine
    from crmcompanion.reminders.notifier import NotifierChain
    from crmcompanion.ui.main_window import MainWindow
    from crmcompanion.ui.tray import TrayController, TrayNotifier

    day = services.clock.today() + timedelta(days=3)  # due now: a 3-day lead
    services.customers.create(CustomerDraft(first_name="Ada", special_dates=(
        SpecialDate(SpecialDateKind.BIRTHDAY, day.month, day.day, 1980),)))
    window = MainWindow(services)
    qtbot.addWidget(window)  # never shown: Today never paints, its rows never show
    assert window.today._reminders is None
    engine = ReminderEngine(services.reminders, NotifierChain([TrayNotifier(
        TrayController(QIcon()))]))
    report = engine.run_pass()
    window.bus.publish(report.changed)
    assert window.today._reminders is not None and window.today.reminders.count == 1
    assert window.today_badge() == "1"
