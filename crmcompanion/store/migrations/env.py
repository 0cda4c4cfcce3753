"""Alembic environment: always run in-process by `crmcompanion.store.database`.

The caller hands us an open connection through `config.attributes["connection"]`, so migrations
run inside the app's own transaction handling and never read a URL from an ini file.
"""

from __future__ import annotations

from alembic import context

from crmcompanion.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("CRM Companion migrations run only from the app (no connection given)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
