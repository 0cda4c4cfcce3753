"""Who is working: the staff identity of this process, decided once from its environment.

Every record a user makes or changes names its staff member ("created by", "logged by"). On a
laptop that is the OS login; in team mode (one PostgreSQL database, many people) each person's
login is their identity, and `CRMCOMPANION_STAFF=NAME` overrides it (a shared Windows account,
a cron job that should act as someone). The login is folded into a key (`login`) so "Nora" and
"nora" are one person on every platform; the display name keeps the spelling given.

Nothing here touches the database: `store.database.ensure_local_staff` turns an identity into
a staff row (insert-or-get on the unique login key).
"""

from __future__ import annotations

import getpass
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

logger = logging.getLogger(__name__)

STAFF_ENV_VAR = "CRMCOMPANION_STAFF"
MAX_STAFF_NAME = 200
# When no login name can be found (no USER/LOGNAME and no passwd entry, as in some
# containers), everyone on this machine is the one local user the app always had.
FALLBACK_NAME = "You"


@dataclass(frozen=True)
class StaffIdentity:
    """The unique `login` key of a staff member and the name shown for them."""

    login: str
    name: str


def login_key(name: str) -> str:
    """The unique key of a staff name: trimmed, inner spaces collapsed, case-folded."""
    return " ".join(name.split()).casefold()[:MAX_STAFF_NAME]


def _os_login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no env vars and no passwd entry for the uid
        return ""


def _full_name(login: str) -> str:
    """The person's full name from the passwd entry's GECOS field, when there is one."""
    try:
        import pwd

        gecos = pwd.getpwnam(login).pw_gecos
    except (ImportError, KeyError, OSError):
        return ""
    return gecos.split(",")[0].strip()


def identity_from(
    environ: Mapping[str, str],
    os_login: Callable[[], str] = _os_login,
    full_name: Callable[[str], str] = _full_name,
) -> StaffIdentity:
    """The identity `environ` and the OS give: CRMCOMPANION_STAFF, else the login name
    (shown as the passwd full name when it has one), else the one local user "You"."""
    override = " ".join(environ.get(STAFF_ENV_VAR, "").split())[:MAX_STAFF_NAME]
    if override:
        return StaffIdentity(login_key(override), override)
    login = " ".join(os_login().split())[:MAX_STAFF_NAME]
    if not login:
        logger.info("No login name found; working as %s", FALLBACK_NAME)
        return StaffIdentity(login_key(FALLBACK_NAME), FALLBACK_NAME)
    return StaffIdentity(login_key(login), full_name(login)[:MAX_STAFF_NAME] or login)


def current_identity() -> StaffIdentity:
    """This process's identity (see `identity_from`)."""
    return identity_from(os.environ)
