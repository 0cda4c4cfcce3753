"""Why customers leave: the lost reasons, their shares, their trend by quarter, and the target.

"Study your lost customers: find the three key problems, and how quickly you can eliminate
half of what makes them leave" (issue 16). Marking a customer lost asks for one of a fixed set
of reasons so they can be counted; customers marked lost before the reason was asked for
count as `unknown`. Plain Python with dates as parameters; the store only counts.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from crmcompanion.core.errors import DomainError

logger = logging.getLogger(__name__)

MAX_LOST_NOTE = 2_000


class LostReasonError(DomainError):
    """A lost reason or note the owner must correct (CLI exit 1, a message in the dialog)."""


class LostReason(StrEnum):
    PRICE = "price"
    SERVICE = "service"
    QUALITY = "quality"
    PRODUCT_FIT = "product_fit"
    MOVED_AWAY = "moved_away"
    COMPETITOR = "competitor"
    NO_LONGER_NEEDED = "no_longer_needed"
    OTHER = "other"
    UNKNOWN = "unknown"

    @property
    def title(self) -> str:
        return LOST_REASON_TITLES[self]


LOST_REASON_TITLES: dict[LostReason, str] = {
    LostReason.PRICE: "Price",
    LostReason.SERVICE: "Service",
    LostReason.QUALITY: "Quality",
    LostReason.PRODUCT_FIT: "Product did not fit",
    LostReason.MOVED_AWAY: "Moved away",
    LostReason.COMPETITOR: "Went to a competitor",
    LostReason.NO_LONGER_NEEDED: "No longer needed",
    LostReason.OTHER: "Other",
    LostReason.UNKNOWN: "Unknown",
}

# What the owner may choose when marking a customer lost (unknown is for old data only).
CHOOSABLE_REASONS: tuple[LostReason, ...] = tuple(
    r for r in LostReason if r is not LostReason.UNKNOWN
)


def parse_lost_reason(value: str, note: str = "") -> tuple[LostReason, str]:
    """A reason the owner chose and its note, validated; `other` needs a note."""
    try:
        reason = LostReason(value.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in CHOOSABLE_REASONS)
        raise LostReasonError(f"Unknown lost reason “{value}”; choose one of: {names}.") from None
    if reason is LostReason.UNKNOWN:
        raise LostReasonError("Choose why the customer left; “unknown” is only for old records.")
    note = note.strip()
    if len(note) > MAX_LOST_NOTE:
        raise LostReasonError(f"The note is too long (at most {MAX_LOST_NOTE:,} characters).")
    if reason is LostReason.OTHER and not note:
        raise LostReasonError("Say in a note why the customer left when the reason is “other”.")
    return reason, note


def lost_reason_words(reason: str | None, note: str = "") -> str:
    """"price (note)" as a sentence part: the reason's title, lower case after the first."""
    try:
        known = LostReason(reason) if reason else LostReason.UNKNOWN
    except ValueError:
        known = LostReason.UNKNOWN
    if known is LostReason.UNKNOWN:
        words = "reason unknown"
    else:
        words = known.title[0].lower() + known.title[1:]
    return f"{words} ({note})" if note else words


@dataclass(frozen=True)
class ReasonShare:
    reason: str
    count: int
    share: float


def shares(reasons: Iterable[str | None]) -> list[ReasonShare]:
    """Each reason's count and share (0-1), highest count first, ties by reason name."""
    counts = Counter(r or LostReason.UNKNOWN.value for r in reasons)
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [ReasonShare(reason, n, n / total) for reason, n in ordered]


def shares_from_counts(counts: dict[str, int]) -> list[ReasonShare]:
    total = sum(counts.values())
    ordered = sorted(((r, n) for r, n in counts.items() if n), key=lambda i: (-i[1], i[0]))
    return [ReasonShare(reason, n, n / total) for reason, n in ordered]


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_label(quarter: tuple[int, int]) -> str:
    return f"{quarter[0]}-Q{quarter[1]}"


def last_quarters(today: date, count: int) -> list[tuple[int, int]]:
    """The `count` quarters ending with today's, oldest first."""
    year, q = quarter_of(today)
    out: list[tuple[int, int]] = []
    for _ in range(count):
        out.append((year, q))
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    return out[::-1]


def trend_by_quarter(
    lost: Iterable[tuple[str | None, date]], reasons: Iterable[str], today: date, quarters: int = 8
) -> dict[str, list[int]]:
    """For each reason, how many customers were lost for it in each of the last quarters."""
    span = last_quarters(today, quarters)
    index = {q: i for i, q in enumerate(span)}
    out = {reason: [0] * quarters for reason in reasons}
    for reason, day in lost:
        key = reason or LostReason.UNKNOWN.value
        i = index.get(quarter_of(day))
        if key in out and i is not None:
            out[key][i] += 1
    return out


@dataclass(frozen=True)
class HalveTarget:
    """"Halve the top reason": its count over the last 4 quarters against the 4 before."""

    reason: str | None
    last_four: int
    previous_four: int

    @property
    def target(self) -> int:
        """Half the previous four quarters' count (rounded down): the number to get under."""
        return self.previous_four // 2

    @property
    def met(self) -> bool:
        return self.previous_four > 0 and self.last_four <= self.target

    def words(self) -> str:
        if self.reason is None:
            return "No customer was lost in the last two years."
        title = LostReason(self.reason).title if self.reason in LostReason._value2member_map_ \
            else self.reason
        head = (f"Top reason “{title}”: {self.last_four} in the last 4 quarters, "
                f"{self.previous_four} in the 4 before")
        if not self.previous_four:
            return head + "; no earlier figure to halve."
        return head + (f"; halved (target {self.target} or fewer)." if self.met
                       else f"; target {self.target} or fewer.")


def halve_top_reason(lost: Iterable[tuple[str | None, date]], today: date) -> HalveTarget:
    """The top reason of the last two years (most customers lost for it over the 8 quarters;
    ties: more in the last 4, then by name) with its count in the last 4 quarters and in the
    4 before: the report's "halve the top reason" target."""
    span = last_quarters(today, 8)
    recent, earlier = set(span[4:]), set(span[:4])
    now: Counter[str] = Counter()
    before: Counter[str] = Counter()
    for reason, day in lost:
        key = reason or LostReason.UNKNOWN.value
        q = quarter_of(day)
        if q in recent:
            now[key] += 1
        elif q in earlier:
            before[key] += 1
    pool = set(now) | set(before)
    if not pool:
        return HalveTarget(None, 0, 0)
    top = min(pool, key=lambda r: (-(now[r] + before[r]), -now[r], r))
    return HalveTarget(top, now[top], before[top])
