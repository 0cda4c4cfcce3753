"""`crmcompanion feedback` as a user runs it: real subprocesses on a real data folder.

The JSON shapes and exit codes are the contract of issue 15: list/add/similar/status and
import-reviews (all-or-nothing, per-row errors, linking by email or exact name)."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.services.container import open_services
from tests.cli.conftest import run_cli

NOW = "2026-11-22T10:00"
LIST_KEYS = {"id", "customer_id", "customer", "type", "status", "themes", "text", "created_at",
             "author"}


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    services = open_services(f"sqlite:///{tmp_path}/crmcompanion.sqlite3",
                             clock=FixedClock(datetime(2026, 11, 1, 9)))
    for first, last in (("Ada", "Lovelace"), ("Bob", "Stone"), ("Cleo", "Hart")):
        services.customers.create(CustomerDraft(
            first_name=first, last_name=last,
            emails=(EmailAddress(f"{first.lower()}@example.com"),)))
    services.close()
    return tmp_path


def _items(home: Path) -> int:
    with sqlite3.connect(home / "crmcompanion.sqlite3") as conn:
        count = conn.execute("SELECT count(*) FROM feedback_items").fetchone()[0]
    conn.close()
    return count


def test_add_prints_the_bare_id_and_list_has_the_contract_shape(home: Path) -> None:
    ran = run_cli(home, "feedback", "add", "--customer", "ada@example.com", "--type",
                  "complaint", "--theme", " Late  delivery", "--severity", "high",
                  "--satisfaction", "2", "The parcel came two weeks late")
    assert ran.code == 0, ran.err
    assert ran.out.strip().isdigit()
    first = int(ran.out)
    assert "Recorded complaint" in ran.err
    second = int(run_cli(home, "feedback", "add", "--customer", "Bob Stone", "--type", "idea",
                         "Open on Sundays").out)
    listed = run_cli(home, "feedback", "list", "--json")
    assert listed.code == 0
    items = json.loads(listed.out)["items"]
    assert [i["id"] for i in items] == [second, first]
    assert all(set(i) == LIST_KEYS for i in items)
    complaint = items[1]
    assert (complaint["type"], complaint["status"], complaint["themes"], complaint["customer"]) \
        == ("complaint", "new", ["Late delivery"], "Ada Lovelace")
    assert items[0]["status"] == "under_review"
    only = json.loads(run_cli(home, "feedback", "list", "--theme", "late delivery",
                              "--json").out)["items"]
    assert [i["id"] for i in only] == [first]
    by_customer = json.loads(run_cli(home, "feedback", "list", "--customer", "#2",
                                     "--json").out)["items"]
    assert [i["id"] for i in by_customer] == [second]
    by_status = json.loads(run_cli(home, "feedback", "list", "--status", "under review",
                                   "--json").out)["items"]
    assert [i["id"] for i in by_status] == [second]


@pytest.mark.parametrize("args", [
    ("add", "--customer", "#1", "--type", "rant", "x"),
    ("add", "--customer", "#1", "--type", "praise", "--satisfaction", "6", "x"),
    ("add", "--customer", "#1", "--type", "praise", "--severity", "high", "x"),
    ("add", "--customer", "#1", "--type", "praise", "  "),
    ("status", "1", "finished"),
    ("status", "1", "done", "--target-date", "next week"),
    ("similar", "x", "--limit", "0"),
])
def test_usage_errors_exit_2_with_one_line(home: Path, args: tuple[str, ...]) -> None:
    ran = run_cli(home, "feedback", *args)
    assert ran.code == 2, ran.err
    assert len(ran.err_lines) == 1 and "Traceback" not in ran.err
    assert ran.out == ""


def test_unknown_status_lists_the_names(home: Path) -> None:
    ran = run_cli(home, "feedback", "status", "1", "finished")
    assert ran.code == 2
    assert "new, acknowledged, planned, in_progress, resolved" in ran.err
    assert "under_review, done, declined" in ran.err


def test_status_walks_the_workflow_and_resolving_puts_a_checkback_in_due(home: Path) -> None:
    item = run_cli(home, "feedback", "add", "--customer", "#1", "--type", "complaint",
                   "Rude on the phone").out.strip()
    refused = run_cli(home, "feedback", "status", item, "resolved")
    assert refused.code == 1
    assert refused.err_lines == [refused.err_lines[0]]
    assert "allowed next: acknowledged" in refused.err
    for status in ("acknowledged", "planned", "in_progress", "resolved"):
        ran = run_cli(home, "feedback", "status", item, status, "--note", f"now {status}",
                      "--goal", "Apologise in person", "--target-date", "2026-11-30")
        assert ran.code == 0, ran.err
        assert ran.out == ""
    due_on = (date(2026, 11, 22) + timedelta(days=14)).isoformat()
    assert json.loads(run_cli(home, "due", "--json").out)["items"] == [] or all(
        i["occasion"] != "complaint_checkback"
        for i in json.loads(run_cli(home, "due", "--json").out)["items"])
    on_the_day = json.loads(run_cli(home, "due", "--json", now=f"{due_on}T09:00").out)["items"]
    checkbacks = [i for i in on_the_day if i["occasion"] == "complaint_checkback"]
    assert [(i["customer_id"], i["date"]) for i in checkbacks] == [(1, due_on)]
    assert run_cli(home, "feedback", "status", item, "satisfied").code == 0
    again = run_cli(home, "feedback", "status", item, "reopened")
    assert again.code == 1 and "closed" in again.err


def test_similar_json_best_first(home: Path) -> None:
    late = run_cli(home, "feedback", "add", "--customer", "#2", "--type", "complaint",
                   "--theme", "Delivery", "My parcel arrived two weeks late").out.strip()
    run_cli(home, "feedback", "add", "--customer", "#3", "--type", "complaint", "--theme",
            "Staff", "The cashier was rude and unfriendly")
    run_cli(home, "feedback", "add", "--customer", "#3", "--type", "complaint", "--theme",
            "Price", "Prices went up again, far too expensive")
    ran = run_cli(home, "feedback", "similar", "parcel arrived late", "--json", "--limit", "2")
    assert ran.code == 0, ran.err
    items = json.loads(ran.out)["items"]
    assert all(set(i) == {"id", "customer", "text", "themes", "score"} for i in items)
    assert items[0]["id"] == int(late) and items[0]["themes"] == ["Delivery"]
    assert len(items) <= 2
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)


CSV_REVIEWS = (
    "Review Date;Star-Rating;Reviewer;Comment;Source\n"
    "2026-11-03;5;ada@example.com;Lovely bakery, fresh bread;Google\n"
    "2026-11-04T10:00:00Z;1;Cleo Hart;\"Waited forty minutes,\nnobody came\";Trustpilot\n"
    "2026-11-05;3;Someone Else;It was fine;Google\n"
)


def test_import_reviews_links_by_email_and_exact_name(home: Path) -> None:
    path = home / "reviews.csv"
    path.write_text(CSV_REVIEWS, encoding="utf-8")
    dry = run_cli(home, "feedback", "import-reviews", str(path), "--dry-run", "--json")
    assert dry.code == 0, dry.err
    assert json.loads(dry.out) == {"rows": 3, "created": 3, "linked": 2, "unlinked": 1,
                                   "rejected": [], "written": False}
    assert _items(home) == 0
    ran = run_cli(home, "feedback", "import-reviews", str(path), "--json")
    assert json.loads(ran.out)["written"] is True
    items = json.loads(run_cli(home, "feedback", "list", "--json").out)["items"]
    by_text = {i["text"]: i for i in items}
    assert by_text["Lovely bakery, fresh bread"]["customer_id"] == 1
    assert by_text["Lovely bakery, fresh bread"]["type"] == "praise"
    waited = by_text["Waited forty minutes,\nnobody came"]
    assert (waited["customer_id"], waited["type"], waited["status"]) == (3, "complaint", "new")
    assert by_text["It was fine"]["customer_id"] is None
    assert by_text["It was fine"]["customer"] == "Someone Else"


def test_import_reviews_no_link_and_google_json(home: Path) -> None:
    path = home / "reviews.json"
    path.write_text(json.dumps({"reviews": [
        {"reviewer": {"displayName": "Ada Lovelace"}, "starRating": "FOUR",
         "comment": "Great coffee", "createTime": "2026-10-01T08:00:00Z"},
        {"reviewer": {"displayName": "Bob Stone"}, "starRating": "TWO",
         "comment": "Cold coffee", "createTime": "2026-10-02T08:00:00Z"},
    ]}), encoding="utf-8")
    ran = run_cli(home, "feedback", "import-reviews", str(path), "--no-link", "--json")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out) == {"rows": 2, "created": 2, "linked": 0, "unlinked": 2,
                                   "rejected": [], "written": True}


def test_import_reviews_is_all_or_nothing_with_per_row_errors(home: Path) -> None:
    path = home / "reviews.csv"
    path.write_text("date,rating,author,text\n"
                    "2026-11-03,5,Ada Lovelace,Lovely\n"
                    "yesterday,4,Bob Stone,Nice\n"
                    "2026-11-03,9,Bob Stone,Odd\n"
                    "2026-11-03,4,Bob Stone,\n", encoding="utf-8")
    ran = run_cli(home, "feedback", "import-reviews", str(path), "--json")
    assert ran.code == 1
    result = json.loads(ran.out)
    assert result["written"] is False
    assert [r["line"] for r in result["rejected"]] == [3, 4, 5]
    assert "date" in result["rejected"][0]["reason"]
    assert "rating" in result["rejected"][1]["reason"]
    assert "no text" in result["rejected"][2]["reason"]
    assert "Nothing was imported" in ran.err and "Traceback" not in ran.err
    assert _items(home) == 0
    missing = run_cli(home, "feedback", "import-reviews", str(home / "nope.csv"))
    assert missing.code == 1 and len(missing.err_lines) == 1


def test_a_tags_ask_for_feedback_rhythm_is_in_due_json_and_feedback_moves_it(
        tmp_path: Path) -> None:
    """Issue 15: "ask for feedback every 6 months" for a tag puts an `ask_feedback` item in
    `due --json` (a real process) on the day, and feedback given through the CLI moves the
    next ask six months on."""
    services = open_services(f"sqlite:///{tmp_path}/crmcompanion.sqlite3",
                             clock=FixedClock(datetime(2026, 11, 1, 9)))
    ada = services.customers.create(CustomerDraft(
        first_name="Ada", last_name="Lovelace", tags=("Key account",),
        customer_since=date(2026, 5, 22))).customer.id
    services.customers.create(CustomerDraft(first_name="Bob", last_name="Stone",
                                            customer_since=date(2026, 5, 22)))
    services.touchpoints.set_tag_feedback_rhythm("Key account", 6)
    services.close()
    due = json.loads(run_cli(tmp_path, "due", "--json").out)["items"]  # 22 November
    asks = [(i["customer_id"], i["date"]) for i in due if i["occasion"] == "ask_feedback"]
    assert asks == [(ada, "2026-11-22")]
    added = run_cli(tmp_path, "feedback", "add", "--customer", "Ada Lovelace", "--type",
                    "praise", "Always on time")
    assert added.code == 0, added.err
    due = json.loads(run_cli(tmp_path, "due", "--json").out)["items"]
    assert [i for i in due if i["occasion"] == "ask_feedback"] == []
    in_may = json.loads(run_cli(tmp_path, "due", "--json", now="2027-05-22T09:00").out)["items"]
    assert [(i["customer_id"], i["date"]) for i in in_may
            if i["occasion"] == "ask_feedback"] == [(ada, "2027-05-22")]
