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
from datetime import date
from typing import TYPE_CHECKING, TextIO, TypeAlias

from crmcompanion.core.clock import Clock
from crmcompanion.core.customer import Customer
from crmcompanion.paths import AppPaths

if TYPE_CHECKING:
    from crmcompanion.services.container import Services
    from crmcompanion.services.touchpoints import Touchpoint

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_DOMAIN_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C

# What a sub-command runs: it gets the invocation and returns the exit code.
Handler = Callable[["Cli"], int]


# Largest row id SQLite can hold (a signed 64-bit integer): `#ID` beyond it cannot exist.
MAX_ID = 2**63 - 1
# Upper bounds for counts and day spans: generous for any real use, and far from where dates
# overflow (year 9999) or SQLite's LIMIT stops accepting the number.
MAX_LIMIT = 1_000_000
MAX_DAYS = 3_660  # ten years ahead
MAX_DEMO_CUSTOMERS = 1_000_000

# Characters a terminal would act on instead of showing: C0/C1 controls and DEL (escape
# sequences, bells, backspaces, line breaks that forge rows) and the bidi controls that make
# text after them run backwards. Zero-width joiners stay: emoji need them.
_UNSAFE = {
    *range(0x00, 0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F,
    *range(0x202A, 0x202F), *range(0x2066, 0x206A),
}
_ESCAPES = {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in _UNSAFE}
# JSON escapes C0 controls itself; these others are valid raw in a JSON string but still act
# on a terminal, so they are written as \uXXXX escapes, which parse to the very same value.
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in _UNSAFE if code >= 0x7F}
# Multi-line data (a greeting body) keeps its line breaks and tabs.
_BLOCK_ESCAPES = {k: v for k, v in _ESCAPES.items() if k not in (0x09, 0x0A)}


def shown(text: object) -> str:
    """`text` safe for one terminal line: every control character written as an escape
    (`\\x1b`, a line break as `\\x0a`, `\\u202e`), so data can neither drive the terminal
    nor break a line into two."""
    return str(text).translate(_ESCAPES)


def shown_block(text: str) -> str:
    """Like `shown` but keeps line breaks and tabs: for text meant to span lines."""
    return text.translate(_BLOCK_ESCAPES)


class UsageError(Exception):
    """Bad command-line usage: exit 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so `main` controls exit codes and output."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {shown(message)}")


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse `type` for an integer option: anything outside [low, high] is a usage error
    naming the range, found while parsing, before any service (or database) is opened."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be from {low:,} to {high:,}, not {shown(text.strip())}"
            )
        return value

    parse.__name__ = "whole number"  # argparse names the type in its messages
    return parse


def iso_date(text: str) -> date:
    """An argument type: a day written YYYY-MM-DD (a usage error otherwise)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date like 2026-12-31, not {shown(text.strip())}") from None


def customer_reference(text: str) -> str:
    """An argparse `type` for `--customer TEXT`: a `#ID` must be a possible row id."""
    stripped = text.strip()
    number = stripped[1:]
    is_id = stripped.startswith("#") and number.isascii() and number.isdigit()
    if is_id and not 1 <= int(number) <= MAX_ID:
        raise argparse.ArgumentTypeError(
                f"a customer #ID must be from #1 to #{MAX_ID:,}, not {shown(stripped)}"
            )
    return text


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


def touchpoint_state(item: Touchpoint) -> str:
    """The state word of the JSON contract: "overdue", else the stored or computed state."""
    return "overdue" if item.overdue else item.state.value


def touchpoint_json(item: Touchpoint) -> dict[str, object]:
    """One item of `due --json` (and of `customers show --json`'s "upcoming")."""
    return {
        "customer_id": item.customer_id,
        "customer": item.customer,
        "occasion": item.occasion.value,
        "label": item.label,
        "date": item.date.isoformat(),
        "remind_on": item.remind_on.isoformat(),
        "state": touchpoint_state(item),
    }


JSON_PIECE = 8192


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
        text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
        text = text.translate(_JSON_ESCAPES) + "\n"
        # In pieces well below a pipe's capacity: one big write that a departing reader cuts
        # short is reported by the kernel as a partial success, and Python then drops the rest
        # without an error; piece by piece, the next write fails as it should (exit 1 quietly).
        for start in range(0, len(text), JSON_PIECE):
            self.out.write(text[start:start + JSON_PIECE])
