"""`crmcompanion insights`, `customers list --segment`, `customers lost` and the segment CSV
columns as a user runs them: real subprocesses on a real data folder (issue 16's contract)."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.csv_export import DEFAULT_COLUMNS
from crmcompanion.core.customer import CustomerDraft, EmailAddress, Status
from crmcompanion.services.container import open_services
from tests.cli.conftest import run_cli

NOW = "2026-11-22T10:00"


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    services = open_services(f"sqlite:///{tmp_path}/crmcompanion.sqlite3",
                             clock=FixedClock(datetime(2026, 11, 1, 9)))
    since = date(2026, 11, 1) - timedelta(days=400)
    for first, last, extra in (("Ada", "Lovelace", {"customer_since": since}),
                               ("Bob", "Stone", {}),
                               ("Cleo", "Hart", {"status": Status.LEAD}),
                               ("Dan", "Gone", {"status": Status.LOST})):
        services.customers.create(CustomerDraft(
            first_name=first, last_name=last,
            emails=(EmailAddress(f"{first.lower()}@example.com"),), **extra))
    services.close()
    return tmp_path


def test_insights_json_has_the_issue_shape(home: Path) -> None:
    ran = run_cli(home, "customers", "lost", "bob@example.com", "--reason", "competitor",
                  "--note", "Went to the new shop", now=NOW)
    assert ran.code == 0, ran.err
    ran = run_cli(home, "insights", "--json", now=NOW)
    assert ran.code == 0, ran.err
    data = json.loads(ran.out)
    assert list(data) == ["segments", "lost_reasons", "complaints_by_theme",
                          "ideas_by_requesters", "touchpoints", "median_resolution_days",
                          "satisfaction_by_month", "why_they_stay"]
    stay = data["why_they_stay"]
    assert set(stay) == {"happiest", "everyone_else", "praise_themes"}
    assert stay["everyone_else"]["customers"] == 3  # the at-risk and the two lost, no lead
    assert set(stay["happiest"]) == {"customers", "rhythm_kept_share", "greetings_per_year",
                                     "median_resolution_days"}
    assert data["segments"] == {"happiest": 0, "healthy": 0, "at_risk": 1, "lost": 2,
                                "potential": 1}
    assert data["lost_reasons"] == [{"reason": "competitor", "count": 1, "share": 0.5},
                                    {"reason": "unknown", "count": 1, "share": 0.5}]
    assert set(data["touchpoints"]) == {"on_time", "late", "missed"}
    human = run_cli(home, "insights", now=NOW)
    assert human.code == 0 and "At risk\t1" in human.out
    assert "Ada Lovelace" in human.out  # the at-risk customers with their reasons
    assert "Why customers stay (happiest / everyone else)\n  Customers\t0\t3\n" in human.out


def test_list_by_segment_adds_segment_and_reasons(home: Path) -> None:
    ran = run_cli(home, "customers", "list", "--segment", "at_risk", "--json", now=NOW)
    assert ran.code == 0, ran.err
    found = json.loads(ran.out)
    assert [(c["display_name"], c["segment"]) for c in found] == [("Ada Lovelace", "at_risk")]
    assert found[0]["segment_reasons"].startswith("At risk: no contact in the ")
    bad = run_cli(home, "customers", "list", "--segment", "unhappy", now=NOW)
    assert bad.code == 2 and "invalid choice" in bad.err


def test_marking_lost_needs_a_known_reason(home: Path) -> None:
    missing = run_cli(home, "customers", "lost", "ada@example.com", now=NOW)
    assert missing.code == 2 and "--reason" in missing.err
    other = run_cli(home, "customers", "lost", "ada@example.com", "--reason", "other", now=NOW)
    assert other.code == 1 and "note" in other.err and "Traceback" not in other.err
    past = run_cli(home, "customers", "lost", "ada@example.com", "--reason", "price",
                   "--win-back", "2020-01-01", now=NOW)
    assert past.code == 1 and "future" in past.err
    listed = json.loads(run_cli(home, "customers", "list", "--status", "lost", "--json",
                                now=NOW).out)
    assert [c["display_name"] for c in listed] == ["Dan Gone"]  # nothing written on failure


def test_segment_columns_export_on_request_and_import_ignores_them(home: Path,
                                                                   tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    assert run_cli(home, "export", "--format", "csv", "-o", str(plain), now=NOW).code == 0
    with plain.open(encoding="utf-8-sig") as f:
        assert "Segment" not in next(csv.reader(f))
    chosen = tmp_path / "chosen.csv"
    ran = run_cli(home, "export", "--format", "csv", "-o", str(chosen), "--columns", ",".join(
                      [*DEFAULT_COLUMNS, "segment", "segment_reasons"]), now=NOW)
    assert ran.code == 0, ran.err
    with chosen.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    by_name = {r["Display name"]: r for r in rows}
    assert by_name["Ada Lovelace"]["Segment"] == "at_risk"
    assert by_name["Dan Gone"]["Segment reasons"] == "Lost: reason unknown"
    other = tmp_path / "other-home"
    other.mkdir()
    imported = run_cli(other, "import", str(chosen), now=NOW)
    assert imported.code == 0, imported.err
    assert "Segment" in imported.err  # reported as ignored, not stored anywhere
    listed = json.loads(run_cli(other, "customers", "list", "--json", now=NOW).out)
    assert sorted(c["display_name"] for c in listed) == sorted(by_name)


def test_yearly_value_orders_at_risk_customers(home: Path) -> None:
    services = open_services(f"sqlite:///{home}/crmcompanion.sqlite3",
                             clock=FixedClock(datetime(2026, 11, 1, 9)))
    since = date(2026, 11, 1) - timedelta(days=400)
    services.customers.create(CustomerDraft(first_name="Zoe", last_name="Zed",
                                            customer_since=since))
    services.close()
    assert run_cli(home, "customers", "value", "Zoe Zed", "5,000", now=NOW).code == 0
    bad = run_cli(home, "customers", "value", "Zoe Zed", "-3", now=NOW)
    assert bad.code == 2 and "from 0 up" in bad.err
    human = run_cli(home, "insights", now=NOW).out
    at_risk = human[human.index("At risk, most at stake first"):].splitlines()[1:3]
    assert "Zoe Zed\t5,000" in at_risk[0] and "Ada Lovelace\t-" in at_risk[1]
