"""`crmcompanion customers search|list|show`: find and read customers from a terminal.

`search` and `list` print the same objects (`--json`: the customer objects of the JSON
contract, see README "Command line"); `show` prints one customer with their special dates,
upcoming touchpoints and latest conversations. Human output is tab-separated for lists and
plain words for `show` (dates in words, titles instead of stored enum values).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

from crmcompanion.cli.base import (
    EXIT_OK,
    MAX_DAYS,
    MAX_LIMIT,
    ArgumentParser,
    Cli,
    UsageError,
    customer_json,
    customer_reference,
    iso_date,
    set_handler,
    shown,
    touchpoint_json,
    touchpoint_state,
    whole_number,
)
from crmcompanion.core.customer import Channel, Customer, Kind, SpecialDate, Status
from crmcompanion.core.lost import CHOOSABLE_REASONS
from crmcompanion.core.segments import SEGMENT_ORDER

if TYPE_CHECKING:
    from crmcompanion.cli.base import Commands
    from crmcompanion.services.interactions import InteractionRecord
    from crmcompanion.services.touchpoints import Touchpoint

logger = logging.getLogger(__name__)

SHOWN_INTERACTIONS = 20  # `customers show`: the latest conversations, newest first

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
STATUS_TITLES = {Status.LEAD: "Lead", Status.ACTIVE: "Active", Status.LOST: "Lost"}
KIND_TITLES = {Kind.EXTERNAL: "External customer", Kind.INTERNAL: "Internal customer"}
CHANNEL_TITLES = {
    Channel.EMAIL: "Email", Channel.PHONE: "Phone call", Channel.SMS: "Text message",
    Channel.IN_PERSON: "In person", Channel.LETTER: "Letter", Channel.OTHER: "Other",
}


def register(commands: Commands) -> None:
    customers = commands.add_parser("customers", help="find customers")
    actions = customers.add_subparsers(
        dest="customers_command", metavar="ACTION", parser_class=ArgumentParser, required=True
    )
    limit = whole_number(1, MAX_LIMIT)
    search = actions.add_parser("search", help="search by name, company, email, ...")
    search.add_argument("text")
    search.add_argument("--limit", type=limit, default=50)
    search.add_argument("--json", action="store_true", help="print JSON")
    search.add_argument("--archived", action="store_true", help="include archived customers")
    set_handler(search, run_search)

    listing = actions.add_parser("list", help="list customers by name, optionally filtered")
    listing.add_argument("--tag", default=None, metavar="T", help="only customers tagged T")
    listing.add_argument("--status", choices=[s.value for s in Status], default=None,
                         help="only customers with this status")
    listing.add_argument("--limit", type=limit, default=50, metavar="N",
                         help=f"at most N customers, 1 to {MAX_LIMIT:,} (default 50)")
    listing.add_argument("--segment", choices=[s.value for s in SEGMENT_ORDER], default=None,
                         help="only customers in this health segment (adds segment and "
                         "segment_reasons to each customer)")
    listing.add_argument("--json", action="store_true", help="print JSON (as search does)")
    set_handler(listing, run_list)

    lost = actions.add_parser("lost", help="mark a customer lost, saying why")
    lost.add_argument("text", type=customer_reference, metavar="TEXT",
                      help="#ID, email, phone or name (as --customer elsewhere)")
    lost.add_argument("--reason", required=True, choices=[r.value for r in CHOOSABLE_REASONS],
                      help="why the customer left")
    lost.add_argument("--note", default="", help="in your words (needed with --reason other)")
    lost.add_argument("--win-back", type=iso_date, default=None, metavar="YYYY-MM-DD",
                      help="leave a win-back follow-up on this day")
    set_handler(lost, run_lost)

    value = actions.add_parser("value", help="set what a customer is worth a year (orders "
                               "at-risk customers by what is at stake)")
    value.add_argument("text", type=customer_reference, metavar="TEXT",
                       help="#ID, email, phone or name (as --customer elsewhere)")
    value.add_argument("amount", type=_amount, metavar="AMOUNT",
                       help="a number from 0 up, or 'none' to clear it")
    set_handler(value, run_value)

    show = actions.add_parser("show", help="one customer: details, dates, upcoming, history")
    show.add_argument("text", type=customer_reference, metavar="TEXT",
                      help="#ID, email, phone or name (as --customer elsewhere)")
    show.add_argument("--days", type=whole_number(0, MAX_DAYS), default=30, metavar="N",
                      help="upcoming touchpoints of the next N days (default 30)")
    show.add_argument("--json", action="store_true", help="print JSON")
    set_handler(show, run_show)


def _print_customers(cli: Cli, found: list[Customer], total: int,
                     health: dict[int, tuple[str, str]] | None = None) -> None:
    """The list as JSON or one tab-separated line per customer, then (on stderr) whether the
    limit cut it. With `health` (the --segment filter) each gains its segment and reasons."""
    if cli.args.json:
        objects = [customer_json(c) for c in found]
        if health is not None:
            for obj, c in zip(objects, found, strict=True):
                segment, reasons = health.get(c.id, (None, ""))
                obj["segment"] = segment
                obj["segment_reasons"] = reasons
        cli.print_json(objects)
    else:
        for c in found:
            contact = c.emails[0].address if c.emails else (
                c.phones[0].number if c.phones else "")
            company = f" ({shown(c.company)})" if c.company else ""
            why = f"\t{shown(health.get(c.id, ('', ''))[1])}" if health is not None else ""
            cli.out.write(f"#{c.id}\t{shown(c.display_name)}{company}\t{shown(contact)}{why}\n")
    if total > len(found):
        cli.err.write(f"{len(found):,} of {total:,} shown; pass --limit to see more.\n")


def run_search(cli: Cli) -> int:
    args = cli.args
    customers = cli.services.customers
    found = customers.search(args.text, args.limit, include_archived=args.archived)
    # Counting is only needed when the limit may have cut the list.
    total = customers.search_total(args.text, args.archived) if len(found) >= args.limit \
        else len(found)
    if not found and not args.json:
        cli.err.write(f"No customer matches “{shown(args.text)}”.\n")
    _print_customers(cli, found, total)
    return EXIT_OK


def run_list(cli: Cli) -> int:
    from crmcompanion.services.customers import ListQuery

    args = cli.args
    tag = args.tag.strip() if args.tag is not None else None
    if tag == "":
        raise UsageError("crmcompanion customers list: --tag needs a tag name")
    query = ListQuery(tag=tag, status=Status(args.status) if args.status else None,
                      segment=args.segment)
    customers = cli.services.customers
    health = None
    if args.segment:
        cli.services.insights.refresh()  # the filter reads the stored segments
    found = customers.list_customers(query, args.limit)
    total = customers.count(query) if len(found) >= args.limit else len(found)
    if args.segment:
        health = {cid: (seg.value, why) for cid, (seg, why)
                  in cli.services.insights.health([c.id for c in found]).items()}
    if not found and not args.json:
        cli.err.write("No customers.\n")
    _print_customers(cli, found, total, health)
    return EXIT_OK


def _amount(text: str) -> float | None:
    import argparse
    import math

    if text.strip().lower() == "none":
        return None
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number like 1200 or 'none', not {shown(text)}") from None
    if not math.isfinite(number) or number < 0:
        raise argparse.ArgumentTypeError("the yearly value must be a number from 0 up")
    return number


def run_value(cli: Cli) -> int:
    services = cli.services
    customer = services.customers.resolve(cli.args.text)
    services.insights.set_yearly_value(customer.id, cli.args.amount)
    amount = cli.args.amount
    cli.err.write(f"#{customer.id} {shown(customer.display_name)}: yearly value "
                  + (f"{amount:,.2f}.\n" if amount is not None else "cleared.\n"))
    return EXIT_OK


def run_lost(cli: Cli) -> int:
    args = cli.args
    services = cli.services
    customer = services.customers.resolve(args.text)
    done = services.insights.mark_lost(customer.id, args.reason, args.note, args.win_back)
    cli.err.write(f"Marked #{customer.id} {shown(customer.display_name)} lost.\n")
    if done.follow_up_id is not None:
        cli.err.write(f"Win-back follow-up on {args.win_back.isoformat()}.\n")
    return EXIT_OK


# --- customers show -----------------------------------------------------------------------


def special_date_json(value: SpecialDate) -> dict[str, object]:
    return {"kind": value.kind.value, "label": value.label, "month": value.month,
            "day": value.day, "year": value.year}


def interaction_json(record: InteractionRecord) -> dict[str, object]:
    return {
        "id": record.id,
        "occurred_at": record.occurred_at.isoformat(),
        "occurred_on": record.occurred_on.isoformat(),
        "channel": record.channel.value if record.channel else None,
        "occasion": record.occasion.value if record.occasion else None,
        "summary": record.summary,
    }


def in_words(day: date, today: date | None = None) -> str:
    """'Saturday 12 December 2026', plus '(today)', '(in 6 days)', '(3 days ago)'."""
    text = f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"
    if today is None:
        return text
    delta = (day - today).days
    if delta == 0:
        return f"{text} (today)"
    if delta == 1:
        return f"{text} (tomorrow)"
    if delta == -1:
        return f"{text} (yesterday)"
    return f"{text} (in {delta:,} days)" if delta > 0 else f"{text} ({-delta:,} days ago)"


def _special_date_words(value: SpecialDate) -> str:
    text = f"{value.day} {MONTHS[value.month - 1]}"
    return f"{text} {value.year}" if value.year else f"{text} (year unknown)"


def _show_text(cli: Cli, customer: Customer, upcoming: list[Touchpoint],
               history: list[InteractionRecord]) -> None:
    today = cli.clock.today()
    lines = [f"{shown(customer.display_name)} (#{customer.id})"]
    if customer.company and customer.company != customer.display_name:
        lines.append(f"  Company: {shown(customer.company)}")
    about = [STATUS_TITLES[customer.status], KIND_TITLES[customer.kind]]
    if customer.key_account:
        about.append("Key account")
    if customer.is_archived:
        about.append("Archived")
    lines.append(f"  Status: {', '.join(about)}")
    lines += [f"  Email: {shown(e.address)} ({shown(e.label)})" for e in customer.emails]
    lines += [f"  Phone: {shown(p.number)} ({shown(p.label)})" for p in customer.phones]
    if not customer.address.is_empty():
        lines.append(f"  Address: {shown(customer.address.one_line())}")
    if customer.tags:
        lines.append(f"  Tags: {', '.join(shown(t) for t in customer.tags)}")
    if customer.preferred_channel is not None:
        lines.append(f"  Prefers: {CHANNEL_TITLES[customer.preferred_channel]}")
    if customer.customer_since is not None:
        lines.append(f"  Customer since: {in_words(customer.customer_since)}")
    lines.append("")
    lines.append("Special dates" if customer.special_dates else "Special dates: none")
    lines += [f"  {shown(d.title)}: {_special_date_words(d)}" for d in customer.special_dates]
    lines.append("")
    days = cli.args.days
    lines.append(f"Coming up (next {days:,} days)" if upcoming
                 else f"Coming up (next {days:,} days): nothing")
    for t in upcoming:
        label = f" ({shown(t.label)})" if t.label and t.label != t.occasion.title else ""
        lines.append(f"  {in_words(t.date, today)}: {t.occasion.title}{label}, "
                     f"{touchpoint_state(t)}")
    lines.append("")
    lines.append(f"Latest conversations ({len(history)})" if history
                 else "Conversations: none logged")
    for record in history:
        how = f", {CHANNEL_TITLES[record.channel]}" if record.channel else ""
        first, *more = record.summary.splitlines() or [""]
        lines.append(f"  {in_words(record.occurred_on, today)}{how}: {shown(first)}")
        lines += [f"      {shown(line)}" for line in more]
    cli.out.write("\n".join(lines) + "\n")


def run_show(cli: Cli) -> int:
    services = cli.services
    customer = services.customers.resolve(cli.args.text)
    upcoming = services.touchpoints.for_customer(customer.id, cli.args.days)
    history = services.interactions.history(customer.id, SHOWN_INTERACTIONS)
    if cli.args.json:
        cli.print_json({
            **customer_json(customer),
            "special_dates": [special_date_json(d) for d in customer.special_dates],
            "upcoming": [touchpoint_json(t) for t in upcoming],
            "interactions": [interaction_json(r) for r in history],
        })
        return EXIT_OK
    _show_text(cli, customer, upcoming, history)
    return EXIT_OK
