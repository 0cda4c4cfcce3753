"""`crmcompanion remind --once` and `due`: reminders and touchpoints from a terminal or cron.

`remind --once` runs one delivery pass of the same engine the tray uses (safe while the app is
open); `due` lists what is overdue or due soon without delivering anything.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crmcompanion.cli.base import EXIT_OK, MAX_DAYS, Cli, UsageError, set_handler, whole_number

if TYPE_CHECKING:
    from crmcompanion.cli.base import Commands
    from crmcompanion.services.touchpoints import Touchpoint

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
                     help="days ahead (default 7)")
    due.add_argument("--json", action="store_true", help="print JSON")
    set_handler(due, run_due)


def run_remind_once(cli: Cli) -> int:
    # Imported here so other commands stay as light as before.
    from crmcompanion.reminders.engine import ReminderEngine
    from crmcompanion.reminders.notifier import NotifierChain, PlyerNotifier

    engine = ReminderEngine(cli.services.reminders, NotifierChain([PlyerNotifier()]))
    report = engine.run_pass()
    shown = {}
    for notification, channel in zip(report.notifications, report.channels, strict=True):
        shown[notification.title] = channel
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
            f"{r.remind_on.isoformat()}\t#{r.customer_id}\t{r.customer_name}\t"
            f"{r.occasion.title}\t{r.description}\n"
        )
    for title, channel in shown.items():
        if channel == "app":
            cli.err.write(
                f"Could not show a desktop notification for “{title}”; "
                "it is in the app's reminder list.\n"
            )
    return EXIT_OK


def _state(item: Touchpoint) -> str:
    return "overdue" if item.overdue else item.state.value


def run_due(cli: Cli) -> int:
    if cli.args.days < 0:
        raise UsageError("crmcompanion due: --days must be 0 or more")
    items = cli.services.touchpoints.due(cli.args.days)
    today = cli.clock.today()
    if cli.args.json:
        cli.print_json(
            {
                "today": today.isoformat(),
                "items": [
                    {
                        "customer_id": t.customer_id,
                        "customer": t.customer,
                        "occasion": t.occasion.value,
                        "label": t.label,
                        "date": t.date.isoformat(),
                        "remind_on": t.remind_on.isoformat(),
                        "state": _state(t),
                    }
                    for t in items
                ],
            }
        )
        return EXIT_OK
    if not items:
        cli.err.write("Nothing due.\n")
    for t in items:
        cli.out.write(
            f"{t.date.isoformat()}\t{_state(t)}\t#{t.customer_id}\t{t.customer}\t"
            f"{t.occasion.title}\t{t.label}\n"
        )
    return EXIT_OK
