"""Staff: who is working in this process, and the names shown for who made or changed what.

The identity itself is decided once at start (`core.staff`: CRMCOMPANION_STAFF, else the OS
login) and turned into a staff row by `store.database.ensure_local_staff`; this service gives
the window and the command line the plain values they show (Settings: "Working as ...").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from crmcompanion.core.errors import NotFoundError
from crmcompanion.core.staff import STAFF_ENV_VAR
from crmcompanion.store import models as m
from crmcompanion.store.database import Database

logger = logging.getLogger(__name__)

__all__ = ["STAFF_ENV_VAR", "StaffMember", "StaffService"]


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    login: str


class StaffService:
    def __init__(self, db: Database, staff_id: int) -> None:
        self._db = db
        self._staff_id = staff_id

    @property
    def current_id(self) -> int:
        return self._staff_id

    def current(self) -> StaffMember:
        """The staff member this process works as."""
        return self.get(self._staff_id)

    def get(self, staff_id: int) -> StaffMember:
        with self._db.read() as session:
            row = session.execute(
                select(m.Staff.id, m.Staff.name, m.Staff.login).where(m.Staff.id == staff_id)
            ).first()
        if row is None:
            raise NotFoundError(f"Staff member #{staff_id} does not exist.")
        return StaffMember(row.id, row.name, row.login or "")

    def everyone(self) -> list[StaffMember]:
        """Every staff member, by name."""
        with self._db.read() as session:
            rows = session.execute(
                select(m.Staff.id, m.Staff.name, m.Staff.login).order_by(m.Staff.name, m.Staff.id)
            ).all()
        return [StaffMember(r.id, r.name, r.login or "") for r in rows]
