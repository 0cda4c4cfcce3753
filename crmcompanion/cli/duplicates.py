"""`crmcompanion duplicates`: the groups of likely duplicate customers, for review."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crmcompanion.cli.base import EXIT_OK, MAX_LIMIT, Cli, set_handler, shown, whole_number

if TYPE_CHECKING:
    from crmcompanion.cli.base import Commands

logger = logging.getLogger(__name__)


def register(commands: Commands) -> None:
    dup = commands.add_parser("duplicates", help="list groups of likely duplicate customers")
    dup.add_argument("--limit", type=whole_number(0, MAX_LIMIT), default=100, metavar="N",
                     help="at most N groups")
    dup.add_argument("--json", action="store_true", help="print the groups as JSON")
    set_handler(dup, run_duplicates)


def run_duplicates(cli: Cli) -> int:
    """One group per paragraph (or a JSON list): its customers, then each pair's reasons."""
    groups = cli.services.duplicates.find_duplicates(limit=cli.args.limit)
    if cli.args.json:
        cli.print_json([
            {"customers": [{"id": x.id, "name": x.display_name, "company": x.company,
                            "email": x.email, "phone": x.phone} for x in g.customers],
             "pairs": [{"ids": [p.first_id, p.second_id],
                        "reasons": [{"kind": r.kind, "value": r.value} for r in p.reasons]}
                       for p in g.pairs]}
            for g in groups])
    else:
        for group in groups:
            for x in group.customers:
                extra = ", ".join(shown(v) for v in (x.company, x.email, x.phone) if v)
                cli.out.write(f"#{x.id} {shown(x.display_name)}" + (f" ({extra})" if extra else "")
                              + "\n")
            for p in group.pairs:
                reasons = "; ".join(f"{r.kind} {shown(r.value)}" for r in p.reasons)
                cli.out.write(f"  #{p.first_id} ~ #{p.second_id}: {reasons}\n")
            cli.out.write("\n")
    cli.err.write(f"{len(groups)} group(s) of likely duplicates.\n")
    return EXIT_OK
