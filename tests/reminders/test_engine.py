"""Fixed-clock tests of delivery passes: catch-up digests, wake gaps, clock changes, DST."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from crmcompanion.core.occasions import Occasion
from crmcompanion.core.reminders import next_reminder_instant
from crmcompanion.core.touchpoints import occurrence_key
from crmcompanion.reminders.engine import ReminderEngine
from crmcompanion.reminders.notifier import Notification, NotificationFailed, NotifierChain
from crmcompanion.reminders.runner import JOB_DEFAULTS, ReminderRunner
from crmcompanion.services.container import Services, open_services
from crmcompanion.services.reminders import (
    DAILY_DIGEST,
    REMINDER_TIME,
    DueReminder,
    ReminderService,
)
from crmcompanion.store import models as m
from crmcompanion.store.database import utcnow

# Clock-sensitive: APScheduler's real clock, DST days, local reminder times.
pytestmark = pytest.mark.clock_sensitive


@dataclass
class MutableClock:
    instant: datetime

    def now(self) -> datetime:
        return self.instant

    def today(self) -> date:
        return self.instant.date()


@dataclass
class ListSource:
    """A DueSource over a fixed list: everything whose remind_on is in the window."""

    items: list[DueReminder] = field(default_factory=list)
    windows: list[tuple[date, date]] = field(default_factory=list)

    def deliverable(self, since: date, until: date) -> list[DueReminder]:
        self.windows.append((since, until))
        return [i for i in self.items if since <= i.remind_on <= until]


@dataclass
class RecordingNotifier:
    name: str = "desktop"
    shown: list[Notification] = field(default_factory=list)
    fail_with: str | None = None

    def notify(self, notification: Notification) -> None:
        if self.fail_with is not None:
            raise NotificationFailed(self.fail_with)
        self.shown.append(notification)


def make_customers(services: Services, count: int) -> list[int]:
    ids = []
    with services.db.write() as session:
        for n in range(count):
            row = m.Customer(
                first_name=f"Person{n}", last_name="Test", display_name=f"Person{n} Test",
                created_at=utcnow(), updated_at=utcnow(),
            )
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def birthday(customer_id: int, remind_on: date, name: str) -> DueReminder:
    occurrence = remind_on + timedelta(days=3)
    return DueReminder(
        occurrence_key=occurrence_key(customer_id, Occasion.BIRTHDAY, customer_id, occurrence),
        customer_id=customer_id,
        customer_name=name,
        occasion=Occasion.BIRTHDAY,
        description="birthday",
        remind_on=remind_on,
    )


@dataclass
class Rig:
    services: Services
    clock: MutableClock
    source: ListSource
    notifier: RecordingNotifier
    reminders: ReminderService
    engine: ReminderEngine
    customers: list[int]


@pytest.fixture
def rig(db_url: str) -> Rig:
    clock = MutableClock(datetime(2026, 11, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")))
    services = open_services(db_url, None, clock)  # tests/postgres runs these on both engines
    source = ListSource()
    reminders = ReminderService(services.db, clock, services.staff_id, source,
                                services.settings.get)
    notifier = RecordingNotifier()
    engine = ReminderEngine(reminders, NotifierChain([notifier]))
    yield Rig(services, clock, source, notifier, reminders, engine,
              make_customers(services, 12))
    services.close()


def keys_of(report) -> list[str]:
    return [d.occurrence_key for d in report.delivered]


def test_app_closed_30_days_gives_one_digest_with_each_item_once(rig: Rig) -> None:
    assert rig.engine.run_pass().delivered == []  # the app ran on 1 Nov, nothing was due
    days = [date(2026, 11, d) for d in (3, 8, 13, 19, 26, 30)]
    rig.source.items = [
        birthday(cid, day, f"Customer {cid}") for cid, day in zip(rig.customers, days, strict=False)
    ]
    rig.clock.instant = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    report = rig.engine.run_pass()
    assert sorted(keys_of(report)) == sorted(i.occurrence_key for i in rig.source.items)
    assert len(rig.notifier.shown) == 1
    digest = rig.notifier.shown[0]
    assert digest.title == "While you were away: 6 reminders"
    assert digest.body.count("\n") == 5 and "Customer " in digest.body
    assert rig.engine.run_pass().delivered == []
    assert len(rig.notifier.shown) == 1
    assert rig.reminders.unacknowledged_count() == 6


def test_first_pass_notifies_only_the_last_seven_days(rig: Rig) -> None:
    today = rig.clock.today()
    rig.source.items = [
        birthday(rig.customers[0], today - timedelta(days=20), "Old"),
        birthday(rig.customers[1], today - timedelta(days=7), "Eight days ago"),
        birthday(rig.customers[2], today - timedelta(days=6), "Recent"),
        birthday(rig.customers[3], today, "Today"),
        birthday(rig.customers[4], today + timedelta(days=1), "Tomorrow"),
    ]
    report = rig.engine.run_pass()
    assert [d.customer_name for d in report.delivered] == ["Recent", "Today"]
    assert [n.title for n in rig.notifier.shown] == ["Birthday: Recent", "Birthday: Today"]


def test_reminder_time_gates_the_day(rig: Rig) -> None:
    rig.services.settings.update({REMINDER_TIME.key: "11:30"})
    rig.source.items = [birthday(rig.customers[0], rig.clock.today(), "Ada")]
    assert rig.engine.run_pass().delivered == []  # 10:00 < 11:30
    rig.clock.instant = rig.clock.instant.replace(hour=11, minute=30)
    assert [d.customer_name for d in rig.engine.run_pass().delivered] == ["Ada"]


def test_daily_digest_setting_groups_even_two(rig: Rig) -> None:
    rig.services.settings.update({DAILY_DIGEST.key: True})
    today = rig.clock.today()
    rig.source.items = [birthday(c, today, f"C{c}") for c in rig.customers[:2]]
    rig.engine.run_pass()
    assert len(rig.notifier.shown) == 1
    assert rig.notifier.shown[0].title == "While you were away: 2 reminders"  # first pass


def test_wake_gap_of_8_hours_is_detected_and_delivered_on_resync(rig: Rig, caplog) -> None:
    runner = ReminderRunner(rig.engine, rig.clock)
    rig.clock.instant = datetime(2026, 11, 2, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    rig.source.items = [birthday(rig.customers[0], date(2026, 11, 2), "Ada")]
    assert runner.tick("start").delivered == []  # before 09:00
    rig.clock.instant += timedelta(minutes=5)
    assert runner.tick().delivered == []
    rig.clock.instant += timedelta(hours=8)  # suspended over the 09:00 wake-up
    with caplog.at_level(logging.INFO, logger="crmcompanion.reminders.runner"):
        report = runner.tick()
    assert [d.customer_name for d in report.delivered] == ["Ada"]
    assert "Clock gap of 7:55:00" in caplog.text
    assert runner.tick() is not None and len(rig.notifier.shown) == 1


def test_clock_moved_back_one_hour_never_duplicates(rig: Rig) -> None:
    rig.clock.instant = datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    rig.source.items = [birthday(rig.customers[0], date(2026, 11, 2), "Ada")]
    assert len(rig.engine.run_pass().delivered) == 1
    rig.clock.instant -= timedelta(hours=1)  # 08:30: "today" is not deliverable any more
    assert rig.engine.run_pass().delivered == []
    rig.clock.instant += timedelta(hours=1, minutes=5)
    assert rig.engine.run_pass().delivered == []
    assert len(rig.notifier.shown) == 1


def tick_every(rig: Rig, runner: ReminderRunner, zone: str, start_utc: datetime,
               hours: int, step_minutes: int = 20) -> list[tuple[str, datetime]]:
    delivered = []
    instant = start_utc
    while instant < start_utc + timedelta(hours=hours):
        rig.clock.instant = instant.astimezone(ZoneInfo(zone))
        report = runner.tick()
        delivered += [(d.customer_name, rig.clock.instant) for d in report.delivered]
        instant += timedelta(minutes=step_minutes)
    return delivered


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [
        ("Europe/Berlin", date(2026, 3, 29), date(2026, 10, 25)),
        ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
    ],
)
def test_dst_changes_neither_skip_nor_duplicate(rig: Rig, zone: str, spring: date,
                                                autumn: date) -> None:
    runner = ReminderRunner(rig.engine, rig.clock, interval=timedelta(minutes=20))
    for n, change in enumerate((spring, autumn)):
        names = [f"{zone}-{change}-{k}" for k in range(3)]
        rig.source.items = [
            birthday(rig.customers[3 * n + k], change + timedelta(days=k - 1), names[k])
            for k in range(3)
        ]
        start = datetime.combine(change - timedelta(days=2), time(12), tzinfo=UTC)
        delivered = tick_every(rig, runner, zone, start, hours=24 * 4)
        assert [name for name, _ in delivered] == names  # each once, in day order
        for (_name, when), item in zip(delivered, rig.source.items, strict=True):
            # Delivered on its own local day, at the first tick at or after 09:00.
            assert when.date() == item.remind_on
            assert time(9, 0) <= when.time() < time(9, 20)


def test_time_zone_change_does_not_duplicate(rig: Rig) -> None:
    rig.clock.instant = datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    rig.source.items = [birthday(rig.customers[0], date(2026, 11, 2), "Ada")]
    assert len(rig.engine.run_pass().delivered) == 1
    # Flying west: the same instant reads 03:30 in New York; later 09:30 there.
    rig.clock.instant = rig.clock.instant.astimezone(ZoneInfo("America/New_York"))
    assert rig.engine.run_pass().delivered == []
    rig.clock.instant += timedelta(hours=6)
    assert rig.engine.run_pass().delivered == []
    assert len(rig.notifier.shown) == 1


def test_next_reminder_instant_is_local_nine_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    before = datetime(2026, 3, 28, 10, 0, tzinfo=berlin)
    nxt = next_reminder_instant(before, time(9))
    assert nxt == datetime(2026, 3, 29, 9, 0, tzinfo=berlin)
    assert nxt.astimezone(UTC).hour == 7  # CEST, not CET
    assert next_reminder_instant(datetime(2026, 3, 28, 8, 0, tzinfo=berlin), time(9)).day == 28


def test_failing_backend_keeps_the_reminder_in_the_app_and_logs_why(rig: Rig, caplog) -> None:
    rig.notifier.fail_with = "the desktop said no"
    rig.source.items = [birthday(rig.customers[0], rig.clock.today(), "Ada")]
    with caplog.at_level(logging.WARNING):
        report = rig.engine.run_pass()
    assert report.channels == ["app"]
    assert "the desktop said no" in caplog.text
    [pending] = rig.reminders.unacknowledged()
    assert (pending.customer_name, pending.channel) == ("Ada", "app")
    assert "the desktop said no" in pending.error


def test_crashing_backend_falls_back_to_the_next(rig: Rig, caplog) -> None:
    class Broken:
        name = "broken"

        def notify(self, notification: Notification) -> None:
            raise RuntimeError("boom")

    fallback = RecordingNotifier(name="tray")
    engine = ReminderEngine(rig.reminders, NotifierChain([Broken(), fallback]))
    rig.source.items = [birthday(rig.customers[0], rig.clock.today(), "Ada")]
    report = engine.run_pass()
    assert report.channels == ["tray"]
    assert [n.title for n in fallback.shown] == ["Birthday: Ada"]
    assert fallback.shown[0].customer_id == rig.customers[0]
    assert rig.reminders.unacknowledged()[0].channel == "tray"


def test_acknowledge_clears_the_badge(rig: Rig) -> None:
    rig.source.items = [birthday(c, rig.clock.today(), f"C{c}") for c in rig.customers[:3]]
    rig.engine.run_pass()
    pending = rig.reminders.unacknowledged()
    assert rig.reminders.unacknowledged_count() == 3
    assert rig.reminders.acknowledge([pending[0].id]).reminders
    assert rig.reminders.unacknowledged_count() == 2
    rig.reminders.acknowledge()
    assert rig.reminders.unacknowledged_count() == 0
    assert not rig.reminders.acknowledge().reminders


def test_scheduler_jobs_never_drop_a_missed_run(rig: Rig) -> None:
    rig.clock.instant = datetime(2099, 11, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    runner = ReminderRunner(rig.engine, rig.clock)
    runner.start()
    try:
        jobs = {job.id: job for job in runner.scheduler.get_jobs()}
        assert {"resync", "next-due"} <= set(jobs)
        for job in jobs.values():
            assert job.misfire_grace_time is None
            assert job.coalesce is True
        expected = datetime(2099, 11, 2, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
        assert runner.armed_for == expected
        # APScheduler reads the real clock: the job fires as long after the real now as the
        # reminder instant is after the app's now (23 hours), whatever today's real date is.
        real_delay = jobs["next-due"].next_run_time - datetime.now(UTC)
        assert abs(real_delay - (expected - rig.clock.now())) < timedelta(minutes=1)
    finally:
        runner.stop()
    assert JOB_DEFAULTS["misfire_grace_time"] is None
