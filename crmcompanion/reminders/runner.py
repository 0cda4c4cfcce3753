"""The timing engine: APScheduler wakes the app at the next reminder instant and resyncs.

Two jobs only, never one per customer: "next-due" (a date job at the next daily reminder
instant, re-armed after each run) and "resync" (an interval job, every few minutes). Both use
`misfire_grace_time=None` and `coalesce=True`: APScheduler 3's default grace of 1 second
*drops* a run missed while the machine slept; with None a late run still happens, once.

Each tick compares the wall clock with the time of the previous tick. A gap much larger than
the interval means the machine slept (or the clock jumped): the tick logs it and re-arms
"next-due", whose date may now be in the past or computed in an old time zone. Whatever the
cause, the pass itself catches up: it delivers everything that came due since the last
covered day, and the occurrence-keyed log makes repeats impossible.

BackgroundScheduler runs jobs on its own worker thread, never the GUI thread; listeners that
touch Qt must hop to the GUI thread (a queued signal does that).

Stopping: APScheduler 3's `shutdown(wait=True)` joins the worker threads while holding the
scheduler's job-store lock, and a running tick re-arms "next-due" with `add_job`, which needs
that same lock: quitting during a pass deadlocked (the hang seen in the tray test). So `stop()`
shuts the scheduler down without waiting, then waits on our own tick lock, with a time limit,
and a stopping runner never touches the scheduler again.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from crmcompanion.core.clock import Clock
from crmcompanion.reminders.engine import PassReport, ReminderEngine

logger = logging.getLogger(__name__)

RESYNC_INTERVAL = timedelta(minutes=5)
# A tick later than the interval by more than this is taken as a wake from sleep.
GAP_TOLERANCE = timedelta(minutes=2)
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
# How long quitting waits for a running pass (a notifier may wait a few seconds on D-Bus).
STOP_TIMEOUT_S = 10.0


class ReminderRunner:
    def __init__(
        self,
        engine: ReminderEngine,
        clock: Clock,
        interval: timedelta = RESYNC_INTERVAL,
        scheduler: BackgroundScheduler | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.interval = interval
        self.scheduler = scheduler or BackgroundScheduler(job_defaults=dict(JOB_DEFAULTS))
        self._last_tick: datetime | None = None
        self._armed_for: datetime | None = None
        # Held for the whole of a tick: ticks never overlap, and stop() can wait for one.
        self._tick_lock = threading.Lock()
        self._stopping = False

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Start the scheduler: a pass right away, the resync, and the next-due wake-up."""
        self.scheduler.add_job(
            self.tick, "interval", seconds=self.interval.total_seconds(), id="resync",
            kwargs={"reason": "resync"}, replace_existing=True, **JOB_DEFAULTS,
        )
        # No run_date: runs as soon as the scheduler starts (the "on start" catch-up).
        self.scheduler.add_job(
            self.tick, "date", id="start", kwargs={"reason": "start"},
            replace_existing=True, **JOB_DEFAULTS,
        )
        self._arm_next_due()
        self.scheduler.start()

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running) and not self._stopping

    def stop(self, wait: bool = True, timeout: float = STOP_TIMEOUT_S) -> bool:
        """Stop; by default wait (at most `timeout` seconds) for a running pass, so nothing
        outlives the window. True when no pass is running any more."""
        self._stopping = True
        if self.scheduler.running:
            # Empty the job store first: shutdown() marks the scheduler stopped *before* it
            # takes the job-store lock, and a due date job being processed meanwhile then
            # fails to remove itself (JobLookupError kills APScheduler's thread noisily).
            # remove_all_jobs() waits for that processing to finish; _stopping keeps our own
            # add_job calls from putting jobs back.
            self.scheduler.pause()
            self.scheduler.remove_all_jobs()
            # Never shutdown(wait=True): see the module docstring (it deadlocks with a tick).
            self.scheduler.shutdown(wait=False)
        if not wait:
            return not self._tick_lock.locked()
        if self._tick_lock.acquire(timeout=timeout):
            self._tick_lock.release()
            return True
        logger.warning("A reminder pass was still running after %.0f s; quitting anyway", timeout)
        return False

    def check_now(self) -> None:
        """Ask for a pass soon, on the scheduler's thread (e.g. after a settings change)."""
        if self._stopping:
            return
        self.scheduler.add_job(
            self.tick, "date", id="check-now", kwargs={"reason": "requested"},
            replace_existing=True, **JOB_DEFAULTS,
        )

    def reschedule(self) -> None:
        """The reminder time (or digest choice) changed: re-arm "next-due" and pass soon."""
        if self._stopping:
            return
        self._armed_for = None
        self._arm_next_due()
        self.check_now()

    # --- the work ------------------------------------------------------------------------
    def detect_gap(self, now: datetime) -> timedelta | None:
        """How much later than expected this tick is (sleep, clock jump), or None if on time.

        Remembers `now` for the next call. A clock set back gives a negative gap.
        """
        previous, self._last_tick = self._last_tick, now
        if previous is None:
            return None
        gap = (now - previous) - self.interval
        if gap > GAP_TOLERANCE or now < previous:
            return gap
        return None

    def tick(self, reason: str = "resync") -> PassReport | None:
        """One scheduled wake-up: detect a clock gap, deliver, re-arm. Never raises."""
        with self._tick_lock:
            if self._stopping:
                return None
            return self._tick(reason)

    def _tick(self, reason: str) -> PassReport | None:
        try:
            now = self.clock.now()
            gap = self.detect_gap(now)
            if gap is not None:
                logger.info("Clock gap of %s before this %s tick (sleep or clock change): "
                            "catching up", gap, reason)
                self._arm_next_due(now)
            report = self.engine.run_pass(now)
            if reason == "next-due":
                self._arm_next_due(now, after_firing=True)
            return report
        except Exception:
            # A broken pass must not kill the scheduler: the next resync tries again.
            logger.exception("Reminder pass (%s) failed", reason)
            return None

    def _arm_next_due(self, now: datetime | None = None, after_firing: bool = False) -> None:
        if self._stopping:
            return
        try:
            when = self.engine.service.next_instant(now or self.clock.now())
        except Exception:
            logger.exception("Could not compute the next reminder time")
            return
        if after_firing and self._armed_for is not None and when <= self._armed_for:
            # The clock has not moved past the instant that just fired (a fixed clock, or a
            # clock behind the scheduler's): re-arming it would fire again at once, forever.
            # The resync keeps delivering; the next gap or resync-time re-arm fixes it.
            logger.debug("Next reminder instant %s not after the last one; not re-armed", when)
            return
        self._armed_for = when
        self.scheduler.add_job(
            self.tick, "date", run_date=self.scheduler_instant(when), id="next-due",
            kwargs={"reason": "next-due"}, replace_existing=True, **JOB_DEFAULTS,
        )
        logger.debug("Next reminder instant: %s", when)

    @property
    def armed_for(self) -> datetime | None:
        """The app-clock instant "next-due" is armed for (None when not armed)."""
        return self._armed_for

    def scheduler_instant(self, when: datetime) -> datetime:
        """`when` on the app's clock, as an instant on APScheduler's clock.

        APScheduler always reads the machine's wall clock; the app's clock may be another
        one (CRMCOMPANION_NOW, a test's fixed clock). Arming with the *delay* from the app's
        now keeps the two consistent: with the system clock it is the same instant, with a
        fixed clock the job still fires that long from now instead of at once (an instant in
        the wall clock's past) or never (one in its far future).
        """
        delay = when - self.clock.now()
        return datetime.now(UTC) + max(delay, timedelta(0))
