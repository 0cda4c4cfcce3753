"""Sample feedback for the demo: a business whose customers talk back.

Complaints in every workflow state whose themes recur across customers (worded differently,
as people do), praise, feedback, questions, ideas asked for by several customers and a few
unlinked public reviews, spread over the last year. Written in the demo's own transaction
with a few multi-row inserts (`store.feedback.insert_rows`), so `demo --customers 100000`
stays within its time target: about one item per 25 customers, capped.

Meaning vectors are not written here (loading the model would cost the demo ~0.5 s and the
encoding more); the Feedback pages encode what is missing in the background
(`FeedbackService.encode_missing`) and rank by words until then.
"""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from crmcompanion.core.feedback import ComplaintStatus
from crmcompanion.store import feedback as repo

logger = logging.getLogger(__name__)

# Eight recurring themes, each said in several ways (the similar-complaints view and the
# Themes view have something real to find).
COMPLAINTS: dict[str, tuple[str, ...]] = {
    "Delivery": (
        "My parcel arrived two weeks late.",
        "The delivery never showed up on the promised day.",
        "Courier left the box at the wrong address.",
        "Still waiting for my order, nobody tells me where it is.",
        "The package came crushed and the contents were damaged.",
    ),
    "Staff friendliness": (
        "The person at the counter was grumpy the whole time.",
        "Staff were unfriendly and made me feel unwelcome.",
        "Nobody greeted us and the waiter rolled his eyes.",
        "I was spoken to rudely on the phone.",
        "The assistant ignored me and kept chatting with a colleague.",
    ),
    "Booking": (
        "My reservation vanished from the system.",
        "The booking was lost and we had no table.",
        "Online appointment was confirmed, but the shop had no record of it.",
        "We were double-booked and sent away.",
    ),
    "Price": (
        "Prices went up again without any notice.",
        "Far too expensive for what you get.",
        "I was charged more than the price on the shelf.",
        "The new subscription fee is not worth it.",
    ),
    "Product quality": (
        "The bread was stale the day I bought it.",
        "The zip broke after one week.",
        "Colours faded after the first wash.",
        "The cake was dry and tasted old.",
    ),
    "Waiting time": (
        "Waited forty minutes before anyone served us.",
        "The queue at the till was endless.",
        "Support took three days to answer my email.",
        "On hold for half an hour, then the line dropped.",
    ),
    "Billing": (
        "I was billed twice for the same order.",
        "The invoice shows items I never received.",
        "My refund still has not arrived after a month.",
    ),
    "Website": (
        "The checkout page keeps crashing on my phone.",
        "I cannot log in to my account any more.",
        "The shop website shows items as available that are sold out.",
    ),
}
PRAISE = (
    "Lovely service, thank you so much!",
    "The new seasonal range is wonderful.",
    "Always a pleasure to come by, the team is great.",
    "Fast delivery and beautifully packed.",
    "You sorted my problem in minutes, brilliant.",
)
FEEDBACK = (
    "The shop could use a few more seats by the window.",
    "Music was a bit loud on Saturday.",
    "Would be nice to get a reminder before my appointment.",
    "The new labels are easier to read.",
)
QUESTIONS = (
    "Do you deliver on Sundays?",
    "Can I pay by invoice as a company?",
    "Is the gluten-free range available in every shop?",
    "How long is the warranty on repairs?",
)
IDEAS: tuple[tuple[str, str], ...] = (
    ("Open on Sunday mornings.", "Opening hours"),
    ("A loyalty card with a free coffee every tenth visit.", "Loyalty"),
    ("Let us book appointments online.", "Booking"),
    ("Offer a vegan option on the lunch menu.", "Product range"),
    ("Send a text when my order is ready for pickup.", "Delivery"),
    ("Gift cards for birthdays.", "Product range"),
    ("Click and collect from the shop.", "Delivery"),
    ("A kids' corner while parents shop.", "Shop"),
)
REVIEWS: tuple[tuple[int, str, str], ...] = (
    (5, "Best bakery in town, friendly people.", "Google"),
    (1, "Ordered online, the parcel never arrived and nobody answered.", "Trustpilot"),
    (2, "The staff were rude when I asked about my booking.", "Google"),
    (4, "Good value, a bit of a wait at lunchtime.", "Google"),
    (3, "Fine, nothing special.", "Trustpilot"),
)
REVIEWERS = ("Sam P.", "Jordan K.", "Alex M.", "Robin T.", "Charlie B.", "Kim L.")
NOTES = {
    ComplaintStatus.ACKNOWLEDGED: "Apologised and promised to look into it.",
    ComplaintStatus.PLANNED: "Agreed a plan with the customer.",
    ComplaintStatus.IN_PROGRESS: "Work started.",
    ComplaintStatus.RESOLVED: "Fixed; the customer was told.",
    ComplaintStatus.SATISFIED: "Customer confirmed all is well now.",
    ComplaintStatus.NOT_SATISFIED: "Customer is still unhappy.",
    ComplaintStatus.REOPENED: "Reopened to try again.",
}
GOALS = ("Replacement sent within a week", "Refund the difference", "Call back with a fix",
         "Retrain the team and apologise in person", "Credit note for the next order")
# Where a demo complaint has got to: each walk ends in its state (every state appears).
WALKS: tuple[tuple[ComplaintStatus, ...], ...] = (
    (ComplaintStatus.NEW,),
    (ComplaintStatus.NEW, ComplaintStatus.ACKNOWLEDGED),
    (ComplaintStatus.NEW, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.PLANNED),
    (ComplaintStatus.NEW, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.PLANNED,
     ComplaintStatus.IN_PROGRESS),
    (ComplaintStatus.NEW, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.PLANNED,
     ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED),
    (ComplaintStatus.NEW, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.PLANNED,
     ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED, ComplaintStatus.SATISFIED),
    (ComplaintStatus.NEW, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.PLANNED,
     ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED, ComplaintStatus.NOT_SATISFIED),
    (ComplaintStatus.NEW, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.PLANNED,
     ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED, ComplaintStatus.NOT_SATISFIED,
     ComplaintStatus.REOPENED),
)
MAX_COMPLAINTS = 1000
CHECKBACK_DAYS = 14


def fill_feedback(
    session: Session, today: date, first_id: int, count: int, seed: int,
    staff_id: int | None,
) -> int:
    """Sample feedback for customers first_id..first_id+count-1, in the caller's unit of work;
    returns how many items it wrote."""
    rng = random.Random(seed * 104729 + 11)
    customers = list(range(first_id, first_id + count))
    theme_names = list(dict.fromkeys([*COMPLAINTS, *(t for _, t in IDEAS)]))
    theme_id = dict(zip(theme_names, repo.theme_ids(session, theme_names), strict=True))
    items: list[dict[str, object]] = []
    links: list[dict[str, object]] = []
    details: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    follow_ups: list[dict[str, object]] = []
    requesters: list[dict[str, object]] = []
    next_id = repo.next_item_id(session)

    def moment(days_back: int) -> datetime:
        day = today - timedelta(days=days_back)
        return datetime.combine(day, time(9 + rng.randrange(8), rng.randrange(60)))

    def item(customer: int | None, kind: str, text: str, status: str | None,
             created: datetime, source: str = "conversation", satisfaction: int | None = None,
             reviewer: str = "", site: str = "") -> int:
        nonlocal next_id
        item_id = next_id
        next_id += 1
        items.append({"id": item_id, "customer_id": customer, "kind": kind, "text": text,
                      "satisfaction": satisfaction, "source": source, "status": status,
                      "author_id": staff_id, "interaction_id": None, "reviewer": reviewer,
                      "review_site": site, "merged_into_id": None, "created_at": created,
                      "updated_at": created, "version": 1})
        return item_id

    sources = ("conversation", "phone", "email", "visit", "survey")
    complaints = min(MAX_COMPLAINTS, max(len(WALKS) * 2, count // 25))
    themes = list(COMPLAINTS)
    for n in range(complaints):
        theme = themes[n % len(themes)] if n < len(themes) * 2 else rng.choice(themes)
        walk = WALKS[n % len(WALKS)]
        back = rng.randrange(3, 330)
        created = moment(back)
        cid = rng.choice(customers)
        item_id = item(cid, "complaint", rng.choice(COMPLAINTS[theme]), walk[-1].value, created,
                       rng.choice(sources), rng.choice((1, 2, 2, 3, None)))
        links.append({"item_id": item_id, "theme_id": theme_id[theme]})
        target = None
        if ComplaintStatus.PLANNED in walk:
            # Some plans are late: Today shows them in Overdue.
            target = today + timedelta(days=rng.randrange(-10, 21))
            if n < len(WALKS):  # the first of each state: a late plan is always on Today
                target = today - timedelta(days=3)
        details.append({"item_id": item_id, "severity": rng.choice(("low", "normal", "normal",
                                                                    "high")),
                        "responsible_id": staff_id,
                        "goal": rng.choice(GOALS) if target else "", "target_date": target,
                        "resolved_at": None, "plan_follow_up_id": None, "checkback_on": None})
        step_at = created
        previous = None
        for status in walk:
            events.append({"item_id": item_id, "at": step_at, "staff_id": staff_id,
                           "from_status": previous, "to_status": status.value,
                           "note": NOTES.get(status, "")})
            previous = status.value
            step_at = min(step_at + timedelta(days=rng.randrange(1, 4)),
                          datetime.combine(today, time(8)))
        if walk[-1] is ComplaintStatus.RESOLVED:
            due = today + timedelta(days=rng.randrange(-3, CHECKBACK_DAYS))
            if n < len(WALKS):  # one check-back is always due this week
                due = today + timedelta(days=1)
            details[-1]["checkback_on"] = due
            details[-1]["resolved_at"] = step_at
            follow_ups.append({"customer_id": cid, "occasion": "complaint_checkback",
                               "due_on": due, "note": "Are they satisfied now? "
                               + str(items[-1]["text"]), "source_id": item_id, "open": True,
                               "created_at": step_at, "created_by_id": staff_id})
        elif target is not None and walk[-1] in (ComplaintStatus.PLANNED,
                                                  ComplaintStatus.IN_PROGRESS):
            follow_ups.append({"customer_id": cid, "occasion": "follow_up", "due_on": target,
                               "note": "Complaint plan due: " + str(details[-1]["goal"]),
                               "source_id": None, "open": True, "created_at": step_at,
                               "created_by_id": staff_id})
    for kind, texts, share in (("praise", PRAISE, 60), ("feedback", FEEDBACK, 120),
                               ("question", QUESTIONS, 150)):
        for _ in range(min(300, max(len(texts), count // share))):
            item(rng.choice(customers), kind, rng.choice(texts), None,
                 moment(rng.randrange(1, 360)), rng.choice(sources),
                 rng.choice((4, 5, None)) if kind == "praise" else None)
    for text, theme in IDEAS[: max(3, min(len(IDEAS), count // 20))]:
        status = rng.choice(("under_review", "under_review", "planned", "declined"))
        asked = rng.sample(customers, min(len(customers), rng.randrange(2, 7)))
        created = moment(rng.randrange(10, 300))
        item_id = item(asked[0], "idea", text, status, created, rng.choice(sources))
        links.append({"item_id": item_id, "theme_id": theme_id[theme]})
        events.append({"item_id": item_id, "at": created, "staff_id": staff_id,
                       "from_status": None, "to_status": status, "note": ""})
        for position, cid in enumerate(asked):
            requesters.append({"idea_id": item_id, "customer_id": cid,
                               "created_at": created + timedelta(days=position)})
    review_themes = {1: "Delivery", 2: "Staff friendliness", 3: "Waiting time"}
    for n, (rating, text, site) in enumerate(REVIEWS):
        kind = "praise" if rating >= 4 else "complaint" if rating <= 2 else "feedback"
        item_id = item(None, kind, text, "new" if kind == "complaint" else None,
                       moment(rng.randrange(1, 120)), "public_review", rating,
                       REVIEWERS[n % len(REVIEWERS)], site)
        if kind == "complaint":
            details.append({"item_id": item_id, "severity": "normal", "responsible_id": None,
                            "goal": "", "target_date": None, "resolved_at": None,
                            "plan_follow_up_id": None, "checkback_on": None})
        if n in review_themes:
            links.append({"item_id": item_id, "theme_id": theme_id[review_themes[n]]})
    repo.insert_rows(session, "feedback_items", items)
    repo.insert_rows(session, "feedback_item_themes", links)
    repo.insert_rows(session, "complaint_details", details)
    repo.insert_rows(session, "feedback_events", events)
    repo.insert_rows(session, "follow_ups", follow_ups)
    repo.insert_rows(session, "idea_requesters", requesters)
    logger.info("Demo feedback: %d items", len(items))
    return len(items)
