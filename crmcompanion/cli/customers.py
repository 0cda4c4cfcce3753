"""`crmcompanion customers ...`: find customers from a terminal."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crmcompanion.cli.base import (
    EXIT_OK,
    MAX_COUNT,
    ArgumentParser,
    Cli,
    UsageError,
    customer_json,
    set_handler,
    whole_number,
)

if TYPE_CHECKING:
    from crmcompanion.cli.base import Commands

logger = logging.getLogger(__name__)


def register(commands: Commands) -> None:
    customers = commands.add_parser("customers", help="find customers")
    actions = customers.add_subparsers(
        dest="customers_command", metavar="ACTION", parser_class=ArgumentParser, required=True
    )
    search = actions.add_parser("search", help="search by name, company, email, ...")
    search.add_argument("text")
    search.add_argument("--limit", type=whole_number(1, MAX_COUNT), default=50)
    search.add_argument("--json", action="store_true", help="print JSON")
    search.add_argument("--archived", action="store_true", help="include archived customers")
    set_handler(search, run_search)


def run_search(cli: Cli) -> int:
    args = cli.args
    if args.limit < 1:
        raise UsageError("crmcompanion customers search: --limit must be at least 1")
    found = cli.services.customers.search(args.text, args.limit, include_archived=args.archived)
    if args.json:
        cli.print_json([customer_json(c) for c in found])
        return EXIT_OK
    if not found:
        cli.err.write(f"No customer matches “{args.text}”.\n")
    for c in found:
        contact = c.emails[0].address if c.emails else (c.phones[0].number if c.phones else "")
        company = f" ({c.company})" if c.company else ""
        cli.out.write(f"#{c.id}\t{c.display_name}{company}\t{contact}\n")
    return EXIT_OK
