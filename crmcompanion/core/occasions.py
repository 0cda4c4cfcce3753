"""The one set of occasion names used everywhere: CLI, JSON, templates, settings."""

from __future__ import annotations

from enum import StrEnum


class Occasion(StrEnum):
    BIRTHDAY = "birthday"
    WEDDING_ANNIVERSARY = "wedding_anniversary"
    CUSTOMER_ANNIVERSARY = "customer_anniversary"
    KEEP_IN_TOUCH = "keep_in_touch"
    FOLLOW_UP = "follow_up"
    CUSTOM = "custom"
    COMPLAINT_CHECKBACK = "complaint_checkback"
    IDEA_SHIPPED = "idea_shipped"
    # A follow-up to win back a lost customer (issue 16): the one touchpoint a lost
    # customer still gets, on the day the owner chose when marking them lost.
    WIN_BACK = "win_back"
    # "How are we doing?": the per-tag ask-for-feedback rhythm (issue 15), one open
    # occurrence per customer, due months after the last ask or feedback received.
    ASK_FEEDBACK = "ask_feedback"

    @property
    def title(self) -> str:
        return OCCASION_TITLES[self]


OCCASION_TITLES: dict[Occasion, str] = {
    Occasion.BIRTHDAY: "Birthday",
    Occasion.WEDDING_ANNIVERSARY: "Wedding anniversary",
    Occasion.CUSTOMER_ANNIVERSARY: "Customer anniversary",
    Occasion.KEEP_IN_TOUCH: "Keep in touch",
    Occasion.FOLLOW_UP: "Follow-up",
    Occasion.CUSTOM: "Special date",
    Occasion.COMPLAINT_CHECKBACK: "Complaint check-back",
    Occasion.IDEA_SHIPPED: "Idea shipped",
    Occasion.WIN_BACK: "Win-back",
    Occasion.ASK_FEEDBACK: "Ask for feedback",
}

# Kinds of special date a customer profile stores; customer_anniversary comes from the
# customer-since field instead.
SPECIAL_DATE_KINDS: tuple[Occasion, ...] = (
    Occasion.BIRTHDAY,
    Occasion.WEDDING_ANNIVERSARY,
    Occasion.CUSTOM,
)
