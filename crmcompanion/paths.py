"""Where the app keeps its files: one data folder, overridable for tests and portable use.

`CRMCOMPANION_HOME` (a folder, created if missing) replaces the platform user-data folder for
the database, settings, logs, backups and lock files. `CRMCOMPANION_DATABASE_URL` (an SQLAlchemy
URL) overrides the database alone. Nothing else in the app decides a path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from crmcompanion import APP_NAME

HOME_ENV_VAR = "CRMCOMPANION_HOME"
DATABASE_URL_ENV_VAR = "CRMCOMPANION_DATABASE_URL"
DATABASE_FILENAME = "crmcompanion.sqlite3"


@dataclass(frozen=True)
class AppPaths:
    home: Path
    database_url: str

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def backups_dir(self) -> Path:
        return self.home / "backups"

    @property
    def lock_file(self) -> Path:
        return self.home / "crmcompanion.lock"

    def ensure(self) -> None:
        """Create the data folders owner-only (0700), and tighten them where an older
        version made them readable by every local user: they hold customer data."""
        for folder in (self.home, self.logs_dir, self.backups_dir):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if folder.stat().st_mode & 0o077:
                folder.chmod(0o700)


def resolve_paths(environ: dict[str, str] | None = None) -> AppPaths:
    env = os.environ if environ is None else environ
    custom_home = env.get(HOME_ENV_VAR, "").strip()
    if custom_home:
        home = Path(custom_home).expanduser().resolve()
    else:
        home = Path(platformdirs.user_data_dir(APP_NAME.replace(" ", ""), appauthor=False))
    url = env.get(DATABASE_URL_ENV_VAR, "").strip()
    if not url:
        url = f"sqlite:///{home / DATABASE_FILENAME}"
    return AppPaths(home=home, database_url=url)
