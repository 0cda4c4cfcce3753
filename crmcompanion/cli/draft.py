"""`crmcompanion draft`: a greeting for one customer and occasion, printed to the terminal.

Data goes to stdout (`Subject: ...`, a blank line, the body; or JSON), notes to stderr. Exit 0
on success, 1 for an ambiguous or unknown customer or template, 2 for an unknown occasion.
"""

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
    shown_block,
)
from crmcompanion.core.occasions import Occasion

if TYPE_CHECKING:
    from crmcompanion.cli.base import Commands

logger = logging.getLogger(__name__)


def register(commands: Commands) -> None:
    """Add the `draft` sub-command to the main parser's subparsers."""
    draft = commands.add_parser("draft", help="draft a greeting for a customer and occasion")
    draft.add_argument("--customer", required=True, type=customer_reference, metavar="TEXT",
                       help="#ID, email, phone or name")
    draft.add_argument("--occasion", required=True, metavar="OCCASION",
                       help="one of: " + ", ".join(o.value for o in Occasion))
    draft.add_argument("--template", default=None, metavar="NAME",
                       help="template name or key (default: the occasion's default template)")
    draft.add_argument("--json", action="store_true",
                       help='print {"subject", "body", "missing_placeholders"}')
    set_handler(draft, run_draft)


# Placeholders filled from the owner's own details rather than the customer's.
_OWNER_DETAILS = frozenset({"business_name", "owner_name", "signature"})


def _where_to_set(missing: tuple[str, ...]) -> str:
    """Where a missing detail of the owner's is set, when one is missing."""
    if _OWNER_DETAILS.intersection(missing):
        return " (your name, business name and signature: Settings › Greetings in the app)"
    return ""


def run_draft(cli: Cli) -> int:
    args = cli.args
    try:
        occasion = Occasion(args.occasion.strip().lower().replace("-", "_"))
    except ValueError:
        valid = ", ".join(o.value for o in Occasion)
        raise UsageError(
            f"crmcompanion draft: unknown occasion “{args.occasion}”; valid occasions: {valid}"
        ) from None
    services = cli.services
    customer = services.customers.resolve(args.customer)
    template_key = None
    if args.template is not None:
        template_key = services.greetings.find_template(occasion, args.template).key
    draft = services.greetings.draft(customer.id, occasion, template_key)
    if args.json:
        cli.print_json({
            "subject": draft.subject,
            "body": draft.body,
            "missing_placeholders": list(draft.missing_placeholders),
        })
        return EXIT_OK
    cli.out.write(f"Subject: {shown(draft.subject)}\n\n{shown_block(draft.body)}\n")
    if draft.missing_placeholders:
        names = ", ".join(f"${shown(name)}" for name in draft.missing_placeholders)
        cli.err.write(f"Note: no value for {names}; edit the marked parts before sending"
                      f"{_where_to_set(draft.missing_placeholders)}.\n")
    return EXIT_OK
