"""The feedback service on a real SQLite file: capture, the complaint loop closed with the
customer (check-back on Today and in `due`, answered), plans past their target date, ideas
(merge, shipped touchpoints), asking for feedback, similar complaints and the themes view."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crmcompanion.core.customer import CustomerDraft, EmailAddress, Kind, Status
from crmcompanion.core.errors import DomainError, NotFoundError, ValidationError
from crmcompanion.core.feedback import InvalidTransition
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.touchpoints import Section
from crmcompanion.services.container import Services

TODAY = date(2026, 11, 22)


def _customer(services: Services, name: str, **extra) -> int:
    first, last = name.split()
    return services.customers.create(CustomerDraft(
        first_name=first, last_name=last,
        emails=(EmailAddress(f"{first.lower()}@example.com"),), **extra)).customer.id


def _resolve(services: Services, item_id: int) -> None:
    for status in ("acknowledged", "planned", "in_progress", "resolved"):
        services.feedback.move(item_id, status)


def test_capture_keeps_type_themes_as_typed_and_author(services: Services) -> None:
    cid = _customer(services, "Anna Weber")
    saved = services.feedback.add(cid, "praise", "  Lovely rye bread ", satisfaction=5,
                                  themes=["  Bread  quality", "bread quality", "e-mail"])
    item = saved.item
    assert (item.kind.value, item.text, item.satisfaction, item.status) == (
        "praise", "Lovely rye bread", 5, None)
    assert item.themes == ("Bread quality", "e-mail")
    assert item.author == "You" or item.author  # the local staff row's name
    assert saved.changed.feedback and cid in saved.changed.customers
    # A later spelling joins the stored theme.
    again = services.feedback.add(cid, "feedback", "Bread was great", themes=["BREAD QUALITY"])
    assert again.item.themes == ("Bread quality",)
    assert [i.id for i in services.feedback.list(theme="bread quality")] == [
        again.item.id, item.id]
    with pytest.raises(ValidationError):
        services.feedback.add(cid, "gossip", "x")
    with pytest.raises(ValidationError):
        services.feedback.add(None, "complaint", "x")


def test_resolving_schedules_a_checkback_on_today_for_lost_and_internal_customers(
        services: Services) -> None:
    ids = [
        _customer(services, "Lost Larry", status=Status.LOST),
        _customer(services, "Inner Ida", kind=Kind.INTERNAL),
        _customer(services, "Plain Paula"),
    ]
    services.touchpoints.set_do_not_contact(ids[2], True)
    complaints = [services.feedback.add(cid, "complaint", "The order came late").item.id
                  for cid in ids]
    for item_id in complaints:
        _resolve(services, item_id)
    due_on = TODAY + timedelta(days=14)
    due = services.touchpoints.due(days=14)
    checkbacks = [t for t in due if t.occasion is Occasion.COMPLAINT_CHECKBACK]
    assert {t.customer_id for t in checkbacks} == set(ids)
    assert {t.date for t in checkbacks} == {due_on}
    view = services.touchpoints.today_view()
    assert view.section(Section.DAYS_8_30).total >= 3
    assert services.feedback.get(complaints[0]).item.checkback_on == due_on


def test_checkback_days_follow_the_setting(services: Services) -> None:
    services.settings.update({"feedback.checkback_days": 3})
    cid = _customer(services, "Anna Weber")
    item_id = services.feedback.add(cid, "complaint", "Rude on the phone").item.id
    _resolve(services, item_id)
    assert services.feedback.get(item_id).item.checkback_on == TODAY + timedelta(days=3)


def test_archived_customer_gets_no_checkback(services: Services) -> None:
    cid = _customer(services, "Anna Weber")
    item_id = services.feedback.add(cid, "complaint", "Rude on the phone").item.id
    services.customers.set_archived(cid, True)
    _resolve(services, item_id)
    assert services.feedback.get(item_id).item.checkback_on is None


def test_answer_satisfied_closes_and_not_satisfied_reopens(services: Services) -> None:
    cid = _customer(services, "Anna Weber")
    happy = services.feedback.add(cid, "complaint", "Wrong size delivered").item.id
    unhappy = services.feedback.add(cid, "complaint", "Cake was dry").item.id
    _resolve(services, happy)
    _resolve(services, unhappy)
    key = next(t.key for t in services.touchpoints.due(days=30)
               if t.occasion is Occasion.COMPLAINT_CHECKBACK and t.customer_id == cid)
    assert services.feedback.checkback_item(key) in (happy, unhappy)
    done = services.feedback.answer_checkback(happy, True, "Fits now")
    assert done.item.status == "satisfied"
    reopened = services.feedback.answer_checkback(unhappy, False)
    assert reopened.item.status == "reopened"
    assert not [t for t in services.touchpoints.due(days=30)
                if t.occasion is Occasion.COMPLAINT_CHECKBACK]
    history = services.interactions.history(cid)
    assert any("satisfied" in h.summary for h in history)
    steps = [(e.from_status, e.to_status) for e in services.feedback.get(unhappy).events]
    assert steps[-2:] == [("resolved", "not_satisfied"), ("not_satisfied", "reopened")]
    with pytest.raises(InvalidTransition, match="allowed next: planned, in_progress"):
        services.feedback.move(unhappy, "resolved")


def test_invalid_moves_name_the_allowed_next_states(services: Services) -> None:
    cid = _customer(services, "Anna Weber")
    item_id = services.feedback.add(cid, "complaint", "Cake was dry").item.id
    with pytest.raises(InvalidTransition, match="allowed next: acknowledged"):
        services.feedback.move(item_id, "resolved")
    with pytest.raises(InvalidTransition, match="idea status"):
        services.feedback.move(item_id, "declined")
    praise = services.feedback.add(cid, "praise", "Great").item.id
    with pytest.raises(DomainError, match="no status"):
        services.feedback.move(praise, "done")
    with pytest.raises(NotFoundError):
        services.feedback.move(999, "done")


def test_a_plan_past_its_target_date_is_on_today_and_leaves_when_resolved(
        services: Services) -> None:
    cid = _customer(services, "Anna Weber")
    item_id = services.feedback.add(cid, "complaint", "Oven broken again").item.id
    services.feedback.move(item_id, "acknowledged")
    target = TODAY - timedelta(days=2)
    services.feedback.move(item_id, "planned", goal="Replace the oven", target_date=target)
    overdue = services.touchpoints.today_view().section(Section.OVERDUE)
    plan = [t for t in overdue.items if t.customer_id == cid]
    assert plan and plan[0].date == target and "Replace the oven" in plan[0].label
    assert [r.id for r in services.feedback.overdue_plans()] == [item_id]
    services.feedback.set_plan(item_id, target_date=TODAY + timedelta(days=5))
    assert services.feedback.overdue_plans() == []
    services.feedback.move(item_id, "in_progress")
    services.feedback.move(item_id, "resolved")
    assert not [t for t in services.touchpoints.due(days=7) if t.customer_id == cid
                and t.occasion is Occasion.FOLLOW_UP]


def test_ideas_merge_requesters_and_done_creates_shipped_touchpoints(services: Services) -> None:
    a, b, c = (_customer(services, n) for n in ("Anna Weber", "Bob Stone", "Cleo Hart"))
    first = services.feedback.add(a, "idea", "Open on Sundays").item.id
    second = services.feedback.add(b, "idea", "Sunday opening hours").item.id
    services.feedback.add_requester(second, c)
    services.feedback.add_requester(second, a)
    merged = services.feedback.merge_ideas(first, second)
    board = {card.item.id: card for card in services.feedback.ideas()}
    assert second not in board
    assert {cid for cid, _ in board[first].requesters} == {a, b, c}
    assert merged.item.id == first
    with pytest.raises(DomainError, match="merged"):
        services.feedback.move(second, "done")
    saved = services.feedback.move(first, "done")
    assert len(saved.touchpoint_keys) == 3
    shipped = [t for t in services.touchpoints.due(days=0)
               if t.occasion is Occasion.IDEA_SHIPPED]
    assert {t.customer_id for t in shipped} == {a, b, c}
    assert all("You asked for it, it's here" in t.label for t in shipped)
    draft = services.greetings.draft(a, Occasion.IDEA_SHIPPED)
    assert draft.occurrence_key in {t.key for t in shipped}


def test_ask_for_feedback_drafts_a_request_and_leaves_a_follow_up(services: Services) -> None:
    cid = _customer(services, "Anna Weber")
    asked = services.feedback.ask_for_feedback(cid, 5)
    assert "how things are going" in asked.draft.body
    assert "Anna" in asked.draft.body
    assert asked.follow_up.due_on == TODAY + timedelta(days=5)
    assert asked.draft.occurrence_key != asked.follow_up.key  # sending keeps it open
    again = services.feedback.ask_for_feedback(cid, 5)  # the template is reused, not added
    assert again.draft.template_key == asked.draft.template_key


def test_similar_complaints_from_other_customers_best_first(services: Services) -> None:
    anna, bob, cleo = (_customer(services, n) for n in ("Anna Weber", "Bob Stone", "Cleo Hart"))
    late = services.feedback.add(bob, "complaint", "My parcel arrived two weeks late",
                                 themes=["Delivery"]).item.id
    services.feedback.add(cleo, "complaint", "The cashier was rude to me", themes=["Staff"])
    services.feedback.add(anna, "complaint", "Parcel late again", themes=["Delivery"])
    found = services.feedback.similar("parcel arrived late", 5, exclude_customer_id=anna)
    assert found and found[0].id == late
    assert found[0].themes == ("Delivery",) and found[0].customer == "Bob Stone"
    assert all(hit.customer_id != anna for hit in found)
    assert services.feedback.suggest_themes("late parcel")[0] == "Delivery"


def test_themes_view_counts_customers_open_resolved_and_months(services: Services) -> None:
    anna, bob = _customer(services, "Anna Weber"), _customer(services, "Bob Stone")
    one = services.feedback.add(anna, "complaint", "Parcel late", themes=["Delivery"]).item.id
    services.feedback.add(bob, "complaint", "Box arrived crushed", themes=["delivery"])
    services.feedback.add(bob, "praise", "Friendly staff", themes=["Staff"])
    _resolve(services, one)
    view = services.feedback.themes_view()
    assert [t.name for t in view] == ["Delivery", "Staff"]
    delivery = view[0]
    assert (delivery.customers, delivery.items, delivery.open_complaints,
            delivery.resolved_complaints) == (2, 2, 1, 1)
    assert len(delivery.months) == 12 and delivery.months[-1] == (date(2026, 11, 1), 2)
    assert sum(n for _, n in delivery.months) == 2
    # Words that set Delivery apart from Staff (stop words removed).
    assert {"parcel", "box"} & set(delivery.words)
    assert "friendly" in view[1].words and "the" not in delivery.words


def test_merging_customers_carries_feedback_and_idea_requests(services: Services) -> None:
    anna, dup = _customer(services, "Anna Weber"), _customer(services, "Anna Webber")
    services.feedback.add(dup, "complaint", "Parcel late")
    idea = services.feedback.add(anna, "idea", "Gift cards").item.id
    services.feedback.add_requester(idea, dup)
    services.duplicates.merge(anna, dup)
    assert len(services.feedback.list(customer_id=anna)) == 2
    assert [cid for cid, _ in services.feedback.get(idea).requesters] == [anna]


def test_imported_reviews_join_the_themes_of_similar_complaints(services: Services,
                                                                 tmp_path) -> None:
    bob = _customer(services, "Bob Stone")
    services.feedback.add(bob, "complaint", "My parcel arrived two weeks late",
                          themes=["Delivery"])
    services.feedback.add(bob, "complaint", "The cashier was rude", themes=["Staff"])
    path = tmp_path / "reviews.csv"
    path.write_text("date,rating,author,text\n"
                    "2026-11-02,1,Some One,Parcel arrived very late\n", encoding="utf-8")
    result = services.feedback.import_reviews(path)
    assert result.written and result.created == 1 and result.unlinked == 1
    review = services.feedback.get(result.item_ids[0]).item
    assert review.source.value == "public_review" and review.themes == ("Delivery",)
    delivery = next(t for t in services.feedback.themes_view() if t.name == "Delivery")
    assert (delivery.items, delivery.customers) == (2, 2)


def test_without_the_model_similar_complaints_rank_by_words(services: Services) -> None:
    """The fallback for a model that cannot load: FTS5 bm25 on SQLite, and the word count
    other databases use (plain SQL, run here on SQLite)."""
    from crmcompanion.services.feedback import FeedbackService
    from crmcompanion.services.feedback_similar import Vectors
    from crmcompanion.store import feedback as store

    words_only = FeedbackService(services.db, services.clock, services.staff_id,
                                 touchpoints=services.touchpoints, vectors=Vectors(False))
    bob, cleo = _customer(services, "Bob Stone"), _customer(services, "Cleo Hart")
    late = words_only.add(bob, "complaint", "My parcel arrived two weeks late",
                          themes=["Delivery"]).item.id
    words_only.add(cleo, "complaint", "The cashier was rude", themes=["Staff"])
    words_only.add(cleo, "complaint", "Prices went up again", themes=["Price"])
    found = words_only.similar("parcel arrived late", 3)
    assert found[0].id == late and found[0].score > 0
    assert words_only.suggest_themes("late parcel")[0] == "Delivery"
    with services.db.read() as session:
        counted = store.word_count_similar(session, ["parcel", "late", "cashier"], 5)
    assert counted[0] == (late, 2.0) and len(counted) == 2


def test_a_reply_to_a_public_review_is_drafted_from_the_templates(services: Services,
                                                                  tmp_path) -> None:
    anna = _customer(services, "Anna Weber")
    services.settings.update({"greetings.signature": "Kim from the bakery"})
    path = tmp_path / "reviews.csv"
    path.write_text("rating,author,text\n2,anna@example.com,Cold coffee\n"
                    "5,Jo Walker,Lovely shop\n", encoding="utf-8")
    ids = services.feedback.import_reviews(path).item_ids
    linked, unlinked = (services.feedback.get(i).item for i in ids)
    assert linked.customer_id == anna and unlinked.customer_id is None
    to_anna = services.feedback.draft_review_reply(linked.id)
    to_jo = services.feedback.draft_review_reply(unlinked.id)
    assert to_anna.body.startswith("Hi Anna,") and "Kim from the bakery" in to_anna.body
    assert to_jo.body.startswith("Hi Jo,") and to_jo.subject == "Thank you for your review"
    assert not to_jo.missing_placeholders
    praise = services.feedback.add(anna, "praise", "Great").item.id
    with pytest.raises(DomainError, match="not a public review"):
        services.feedback.draft_review_reply(praise)
    names = [t.name for t in services.greetings.templates(Occasion.FOLLOW_UP)]
    assert names.count("Review reply") == 1
