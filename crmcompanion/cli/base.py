"""What every command module shares: exit codes, the usage error, the parser class and `Cli`.

The command modules (`cli.demo`, `cli.customers`, ...) import this module and nothing else of
the package; the package root imports them all and wires their sub-parsers together. So the
modules never import each other, nor the root, and there is no import cycle to untangle.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO, TypeAlias

from crmcompanion.core.clock import Clock
from crmcompanion.core.customer import Customer
from crmcompanion.paths import AppPaths

if TYPE_CHECKING:
    from crmcompanion.services.container import Services

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_DOMAIN_ERROR = 1
EXIT_USAGE = 2

# What a sub-command runs: it gets the invocation and returns the exit code.
Handler = Callable[["Cli"], int]


class UsageError(Exception):
    """Bad command-line usage: exit 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so `main` controls exit codes and output."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


if TYPE_CHECKING:
    # argparse's collection of sub-parsers has no public name; each module adds its own to it.
    Commands: TypeAlias = argparse._SubParsersAction[ArgumentParser]


# Ranges of the CLI's numbers. Beyond them a value cannot mean anything useful and used to
# crash deep inside (an id past SQLite's 64-bit integers, a date past year 9999), sometimes
# after `due` had rewritten its derived tables; argparse now refuses them first (exit 2).
MAX_ID = 2**63 - 1  # SQLite's largest INTEGER
MAX_DAYS = 3660  # ten years ahead
MAX_COUNT = 1_000_000


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse `type`: a whole number within low..high, else a usage error naming both."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:  # also a number too long for int() to read
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {low:,} to {high:,}, not “{text[:40]}”") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{text[:40]} is out of range: use a whole number from {low:,} to {high:,}")
        return value

    parse.__name__ = "whole number"  # argparse's fallback wording
    return parse


def customer_reference(text: str) -> str:
    """An argparse `type` for `--customer`: a `#ID` past SQLite's integers is a usage error;
    every other text is resolved later (see CustomerService.resolve)."""
    stripped = text.strip()
    if stripped.startswith("#") and stripped[1:].isdigit() and len(stripped) > 1:
        try:
            value = int(stripped[1:])
        except ValueError:
            value = MAX_ID + 1
        if value > MAX_ID:
            raise argparse.ArgumentTypeError(
                f"{stripped[:40]} is out of range: customer ids go from #1 to #{MAX_ID}")
    return text


def set_handler(parser: argparse.ArgumentParser, handler: Handler) -> None:
    """Make `handler` the function `run_command` calls when this (sub-)parser is chosen."""
    parser.set_defaults(handler=handler)


def customer_json(customer: Customer) -> dict[str, object]:
    """The customer object of the CLI's JSON contract (see README, "Command line")."""
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
        """The services, opened on first use: a usage error found before this costs nothing
        (no database file created, no migration, no derived table rewritten)."""
        if self._services is None:
            from crmcompanion.services.container import open_services

            self.paths.ensure()
            self._services = open_services(
                self.paths.database_url, self.paths.backups_dir, self.clock
            )
        return self._services

    def close(self) -> None:
        if self._services is not None:
            self._services.close()

    def print_json(self, value: object) -> None:
        json.dump(value, self.out, ensure_ascii=False, indent=2, default=str)
        self.out.write("\n")
