"""`crmcompanion demo`: fill a database with realistic sample customers (for trying the app)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crmcompanion.cli.base import EXIT_OK, MAX_DEMO_CUSTOMERS, Cli, set_handler, whole_number

if TYPE_CHECKING:
    from crmcompanion.cli.base import Commands

logger = logging.getLogger(__name__)


def register(commands: Commands) -> None:
    demo = commands.add_parser("demo", help="fill an empty database with sample customers")
    demo.add_argument("--customers", type=whole_number(1, MAX_DEMO_CUSTOMERS), default=200,
                      metavar="N")
    demo.add_argument("--seed", type=int, default=1, metavar="S")
    demo.add_argument("--append", action="store_true", help="add to a non-empty database")
    set_handler(demo, run_demo)


def run_demo(cli: Cli) -> int:
    from crmcompanion.services.demo import fill_demo

    services = cli.services
    fill_demo(
        services.db,
        cli.clock,
        cli.args.customers,
        cli.args.seed,
        cli.args.append,
        services.staff_id,
    )
    cli.err.write(f"Added {cli.args.customers:,} sample customers.\n")
    return EXIT_OK
