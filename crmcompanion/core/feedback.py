"""The voice of the customer as plain rules: feedback types, sources, themes and workflows.

Feedback items (praise, feedback, complaints, ideas, questions) are captured from
conversations, typed in on their own or imported from public reviews. Complaints and ideas
each move through their own workflow; the complaint workflow is enforced so that every
complaint is acknowledged, acted on, resolved and finally checked back with the customer.
Nothing here touches a database or a clock: the services and the CLI share these rules, and
the messages here are the ones the user reads (one sentence each, convention 12).
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Mapping
from datetime import date
from enum import StrEnum

from crmcompanion.core.errors import DomainError, ValidationError

logger = logging.getLogger(__name__)

__all__ = [
    "ALL_STATUS_NAMES",
    "ASK_RHYTHM_MONTHS",
    "COMPLAINT_TRANSITIONS",
    "IDEA_TRANSITIONS",
    "MAX_FEEDBACK_TEXT",
    "MAX_THEME_LENGTH",
    "ComplaintStatus",
    "FeedbackType",
    "IdeaStatus",
    "InvalidTransition",
    "Severity",
    "Source",
    "add_months",
    "allowed_next",
    "ask_rhythm_base",
    "check_ask_rhythm",
    "check_complaint_transition",
    "check_idea_transition",
    "check_move",
    "check_satisfaction",
    "check_text",
    "feedback_ask_due",
    "initial_status",
    "normalise_theme",
    "normalise_themes",
    "parse_status",
    "theme_key",
]

MAX_FEEDBACK_TEXT = 10_000
MAX_THEME_LENGTH = 60


class _Titled(StrEnum):
    """A status or kind whose on-screen title is its name in words ("in_progress" ->
    "In progress"): one rule instead of a table per enum."""

    @property
    def title(self) -> str:
        return self.value.replace("_", " ").capitalize()


class FeedbackType(_Titled):
    PRAISE = "praise"
    FEEDBACK = "feedback"
    COMPLAINT = "complaint"
    IDEA = "idea"
    QUESTION = "question"


class Source(_Titled):
    """Where a feedback item came from."""

    CONVERSATION = "conversation"
    EMAIL = "email"
    PHONE = "phone"
    VISIT = "visit"
    SURVEY = "survey"
    PUBLIC_REVIEW = "public_review"


class Severity(_Titled):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class ComplaintStatus(_Titled):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    SATISFIED = "satisfied"
    NOT_SATISFIED = "not_satisfied"
    REOPENED = "reopened"

    @property
    def is_open(self) -> bool:
        """Still being worked on: neither resolved nor closed with the customer."""
        return self not in (ComplaintStatus.RESOLVED, ComplaintStatus.SATISFIED)



class IdeaStatus(_Titled):
    UNDER_REVIEW = "under_review"
    PLANNED = "planned"
    DONE = "done"
    DECLINED = "declined"


# The complaint workflow (issue 15): a complaint is closed only by the customer's answer to the
# check-back (satisfied); an unhappy answer reopens it for another plan.
COMPLAINT_TRANSITIONS: Mapping[ComplaintStatus, tuple[ComplaintStatus, ...]] = {
    ComplaintStatus.NEW: (ComplaintStatus.ACKNOWLEDGED,),
    ComplaintStatus.ACKNOWLEDGED: (ComplaintStatus.PLANNED,),
    ComplaintStatus.PLANNED: (ComplaintStatus.IN_PROGRESS,),
    ComplaintStatus.IN_PROGRESS: (ComplaintStatus.RESOLVED,),
    ComplaintStatus.RESOLVED: (ComplaintStatus.SATISFIED, ComplaintStatus.NOT_SATISFIED),
    ComplaintStatus.SATISFIED: (),
    ComplaintStatus.NOT_SATISFIED: (ComplaintStatus.REOPENED,),
    ComplaintStatus.REOPENED: (ComplaintStatus.PLANNED, ComplaintStatus.IN_PROGRESS),
}

# Ideas are a board, not a process: the owner may move an idea between any two states (a
# declined idea can come back under review, a planned one can be declined after all). Done is
# final because marking an idea done tells every requester it shipped.
IDEA_TRANSITIONS: Mapping[IdeaStatus, tuple[IdeaStatus, ...]] = {
    IdeaStatus.UNDER_REVIEW: (IdeaStatus.PLANNED, IdeaStatus.DONE, IdeaStatus.DECLINED),
    IdeaStatus.PLANNED: (IdeaStatus.UNDER_REVIEW, IdeaStatus.DONE, IdeaStatus.DECLINED),
    IdeaStatus.DECLINED: (IdeaStatus.UNDER_REVIEW, IdeaStatus.PLANNED),
    IdeaStatus.DONE: (),
}


class InvalidTransition(DomainError):
    """A known status that the item cannot move to from where it is (CLI exit 1)."""

    def __init__(self, message: str, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allowed = allowed


def _names(statuses: tuple[StrEnum, ...]) -> str:
    return ", ".join(s.value for s in statuses)


def allowed_next(status: ComplaintStatus | IdeaStatus) -> tuple[str, ...]:
    """The status names an item may move to from `status`."""
    if isinstance(status, ComplaintStatus):
        return tuple(s.value for s in COMPLAINT_TRANSITIONS[status])
    return tuple(s.value for s in IDEA_TRANSITIONS[IdeaStatus(status)])


# Why a move is refused, said for the user, for the moves people actually try; any other
# refused move gets the generic sentence naming the allowed next states.
_COMPLAINT_REASONS: dict[tuple[ComplaintStatus, ComplaintStatus], str] = {
    (ComplaintStatus.NEW, ComplaintStatus.PLANNED):
        "acknowledge it to the customer before planning",
    (ComplaintStatus.NEW, ComplaintStatus.IN_PROGRESS):
        "acknowledge it to the customer before working on it",
    (ComplaintStatus.NEW, ComplaintStatus.RESOLVED):
        "acknowledge it and agree a plan before resolving it",
    (ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.IN_PROGRESS):
        "agree a plan with the customer before work starts",
    (ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.RESOLVED):
        "agree a plan and work on it before resolving it",
    (ComplaintStatus.PLANNED, ComplaintStatus.RESOLVED):
        "start the work before resolving it",
    (ComplaintStatus.RESOLVED, ComplaintStatus.REOPENED):
        "record the customer's answer to the check-back (not satisfied) first",
    (ComplaintStatus.SATISFIED, ComplaintStatus.REOPENED):
        "the customer confirmed it is resolved; log a new complaint instead",
}


def _check_transition(
    what: str,
    table: Mapping[_Titled, tuple[_Titled, ...]],
    current: _Titled,
    target: _Titled,
    closed: str,
    reasons: Mapping[tuple[_Titled, _Titled], str],
) -> None:
    allowed = table[current]
    if target in allowed:
        return
    if current is target:
        message = f"The {what} is already {target.title.lower()}."
    elif not allowed:
        message = f"The {what} is {closed}; it cannot move to {target.value}."
    else:
        reason = reasons.get((current, target))
        why = f" ({reason})" if reason else ""
        article = "An" if what[0] in "aeiou" else "A"
        message = (f"{article} {what} cannot go from {current.value} to {target.value}{why}; "
                   f"allowed next: {_names(allowed)}.")
    raise InvalidTransition(message, tuple(s.value for s in allowed))


def check_complaint_transition(current: ComplaintStatus, target: ComplaintStatus) -> None:
    """Raise `InvalidTransition` with a specific sentence when `current` -> `target` is not
    part of the complaint workflow."""
    _check_transition("complaint", COMPLAINT_TRANSITIONS, ComplaintStatus(current),
                      ComplaintStatus(target), "closed (the customer is satisfied)",
                      _COMPLAINT_REASONS)


def check_idea_transition(current: IdeaStatus, target: IdeaStatus) -> None:
    """Raise `InvalidTransition` when an idea cannot move from `current` to `target`."""
    _check_transition("idea", IDEA_TRANSITIONS, IdeaStatus(current), IdeaStatus(target),
                      "done (its requesters were told)", {})


def check_move(kind: FeedbackType, current: str | None, name: str) -> ComplaintStatus | IdeaStatus:
    """The status a complaint or idea at `current` moves to when asked for `name` (a known
    status name), or `InvalidTransition` naming the allowed next states: a status of the
    other workflow ("declined" for a complaint) included."""
    if kind is FeedbackType.COMPLAINT:
        enum, table, check, other = (ComplaintStatus, COMPLAINT_TRANSITIONS,
                                     check_complaint_transition, "an idea")
        start = ComplaintStatus(current or ComplaintStatus.NEW)
    elif kind is FeedbackType.IDEA:
        enum, table, check, other = (IdeaStatus, IDEA_TRANSITIONS, check_idea_transition,
                                     "a complaint")
        start = IdeaStatus(current or IdeaStatus.UNDER_REVIEW)
    else:
        raise DomainError(f"A {kind.value} has no status; only complaints and ideas move "
                          "through a workflow.")
    try:
        target = enum(name)
    except ValueError:
        allowed = tuple(s.value for s in table[start])
        raise InvalidTransition(
            f"“{name}” is {other} status, not a {kind.value} status; allowed next: "
            f"{', '.join(allowed) or 'none'}.", allowed) from None
    check(start, target)
    return target


ALL_STATUS_NAMES: tuple[str, ...] = tuple(
    dict.fromkeys([*(s.value for s in ComplaintStatus), *(s.value for s in IdeaStatus)])
)


def parse_status(name: str) -> str:
    """A status name as typed (case and spaces/hyphens forgiven), or ValueError listing the
    names (the CLI turns that into a usage error)."""
    cleaned = re.sub(r"[\s-]+", "_", name.strip().casefold())
    if cleaned not in ALL_STATUS_NAMES:
        raise ValueError(f"Unknown status {name.strip()!r}; the statuses are: "
                         f"{', '.join(ALL_STATUS_NAMES)}.")
    return cleaned


# --- themes ---------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def normalise_theme(name: str) -> str:
    """A theme as stored: trimmed, each run of inner white space one space, hyphens and case
    kept as typed ("  late  delivery " -> "late delivery"; "e-mail" stays "e-mail")."""
    cleaned = _SPACES.sub(" ", name).strip()
    if not cleaned:
        raise ValidationError({"theme": "A theme needs a name."})
    if len(cleaned) > MAX_THEME_LENGTH:
        raise ValidationError({"theme": f"A theme has at most {MAX_THEME_LENGTH} characters."})
    return cleaned


def theme_key(name: str) -> str:
    """What two themes are compared by: the stored form ignoring case ("Delivery" is
    "delivery")."""
    return normalise_theme(name).casefold()


def normalise_themes(names: list[str] | tuple[str, ...]) -> list[str]:
    """Each theme normalised once, the first spelling of a theme kept, blanks dropped."""
    seen: dict[str, str] = {}
    for name in names:
        if not name.strip():
            continue
        cleaned = normalise_theme(name)
        seen.setdefault(cleaned.casefold(), cleaned)
    return list(seen.values())


def check_satisfaction(value: int | None) -> int | None:
    """A satisfaction score 1-5, or None when not given."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError({"satisfaction": "Satisfaction is a whole number from 1 to 5."})
    return value


def check_text(text: str) -> str:
    """Feedback text as stored: trimmed, not empty, not longer than MAX_FEEDBACK_TEXT."""
    cleaned = text.strip()
    if not cleaned:
        raise ValidationError({"text": "Write what the customer said."})
    if len(cleaned) > MAX_FEEDBACK_TEXT:
        raise ValidationError({"text": f"Feedback has at most {MAX_FEEDBACK_TEXT:,} "
                                       "characters."})
    return cleaned


def initial_status(kind: FeedbackType) -> str | None:
    """Where a new item starts: complaints as new, ideas under review, others no status."""
    if kind is FeedbackType.COMPLAINT:
        return ComplaintStatus.NEW.value
    if kind is FeedbackType.IDEA:
        return IdeaStatus.UNDER_REVIEW.value
    return None


# --- the "ask for feedback" rhythm per tag ------------------------------------------------

# "Ask for feedback every N months", N from 1 to 5 years: shorter is a survey, longer is
# never. A tag's rhythm is a whole number of months because that is how owners say it
# ("every 6 months for key accounts"), not a number of days.
ASK_RHYTHM_MONTHS = range(1, 61)


def check_ask_rhythm(months: int | None) -> int | None:
    """A tag's ask-for-feedback rhythm in months (None: no rhythm); ValidationError else."""
    if months is None:
        return None
    if (isinstance(months, bool) or not isinstance(months, int)
            or months not in ASK_RHYTHM_MONTHS):
        raise ValidationError({"feedback_months": (
            f"Ask for feedback every {ASK_RHYTHM_MONTHS.start} to "
            f"{ASK_RHYTHM_MONTHS.stop - 1} months.")})
    return months


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, kept inside the target month: 31 August + 6 months is
    28 (or 29) February, 29 February + 12 months is 28 February. The store's SQL computes
    the same (tests/services/test_feedback_rhythm.py compares them)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def ask_rhythm_base(
    last_ask: date | None, last_feedback: date | None, customer_since: date | None,
    created: date,
) -> date:
    """The day the rhythm counts from: the later of the last ask (or skipped ask) and the
    last feedback received; a customer never asked and never heard from counts from the
    customer-since day, else the record's creation day (as keep-in-touch does)."""
    heard = [d for d in (last_ask, last_feedback) if d is not None]
    if heard:
        return max(heard)
    return customer_since if customer_since is not None else created


def feedback_ask_due(
    months: int, last_ask: date | None, last_feedback: date | None,
    customer_since: date | None, created: date,
) -> date:
    """The day a customer on an every-`months`-months rhythm is to be asked again: due on
    and after it, exactly `months` months after the base (`ask_rhythm_base`)."""
    check_ask_rhythm(months)
    return add_months(ask_rhythm_base(last_ask, last_feedback, customer_since, created),
                      months)
