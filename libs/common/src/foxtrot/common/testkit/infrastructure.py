"""Where tests get NATS and PostgreSQL, in this order:

1. ``NATS_URL`` / ``DATABASE_URL`` when set (each test session gets its own database);
2. testcontainers (``nats:2.15`` with JetStream, ``postgres:15``) when a Docker engine answers;
3. the embedded servers that ``make run`` uses (nats-server and pgserver wheels).

``FOXTROT_TEST_INFRA=embedded`` (or ``docker``) skips the earlier choices, to test a
particular path. Never an in-memory stand-in. Tests delete Foxtrot's streams on the NATS
they are given: never point them at a server whose streams matter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from foxtrot.common.local.embedded import EmbeddedNats, EmbeddedPostgres

__all__ = ["Infrastructure", "docker_available", "provision"]

log = logging.getLogger(__name__)


@dataclass
class Infrastructure:
    """The NATS and PostgreSQL a test session uses, and where each came from."""

    nats_url: str
    database_url: str
    nats_source: str
    database_source: str
    nats_url_for: Callable[[str], str] | None = None
    nats_log: Path | None = None

    def nats_violations(self) -> list[str]:
        """Permission violations the NATS server logged (only for a server we run), less
        those of clients named ``foxtrot-e2e-*`` (tests that try what must be refused)."""
        if self.nats_log is None or not self.nats_log.exists():
            return []
        return [
            line
            for line in self.nats_log.read_text(errors="replace").splitlines()
            if "Violation" in line and "foxtrot-e2e-" not in line
        ]

    def service_nats_url(self, service: str) -> str:
        """The URL a service should use: its own NATS user when we run the server."""
        return self.nats_url_for(service) if self.nats_url_for else self.nats_url


def docker_available() -> bool:
    """True when a Docker engine answers."""
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        client.close()
        return True
    except Exception:
        return False


def _plain_postgres_url(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql://").replace(
        "postgresql+asyncpg://", "postgresql://"
    )


async def _create_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.contextmanager
def _session_database(server_url: str) -> Iterator[str]:
    """A database of its own on a shared server, dropped afterwards."""
    name = f"foxtrot_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_create_database(server_url, name))
    try:
        url = make_url(server_url).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(_drop_database(server_url, name))


@contextlib.contextmanager
def provision(workdir: Path) -> Iterator[Infrastructure]:
    """Bring up (or find) NATS and PostgreSQL for the session; tear down what it started."""
    with ExitStack() as stack:
        choice = os.environ.get("FOXTROT_TEST_INFRA", "auto")
        if choice not in ("auto", "docker", "embedded"):
            raise ValueError(f"FOXTROT_TEST_INFRA must be auto, docker or embedded, was {choice!r}")
        use_env = choice == "auto"
        env_nats = os.environ.get("NATS_URL") if use_env else None
        env_db = os.environ.get("DATABASE_URL") if use_env else None
        docker = choice != "embedded" and (not env_nats or not env_db) and docker_available()
        if choice == "docker" and not docker:
            raise RuntimeError("FOXTROT_TEST_INFRA=docker but no Docker engine answers")
        os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
        nats_for: Callable[[str], str] | None = None
        nats: EmbeddedNats | None = None
        if env_nats:
            nats_url, nats_source = env_nats, "NATS_URL"
        elif docker:
            from testcontainers.community.nats import NatsContainer

            container = stack.enter_context(NatsContainer("nats:2.15", jetstream=True))
            nats_url, nats_source = container.nats_uri(), "testcontainers nats:2.15"
        else:
            nats = EmbeddedNats(workdir / "nats").start()
            stack.callback(nats.stop)
            nats_url, nats_source, nats_for = nats.url(), "embedded nats-server", nats.url
        if env_db:
            server_url, db_source = env_db, "DATABASE_URL"
        elif docker:
            from testcontainers.community.postgres import PostgresContainer

            pg = stack.enter_context(PostgresContainer("postgres:15", driver=None))
            server_url, db_source = pg.get_connection_url(), "testcontainers postgres:15"
        else:
            embedded = EmbeddedPostgres(workdir / "postgres", database="postgres").start()
            stack.callback(embedded.stop)
            server_url, db_source = embedded.url(), "embedded pgserver"
        database_url = stack.enter_context(_session_database(_plain_postgres_url(server_url)))
        nats_log = nats.log_path if nats is not None else None
        yield Infrastructure(nats_url, database_url, nats_source, db_source, nats_for, nats_log)
