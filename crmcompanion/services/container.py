"""The services of one open database, built once and shared by the GUI, the CLI and reminders.

Customers, import/export, duplicates, personal data and greetings are built on first use:
their modules (customer search and edit conflicts, the CSV, vCard and iCalendar codecs, the
greeting templates among them) are not needed to open the window or show Today's rows, and
importing them at every start made both wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from crmcompanion.core.clock import Clock, SystemClock
from crmcompanion.core.settings import DEFAULT_REGION
from crmcompanion.services import feedback_timeline
from crmcompanion.services.backups import BackupService
from crmcompanion.services.interactions import InteractionService
from crmcompanion.services.reminders import ReminderService, TouchpointDueSource
from crmcompanion.services.settings import SettingsService
from crmcompanion.services.touchpoints import TouchpointService
from crmcompanion.store.database import Database, ensure_local_staff, open_database

if TYPE_CHECKING:
    from crmcompanion.services.customers import CustomerService
    from crmcompanion.services.duplicates import DuplicateService
    from crmcompanion.services.feedback import FeedbackService
    from crmcompanion.services.greetings import GreetingService
    from crmcompanion.services.import_export import ImportExportService
    from crmcompanion.services.insights import InsightsService
    from crmcompanion.services.personal_data import PersonalDataService
    from crmcompanion.services.staff import StaffService


@dataclass
class Services:
    db: Database
    clock: Clock
    staff_id: int
    settings: SettingsService
    reminders: ReminderService
    touchpoints: TouchpointService
    interactions: InteractionService

    @cached_property
    def customers(self) -> CustomerService:
        # Built on first use: the Customers page, the editor and most commands need it;
        # Today's first rows do not, and its modules (search, edit conflicts, the customer
        # store) were ~3% of the imports before them (issue 13).
        from crmcompanion.services.customers import CustomerService

        settings = self.settings
        return CustomerService(self.db, self.clock, self.staff_id,
                               region=lambda: settings.get(DEFAULT_REGION))

    @cached_property
    def greetings(self) -> GreetingService:
        # Built on first use: drafting greetings (its templates and their TOML library,
        # ~15 ms of modules) is no part of the window's first paint; the Today page's
        # drafting hook asks for it after that paint.
        from crmcompanion.services.greetings import GreetingService

        return GreetingService(self.db, self.customers, self.touchpoints, self.interactions,
                               self.settings.get, self.clock, self.staff_id)

    @cached_property
    def import_export(self) -> ImportExportService:
        from crmcompanion.services.import_export import ImportExportService

        return ImportExportService(
            self.db, self.settings, self.staff_id, touchpoints=self.touchpoints,
            refresh_segments=lambda: self.insights.refresh(),
        )

    @cached_property
    def duplicates(self) -> DuplicateService:
        from crmcompanion.services.duplicates import DuplicateService

        settings = self.settings
        return DuplicateService(
            self.db, self.clock, self.staff_id, region=lambda: settings.get(DEFAULT_REGION)
        )

    @cached_property
    def staff(self) -> StaffService:
        """Who this process works as (Settings shows it), and other staff members' names."""
        # Built on first use: the Settings dialog asks, Today's first rows do not.
        from crmcompanion.services.staff import StaffService

        return StaffService(self.db, self.staff_id)

    @cached_property
    def backups(self) -> BackupService:
        return BackupService(self.db, self.clock, self.settings)

    @cached_property
    def personal_data(self) -> PersonalDataService:
        from crmcompanion.services.personal_data import PersonalDataService

        return PersonalDataService(self.db, self.clock, self.staff_id)

    @cached_property
    def feedback(self) -> FeedbackService:
        # Built on first use: the Feedback & ideas pages and `feedback` commands need it, the
        # first paint does not (the embedding model loads later still, on first encode).
        from crmcompanion.services.feedback import FeedbackService

        return FeedbackService(self.db, self.clock, self.staff_id,
                               touchpoints=self.touchpoints, greetings=self.greetings,
                               setting=self.settings.get)

    @cached_property
    def insights(self) -> InsightsService:
        # Built on first use: the Insights section, `insights` and `--segment` need it.
        from crmcompanion.services.insights import InsightsService

        return InsightsService(self.db, self.clock, self.staff_id, settings=self.settings.all,
                               sync_rhythm=self.touchpoints.sync, touchpoints=self.touchpoints)

    def close(self) -> None:
        self.db.dispose()


def build_services(db: Database, clock: Clock | None = None) -> Services:
    """The services of `db`, working as this process's staff member (CRMCOMPANION_STAFF or
    the OS login, see core.staff), whose row is created on first use."""
    clock = clock or SystemClock()
    # Feedback joins the profile timeline (where this build has one: services.timeline).
    feedback_timeline.register()
    staff_id = ensure_local_staff(db)
    settings = SettingsService(db)
    touchpoints = TouchpointService(db, clock, staff_id, values=settings.all)
    reminders = ReminderService(
        db, clock, staff_id, TouchpointDueSource(touchpoints, db), settings.get
    )
    interactions = InteractionService(db, clock, staff_id, settings=touchpoints.settings)
    return Services(
        db=db, clock=clock, staff_id=staff_id, settings=settings, reminders=reminders,
        touchpoints=touchpoints, interactions=interactions,
    )


def open_services(url: str, backups_dir: object = None, clock: Clock | None = None) -> Services:
    from pathlib import Path

    db = open_database(url, Path(str(backups_dir)) if backups_dir else None)
    return build_services(db, clock)
