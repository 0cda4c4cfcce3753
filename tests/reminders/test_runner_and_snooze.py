"""The runner stops cleanly while a pass runs, never loops on a stale instant, and a snoozed
item that comes back is notified again, once per snooze."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
from crmcompanion.reminders.engine import ReminderEngine
from crmcompanion.reminders.notifier import Notification, NotifierChain
from crmcompanion.reminders.runner import ReminderRunner
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.reminders import snoozed_delivery_key

# Clock-sensitive: APScheduler's real clock against the app's fixed clock.
pytestmark = pytest.mark.clock_sensitive


@dataclass
class MutableClock:
    instant: datetime  # naive: local wall clock

    def now(self) -> datetime:
        return self.instant.astimezone()

    def today(self) -> date:
        return self.instant.date()


@dataclass
class Recorder:
    name: str = "desktop"
    shown: list[Notification] = field(default_factory=list)

    def notify(self, notification: Notification) -> None:
        self.shown.append(notification)


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(datetime(2026, 11, 22, 10, 30))


@pytest.fixture
def services(tmp_path: Path, clock: MutableClock) -> Services:
    opened = open_services(f"sqlite:///{tmp_path / 'db.sqlite3'}", None, clock)
    yield opened
    opened.close()


def add_birthday(services: Services, first: str, day: date) -> int:
    draft = CustomerDraft(
        first_name=first, last_name="Test",
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, day.month, day.day, 1980),),
    )
    return services.customers.create(draft).customer.id


# --- stopping ------------------------------------------------------------------------------------


def test_stop_while_a_next_due_pass_runs_returns_promptly(services, clock) -> None:
    """APScheduler's shutdown(wait=True) joined the worker while holding the job-store lock,
    and the worker's pass then re-armed "next-due" with add_job, which needs that lock: a
    deadlock whenever the app quit during a pass that moved to a new day."""
    add_birthday(services, "Ada", date(2026, 11, 25))
    entered, release = threading.Event(), threading.Event()

    class Slow:
        name = "slow"

        def notify(self, notification: Notification) -> None:
            clock.instant += timedelta(days=1)  # the next instant is later: it re-arms
            entered.set()
            release.wait(10)

    runner = ReminderRunner(ReminderEngine(services.reminders, NotifierChain([Slow()])), clock)
    # Only the job under test: the next-due wake-up, due now.
    runner.scheduler.add_job(runner.tick, "date", id="next-due", kwargs={"reason": "next-due"})
    runner.scheduler.start()
    assert entered.wait(10), "the pass did not start"
    stopped: list[bool] = []
    stopper = threading.Thread(target=lambda: stopped.append(runner.stop()), daemon=True)
    stopper.start()
    threading.Timer(0.3, release.set).start()
    stopper.join(15)
    assert not stopper.is_alive(), "stop() hung while a pass was running"
    assert stopped == [True]
    assert not runner.running and not runner.scheduler.running
    assert services.reminders.unacknowledged_count() == 1  # the pass finished its delivery


def test_stop_gives_up_waiting_after_its_timeout(services, clock) -> None:
    add_birthday(services, "Ada", date(2026, 11, 25))
    entered, release = threading.Event(), threading.Event()

    class Stuck:
        name = "stuck"

        def notify(self, notification: Notification) -> None:
            entered.set()
            release.wait(10)

    runner = ReminderRunner(ReminderEngine(services.reminders, NotifierChain([Stuck()])), clock)
    runner.start()
    assert entered.wait(10)
    try:
        assert runner.stop(timeout=0.2) is False  # logged, and the app quits anyway
    finally:
        release.set()
    assert runner.stop() is True


def test_a_stale_next_due_instant_is_not_rearmed_in_a_loop(services, clock) -> None:
    """A clock that does not move (CRMCOMPANION_NOW, a test clock): once "next-due" has fired,
    the app's next instant is still the one that fired; re-arming it would fire forever."""
    services.settings.update({"reminders.time": "09:00"})
    clock.instant = datetime(2026, 11, 22, 8, 59, 59, 900_000)  # 0.1 s before the instant
    runner = ReminderRunner(ReminderEngine(services.reminders, NotifierChain([])), clock)
    ticks: list[str] = []
    original = runner.tick

    def counting(reason: str = "resync"):
        ticks.append(reason)
        return original(reason)

    runner.tick = counting  # type: ignore[method-assign]
    runner.start()
    try:
        deadline = threading.Event()
        deadline.wait(1.0)
        assert ticks.count("next-due") == 1
        assert ticks.count("start") == 1
    finally:
        runner.stop()


def test_reschedule_rearms_and_runs_a_pass(services, clock) -> None:
    add_birthday(services, "Ada", date(2026, 11, 25))
    shown = Recorder()
    engine = ReminderEngine(services.reminders, NotifierChain([shown]))
    runner = ReminderRunner(engine, clock)
    services.settings.update({"reminders.time": "23:00"})  # not due yet at 10:30
    assert engine.run_pass().delivered == []
    runner.scheduler.start()
    try:
        services.settings.update({"reminders.time": "08:00"})
        done = threading.Event()
        engine.add_listener(lambda report: done.set())
        runner.reschedule()
        assert done.wait(10)
        assert [n.title for n in shown.shown] == ["Birthday: Ada Test"]
        job = runner.scheduler.get_job("next-due")
        assert job is not None
        assert runner.armed_for == datetime(2026, 11, 23, 8, 0).astimezone()
        # Armed on APScheduler's real clock as a delay from the app's now, so the job stays
        # pending on any real date (it fired at once, and was gone, from 2026-11-23 on).
        real_delay = job.next_run_time - datetime.now(UTC)
        assert abs(real_delay - (runner.armed_for - clock.now())) < timedelta(minutes=1)
    finally:
        runner.stop()


# --- snoozed items come back -------------------------------------------------------------------


def pass_at(engine: ReminderEngine, clock: MutableClock, when: datetime) -> list[str]:
    clock.instant = when
    return [d.occurrence_key for d in engine.run_pass().delivered]


def test_a_snoozed_reminder_is_notified_again_when_it_comes_back(services, clock) -> None:
    add_birthday(services, "Ada", date(2026, 11, 25))  # 3-day lead: remind on 22 Nov
    shown = Recorder()
    engine = ReminderEngine(services.reminders, NotifierChain([shown]))
    first = pass_at(engine, clock, datetime(2026, 11, 22, 10, 30))
    assert len(first) == 1 and len(shown.shown) == 1
    key = first[0]

    services.touchpoints.snooze(key, date(2026, 11, 24))
    assert pass_at(engine, clock, datetime(2026, 11, 23, 10, 0)) == []  # hidden
    assert pass_at(engine, clock, datetime(2026, 11, 24, 8, 59)) == []  # before 09:00
    back = pass_at(engine, clock, datetime(2026, 11, 24, 9, 0))
    assert back == [snoozed_delivery_key(key, date(2026, 11, 24))]
    assert len(shown.shown) == 2
    assert shown.shown[1].title == "Birthday: Ada Test"
    assert "snoozed until 24 Nov" in shown.shown[1].body
    assert pass_at(engine, clock, datetime(2026, 11, 24, 15, 0)) == []  # once
    listed = services.reminders.unacknowledged()
    assert [r.remind_on for r in listed] == [date(2026, 11, 24), date(2026, 11, 22)]

    # Snoozed again to a later day: it comes back again, once more.
    services.touchpoints.snooze(key, date(2026, 11, 26))
    assert pass_at(engine, clock, datetime(2026, 11, 25, 10, 0)) == []
    again = pass_at(engine, clock, datetime(2026, 11, 26, 9, 5))
    assert again == [snoozed_delivery_key(key, date(2026, 11, 26))]
    assert pass_at(engine, clock, datetime(2026, 11, 27, 9, 5)) == []
    assert len(shown.shown) == 3


def test_a_snooze_that_ended_while_the_app_was_closed_is_caught_up_once(services, clock) -> None:
    add_birthday(services, "Ada", date(2026, 11, 25))
    shown = Recorder()
    engine = ReminderEngine(services.reminders, NotifierChain([shown]))
    key = pass_at(engine, clock, datetime(2026, 11, 22, 10, 30))[0]
    services.touchpoints.snooze(key, date(2026, 11, 24))
    # Closed from the 22nd to the 27th: the return is still delivered, once, on start.
    assert pass_at(engine, clock, datetime(2026, 11, 27, 12, 0)) == [
        snoozed_delivery_key(key, date(2026, 11, 24))
    ]
    assert pass_at(engine, clock, datetime(2026, 11, 27, 12, 5)) == []


def test_done_after_a_snooze_is_not_notified(services, clock) -> None:
    add_birthday(services, "Ada", date(2026, 11, 25))
    shown = Recorder()
    engine = ReminderEngine(services.reminders, NotifierChain([shown]))
    key = pass_at(engine, clock, datetime(2026, 11, 22, 10, 30))[0]
    services.touchpoints.snooze(key, date(2026, 11, 24))
    clock.instant = datetime(2026, 11, 23, 12, 0)
    services.touchpoints.mark_done(key)
    assert pass_at(engine, clock, datetime(2026, 11, 24, 10, 0)) == []
    assert len(shown.shown) == 1
