"""The whole platform on one machine: infrastructure, migrations, five service processes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import nats

from foxtrot.common.local.embedded import EmbeddedNats, EmbeddedPostgres
from foxtrot.common.local.processes import Child, free_port
from foxtrot.common.streams import ensure_streams

__all__ = ["DEFAULT_PORTS", "SERVICES", "LocalPlatform", "PlatformConfig"]

log = logging.getLogger(__name__)

SERVICES: Final = ("execution", "risk", "strategy", "market_data", "gateway")
DEFAULT_PORTS: Final = {
    "gateway": 8000,
    "strategy": 8081,
    "risk": 8082,
    "execution": 8083,
    "market_data": 8084,
}
# Services with a PostgreSQL schema: each gets DATABASE_URL and its migrations are applied.
STATEFUL: Final = frozenset({"execution", "market_data", "risk", "strategy"})


@dataclass
class PlatformConfig:
    """How to run the platform; ``None`` URLs mean start embedded servers."""

    state_dir: Path
    nats_url: str | None = None
    nats_url_for: Callable[[str], str] | None = None
    database_url: str | None = None
    replay_source: str = "synthetic"
    replay_speed: float = 0.0
    replay_limit: int | None = None
    fresh: bool = True
    preferred_ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    # Definitions market_data announces at start (risk refuses orders for instruments it
    # does not know): the repository's deploy/instruments.json when it is there.
    instruments_file: Path | None = field(default_factory=lambda: _default_instruments())


def _default_instruments() -> Path | None:
    path = Path(__file__).resolve().parents[6] / "deploy" / "instruments.json"
    return path if path.exists() else None


class LocalPlatform:
    """Starts and stops everything, in order; a context manager."""

    def __init__(self, config: PlatformConfig) -> None:
        self.config = config
        self.nats: EmbeddedNats | None = None
        self.postgres: EmbeddedPostgres | None = None
        self.children: dict[str, Child] = {}
        self.ports: dict[str, int] = {}
        self.exit_codes: dict[str, int | None] = {}
        self.nats_url = config.nats_url or ""
        self.database_url = config.database_url or ""
        self.log_dir = config.state_dir / "logs"

    def __enter__(self) -> LocalPlatform:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> None:
        """Infrastructure, streams, migrations, then the services; returns when ready."""
        self.start_infrastructure()
        asyncio.run(self._ensure_streams())
        self.migrate()
        for service in SERVICES:
            self.start_service(service)
        self.wait_ready(timeout)

    def start_infrastructure(self) -> None:
        """Start NATS and PostgreSQL unless their URLs were given."""
        state = self.config.state_dir
        if self.config.fresh:
            for sub in ("nats", "logs"):
                shutil.rmtree(state / sub, ignore_errors=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not self.config.nats_url:
            self.nats = EmbeddedNats(state / "nats").start()
            self.nats_url = self.nats.url()
        self._write_nats_env(state / "nats.env")
        if not self.config.database_url:
            self.postgres = EmbeddedPostgres(state / "postgres").start(fresh=self.config.fresh)
            self.database_url = self.postgres.url()

    def _write_nats_env(self, path: Path) -> None:
        """URLs for your own tools, to ``source``: ``FOXTROT_NATS_INGEST_URL`` (the ingest
        user, which may only publish md.v1.ingest.*) and ``FOXTROT_NATS_URL`` (admin)."""
        ingest = self.nats.url("ingest") if self.nats is not None else self.nats_url
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            f"export FOXTROT_NATS_INGEST_URL='{ingest}'",
            f"export FOXTROT_NATS_URL='{self.nats_url}'",
        ]
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)

    def service_env(self, service: str) -> dict[str, str]:
        """The environment one service process gets."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FOXTROT_", "NATS_URL", "DATABASE_URL"))
        }
        env.update(
            {
                "NATS_URL": self._nats_url_for(service),
                "FOXTROT_HTTP_HOST": "127.0.0.1",
                "FOXTROT_HTTP_PORT": str(self.ports.get(service, 0)),
                "OTEL_SERVICE_NAME": f"foxtrot-{service}",
                "PYTHONUNBUFFERED": "1",
            }
        )
        for key in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER"):
            if key in os.environ:
                env[key] = os.environ[key]
        if service in STATEFUL:
            env["DATABASE_URL"] = self.database_url
        if service == "market_data":
            env["FOXTROT_REPLAY_SOURCE"] = self.config.replay_source
            env["FOXTROT_REPLAY_SPEED"] = str(self.config.replay_speed)
            if self.config.replay_limit:
                env["FOXTROT_REPLAY_LIMIT"] = str(self.config.replay_limit)
            if self.config.instruments_file is not None:
                env["FOXTROT_INSTRUMENTS_FILE"] = str(self.config.instruments_file)
        env.update(self.config.service_env.get(service, {}))
        return env

    async def _ensure_streams(self) -> None:
        # As the admin user (services may create streams but not change them).
        client = await nats.connect(self.nats_url)
        try:
            await ensure_streams(client.jetstream(), update=True)
        finally:
            await client.close()

    def _nats_url_for(self, service: str) -> str:
        if self.nats is not None:
            return self.nats.url(service)
        if self.config.nats_url_for is not None:
            return self.config.nats_url_for(service)
        return self.nats_url

    def migrate(self) -> None:
        """Apply each stateful service's migrations."""
        for service in sorted(STATEFUL):
            result = subprocess.run(
                [sys.executable, "-m", f"foxtrot.{service}", "migrate"],
                env=self.service_env(service),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(f"migrating {service} failed:\n{result.stderr[-4000:]}")

    def start_service(self, service: str) -> Child:
        """Start one service process (again, after a stop or a kill)."""
        if service not in self.ports:
            self.ports[service] = free_port(self.config.preferred_ports.get(service))
        child = Child(
            service,
            [sys.executable, "-m", f"foxtrot.{service}"],
            env=self.service_env(service),
            log_path=self.log_dir / f"{service}.log",
        )
        self.children[service] = child
        return child

    def url(self, service: str) -> str:
        """Base HTTP URL of a service."""
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def gateway_url(self) -> str:
        """Base URL of the public API."""
        return self.url("gateway")

    def wait_ready(self, timeout: float, services: tuple[str, ...] = SERVICES) -> None:
        """Block until each service's /readyz answers 200."""
        deadline = time.monotonic() + timeout
        for service in services:
            child = self.children[service]
            while True:
                if not child.alive():
                    raise RuntimeError(
                        f"{service} exited with {child.proc.returncode}; "
                        f"see {self.log_dir / (service + '.log')}:\n"
                        + _tail(self.log_dir / f"{service}.log")
                    )
                if _ready(self.url(service)):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{service} not ready within {timeout}s:\n"
                        + _tail(self.log_dir / f"{service}.log")
                    )
                time.sleep(0.2)

    def stop(self) -> None:
        """Stop the services (gateway first), then NATS and PostgreSQL."""
        for service in reversed(SERVICES):
            child = self.children.pop(service, None)
            if child is not None:
                self.exit_codes[service] = child.stop()
        if self.nats is not None:
            self.nats.stop()
            self.nats = None
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None


def _ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/readyz", timeout=2) as response:
            return bool(json.load(response).get("status") == "ready")
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
