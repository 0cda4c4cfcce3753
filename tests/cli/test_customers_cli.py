"""`customers list` and `customers show` as a person reads them: plain words, no stored codes."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from tests.cli.conftest import run_cli

RAW_VALUES = ("keep_in_touch", "customer_anniversary", "wedding_anniversary", "in_person",
              "follow_up", "complaint_checkback", "idea_shipped")


def test_show_reads_in_words(demo_home: Path) -> None:
    conn = sqlite3.connect(demo_home / "crmcompanion.sqlite3")
    (customer_id,) = conn.execute(
        "SELECT customer_id FROM interactions WHERE channel IS NOT NULL "
        "GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1").fetchone()
    conn.close()
    data = json.loads(run_cli(demo_home, "customers", "show", f"#{customer_id}", "--days",
                              "365", "--json").out)
    ran = run_cli(demo_home, "customers", "show", f"#{customer_id}", "--days", "365")
    assert ran.code == 0 and ran.err == ""
    text = ran.out
    assert text.splitlines()[0] == f"{data['display_name']} (#{customer_id})"
    status = next(line for line in text.splitlines() if line.startswith("  Status: "))
    assert status.startswith("  Status: " + {"active": "Active", "lead": "Lead",
                                             "lost": "Lost"}[data["status"]] + ", ")
    assert ("External customer" if data["kind"] == "external" else "Internal customer") in status
    for raw in RAW_VALUES:
        assert raw not in text.replace(data["display_name"], ""), raw
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), "dates are written in words"
    # Each upcoming touchpoint and conversation is listed with its date in words.
    assert text.count("\n  ") >= len(data["upcoming"]) + len(data["interactions"])
    assert re.search(r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) \d{1,2} "
                     r"(January|February|March|April|May|June|July|August|September|October|"
                     r"November|December) \d{4}", text)
    assert "Latest conversations" in text and "Coming up (next 365 days)" in text


def test_show_resolves_like_customer_and_reports_misses(demo_home: Path) -> None:
    first = json.loads(run_cli(demo_home, "customers", "list", "--limit", "1", "--json").out)[0]
    by_email = run_cli(demo_home, "customers", "show", first["emails"][0].upper(), "--json")
    assert json.loads(by_email.out)["id"] == first["id"]
    ran = run_cli(demo_home, "customers", "show", "nobody at all zzz")
    assert ran.code == 1 and ran.out == ""
    assert ran.err.splitlines() == ["crmcompanion: No customer matches “nobody at all zzz”."]


def test_list_lines_and_bad_filters(demo_home: Path) -> None:
    ran = run_cli(demo_home, "customers", "list", "--limit", "100")
    assert ran.code == 0 and ran.err == ""
    lines = ran.out.splitlines()
    assert len(lines) == 60
    assert all(re.match(r"#\d+\t", line) for line in lines)
    ran = run_cli(demo_home, "customers", "list", "--status", "paused")
    assert ran.code == 2 and "invalid choice" in ran.err and len(ran.err.splitlines()) == 1
    ran = run_cli(demo_home, "customers", "list", "--tag", "no-such-tag")
    assert ran.code == 0 and ran.out == "" and ran.err == "No customers.\n"
