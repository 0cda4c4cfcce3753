"""Reading and writing settings declared in `core.settings`, stored as JSON in the database."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import select

from crmcompanion.core.errors import ValidationError
from crmcompanion.core.settings import ALL_SETTINGS, WELCOME_COMPLETED, SettingSpec
from crmcompanion.services.changes import Changed
from crmcompanion.store import models as m
from crmcompanion.store import tables
from crmcompanion.store.database import Database, utcnow

logger = logging.getLogger(__name__)


class SettingsService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, spec: SettingSpec) -> Any:
        # A Core query on the table: the window reads its look before the first paint, and
        # the ORM's first compile of a query costs ~70 ms that the paint would wait for.
        table = m.Setting.__table__
        with self._db.read() as session:
            raw = session.execute(
                select(table.c.value).where(table.c.key == spec.key)).scalar()
        if raw is None:
            return spec.default
        try:
            return spec.coerce(json.loads(raw))
        except (ValueError, json.JSONDecodeError):
            logger.warning("Ignoring invalid stored value for %s: %r", spec.key, raw)
            return spec.default

    def welcome_needed(self) -> bool:
        """True on a first start: no customer at all (archived ones count) and the welcome
        was never completed. A database filled by `demo` or an import opens on Today."""
        if self.get(WELCOME_COMPLETED):
            return False
        customers = m.Customer.__table__  # Core: read right after the first paint (see get)
        with self._db.read() as session:
            return session.execute(select(customers.c.id).limit(1)).first() is None

    def all(self) -> dict[str, Any]:
        with self._db.read() as session:
            # Core (the table's columns): read before Today's first rows (store.tables).
            settings = tables.settings.c
            stored = dict(session.execute(select(settings.key, settings.value)).all())
        values: dict[str, Any] = {}
        for key, spec in ALL_SETTINGS.items():
            values[key] = spec.default
            if key in stored:
                try:
                    values[key] = spec.coerce(json.loads(stored[key]))
                except (ValueError, json.JSONDecodeError):
                    logger.warning("Ignoring invalid stored value for %s", key)
        return values

    def update(self, values: dict[str, Any]) -> Changed:
        """Validate every value first, then store them all in one transaction."""
        errors: dict[str, str] = {}
        clean: dict[str, Any] = {}
        for key, value in values.items():
            spec = ALL_SETTINGS.get(key)
            if spec is None:
                errors[key] = f"Unknown setting {key}"
                continue
            try:
                clean[key] = spec.coerce(value)
            except ValueError as exc:
                errors[key] = str(exc)
        if errors:
            raise ValidationError(errors)
        with self._db.write() as session:
            for key, value in clean.items():
                session.merge(m.Setting(key=key, value=json.dumps(value), updated_at=utcnow()))
        return Changed(settings=frozenset(clean))
