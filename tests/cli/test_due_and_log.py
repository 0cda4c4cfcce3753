"""The `due` and `log` commands, in process and in subprocesses under odd time zones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from io import StringIO
from pathlib import Path

import pytest

from crmcompanion.cli import parse, run_command
from crmcompanion.core.clock import FixedClock
from crmcompanion.core.customer import CustomerDraft, EmailAddress, SpecialDate, SpecialDateKind
from crmcompanion.services.container import open_services

# Clock-sensitive: `due` and `log` with CRMCOMPANION_NOW, in several time zones.
pytestmark = pytest.mark.clock_sensitive


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    services = open_services(
        f"sqlite:///{tmp_path}/crmcompanion.sqlite3", clock=FixedClock(datetime(2026, 6, 10, 9))
    )
    bday = SpecialDate(SpecialDateKind.BIRTHDAY, 6, 12, 1986)
    services.customers.create(CustomerDraft(
        first_name="Ada", last_name="Lovelace", special_dates=(bday,),
        emails=(EmailAddress("ada@example.com"),), customer_since=date(2026, 6, 1),
    ))
    services.customers.create(CustomerDraft(first_name="Ada", last_name="Byron",
                                            customer_since=date(2026, 6, 1)))
    services.customers.create(CustomerDraft(
        first_name="Late", special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 6, 1),),
        customer_since=date(2026, 6, 1),
    ))
    services.close()
    return tmp_path


def run(home: Path, *argv: str, now: str = "2026-06-10T09:00") -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    env = {"CRMCOMPANION_HOME": str(home), "CRMCOMPANION_NOW": now}
    code = run_command(parse(argv), out, err, env)
    return code, out.getvalue(), err.getvalue()


def test_due_json(home):
    code, out, _ = run(home, "due", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["today"] == "2026-06-10"
    assert [(i["customer"], i["occasion"], i["label"], i["date"], i["remind_on"], i["state"])
            for i in data["items"]] == [
        ("Late", "birthday", "birthday", "2026-06-01", "2026-05-29", "overdue"),
        ("Ada Lovelace", "birthday", "turns 40", "2026-06-12", "2026-06-09", "due"),
    ]
    assert isinstance(data["items"][0]["customer_id"], int)


def test_due_days_window_is_inclusive(home):
    _, out, _ = run(home, "due", "--days", "1", "--json")
    assert [i["date"] for i in json.loads(out)["items"]] == ["2026-06-01"]
    _, out, _ = run(home, "due", "--days", "2", "--json")
    assert [i["date"] for i in json.loads(out)["items"]] == ["2026-06-01", "2026-06-12"]
    code, out, _ = run(home, "due", "--days", "2")
    assert code == 0 and "turns 40" in out and out.index("Late") < out.index("Lovelace")


def test_log_resolves_customer_and_resets_keep_in_touch(home):
    code, out, err = run(home, "log", "--customer", "ada@example.com", "--channel", "phone",
                         "Talked about the party")
    assert code == 0 and out.strip().isdigit() and "Ada Lovelace" in err
    services = open_services(f"sqlite:///{home}/crmcompanion.sqlite3")
    try:
        history = services.interactions.history(1)
        assert [(h.summary, h.channel.value) for h in history] == [
            ("Talked about the party", "phone")
        ]
    finally:
        services.close()
    # Ada Byron has had no contact since 1 June: due 90 days later; Lovelace 90 days after today
    _, out, _ = run(home, "due", "--days", "100", "--json")
    kit = {i["customer"]: i["date"] for i in json.loads(out)["items"]
           if i["occasion"] == "keep_in_touch"}
    assert kit["Ada Byron"] == "2026-08-30" and kit["Ada Lovelace"] == "2026-09-08"


def test_log_ambiguous_and_unknown_customer_exit_1(home):
    code, out, err = run(home, "log", "--customer", "Ada", "hi")
    assert code == 1 and out == ""
    assert "Ada Lovelace" in err and "Ada Byron" in err
    code, _, err = run(home, "log", "--customer", "Nobody", "hi")
    assert code == 1 and "No customer matches" in err


def test_log_bad_channel_is_usage_error():
    from crmcompanion.cli import UsageError

    with pytest.raises(UsageError):
        parse(["log", "--customer", "x", "--channel", "pigeon", "hi"])


@pytest.mark.parametrize("tz", ["Pacific/Kiritimati", "America/Adak"])
def test_date_only_birthday_same_day_in_any_time_zone(home, tz):
    env = dict(os.environ, CRMCOMPANION_HOME=str(home), CRMCOMPANION_NOW="2026-06-10T23:30",
               TZ=tz)
    result = subprocess.run(
        [sys.executable, "-m", "crmcompanion", "due", "--days", "5", "--json"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["today"] == "2026-06-10"
    assert [(i["customer"], i["date"]) for i in data["items"]
            if i["occasion"] == "birthday"] == [("Late", "2026-06-01"),
                                                ("Ada Lovelace", "2026-06-12")]
