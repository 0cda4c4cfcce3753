"""The same services from a terminal: data on stdout, messages on stderr.

Exit codes: 0 success, 1 a domain error (one clear line on stderr), 2 a usage error.
Importing this module never imports Qt, so scripts and cron jobs stay fast and headless.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from crmcompanion import cli_draft, cli_transfer
from crmcompanion.core.clock import Clock, clock_from_environment
from crmcompanion.core.customer import Channel, Customer
from crmcompanion.core.errors import DomainError
from crmcompanion.paths import AppPaths, resolve_paths
from crmcompanion.services.container import Services, build_services
from crmcompanion.services.touchpoints import Touchpoint
from crmcompanion.store.database import open_database

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_DOMAIN_ERROR = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad command-line usage: exit 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so `main` controls exit codes and output."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="crmcompanion",
        description="CRM Companion: stay close to your customers. "
        "Without a command, opens the app.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--minimized", action="store_true", help="start in the tray (or minimised) without a window"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)

    demo = commands.add_parser("demo", help="fill an empty database with sample customers")
    demo.add_argument("--customers", type=int, default=200, metavar="N")
    demo.add_argument("--seed", type=int, default=1, metavar="S")
    demo.add_argument("--append", action="store_true", help="add to a non-empty database")

    customers = commands.add_parser("customers", help="find customers")
    customer_commands = customers.add_subparsers(
        dest="customers_command", metavar="ACTION", parser_class=ArgumentParser, required=True
    )
    search = customer_commands.add_parser("search", help="search by name, company, email, ...")
    search.add_argument("text")
    search.add_argument("--limit", type=int, default=50)
    search.add_argument("--json", action="store_true", help="print JSON")
    search.add_argument("--archived", action="store_true", help="include archived customers")

    remind = commands.add_parser(
        "remind", help="deliver due reminders once (safe while the app is open), e.g. from cron"
    )
    remind.add_argument(
        "--once", action="store_true", required=True, help="run one delivery pass and exit"
    )
    remind.add_argument("--json", action="store_true", help="print JSON")

    due = commands.add_parser(
        "due", help="list overdue touchpoints and those due in the next N days"
    )
    due.add_argument("--days", type=int, default=7, metavar="N", help="days ahead (default 7)")
    due.add_argument("--json", action="store_true", help="print JSON")

    log = commands.add_parser("log", help="log a conversation with a customer")
    log.add_argument("--customer", required=True, metavar="TEXT", help="#ID, email, phone, name")
    log.add_argument(
        "--channel", choices=[c.value for c in Channel], default=None, help="how you talked"
    )
    log.add_argument("summary", help="what was said")
    cli_transfer.add_parsers(commands)
    cli_draft.add_parser(commands)
    return parser


def customer_json(customer: Customer) -> dict[str, object]:
    return {
        "id": customer.id,
        "display_name": customer.display_name,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "company": customer.company,
        "emails": [e.address for e in customer.emails],
        "phones": [p.number for p in customer.phones],
        "tags": list(customer.tags),
        "status": customer.status.value,
        "kind": customer.kind.value,
    }


class Cli:
    """One CLI invocation: parsed arguments, output streams and lazily opened services."""

    def __init__(
        self,
        args: argparse.Namespace,
        paths: AppPaths,
        clock: Clock,
        out: TextIO,
        err: TextIO,
    ) -> None:
        self.args = args
        self.paths = paths
        self.clock = clock
        self.out = out
        self.err = err
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            self.paths.ensure()
            db = open_database(self.paths.database_url, self.paths.backups_dir)
            self._services = build_services(db, self.clock)
        return self._services

    def close(self) -> None:
        if self._services is not None:
            self._services.close()

    def print_json(self, value: object) -> None:
        json.dump(value, self.out, ensure_ascii=False, indent=2, default=str)
        self.out.write("\n")

    # --- commands --------------------------------------------------------------------
    def demo(self) -> int:
        from crmcompanion.services.demo import fill_demo

        services = self.services
        fill_demo(
            services.db,
            self.clock,
            self.args.customers,
            self.args.seed,
            self.args.append,
            services.staff_id,
        )
        self.err.write(f"Added {self.args.customers:,} sample customers.\n")
        return EXIT_OK

    def customers_search(self) -> int:
        if self.args.limit < 1:
            raise UsageError("crmcompanion customers search: --limit must be at least 1")
        found = self.services.customers.search(
            self.args.text, self.args.limit, include_archived=self.args.archived
        )
        if self.args.json:
            self.print_json([customer_json(c) for c in found])
            return EXIT_OK
        if not found:
            self.err.write(f"No customer matches “{self.args.text}”.\n")
        for c in found:
            contact = c.emails[0].address if c.emails else (c.phones[0].number if c.phones else "")
            company = f" ({c.company})" if c.company else ""
            self.out.write(f"#{c.id}\t{c.display_name}{company}\t{contact}\n")
        return EXIT_OK

    def remind_once(self) -> int:
        # Imported here so other commands stay as light as before.
        from crmcompanion.reminders.engine import ReminderEngine
        from crmcompanion.reminders.notifier import NotifierChain, desktop_notifiers

        engine = ReminderEngine(self.services.reminders, NotifierChain(desktop_notifiers()))
        report = engine.run_pass()
        shown = {}
        for notification, channel in zip(report.notifications, report.channels, strict=True):
            shown[notification.title] = channel
        if self.args.json:
            self.print_json(
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
            self.out.write("0 reminders\n")
        for r in report.delivered:
            self.out.write(
                f"{r.remind_on.isoformat()}\t#{r.customer_id}\t{r.customer_name}\t"
                f"{r.occasion.title}\t{r.description}\n"
            )
        for title, channel in shown.items():
            if channel == "app":
                self.err.write(
                    f"Could not show a desktop notification for “{title}”; "
                    "it is in the app's reminder list.\n"
                )
        return EXIT_OK

    def due(self) -> int:
        if self.args.days < 0:
            raise UsageError("crmcompanion due: --days must be 0 or more")
        items = self.services.touchpoints.due(self.args.days)
        today = self.clock.today()

        def state(item: Touchpoint) -> str:
            return "overdue" if item.overdue else item.state.value

        if self.args.json:
            self.print_json(
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
                            "state": state(t),
                        }
                        for t in items
                    ],
                }
            )
            return EXIT_OK
        if not items:
            self.err.write("Nothing due.\n")
        for t in items:
            self.out.write(
                f"{t.date.isoformat()}\t{state(t)}\t#{t.customer_id}\t{t.customer}\t"
                f"{t.occasion.title}\t{t.label}\n"
            )
        return EXIT_OK

    def log(self) -> int:
        services = self.services
        customer = services.customers.resolve(self.args.customer)
        logged = services.interactions.log(customer.id, self.args.summary, self.args.channel)
        self.err.write(f"Logged a conversation with #{customer.id} {customer.display_name}.\n")
        self.out.write(f"{logged.interaction.id}\n")
        return EXIT_OK


COMMANDS: dict[tuple[str, str | None], Callable[[Cli], int]] = {
    ("demo", None): Cli.demo,
    ("customers", "search"): Cli.customers_search,
    ("remind", None): Cli.remind_once,
    ("due", None): Cli.due,
    ("log", None): Cli.log,
    ("import", None): cli_transfer.run_import,
    ("export", None): cli_transfer.run_export,
    ("duplicates", None): cli_transfer.run_duplicates,
    ("draft", None): cli_draft.run_draft,
}


def run_command(
    args: argparse.Namespace,
    out: TextIO | None = None,
    err: TextIO | None = None,
    environ: dict[str, str] | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        paths = resolve_paths(environ)
        clock = clock_from_environment(environ)
    except ValueError as exc:
        err.write(f"crmcompanion: {exc}\n")
        return EXIT_USAGE
    sub = getattr(args, f"{args.command}_command", None)
    handler = COMMANDS[(args.command, sub)]
    cli = Cli(args, paths, clock, out, err)
    try:
        return handler(cli)
    except UsageError as exc:
        err.write(f"{exc}\n")
        return EXIT_USAGE
    except DomainError as exc:
        err.write(f"crmcompanion: {exc}\n")
        return EXIT_DOMAIN_ERROR
    finally:
        cli.close()


def parse(argv: Sequence[str]) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))
