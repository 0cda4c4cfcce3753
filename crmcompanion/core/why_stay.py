"""Why customers stay (issue 16): the happiest customers against everyone else.

"Study why customers stay." The owner compares the happiest customers with every other
customer on three habits the business controls: is their keep-in-touch rhythm kept, how many
greetings they get a year, and how fast their complaints are resolved; and reads the five
praise themes customers mention most. Leads are left out: they are not customers yet.

Each side of the comparison is made from a group's totals (`GroupTotals`: customers, how
many kept their rhythm, greetings done, each resolved complaint's days), which the store sums
with SQL aggregates at 100,000 customers; `compare` reduces per-customer facts (`StayFacts`)
to the same totals, so the arithmetic is tested with fixed numbers and reads the same in the
window, the command line and `insights --json` (`why_they_stay`).
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

logger = logging.getLogger(__name__)

HAPPIEST = "happiest"
# Segments compared with the happiest: every customer who is or was one (not the leads).
OTHERS = ("healthy", "at_risk", "lost")
TOP_THEMES = 5


@dataclass(frozen=True)
class StayFacts:
    """One customer's facts for the comparison."""

    customer_id: int
    segment: str
    rhythm_kept: bool
    greetings_last_year: int
    resolution_days: tuple[float, ...] = ()


@dataclass(frozen=True)
class GroupFigures:
    """One side of the comparison; None where the group has nothing to measure."""

    customers: int
    rhythm_kept_share: float | None
    greetings_per_year: float | None
    median_resolution_days: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "rhythm_kept_share": (None if self.rhythm_kept_share is None
                                  else round(self.rhythm_kept_share, 4)),
            "greetings_per_year": self.greetings_per_year,
            "median_resolution_days": self.median_resolution_days,
        }


@dataclass(frozen=True)
class WhyTheyStay:
    happiest: GroupFigures
    others: GroupFigures
    praise_themes: list[tuple[str, int]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "happiest": self.happiest.as_json(),
            "everyone_else": self.others.as_json(),
            "praise_themes": [{"theme": t, "count": n} for t, n in self.praise_themes],
        }


def rhythm_kept(last_contact: date | None, since: date | None, rhythm_days: int,
                today: date) -> bool:
    """In touch within the rhythm: the last contact (or, never contacted, the day they
    joined) at most `rhythm_days` ago."""
    base = last_contact or since
    return base is not None and (today - base).days <= rhythm_days


@dataclass(frozen=True)
class GroupTotals:
    """One group's sums: customers, those with their rhythm kept, greetings done in the last
    year, and the days each of their resolved complaints took."""

    customers: int = 0
    rhythm_kept: int = 0
    greetings: int = 0
    resolution_days: tuple[float, ...] = ()


def figures(totals: GroupTotals) -> GroupFigures:
    """A group's figures from its totals (None where the group has nothing to measure)."""
    if not totals.customers:
        return GroupFigures(0, None, None, None)
    kept = totals.rhythm_kept / totals.customers
    greetings = round(totals.greetings / totals.customers, 2)
    days = totals.resolution_days
    median = round(statistics.median(days), 1) if days else None
    return GroupFigures(totals.customers, kept, greetings, median)


def _figures(rows: list[StayFacts]) -> GroupFigures:
    return figures(GroupTotals(
        len(rows), sum(1 for r in rows if r.rhythm_kept),
        sum(r.greetings_last_year for r in rows),
        tuple(d for r in rows for d in r.resolution_days)))


def top_themes(counts: Iterable[tuple[str, int]], limit: int = TOP_THEMES) -> list[tuple[str, int]]:
    """The most mentioned themes first, ties by name (so the list is the same every time)."""
    return sorted(((t, n) for t, n in counts if n > 0),
                  key=lambda tn: (-tn[1], tn[0].casefold(), tn[0]))[:limit]


def compare(rows: Iterable[StayFacts], praise: Iterable[tuple[str, int]] = ()) -> WhyTheyStay:
    """The happiest against everyone else (leads left out), and the top praise themes."""
    happiest: list[StayFacts] = []
    others: list[StayFacts] = []
    for row in rows:
        if row.segment == HAPPIEST:
            happiest.append(row)
        elif row.segment in OTHERS:
            others.append(row)
    return WhyTheyStay(_figures(happiest), _figures(others), top_themes(praise))


def compare_totals(happiest: GroupTotals, others: GroupTotals,
                   praise: Iterable[tuple[str, int]] = ()) -> WhyTheyStay:
    """`compare` from the two groups' totals (what the store's aggregates return)."""
    return WhyTheyStay(figures(happiest), figures(others), top_themes(praise))
