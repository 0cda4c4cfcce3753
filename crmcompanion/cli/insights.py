"""`crmcompanion insights`: every dashboard figure from a terminal (issue 16).

`--json` prints exactly the issue's shape: segments, lost reasons with their share, complaints
by theme, ideas by requesters, touchpoints on time / late / missed, the median days to resolve
a complaint and satisfaction by month. Without it, the same figures as short lines, then the
lost-customers report (top reasons, "halve the top reason") and the most valuable at-risk
customers with their reasons.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crmcompanion.cli.base import EXIT_OK, Cli, UsageError, iso_date, set_handler, shown

if TYPE_CHECKING:
    from crmcompanion.cli.base import Commands
    from crmcompanion.core.why_stay import WhyTheyStay

logger = logging.getLogger(__name__)

AT_RISK_SHOWN = 10


def register(commands: Commands) -> None:
    insights = commands.add_parser(
        "insights", help="who is happiest, at risk, lost and why: every dashboard figure")
    insights.add_argument("--from", dest="start", type=iso_date, default=None,
                          metavar="YYYY-MM-DD", help="only feedback, touchpoints and lost "
                          "customers from this day")
    insights.add_argument("--to", dest="end", type=iso_date, default=None,
                          metavar="YYYY-MM-DD", help="... up to this day")
    insights.add_argument("--tag", default=None, metavar="T", help="only customers tagged T")
    insights.add_argument("--json", action="store_true", help="print JSON")
    set_handler(insights, run_insights)


def run_insights(cli: Cli) -> int:
    from crmcompanion.core.lost import LOST_REASON_TITLES, LostReason
    from crmcompanion.core.segments import SEGMENT_TITLES, Segment
    from crmcompanion.services.insights import DashboardFilter

    args = cli.args
    if args.start and args.end and args.start > args.end:
        raise UsageError("crmcompanion insights: --from is after --to")
    tag = args.tag.strip() if args.tag is not None else None
    if tag == "":
        raise UsageError("crmcompanion insights: --tag needs a tag name")
    insights = cli.services.insights
    figures = insights.dashboard(DashboardFilter(args.start, args.end, tag))
    why = insights.why_they_stay(tag)
    if args.json:
        # The keys unchanged, plus "why customers stay" as one extra key.
        cli.print_json({**figures.as_json(), "why_they_stay": why.as_json()})
        return EXIT_OK
    out = cli.out.write
    out("Customers by segment\n")
    for key, count in figures.segments.items():
        out(f"  {SEGMENT_TITLES[Segment(key)]}\t{count:,}\n")
    out("Why customers were lost\n")
    for share in figures.lost_reasons:
        title = LOST_REASON_TITLES.get(LostReason(share.reason), share.reason) \
            if share.reason in LostReason._value2member_map_ else share.reason
        out(f"  {title}\t{share.count:,}\t{share.share:.0%}\n")
    report = insights.lost_report(tag)
    out(f"  {report.target.words()}\n")
    out("Complaints by theme (open / resolved)\n")
    for theme, open_, resolved in figures.complaints_by_theme:
        out(f"  {shown(theme)}\t{open_}\t{resolved}\n")
    out("Ideas by requesters\n")
    for idea_id, title, requesters in figures.ideas_by_requesters:
        out(f"  #{idea_id}\t{requesters}\t{shown(title)}\n")
    t = figures.touchpoints
    out(f"Touchpoints\n  on time\t{t['on_time']:,}\n  late\t{t['late']:,}\n"
        f"  missed\t{t['missed']:,}\n")
    median = figures.median_resolution_days
    out("Median days to resolve a complaint\t"
        + (f"{median:g}\n" if median is not None else "none resolved\n"))
    out("Satisfaction by month (average, answers)\n")
    for month, average, count in figures.satisfaction_by_month:
        out(f"  {month}\t{average:.2f}\t{count}\n")
    out("Why customers stay (happiest / everyone else)\n")
    for title, a, b in _stay_lines(why):
        out(f"  {title}\t{a}\t{b}\n")
    if why.praise_themes:
        out("  Top praise themes\t" + ", ".join(f"{shown(t)} ({n})" for t, n in
                                                why.praise_themes) + "\n")
    at_risk = insights.members(Segment.AT_RISK, tag)
    if at_risk:
        out("At risk, most at stake first\n")
        for member in at_risk[:AT_RISK_SHOWN]:
            value = f"{member.yearly_value:,.0f}" if member.yearly_value is not None else "-"
            out(f"  #{member.customer_id}\t{shown(member.name)}\t{value}\t"
                f"{shown(member.reasons)}\n")
        if len(at_risk) > AT_RISK_SHOWN:
            out(f"  ... and {len(at_risk) - AT_RISK_SHOWN:,} more "
                "(crmcompanion customers list --segment at_risk)\n")
    return EXIT_OK


def _stay_lines(why: WhyTheyStay) -> list[tuple[str, str, str]]:
    def share(v: float | None) -> str:
        return "-" if v is None else f"{v:.0%}"

    def num(v: float | None) -> str:
        return "-" if v is None else f"{v:g}"

    h, o = why.happiest, why.others
    return [("Customers", f"{h.customers:,}", f"{o.customers:,}"),
            ("Rhythm kept", share(h.rhythm_kept_share), share(o.rhythm_kept_share)),
            ("Greetings a year", num(h.greetings_per_year), num(o.greetings_per_year)),
            ("Median days to resolve a complaint", num(h.median_resolution_days),
             num(o.median_resolution_days))]
