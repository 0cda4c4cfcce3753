"""A throwaway PostgreSQL cluster for the tests that run on both engines (team mode).

One cluster per test session: initdb into a fresh folder, pg_ctl start on 127.0.0.1 and a
free port (its socket in that folder too), migrated once into a template database; each test
gets its own database copied from the template (CREATE DATABASE ... TEMPLATE: a few tens of
ms) and dropped afterwards. The binaries are the newest /usr/lib/postgresql/*/bin (Debian's
`postgresql` package, which .ci/run installs). initdb refuses to run as root, as CI and these
machines do: there the cluster runs as the `postgres` user (runuser), its folder chowned to it.

Engines: tests in this folder that take `db_url` (and so `services`) run twice, on a fresh
SQLite file and on a fresh PostgreSQL database (`engine` says which).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from glob import glob
from pathlib import Path

import pytest

from crmcompanion.core.clock import FixedClock
from crmcompanion.services.container import Services, open_services
from tests.system_programs import missing

TEMPLATE = "crm_template"
# The moment the PostgreSQL-only tests' services (`pg_services`) and demos live at: a fixed
# clock, so what they read does not depend on the day the suite runs.
CLOCK = FixedClock(datetime(2026, 12, 6, 9, 0))


def newest_bin() -> Path | None:
    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.parent.name
        return tuple(int(p) for p in re.findall(r"\d+", name))

    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    port: int
    bin: Path
    user: str | None  # the OS user running the server (None: this process's user)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [*args] if self.user is None else ["runuser", "-u", self.user, "--", *args]
        return subprocess.run(command, capture_output=True, text=True, check=False,
                              cwd=self.folder, timeout=120)

    def sql(self, statement: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname=database, autocommit=True) as conn:
            conn.execute(statement)


def start_cluster() -> Cluster:
    """initdb + pg_ctl start (see module doc); raises RuntimeError with the server's words."""
    binaries = newest_bin()
    assert binaries is not None
    folder = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        try:
            owner = pwd.getpwnam(user)
        except KeyError as exc:
            raise RuntimeError("running as root and there is no `postgres` user") from exc
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    cluster = Cluster(folder, _free_port(), binaries, user)
    data = folder / "data"
    done = cluster.run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres",
                       "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
    options = (f"-p {cluster.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off")
    done = cluster.run(str(binaries / "pg_ctl"), "-D", str(data), "-o", options,
                       "-l", str(folder / "server.log"), "-w", "-t", "60", "start")
    if done.returncode != 0:
        log = (folder / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()} {log}")
    return cluster


def stop_cluster(cluster: Cluster) -> None:
    cluster.run(str(cluster.bin / "pg_ctl"), "-D", str(cluster.folder / "data"), "-m",
                "immediate", "-w", "stop")
    shutil.rmtree(cluster.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    if newest_bin() is None:
        missing("PostgreSQL's `initdb` (/usr/lib/postgresql/*/bin)", "postgresql")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip('psycopg is not installed: pip install "crmcompanion[postgresql]"')
    cluster = start_cluster()
    try:
        cluster.sql(f"CREATE DATABASE {TEMPLATE}")
        from crmcompanion.store.postgres import migrate_postgres

        migrate_postgres(cluster.url(TEMPLATE))
        yield cluster
    finally:
        stop_cluster(cluster)


def _database(cluster: Cluster, template: str | None) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    cluster.sql(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    yield cluster.url(name)
    cluster.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_database(pg_cluster: Cluster) -> Iterator[str]:
    """The URL of a fresh migrated PostgreSQL database of this test's own."""
    yield from _database(pg_cluster, TEMPLATE)


@pytest.fixture
def empty_pg_database(pg_cluster: Cluster) -> Iterator[str]:
    """The URL of an empty (unmigrated) PostgreSQL database."""
    yield from _database(pg_cluster, None)


@pytest.fixture
def pg_services(pg_database: str) -> Iterator[Services]:
    """The app's services on a fresh PostgreSQL database of this test's own, at CLOCK."""
    opened = open_services(pg_database, None, CLOCK)
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'crmcompanion.sqlite3'}"
    return request.getfixturevalue("pg_database")
