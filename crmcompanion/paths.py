"""Where the app keeps its files: one data folder, overridable for tests and portable use.

`CRMCOMPANION_HOME` (a folder, created if missing) replaces the platform user-data folder for
the database, settings, logs, backups and lock files. `CRMCOMPANION_DATABASE_URL` (an SQLAlchemy
URL) overrides the database alone. Nothing else in the app decides a path.

A data folder that cannot be one (`CRMCOMPANION_HOME` naming a file, or a folder that cannot be
created) is a `DataFolderProblem`: one sentence, exit 2, before anything else runs. Once made,
the folder and its logs and backups are registered with `core.atomic_file.protect`, so no
export can be written over them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from crmcompanion import APP_NAME, APP_SLUG
from crmcompanion.core.atomic_file import owner_only_folder, protect

HOME_ENV_VAR = "CRMCOMPANION_HOME"
DATABASE_URL_ENV_VAR = "CRMCOMPANION_DATABASE_URL"
DATABASE_FILENAME = "crmcompanion.sqlite3"
LOG_FILENAME = f"{APP_SLUG}.log"


class DataFolderProblem(ValueError):
    """The data folder cannot be used (exit 2): one sentence naming it and why."""


@dataclass(frozen=True)
class AppPaths:
    home: Path
    database_url: str
    from_env: bool = False  # home came from CRMCOMPANION_HOME (named in messages)

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def log_file(self) -> Path:
        """The rotating log file (crmcompanion.logfile), for crash dialogs and support."""
        return self.logs_dir / LOG_FILENAME

    @property
    def backups_dir(self) -> Path:
        return self.home / "backups"

    @property
    def lock_file(self) -> Path:
        return self.home / "crmcompanion.lock"

    def _named(self) -> str:
        return f"{HOME_ENV_VAR}={self.home}" if self.from_env else f"The data folder {self.home}"

    def ensure(self) -> None:
        """Create the folders (logs owner-only) and protect them from exports; raises
        DataFolderProblem when they cannot be."""
        if self.home.exists() and not self.home.is_dir():
            raise DataFolderProblem(f"{self._named()} is a file, not a folder.")
        for folder in (self.home, self.logs_dir, self.backups_dir):
            try:
                owner_only_folder(folder)
            except FileExistsError:
                raise DataFolderProblem(f"{self._named()}: {folder} is a file, not a "
                                        "folder.") from None
            except NotADirectoryError:
                raise DataFolderProblem(f"{self._named()} cannot be created: part of that "
                                        "path is a file, not a folder.") from None
            except OSError as exc:
                raise DataFolderProblem(f"{self._named()} cannot be created: "
                                        f"{(exc.strerror or str(exc)).lower()}.") from None
        protect(self.home, "CRM Companion's data folder")
        protect(self.logs_dir, "in CRM Companion's logs folder", tree=True)
        protect(self.backups_dir, "in the CRM Companion backups folder", tree=True)


def resolve_paths(environ: dict[str, str] | None = None) -> AppPaths:
    env = os.environ if environ is None else environ
    custom_home = env.get(HOME_ENV_VAR, "").strip()
    if custom_home:
        try:
            home = Path(custom_home).expanduser().resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop, an unknown ~user
            raise DataFolderProblem(f"{HOME_ENV_VAR}={custom_home} cannot be used: "
                                    f"{exc}.") from None
    else:
        home = Path(platformdirs.user_data_dir(APP_NAME.replace(" ", ""), appauthor=False))
    url = env.get(DATABASE_URL_ENV_VAR, "").strip()
    if not url:
        url = f"sqlite:///{home / DATABASE_FILENAME}"
    return AppPaths(home=home, database_url=url, from_env=bool(custom_home))
