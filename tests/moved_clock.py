"""pytest options that move the real clock and the time zone, to prove the suite passes on any date.

The app reads time through its `Clock` (tests give it a `FixedClock`), but some pieces read
the machine's clock anyway: APScheduler, the stored `created_at`/`updated_at` stamps, SQLite's
`'localtime'`, the CLI and app subprocesses. A test that mixes the two passes on the day it was
written and fails weeks later (main went red on 2026-12-06 that way). These options make that
failure show up today:

    --moved-clock=2027-12-31T23:59:30   the real clock starts there (and keeps ticking); a
                                        naive value is wall time in --moved-tz (or the
                                        machine's zone)
    --moved-tz=Europe/Berlin            the process's (and every subprocess's) local time zone
    --long                              also run the long variants of tests (marker `long`)

In this process the clock is moved with time-machine (datetime.now, date.today, time.time...).
Python subprocesses (the CLI, the app, the spawned helpers, the test D-Bus server) start with
a `sitecustomize` that does the same with the same offset, so they see the same moved clock;
their monotonic clocks are left alone, so timeouts still mean real seconds. (libfaketime was
tried first: 0.9.10 makes Python's time.sleep fail with EINVAL when it fakes only the wall
clock, and hangs timed waits when it fakes the monotonic one too.) Other programs (dbus-daemon,
notify-send) keep the real clock: they read no dates. The time zone is moved by TZ, which
every subprocess inherits.

Tests whose outcome could depend on the real date or zone are marked `clock_sensitive`;
`make test-dates` runs them at each date and zone of a matrix (see Makefile).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

logger = logging.getLogger(__name__)

# The offset (seconds, a float) Python subprocesses add to their real clock.
OFFSET_VAR = "CRMCOMPANION_TEST_CLOCK_OFFSET"
# Put first on the subprocesses' PYTHONPATH: Python imports it at start-up (site.py).
SITECUSTOMIZE = f"""\
# Written by tests/moved_clock.py: this Python subprocess of a test run with --moved-clock
# sees the same moved (ticking) clock as the test process.
import os as _os

_offset = _os.environ.get({OFFSET_VAR!r})
if _offset:
    import time as _time

    import time_machine as _time_machine

    _time_machine.travel(_time.time() + float(_offset), tick=True).start()
"""

_STASH_KEY = pytest.StashKey["object"]()
_FOLDER_KEY = pytest.StashKey[Path]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("moved clock", "run the tests with the real clock and zone moved")
    group.addoption(
        "--moved-clock", metavar="ISO", default=None,
        help="start the real clock at this date-time (ticking), e.g. 2027-12-31T23:59:30; "
             "'now' leaves it; Python subprocesses get it too",
    )
    group.addoption(
        "--moved-tz", metavar="ZONE", default=None,
        help="run with this IANA time zone as the local zone (TZ), e.g. Europe/Berlin",
    )
    group.addoption(
        "--long", action="store_true", default=False,
        help="also run the long variants of tests (marker `long`)",
    )


def moved_destination(text: str, zone: str | None) -> datetime:
    """The instant --moved-clock names: naive wall time is read in `zone` (or the local zone)."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise pytest.UsageError(
            f"--moved-clock={text!r} is not an ISO date-time (e.g. 2027-12-31T23:59:30)"
        ) from None
    if when.tzinfo is None:
        # A ZoneInfo (not a fixed offset) lets time-machine move the zone as well.
        return when.replace(tzinfo=ZoneInfo(zone)) if zone else when.astimezone()
    return when


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "clock_sensitive: the outcome could depend on the real date or the local time zone; "
        "run at moved dates by `make test-dates` (see tests/moved_clock.py)",
    )
    config.addinivalue_line("markers", "long: a long variant, run only with --long")

    zone = config.getoption("moved_tz")
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise pytest.UsageError(f"--moved-tz={zone!r} is not an IANA time zone") from None
        os.environ["TZ"] = zone
        time.tzset()

    text = config.getoption("moved_clock")
    if not text or text == "now":
        return
    import time_machine  # a dev dependency; imported only when asked for

    destination = moved_destination(text, zone)
    # Same offset for every subprocess: the real time read just before the travel starts.
    offset = destination.timestamp() - time.time()
    traveller = time_machine.travel(destination, tick=True)
    traveller.start()
    config.stash[_STASH_KEY] = traveller
    folder = Path(tempfile.mkdtemp(prefix="crmcompanion-moved-clock-"))
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    config.stash[_FOLDER_KEY] = folder
    os.environ[OFFSET_VAR] = repr(offset)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    logger.info("real clock moved to %s (%+.0f s), TZ=%s", destination, offset,
                os.environ.get("TZ", "<machine>"))


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_STASH_KEY, None)
    if traveller is not None:
        traveller.stop()
    folder = config.stash.get(_FOLDER_KEY, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> list[str]:
    text = config.getoption("moved_clock")
    zone = config.getoption("moved_tz")
    if not (text and text != "now") and not zone:
        return []
    now = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z%z")
    return [f"moved clock: {text or 'now'} (now reads {now}), "
            f"TZ={os.environ.get('TZ', '<machine>')}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("long"):
        return
    skip_long = pytest.mark.skip(reason="a long variant: run with --long")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip_long)
