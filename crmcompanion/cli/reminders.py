"""`crmcompanion remind --once` and `due`: reminders and touchpoints from a terminal or cron.

`remind --once` runs one delivery pass of the same engine the tray uses (safe while the app is
open), and makes the daily backup when the newest one is a day old; `due` lists what is
overdue or due soon without delivering anything.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crmcompanion.cli.base import (
    EXIT_OK,
    MAX_DAYS,
    Cli,
    set_handler,
    shown,
    touchpoint_json,
    touchpoint_state,
    whole_number,
)

if TYPE_CHECKING:
    from crmcompanion.cli.base import Commands

logger = logging.getLogger(__name__)


def register(commands: Commands) -> None:
    remind = commands.add_parser(
        "remind", help="deliver due reminders once (safe while the app is open), e.g. from cron"
    )
    remind.add_argument(
        "--once", action="store_true", required=True, help="run one delivery pass and exit"
    )
    remind.add_argument("--json", action="store_true", help="print JSON")
    set_handler(remind, run_remind_once)

    due = commands.add_parser(
        "due", help="list overdue touchpoints and those due in the next N days"
    )
    due.add_argument("--days", type=whole_number(0, MAX_DAYS), default=7, metavar="N",
                     help=f"days ahead, 0 to {MAX_DAYS:,} (default 7)")
    due.add_argument("--json", action="store_true", help="print JSON")
    set_handler(due, run_due)


def run_remind_once(cli: Cli) -> int:
    # Imported here so other commands stay as light as before.
    from crmcompanion.reminders.engine import ReminderEngine
    from crmcompanion.reminders.notifier import NotifierChain, desktop_notifiers

    engine = ReminderEngine(cli.services.reminders, NotifierChain(desktop_notifiers()))
    report = engine.run_pass()
    _daily_backup(cli)
    channels: dict[str, str] = {}
    for notification, channel in zip(report.notifications, report.channels, strict=True):
        channels[notification.title] = channel
    if cli.args.json:
        cli.print_json(
            [
                {
                    "id": r.id,
                    "occurrence_key": r.occurrence_key,
                    "customer_id": r.customer_id,
                    "customer": r.customer_name,
                    "occasion": r.occasion.value,
                    "description": r.description,
                    "remind_on": r.remind_on.isoformat(),
                }
                for r in report.delivered
            ]
        )
        return EXIT_OK
    if not report.delivered:
        cli.out.write("0 reminders\n")
    for r in report.delivered:
        cli.out.write(
            f"{r.remind_on.isoformat()}\t#{r.customer_id}\t{shown(r.customer_name)}\t"
            f"{r.occasion.title}\t{shown(r.description)}\n"
        )
    for title, channel in channels.items():
        if channel == "app":
            cli.err.write(
                f"Could not show a desktop notification for “{shown(title)}”; "
                "it is in the app's reminder list.\n"
            )
    return EXIT_OK


def _daily_backup(cli: Cli) -> None:
    """The app's daily backup, for users who only run `remind --once` (from cron): made when
    the newest one is 24 hours old. A failure is one line on stderr; the reminders stand."""
    from crmcompanion.core.errors import DomainError

    try:
        made = cli.services.backups.back_up_if_due()
    except DomainError as exc:
        cli.err.write(f"crmcompanion: the daily backup failed: {exc}\n")
        return
    if made is not None:
        logger.info("Daily backup written to %s", made.path)


def run_due(cli: Cli) -> int:
    # --days was checked while parsing: nothing is opened (nor any derived table rewritten)
    # for a value that would fail.
    items = cli.services.touchpoints.due(cli.args.days)
    today = cli.clock.today()
    if cli.args.json:
        cli.print_json({"today": today.isoformat(), "items": [touchpoint_json(t) for t in items]})
        return EXIT_OK
    if not items:
        cli.err.write("Nothing due.\n")
    for t in items:
        cli.out.write(
            f"{t.date.isoformat()}\t{touchpoint_state(t)}\t#{t.customer_id}\t{shown(t.customer)}\t"
            f"{t.occasion.title}\t{shown(t.label)}\n"
        )
    return EXIT_OK
