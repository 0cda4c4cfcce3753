"""Sample data for the Insights section (issue 16), written inside `services.demo`'s load.

So every segment and every chart shows something true on sample data: lost customers get a
reason (the top one shrinking over the last two years, another growing; a few left as
"unknown" like customers marked lost before reasons were asked), a day they left and
sometimes a note; some customers get a yearly value (ordering the at-risk list); a share of
the customers spoken to recently get praise (on recurring themes) and high satisfaction (the
happiest); a sample of past keep-in-touch touchpoints is recorded done on time, late, or
skipped; greetings (birthdays, anniversaries) of the last year are recorded done on their
day, for every one of the happiest and about one other customer in five ("why customers
stay"). Plain rows through one DB-API executemany per table in the demo's own transaction,
like the feedback sample, so `demo --customers 100000` stays within its time target.
"""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import occurrence_key
from crmcompanion.store import feedback as feedback_repo

logger = logging.getLogger(__name__)

# (reason, weight in the 4 quarters before last year, weight in the last 4 quarters, notes)
LOST_REASONS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("price", 34, 20, ("Found it cheaper online.", "Budget cut this year.", "")),
    ("service", 12, 18, ("Waited too long for a reply.", "")),
    ("competitor", 14, 14, ("The new shop across the street.", "")),
    ("quality", 10, 8, ("Two orders arrived damaged.", "")),
    ("moved_away", 8, 8, ("Moved to another city.", "")),
    ("product_fit", 6, 6, ("Needed a bigger size range.", "")),
    ("no_longer_needed", 6, 6, ("",)),
    ("other", 4, 4, ("Retired and closed the business.", "Family reasons.")),
)
UNKNOWN_SHARE = 0.05
HAPPY_SHARE = 0.3  # of the active customers spoken to in the last month
MAX_HAPPY = 2_000
MAX_TOUCHPOINTS = 2_000
# Praise themes the happiest keep coming back to (weight, then the ways they say it): the
# why-stay card's top five have a clear order, and "Personal touch" echoes the greetings.
PRAISE: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("Staff friendliness", 30, ("Lovely service, thank you!",
                                "The staff remembered my name again.",
                                "Always a friendly word at the counter.")),
    ("Personal touch", 22, ("Thank you for the birthday card, what a nice surprise!",
                            "Such a kind note on our anniversary.",
                            "You always remember what I ordered last time.")),
    ("Advice", 17, ("Great advice on the new range.",
                    "Helped me pick exactly the right size.")),
    ("Delivery", 13, ("The delivery was quicker than promised.",
                      "Arrived a day early and well packed.")),
    ("Product quality", 10, ("Still going strong after years.",
                             "The quality is as good as ever.")),
    ("Easy ordering", 5, ("Always a pleasure to order here.",)),
)
# Greetings done on the day: every special date of the happiest in the last year, and of about
# one other customer in GREETED_OTHERS_IN_TEN (at most MAX_GREETED_OTHERS customers).
GREETED_OTHERS_IN_TEN = 2
MAX_GREETED_OTHERS = 3_000
SATISFIED = ("Very happy with the last order.", "Everything as agreed, thanks.")


def _ids(session: Session, sql: str, first_id: int, last_id: int, **params: object) -> list[int]:
    rows = session.execute(text(sql), {"first": first_id, "last": last_id, **params}).fetchall()
    return [row[0] for row in rows]


def fill_insights(
    session: Session, today: date, first_id: int, count: int, seed: int,
    staff_id: int | None,
) -> int:
    """Sample insights data for customers first_id..first_id+count-1; returns the rows
    written or changed."""
    rng = random.Random(seed * 15485863 + 7)
    last_id = first_id + count - 1
    written = 0
    connection = session.connection()

    lost = _ids(session, "SELECT id FROM customers WHERE id BETWEEN :first AND :last "
                "AND status = 'lost'", first_id, last_id)
    updates = []
    for cid in lost:
        back = rng.randrange(0, 730)
        if rng.random() < UNKNOWN_SHARE:
            continue  # marked lost "before reasons were asked": counted as unknown
        recent = back < 365
        weights = [r[2] if recent else r[1] for r in LOST_REASONS]
        reason, _, _, notes = rng.choices(LOST_REASONS, weights)[0]
        updates.append((reason, rng.choice(notes), (today - timedelta(days=back)).isoformat(),
                        cid))
    if updates:  # (an empty list would be taken as no parameters at all)
        connection.exec_driver_sql(
            "UPDATE customers SET lost_reason = ?, lost_note = ?, lost_on = ? WHERE id = ?",
            updates)
    written += len(updates)

    # Yearly values for about one active customer in seven, set by one statement (a
    # multiplicative hash of the id and seed: repeatable, no row read into Python). The id is
    # widened first: on PostgreSQL id * 40503 overflows a 32-bit integer past id 53,000.
    values = session.execute(text(
        "UPDATE customers SET yearly_value = 10 * (20 + "
        "((CAST(id AS bigint) * 2654435761 + :seed) % 1987) "
        "* ((CAST(id AS bigint) * 40503 + :seed) % 7 + 1) / 3) "
        "WHERE id BETWEEN :first AND :last "
        "AND status = 'active' AND (CAST(id AS bigint) * 48271 + :seed) % 7 = 0"),
        {"first": first_id, "last": last_id, "seed": seed}).rowcount or 0
    written += values

    # The happiest: active customers spoken to lately, with praise and high satisfaction.
    recent = _ids(
        session,
        "SELECT DISTINCT i.customer_id FROM interactions i JOIN customers c "
        "ON c.id = i.customer_id WHERE i.customer_id BETWEEN :first AND :last "
        "AND i.occurred_on >= :since AND c.status = 'active' "
        "AND (CAST(i.customer_id AS bigint) * 69069 + :seed) % 10 < :share LIMIT :most",
        first_id, last_id, since=(today - timedelta(days=30)).isoformat(), seed=seed,
        share=int(HAPPY_SHARE * 10), most=MAX_HAPPY)
    happy = recent
    items: list[dict[str, object]] = []
    item_id = feedback_repo.next_item_id(session)

    def moment(days_back: int) -> datetime:
        return datetime.combine(today - timedelta(days=days_back),
                                time(9 + rng.randrange(8), rng.randrange(60)))

    theme_id = dict(zip([t for t, _, _ in PRAISE],
                        feedback_repo.theme_ids(session, [t for t, _, _ in PRAISE]),
                        strict=True))
    weights = [w for _, w, _ in PRAISE]
    links: list[dict[str, object]] = []
    for cid in happy:
        theme, _, said = rng.choices(PRAISE, weights)[0]
        for kind, texts, score in (("praise", said, 5),
                                   ("feedback", SATISFIED, rng.choice((4, 5, 5)))):
            created = moment(rng.randrange(1, 150))
            items.append({"id": item_id, "customer_id": cid, "kind": kind,
                          "text": rng.choice(texts), "satisfaction": score,
                          "source": rng.choice(("conversation", "survey", "email")),
                          "status": None, "author_id": staff_id, "interaction_id": None,
                          "reviewer": "", "review_site": "", "merged_into_id": None,
                          "created_at": created, "updated_at": created, "version": 1})
            if kind == "praise":
                links.append({"item_id": item_id, "theme_id": theme_id[theme]})
            item_id += 1
    feedback_repo.insert_rows(session, "feedback_items", items)
    feedback_repo.insert_rows(session, "feedback_item_themes", links)
    written += len(items) + len(links)
    greeted = _greetings_done(session, today, first_id, last_id, seed, happy, staff_id)
    written += greeted

    # Past keep-in-touch check-ins recorded done on time, late, or skipped.
    states: list[dict[str, object]] = []
    picked = rng.sample(range(first_id, last_id + 1), min(MAX_TOUCHPOINTS, max(count // 10, 1)))
    for cid in picked:
        due = today - timedelta(days=rng.randrange(3, 360))
        roll = rng.random()
        state, late = ("done", 0) if roll < 0.65 else (
            ("done", rng.randrange(1, 15)) if roll < 0.88 else ("skipped", 0))
        recorded = datetime.combine(due + timedelta(days=late), time(11, 0))
        states.append({
            "occurrence_key": occurrence_key(cid, Occasion.KEEP_IN_TOUCH, None, due),
            "customer_id": cid, "occasion": Occasion.KEEP_IN_TOUCH.value, "occurrence_on": due,
            "state": state, "snoozed_until": None,
            "reason": "Away on holiday" if state == "skipped" else "",
            "interaction_id": None, "recorded_at": recorded, "recorded_by_id": staff_id})
    feedback_repo.insert_rows(session, "touchpoint_states", states)
    written += len(states)
    if session.get_bind().dialect.name == "postgresql":
        # The demo's last writer: the feedback and insights rows above were written with
        # their ids, after the bulk load advanced the id sequences; without this the next
        # feedback item saved on PostgreSQL would take id 1 again (a duplicate key).
        from crmcompanion.store.postgres_bulk import advance_sequences

        advance_sequences(session)
    logger.debug("Insights demo: %d lost reasons, %d values, %d happy, %d touchpoints, "
                 "%d greetings", len(updates), values, len(happy), len(states), greeted)
    return written


def _last_occurrence(month: int, day: int, today: date) -> date | None:
    """The special date's last day before today (today's stays due on Today, not done);
    None for 29 February (its occurrence follows the leap-day policy: left to the app)."""
    if (month, day) == (2, 29):
        return None
    this_year = date(today.year, month, day)
    return this_year if this_year < today else date(today.year - 1, month, day)


def _greetings_done(
    session: Session, today: date, first_id: int, last_id: int, seed: int,
    happy: list[int], staff_id: int | None,
) -> int:
    """Greetings (birthdays, anniversaries) recorded done on their day in the last year:
    every one of the happiest, and about one other customer in five, so "why customers stay"
    shows the happiest greeted more. One read of the special dates, one executemany."""
    rows = session.execute(text(
        "SELECT id, customer_id, kind, month, day FROM special_dates "
        "WHERE customer_id BETWEEN :first AND :last "
        "AND (customer_id * 2246822519 + :seed) % 10 < :share LIMIT :most"),
        {"first": first_id, "last": last_id, "seed": seed, "share": GREETED_OTHERS_IN_TEN,
         "most": MAX_GREETED_OTHERS}).fetchall()
    for chunk in range(0, len(happy), 500):
        ids = happy[chunk:chunk + 500]
        rows += session.execute(
            text("SELECT id, customer_id, kind, month, day FROM special_dates "
                 f"WHERE customer_id IN ({', '.join(str(int(i)) for i in ids)})")).fetchall()
    states: dict[str, dict[str, object]] = {}
    for source, cid, kind, month, day in rows:
        on = _last_occurrence(month, day, today)
        if on is None:
            continue
        occasion = Occasion(kind)
        key = occurrence_key(cid, occasion, source, on)
        states[key] = {
            "occurrence_key": key, "customer_id": cid, "occasion": occasion.value,
            "occurrence_on": on, "state": "done", "snoozed_until": None, "reason": "",
            "interaction_id": None, "recorded_at": datetime.combine(on, time(9, 15)),
            "recorded_by_id": staff_id}
    feedback_repo.insert_rows(session, "touchpoint_states", list(states.values()))
    return len(states)
