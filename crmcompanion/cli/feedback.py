"""`crmcompanion feedback`: the voice of the customer from a terminal.

`list`, `add`, `similar`, `status` and `import-reviews` (issue 15), with the CLI's contract:
data on stdout (`--json` for the documented shapes), messages on stderr, exit 0 ok, 1 for a
domain error (a move the workflow does not allow names the allowed next states), 2 for a
usage error (an unknown status name lists the names) found before the database is opened.
"""

from __future__ import annotations

import argparse
import logging
from datetime import date
from typing import TYPE_CHECKING

from crmcompanion.cli.base import (
    EXIT_DOMAIN_ERROR,
    EXIT_OK,
    MAX_ID,
    Cli,
    UsageError,
    customer_reference,
    set_handler,
    shown,
    whole_number,
)
from crmcompanion.core.feedback import (
    MAX_THEME_LENGTH,
    FeedbackType,
    Severity,
    parse_status,
)

if TYPE_CHECKING:
    from crmcompanion.cli.base import ArgumentParser, Commands
    from crmcompanion.services.feedback import FeedbackRecord

logger = logging.getLogger(__name__)


def _status(text: str) -> str:
    try:
        return parse_status(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _target_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date like 2026-12-31, not {shown(text.strip())}") from None


def _theme(text: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned or len(cleaned) > MAX_THEME_LENGTH:
        raise argparse.ArgumentTypeError(
            f"a theme has 1 to {MAX_THEME_LENGTH} characters, not {shown(text)!r}")
    return cleaned


def register(commands: Commands) -> None:
    feedback = commands.add_parser(
        "feedback", help="feedback, complaints, ideas and public reviews")
    actions = feedback.add_subparsers(dest="feedback_command", metavar="ACTION",
                                      parser_class=type(feedback), required=True)
    types = [t.value for t in FeedbackType]

    listing: ArgumentParser = actions.add_parser("list", help="list feedback, newest first")
    listing.add_argument("--type", choices=types, default=None)
    listing.add_argument("--status", type=_status, default=None, metavar="S")
    listing.add_argument("--theme", type=_theme, default=None, metavar="NAME")
    listing.add_argument("--customer", type=customer_reference, default=None, metavar="TEXT",
                         help="#ID, email, phone, name")
    listing.add_argument("--json", action="store_true", help="print JSON")
    set_handler(listing, run_list)

    add = actions.add_parser("add", help="record feedback; prints the new id")
    add.add_argument("--customer", required=True, type=customer_reference, metavar="TEXT",
                     help="#ID, email, phone, name")
    add.add_argument("--type", required=True, choices=types)
    add.add_argument("--theme", action="append", type=_theme, default=[], metavar="NAME",
                     help="a theme (repeat for several)")
    add.add_argument("--severity", choices=[s.value for s in Severity], default=None,
                     help="a complaint's severity (default normal)")
    add.add_argument("--satisfaction", type=whole_number(1, 5), default=None, metavar="N",
                     help="1 to 5")
    add.add_argument("text", help="what the customer said")
    set_handler(add, run_add)

    similar = actions.add_parser("similar", help="stored complaints similar in meaning")
    similar.add_argument("text")
    similar.add_argument("--limit", type=whole_number(1, 100), default=5)
    similar.add_argument("--json", action="store_true", help="print JSON")
    set_handler(similar, run_similar)

    status = actions.add_parser("status", help="move a complaint or idea to a status")
    status.add_argument("id", type=whole_number(1, MAX_ID), metavar="ID")
    status.add_argument("status", type=_status, metavar="STATUS")
    status.add_argument("--note", default="", metavar="TEXT")
    status.add_argument("--goal", default=None, metavar="TEXT",
                        help="the goal agreed with the customer")
    status.add_argument("--target-date", type=_target_date, default=None,
                        metavar="YYYY-MM-DD", help="when the plan should be done")
    set_handler(status, run_status)

    reviews = actions.add_parser("import-reviews",
                                 help="import public reviews (CSV or JSON), all or nothing")
    reviews.add_argument("file", metavar="FILE")
    reviews.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    reviews.add_argument("--no-link", action="store_true",
                         help="keep every review unlinked from customers")
    reviews.add_argument("--json", action="store_true", help="print JSON")
    set_handler(reviews, run_import_reviews)


def _item_json(item: FeedbackRecord) -> dict[str, object]:
    return {
        "id": item.id,
        "customer_id": item.customer_id,
        "customer": item.customer,
        "type": item.kind.value,
        "status": item.status,
        "themes": list(item.themes),
        "text": item.text,
        "created_at": item.created_at.isoformat(timespec="seconds"),
        "author": item.author,
    }


def run_list(cli: Cli) -> int:
    services = cli.services
    customer_id = None
    if cli.args.customer is not None:
        customer_id = services.customers.resolve(cli.args.customer).id
    items = services.feedback.list(kind=cli.args.type, status=cli.args.status,
                                   theme=cli.args.theme, customer_id=customer_id, limit=None)
    if cli.args.json:
        cli.print_json({"items": [_item_json(i) for i in items]})
        return EXIT_OK
    if not items:
        cli.err.write("No feedback matches.\n")
    for i in items:
        cli.out.write(
            f"#{i.id}\t{i.created_at.date().isoformat()}\t{i.kind.value}\t{i.status or '-'}\t"
            f"{shown(i.customer)}\t{shown(', '.join(i.themes))}\t{shown(i.text)}\n")
    return EXIT_OK


def run_add(cli: Cli) -> int:
    args = cli.args
    if not args.text.strip():
        raise UsageError("crmcompanion feedback add: the text is empty; say what the customer "
                         "said")
    if args.severity is not None and args.type != FeedbackType.COMPLAINT.value:
        raise UsageError("crmcompanion feedback add: --severity is for complaints only")
    services = cli.services
    customer = services.customers.resolve(args.customer)
    saved = services.feedback.add(customer.id, args.type, args.text, themes=args.theme,
                                  severity=args.severity, satisfaction=args.satisfaction)
    cli.err.write(f"Recorded {args.type} #{saved.item.id} for #{customer.id} "
                  f"{shown(customer.display_name)}.\n")
    cli.out.write(f"{saved.item.id}\n")
    return EXIT_OK


def run_similar(cli: Cli) -> int:
    if not cli.args.text.strip():
        raise UsageError("crmcompanion feedback similar: the text is empty")
    hits = cli.services.feedback.similar(cli.args.text, cli.args.limit)
    if cli.args.json:
        cli.print_json({"items": [
            {"id": h.id, "customer": h.customer, "text": h.text, "themes": list(h.themes),
             "score": h.score} for h in hits]})
        return EXIT_OK
    if not hits:
        cli.err.write("No similar complaints.\n")
    for h in hits:
        cli.out.write(f"#{h.id}\t{h.score:.3f}\t{shown(h.customer)}\t"
                      f"{shown(', '.join(h.themes))}\t{shown(h.text)}\n")
    return EXIT_OK


def run_status(cli: Cli) -> int:
    args = cli.args
    saved = cli.services.feedback.move(args.id, args.status, note=args.note, goal=args.goal,
                                       target_date=args.target_date)
    item = saved.item
    cli.err.write(f"#{item.id} is now {item.status_title.lower()}.\n")
    if item.checkback_on is not None and item.status == "resolved":
        cli.err.write(f"Check back with {shown(item.customer)} on "
                      f"{item.checkback_on.isoformat()}.\n")
    return EXIT_OK


def run_import_reviews(cli: Cli) -> int:
    args = cli.args
    result = cli.services.feedback.import_reviews(args.file, dry_run=args.dry_run,
                                                  link=not args.no_link)
    if args.json:
        cli.print_json(result.as_json())
    else:
        cli.out.write(f"{result.rows} rows, {result.created} reviews ({result.linked} linked, "
                      f"{result.unlinked} unlinked), {len(result.rejected)} rejected\n")
    for rejected in result.rejected:
        cli.err.write(f"line {rejected.line}: {shown(rejected.reason)}\n")
    if result.rejected:
        cli.err.write("Nothing was imported: fix the rows above and run it again.\n")
        return EXIT_DOMAIN_ERROR
    if not args.json:
        cli.err.write("Dry run: nothing written.\n" if args.dry_run else
                      f"Imported {result.created} reviews.\n")
    return EXIT_OK
