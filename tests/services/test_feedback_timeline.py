"""The feedback provider of the profile timeline: each item and each step, newest first,
paged without losing or repeating one. Runs where `services.timeline` exists."""

from __future__ import annotations

import pytest

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.services.feedback_timeline import FEEDBACK, FEEDBACK_STEP, FeedbackEntries

timeline = pytest.importorskip("crmcompanion.services.timeline")


def test_feedback_steps_page_newest_first(services) -> None:
    cid = services.customers.create(CustomerDraft(first_name="Anna")).customer.id
    item = services.feedback.add(cid, "complaint", "Parcel late").item.id
    services.feedback.add(cid, "praise", "Lovely bread")
    for status in ("acknowledged", "planned", "in_progress", "resolved"):
        services.feedback.move(item, status, note=f"{status} note")
    service = timeline.TimelineService(services.db, [FeedbackEntries()])
    seen, before = [], None
    while True:
        page = service.page(cid, limit=2, before=before)
        seen += page.entries
        if not page.more:
            break
        before = page.entries[-1]
    assert page.total == 6 == len(seen) == len({e.key for e in seen})
    texts = [e.text for e in seen]
    assert "Complaint resolved: resolved note" in texts
    assert "Complaint: Parcel late" in texts and "Praise: Lovely bread" in texts
    assert {e.kind for e in seen} == {FEEDBACK, FEEDBACK_STEP}
    assert [e.at for e in seen] == sorted((e.at for e in seen), reverse=True)
