"""`crmcompanion log`: record a conversation with a customer from a terminal."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crmcompanion.cli.base import (
    EXIT_OK,
    Cli,
    UsageError,
    customer_reference,
    set_handler,
    shown,
)
from crmcompanion.core.customer import Channel

if TYPE_CHECKING:
    from crmcompanion.cli.base import Commands

logger = logging.getLogger(__name__)


def register(commands: Commands) -> None:
    log = commands.add_parser("log", help="log a conversation with a customer")
    log.add_argument("--customer", required=True, type=customer_reference, metavar="TEXT",
                     help="#ID, email, phone, name")
    log.add_argument(
        "--channel", choices=[c.value for c in Channel], default=None, help="how you talked"
    )
    log.add_argument("summary", help="what was said")
    set_handler(log, run_log)


def run_log(cli: Cli) -> int:
    if not cli.args.summary.strip():
        raise UsageError("crmcompanion log: the summary is empty; say what was talked about")
    services = cli.services
    customer = services.customers.resolve(cli.args.customer)
    logged = services.interactions.log(customer.id, cli.args.summary, cli.args.channel)
    cli.err.write(f"Logged a conversation with #{customer.id} {shown(customer.display_name)}.\n")
    cli.out.write(f"{logged.interaction.id}\n")
    return EXIT_OK
