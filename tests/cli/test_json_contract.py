"""The CLI's JSON is a contract: each command's shape, pinned key by key (README "Command
line" documents the same shapes). A renamed or dropped key breaks scripts; these tests break
first."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli.conftest import run_cli

CUSTOMER_KEYS = {"id", "display_name", "first_name", "last_name", "company", "emails",
                 "phones", "tags", "status", "kind"}
TOUCHPOINT_KEYS = {"customer_id", "customer", "occasion", "label", "date", "remind_on", "state"}


def check_customer(value: dict[str, object]) -> None:
    assert set(value) >= CUSTOMER_KEYS
    assert isinstance(value["id"], int)
    for key in ("display_name", "first_name", "last_name", "company", "status", "kind"):
        assert isinstance(value[key], str), key
    for key in ("emails", "phones", "tags"):
        assert isinstance(value[key], list) and all(isinstance(v, str) for v in value[key])
    assert value["status"] in ("lead", "active", "lost")
    assert value["kind"] in ("external", "internal")


def check_touchpoint(value: dict[str, object]) -> None:
    assert set(value) == TOUCHPOINT_KEYS
    assert isinstance(value["customer_id"], int)
    assert value["state"] in ("overdue", "due", "upcoming", "done", "snoozed", "skipped")
    for key in ("date", "remind_on"):
        assert len(str(value[key])) == 10 and str(value[key])[4] == "-"  # ISO dates


def test_customers_search_json_is_a_list_of_customer_objects(demo_home: Path) -> None:
    ran = run_cli(demo_home, "customers", "search", "a", "--limit", "5", "--json")
    assert ran.code == 0, ran.err
    found = json.loads(ran.out)
    assert 1 <= len(found) <= 5
    for value in found:
        assert set(value) == CUSTOMER_KEYS
        check_customer(value)


def test_customers_list_json_has_the_search_objects_filtered(demo_home: Path) -> None:
    everyone = json.loads(run_cli(demo_home, "customers", "list", "--limit", "1000",
                                  "--json").out)
    assert len(everyone) == 60
    for value in everyone:
        assert set(value) == CUSTOMER_KEYS
        check_customer(value)
    # The same object as search prints for the same customer.
    first = next(v for v in everyone if v["emails"])
    assert first in json.loads(run_cli(demo_home, "customers", "search", first["emails"][0],
                                       "--json").out)
    tag = next(t for value in everyone for t in value["tags"])
    tagged = json.loads(run_cli(demo_home, "customers", "list", "--tag", tag, "--json").out)
    assert tagged and all(tag in v["tags"] for v in tagged)
    assert len(tagged) == sum(tag in v["tags"] for v in everyone)
    leads = json.loads(run_cli(demo_home, "customers", "list", "--status", "lead",
                               "--json").out)
    assert [v["id"] for v in leads] == [v["id"] for v in everyone if v["status"] == "lead"]


def test_customers_show_json_adds_dates_upcoming_and_interactions(demo_home: Path) -> None:
    conn = sqlite3.connect(demo_home / "crmcompanion.sqlite3")
    customer_id, count = conn.execute(
        "SELECT customer_id, count(*) FROM interactions GROUP BY customer_id "
        "ORDER BY count(*) DESC LIMIT 1").fetchone()
    conn.close()
    ran = run_cli(demo_home, "customers", "show", f"#{customer_id}", "--days", "365", "--json")
    assert ran.code == 0, ran.err
    shown = json.loads(ran.out)
    assert set(shown) == CUSTOMER_KEYS | {"special_dates", "upcoming", "interactions"}
    check_customer(shown)
    assert shown["id"] == customer_id
    for value in shown["special_dates"]:
        assert set(value) == {"kind", "label", "month", "day", "year"}
    assert shown["upcoming"], "a year ahead always holds a customer-since anniversary"
    for value in shown["upcoming"]:
        check_touchpoint(value)
        assert value["customer_id"] == customer_id
    assert len(shown["interactions"]) == min(count, 20)
    for value in shown["interactions"]:
        assert set(value) == {"id", "occurred_at", "occurred_on", "channel", "occasion",
                              "summary"}
    moments = [v["occurred_at"] for v in shown["interactions"]]
    assert moments == sorted(moments, reverse=True)


def test_due_json_shape(demo_home: Path) -> None:
    ran = run_cli(demo_home, "due", "--days", "30", "--json")
    assert ran.code == 0, ran.err
    data = json.loads(ran.out)
    assert set(data) == {"today", "items"}
    assert data["today"] == "2026-11-22"
    assert data["items"]
    for value in data["items"]:
        check_touchpoint(value)


def test_remind_once_json_shape(book: Path) -> None:
    ran = run_cli(book, "remind", "--once", "--json")
    assert ran.code == 0, ran.err
    delivered = json.loads(ran.out)
    assert delivered, "the demo has reminders due on its own day"
    for value in delivered:
        assert set(value) == {"id", "occurrence_key", "customer_id", "customer", "occasion",
                              "description", "remind_on"}
    again = run_cli(book, "remind", "--once", "--json")
    assert json.loads(again.out) == []  # delivered once


def test_draft_json_shape(demo_home: Path) -> None:
    ran = run_cli(demo_home, "draft", "--customer", "#1", "--occasion", "birthday", "--json")
    assert ran.code == 0, ran.err
    data = json.loads(ran.out)
    assert set(data) == {"subject", "body", "missing_placeholders"}
    assert isinstance(data["subject"], str) and data["body"]
    assert isinstance(data["missing_placeholders"], list)


def test_import_json_shape_and_export_summary_line(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("First Name,Last Name,E-mail Address\nAnn,Lee,ann@example.com\n"
                      "Bo,,not-an-email\n", encoding="utf-8")
    ran = run_cli(tmp_path, "import", str(source), "--skip-invalid", "--json")
    assert ran.code == 0, ran.err
    data = json.loads(ran.out)
    assert set(data) == {"rows", "created", "skipped_duplicates", "rejected", "written"}
    assert (data["rows"], data["created"], data["written"]) == (2, 1, True)
    assert [set(p) for p in data["rejected"]] == [{"line", "column", "reason"}]
    assert data["rejected"][0]["line"] == 3
    # export has no JSON: its contract is the summary line on stderr (and the file).
    target = tmp_path / "out.vcf"
    ran = run_cli(tmp_path, "export", "--format", "vcard", "-o", str(target))
    assert ran.code == 0 and ran.out == ""
    assert ran.err_lines == [f"Exported 1 customers to {target}."]


def test_duplicates_json_shape(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("First Name,Last Name,E-mail Address\nAnn,Lee,ann@example.com\n"
                      "Ann,Lee,\n", encoding="utf-8")
    assert run_cli(tmp_path, "import", str(source)).code == 0
    ran = run_cli(tmp_path, "duplicates", "--json")
    assert ran.code == 0, ran.err
    groups = json.loads(ran.out)
    assert len(groups) == 1 and set(groups[0]) == {"customers", "pairs"}
    assert [set(c) for c in groups[0]["customers"]] == [
        {"id", "name", "company", "email", "phone"}] * 2
    assert [set(p) for p in groups[0]["pairs"]] == [{"ids", "reasons"}]
    assert set(groups[0]["pairs"][0]["reasons"][0]) == {"kind", "value"}
