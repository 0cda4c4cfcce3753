"""`crmcompanion doctor`: what a support question needs, in one go.

The version (and Python's, and the system's), the data folder and log file, the database (URL
without its password, file, size, the schema revision it holds and the one this version
expects), Qt (the PySide6 version, the platform plugins present, the one a window would use
here, and the system libraries its X11 plugin is missing, with their Debian packages), the way
reminders would be shown (the desktop notification backend, or why none), and the free disk.

It changes nothing: the database is inspected read-only (never created or migrated), Qt is not
imported (crmcompanion.qt_platform asks `ldd`), and no notification is shown (the bus is
asked who owns org.freedesktop.Notifications). Exit 0 whatever it finds: problems are part of
the report. `--json` prints the same as one object (`DoctorReport`'s fields).
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from crmcompanion import __version__
from crmcompanion.cli.base import EXIT_OK, Cli, set_handler, shown

if TYPE_CHECKING:
    from crmcompanion.cli.base import Commands
    from crmcompanion.services.diagnostics import DatabaseReport

logger = logging.getLogger(__name__)


def register(commands: Commands) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="print what a support question needs: versions, folders, database, Qt, "
        "notifications, free disk",
    )
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    set_handler(doctor, run_doctor)


@dataclass(frozen=True)
class QtReport:
    pyside6: str | None
    platform_plugins: list[str]
    platform: str | None  # what a window would use here; None without a display
    xcb_missing_libraries: list[str] = field(default_factory=list)
    xcb_missing_packages: list[str] = field(default_factory=list)  # Debian/Ubuntu names
    xcb_check: str = ""  # why the xcb plugin could not be checked, if it could not


@dataclass(frozen=True)
class NotificationsReport:
    backend: str | None  # "D-Bus", "plyer", or None when no desktop notification can show
    problem: str
    fallback: str = "the tray icon while the app runs, and always the app's reminder list"


@dataclass(frozen=True)
class DoctorReport:
    version: str
    python: str
    system: str
    data_folder: Path
    log_file: Path
    database: DatabaseReport
    qt: QtReport
    notifications: NotificationsReport
    free_disk_bytes: int | None


def _pyside_version() -> str | None:
    for distribution in ("PySide6-Essentials", "PySide6"):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def _free_disk(folder: Path) -> int | None:
    """Free bytes where the data folder is (or would be: its nearest existing parent)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


def on_freedesktop_system() -> bool:
    return sys.platform.startswith("linux") or "bsd" in sys.platform


def qt_report() -> QtReport:
    from crmcompanion.qt_platform import (
        expected_platform,
        missing_libraries,
        platform_plugins,
        xcb_plugin,
    )

    plugins = platform_plugins()
    expected = expected_platform(os.environ)
    if not on_freedesktop_system():
        return QtReport(_pyside_version(), plugins, expected)
    plugin = xcb_plugin()
    if plugin is None:
        return QtReport(_pyside_version(), plugins, expected,
                        xcb_check="Qt's xcb platform plugin is not installed")
    check = missing_libraries(plugin)
    return QtReport(_pyside_version(), plugins, expected, list(check.missing),
                    list(check.packages), check.unknown)


def gather(cli: Cli) -> DoctorReport:
    # Imported here, like every command's heavy parts: parsing any command stays light.
    from crmcompanion.reminders.notifier import desktop_backend
    from crmcompanion.services.diagnostics import database_report

    backend, why = desktop_backend()
    return DoctorReport(
        version=__version__,
        python=platform.python_version(),
        system=platform.platform(),
        data_folder=cli.paths.home,
        log_file=cli.paths.log_file,
        database=database_report(cli.paths.database_url),
        qt=qt_report(),
        notifications=NotificationsReport(backend, why),
        free_disk_bytes=_free_disk(cli.paths.home),
    )


def size_text(count: int | None) -> str:
    """1,234 bytes / 12.3 kB / 4.5 MB / 67.8 GB (decimal units, like file managers)."""
    if count is None:
        return "unknown"
    if count < 1000:
        return f"{count:,} bytes"
    value = count / 1000
    for unit in ("kB", "MB", "GB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def database_line(database: DatabaseReport) -> str:
    if database.problem:
        state = f"problem: {database.problem}"
    elif database.size_bytes is None:
        state = "not created yet (the first start creates it)"
    elif database.revision is None:
        state = f"no tables yet, {size_text(database.size_bytes)}"
    else:
        current = ("current" if database.revision == database.current_revision
                   else f"upgraded to {database.current_revision} at the next start")
        state = f"schema {database.revision} ({current}), {size_text(database.size_bytes)}"
    return f"Database: {database.url}: {state}"


def qt_lines(qt: QtReport) -> list[str]:
    plugins = ", ".join(qt.platform_plugins) or "none found"
    lines = [f"Qt: PySide6 {qt.pyside6 or 'not installed'}; platform plugins: {plugins}; "
             f"a window here would use: {qt.platform or 'none (no display)'}"]
    if qt.xcb_missing_libraries:
        lines.append(
            f"X11 (xcb) plugin: missing {', '.join(qt.xcb_missing_libraries)}; install: "
            f"sudo apt install {' '.join(qt.xcb_missing_packages)} (Debian/Ubuntu)"
        )
    elif qt.xcb_check:
        lines.append(f"X11 (xcb) plugin: not checked: {qt.xcb_check}")
    elif on_freedesktop_system():
        lines.append("X11 (xcb) plugin: all its libraries are installed")
    return lines


def report_lines(report: DoctorReport) -> list[str]:
    notifications = report.notifications
    shown_by = (f"desktop notifications through {notifications.backend}"
                if notifications.backend else
                f"no desktop notifications ({notifications.problem})")
    return [
        f"CRM Companion {report.version} (Python {report.python}, {report.system})",
        f"Data folder: {report.data_folder} ({size_text(report.free_disk_bytes)} free)",
        f"Log file: {report.log_file}",
        database_line(report.database),
        *qt_lines(report.qt),
        f"Reminders: {shown_by}; also {notifications.fallback}",
    ]


def run_doctor(cli: Cli) -> int:
    report = gather(cli)
    if cli.args.json:
        cli.print_json(asdict(report))  # Paths become strings (print_json's default=str)
        return EXIT_OK
    for line in report_lines(report):
        cli.out.write(shown(line) + "\n")
    return EXIT_OK
