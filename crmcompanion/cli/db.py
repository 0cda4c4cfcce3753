"""`crmcompanion db migrate` and `db copy --to URL`: setting up team mode from a terminal.

`db migrate` brings the database CRMCOMPANION_DATABASE_URL names to the current schema: on
PostgreSQL it creates the pg_trgm and unaccent extensions and runs the migrations (every
other command refuses an unmigrated server database and says to run this one); it exits 0
when the schema is current already. `db copy --to URL` copies the local (SQLite) database
into an empty PostgreSQL database, all or nothing. URLs are shown without their password;
keep the password in ~/.pgpass rather than in the URL.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crmcompanion.cli.base import EXIT_OK, Cli, set_handler

if TYPE_CHECKING:
    from crmcompanion.cli.base import Commands

logger = logging.getLogger(__name__)


def register(commands: Commands) -> None:
    db = commands.add_parser(
        "db", help="team mode: migrate a PostgreSQL database, copy this book into one")
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True,
                                parser_class=type(db))
    migrate = actions.add_parser(
        "migrate", help="create the extensions and bring the database to the current schema")
    set_handler(migrate, run_migrate)
    copy = actions.add_parser(
        "copy", help="copy the local database into an empty PostgreSQL database")
    copy.add_argument("--to", required=True, metavar="URL",
                      help="the PostgreSQL database, e.g. postgresql+psycopg://user@host/crm "
                      "(password in ~/.pgpass)")
    set_handler(copy, run_copy)


def run_migrate(cli: Cli) -> int:
    from crmcompanion.services.team_database import migrate

    cli.paths.ensure()
    done = migrate(cli.paths.database_url, cli.paths.backups_dir)
    if done.changed:
        cli.err.write(f"Migrated {done.url} to schema {done.after}.\n")
    else:
        cli.err.write(f"{done.url} is at the current schema ({done.after}); nothing to do.\n")
    return EXIT_OK


def run_copy(cli: Cli) -> int:
    from crmcompanion.services.team_database import (
        checked_team_url,
        copy_to_team_database,
        masked,
    )

    target = checked_team_url(cli.args.to)
    cli.paths.ensure()
    customers = copy_to_team_database(cli.paths.database_url, target, cli.paths.backups_dir)
    cli.err.write(f"Copied {customers:,} customers to {masked(target)}.\n")
    return EXIT_OK
