"""The same services from a terminal: data on stdout, messages on stderr.

Exit codes: 0 success, 1 a domain error (one clear line on stderr), 2 a usage error, 130
interrupted (Ctrl-C). Text from the data or from files is escaped before it reaches the
terminal (`cli.base.shown`), so it can neither move the cursor nor forge an extra line.
Importing this package never imports Qt, so scripts and cron jobs stay fast and headless.

This module is the table of commands: one module per command group registers its sub-parsers
and the handler each runs (`cli.demo`, `cli.customers`, `cli.reminders`, `cli.log`,
`cli.transfer`, `cli.duplicates`, `cli.draft`, `cli.backups`, `cli.doctor`, `cli.db`); their shared
pieces live in `cli.base`. The CLI reaches the database only through `crmcompanion.services` (an
import-linter contract).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TextIO

from crmcompanion.cli import (
    backups,
    customers,
    db,
    demo,
    doctor,
    draft,
    duplicates,
    feedback,
    insights,
    log,
    reminders,
    transfer,
)
from crmcompanion.cli.base import (
    EXIT_DOMAIN_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    ArgumentParser,
    Cli,
    UsageError,
    customer_json,
    shown,
)
from crmcompanion.core.clock import clock_from_environment
from crmcompanion.core.errors import DomainError
from crmcompanion.paths import DataFolderProblem, resolve_paths

__all__ = [
    "EXIT_DOMAIN_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "ArgumentParser",
    "Cli",
    "UsageError",
    "build_parser",
    "customer_json",
    "parse",
    "run_command",
]

logger = logging.getLogger(__name__)

# In the order `crmcompanion --help` lists them.
COMMAND_MODULES = (
    demo, customers, reminders, log, feedback, insights, transfer, duplicates, draft, backups,
    doctor, db,
)


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
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


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
        err.write(f"crmcompanion: {shown(exc)}\n")
        return EXIT_USAGE
    cli = Cli(args, paths, clock, out, err)
    try:
        return args.handler(cli)
    except UsageError as exc:
        err.write(f"{shown(exc)}\n")
        return EXIT_USAGE
    except DataFolderProblem as exc:  # from `Cli.services` making the folders
        err.write(f"crmcompanion: {exc}\n")
        return EXIT_USAGE
    except DomainError as exc:
        err.write(f"crmcompanion: {shown(exc)}\n")
        return EXIT_DOMAIN_ERROR
    except KeyboardInterrupt:
        # Every write is one transaction, so an interrupted one was rolled back: say so in
        # one line instead of a traceback.
        err.write(f"crmcompanion: interrupted; the {args.command} command did not finish.\n")
        return EXIT_INTERRUPTED
    finally:
        cli.close()


def parse(argv: Sequence[str]) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))
