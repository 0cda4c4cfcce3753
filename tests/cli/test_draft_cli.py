"""`crmcompanion draft`: text and JSON output, ambiguous customers, unknown occasion/template."""

from __future__ import annotations

import json
from datetime import date, datetime
from io import StringIO
from pathlib import Path

import pytest

from crmcompanion.cli import parse, run_command
from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft, EmailAddress, SpecialDate, SpecialDateKind
from crmcompanion.core.settings import BUSINESS_NAME, OWNER_NAME
from crmcompanion.services.container import open_services

# Clock-sensitive: greetings for a day given by CRMCOMPANION_NOW.
pytestmark = pytest.mark.clock_sensitive


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    services = open_services(
        f"sqlite:///{tmp_path}/crmcompanion.sqlite3", clock=FixedClock(datetime(2026, 6, 10, 9))
    )
    services.settings.update({BUSINESS_NAME.key: "Bloom & Co", OWNER_NAME.key: "Sam"})
    services.customers.create(CustomerDraft(
        first_name="Ada", last_name="Lovelace",
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 6, 12, 1986),),
        emails=(EmailAddress("ada@example.com"),), customer_since=date(2021, 6, 1),
    ))
    services.customers.create(CustomerDraft(first_name="Ada", last_name="Byron"))
    services.customers.create(CustomerDraft(first_name="Noyear", special_dates=(
        SpecialDate(SpecialDateKind.BIRTHDAY, 6, 11),)))
    services.close()
    return tmp_path


def run(home: Path, *argv: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    env = {"CRMCOMPANION_HOME": str(home), "CRMCOMPANION_NOW": "2026-06-10T09:00"}
    code = run_command(parse(argv), out, err, env)
    return code, out.getvalue(), err.getvalue()


def test_draft_prints_subject_blank_line_and_body(home):
    code, out, err = run(home, "draft", "--customer", "ada@example.com",
                         "--occasion", "birthday")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Subject: Happy birthday, Ada!"
    assert lines[1] == ""
    assert lines[2] == "Hi Ada,"
    assert out.rstrip().endswith("Warm wishes,\nSam\nBloom & Co")
    assert err == ""


def test_draft_json_with_template_by_name_and_missing_values(home):
    code, out, _ = run(home, "draft", "--customer", "Noyear", "--occasion", "birthday",
                       "--template", "Formal birthday greeting", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"subject", "body", "missing_placeholders"}
    assert data["subject"] == "Birthday wishes from Bloom & Co"
    assert data["body"].startswith("Dear Noyear,")
    assert data["missing_placeholders"] == []
    code, out, err = run(home, "draft", "--customer", "Noyear", "--occasion",
                         "customer_anniversary", "--template", "customer-anniversary-warm")
    assert code == 0
    assert "[years_as_customer?]" in out  # no customer-since date
    assert "$years_as_customer" in err


def test_ambiguous_customer_exits_1_listing_candidates(home):
    code, out, err = run(home, "draft", "--customer", "Ada", "--occasion", "birthday")
    assert code == 1
    assert out == ""
    assert "Ada Lovelace" in err and "Ada Byron" in err and "#" in err


def test_unknown_occasion_exits_2_listing_valid_ones(home):
    code, out, err = run(home, "draft", "--customer", "ada@example.com", "--occasion", "xmas")
    assert code == 2
    assert out == ""
    assert "xmas" in err
    for valid in ("birthday", "wedding_anniversary", "keep_in_touch", "follow_up"):
        assert valid in err


def test_unknown_template_exits_1_listing_the_occasions_templates(home):
    code, out, err = run(home, "draft", "--customer", "ada@example.com",
                         "--occasion", "birthday", "--template", "Party")
    assert code == 1
    assert out == ""
    for name in ("Warm birthday wishes", "Short birthday note", "Formal birthday greeting"):
        assert name in err
    assert "anniversary" not in err.lower()
