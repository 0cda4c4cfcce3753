"""`crmcompanion backup` and `restore`: the database's backups from a terminal or cron.

`backup [-o FILE]` writes a verified, owner-only copy (by default a routine backup in the
backup folder, rotated like the app's) and prints its path on stdout. `restore FILE` asks
nothing: it checks FILE first (SQLite, whole, a CRM Companion database of a schema this
version knows), swaps it in atomically, keeps the replaced database beside it and says where
on stderr; a FILE that is not a good backup exits 1 with the reason and changes nothing.
Restore never opens the current database first: it is the way out when that one is damaged.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from crmcompanion.cli.base import EXIT_OK, Cli, UsageError, set_handler

if TYPE_CHECKING:
    from crmcompanion.cli.base import Commands

logger = logging.getLogger(__name__)


def register(commands: Commands) -> None:
    backup = commands.add_parser(
        "backup", help="write a verified backup of the database and print its path"
    )
    backup.add_argument(
        "-o", "--output", type=Path, metavar="FILE",
        help="write the backup to FILE (default: a new file in the backup folder)",
    )
    set_handler(backup, run_backup)

    restore = commands.add_parser(
        "restore", help="replace the database by a backup (the current one is kept beside it)"
    )
    restore.add_argument("file", type=Path, metavar="FILE", help="the backup to restore")
    set_handler(restore, run_restore)


def run_backup(cli: Cli) -> int:
    target: Path | None = cli.args.output
    if target is not None:
        target = target.expanduser().absolute()
        if target.is_dir():
            raise UsageError(f"crmcompanion backup: {target} is a folder; give a file name")
    made = cli.services.backups.back_up(target)
    cli.out.write(f"{made.path}\n")
    return EXIT_OK


def run_restore(cli: Cli) -> int:
    from crmcompanion.services.backups import restore_database

    backup = cli.args.file.expanduser().absolute()
    cli.paths.ensure()
    kept = restore_database(cli.paths.database_url, backup, cli.clock)
    # Open it now: an older schema is migrated (after its own pre-migration backup) here,
    # not at the next start, and a restored file that cannot be opened says so at once.
    _ = cli.services
    if kept is None:
        cli.err.write(f"Restored {backup}.\n")
    else:
        cli.err.write(f"Restored {backup}; the replaced database was kept as {kept}.\n")
    return EXIT_OK
