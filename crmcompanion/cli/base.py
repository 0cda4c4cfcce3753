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
            from crmcompanion.core.errors import DatabaseProblem
            from crmcompanion.services.backups import restore_advice
            from crmcompanion.services.container import open_services

            self.paths.ensure()
            try:
                self._services = open_services(
                    self.paths.database_url, self.paths.backups_dir, self.clock
                )
            except DatabaseProblem as exc:
                # Name the backup to restore and the command; the CLI never restores itself.
                advice = restore_advice(exc, [self.paths.backups_dir])
                if advice is None:
                    raise
                raise DatabaseProblem(f"{exc} {advice}") from exc
        return self._services

    def close(self) -> None:
        if self._services is not None:
            self._services.close()

    def print_json(self, value: object) -> None:
        json.dump(value, self.out, ensure_ascii=False, indent=2, default=str)
        self.out.write("\n")
