"""The feedback rules: every complaint move outside the workflow is refused with a specific
sentence, ideas move freely but for done, and themes compare as typed ignoring case."""

from __future__ import annotations

import itertools

import pytest

from crmcompanion.core.errors import ValidationError
from crmcompanion.core.feedback import (
    COMPLAINT_TRANSITIONS,
    ComplaintStatus,
    IdeaStatus,
    InvalidTransition,
    check_complaint_transition,
    check_idea_transition,
    check_satisfaction,
    normalise_theme,
    normalise_themes,
    parse_status,
    theme_key,
)

C = ComplaintStatus
ALLOWED = {
    (C.NEW, C.ACKNOWLEDGED), (C.ACKNOWLEDGED, C.PLANNED), (C.PLANNED, C.IN_PROGRESS),
    (C.IN_PROGRESS, C.RESOLVED), (C.RESOLVED, C.SATISFIED), (C.RESOLVED, C.NOT_SATISFIED),
    (C.NOT_SATISFIED, C.REOPENED), (C.REOPENED, C.PLANNED), (C.REOPENED, C.IN_PROGRESS),
}
INVALID = [pair for pair in itertools.product(C, C) if pair not in ALLOWED]


def test_the_table_is_the_issue_workflow():
    table = {(a, b) for a, nexts in COMPLAINT_TRANSITIONS.items() for b in nexts}
    assert table == ALLOWED


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_every_workflow_move_is_allowed(current, target):
    check_complaint_transition(current, target)


@pytest.mark.parametrize(("current", "target"), INVALID, ids=[f"{a}->{b}" for a, b in INVALID])
def test_every_other_move_is_refused_with_a_specific_message(current, target):
    with pytest.raises(InvalidTransition) as caught:
        check_complaint_transition(current, target)
    message = str(caught.value)
    assert message.endswith(".")
    assert "\n" not in message
    allowed = tuple(b.value for a, b in sorted(ALLOWED) if a is current)
    assert set(caught.value.allowed) == set(allowed)
    if current is target:
        assert message == f"The complaint is already {target.title.lower()}."
    elif current is C.SATISFIED:
        assert "closed" in message and target.value in message
    else:
        assert f"from {current.value} to {target.value}" in message
        for name in allowed:
            assert name in message


def test_specific_reasons_for_common_shortcuts():
    with pytest.raises(InvalidTransition, match="acknowledge it to the customer before"):
        check_complaint_transition(C.NEW, C.PLANNED)
    with pytest.raises(InvalidTransition, match="start the work before resolving"):
        check_complaint_transition(C.PLANNED, C.RESOLVED)


def test_ideas_move_freely_but_done_is_final():
    check_idea_transition(IdeaStatus.DECLINED, IdeaStatus.UNDER_REVIEW)
    check_idea_transition(IdeaStatus.UNDER_REVIEW, IdeaStatus.DONE)
    with pytest.raises(InvalidTransition, match="done"):
        check_idea_transition(IdeaStatus.DONE, IdeaStatus.PLANNED)
    with pytest.raises(InvalidTransition, match="already planned"):
        check_idea_transition(IdeaStatus.PLANNED, IdeaStatus.PLANNED)


def test_status_names_are_forgiving_and_unknown_ones_list_the_names():
    assert parse_status(" In-Progress ") == "in_progress"
    assert parse_status("under review") == "under_review"
    with pytest.raises(ValueError, match="the statuses are: new, acknowledged"):
        parse_status("finished")


def test_themes_are_trimmed_collapsed_hyphens_kept_compared_ignoring_case():
    assert normalise_theme("  late \t  delivery ") == "late delivery"
    assert normalise_theme("e-mail") == "e-mail"
    assert theme_key("Delivery") == theme_key(" delivery ")
    assert theme_key("e-mail") != theme_key("e mail")
    assert normalise_themes(["Price", "price ", "", "Late  delivery"]) == ["Price",
                                                                           "Late delivery"]
    with pytest.raises(ValidationError):
        normalise_theme("   ")


@pytest.mark.parametrize("value", [0, 6, True, 2.5])
def test_satisfaction_is_one_to_five(value):
    with pytest.raises(ValidationError):
        check_satisfaction(value)
    assert check_satisfaction(5) == 5
    assert check_satisfaction(None) is None
