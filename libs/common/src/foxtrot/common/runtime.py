"""What every service process is made of: settings, logs, traces, broker, consumers,
the ops endpoints (/healthz, /readyz, /metrics, /subscriptions) and a graceful stop on
SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import TypeVar

import uvicorn
from fastapi import FastAPI, Response
from faststream.nats import NatsBroker
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.broker import jetstream, make_broker
from foxtrot.common.consumers import Consumers
from foxtrot.common.dead_letters import DeadLetters
from foxtrot.common.errors import ConfigurationError
from foxtrot.common.logs import configure_logging
from foxtrot.common.persistence import make_engine, upgrade_schema
from foxtrot.common.settings import ServiceSettings
from foxtrot.common.streams import ensure_streams
from foxtrot.common.telemetry import setup_tracing

__all__ = ["Hook", "ServiceRuntime", "run_service", "serve"]

log = logging.getLogger(__name__)
_LOOP_STOP_S = 5.0  # how long a stop waits for the consumers' fetch loops to end
Hook = Callable[[], Awaitable[None]]
S = TypeVar("S", bound=ServiceSettings)


@dataclass
class ServiceRuntime:
    """A service's infrastructure, wired once in its composition root."""

    service: str
    settings: ServiceSettings
    broker: NatsBroker
    consumers: Consumers
    tracer_provider: TracerProvider
    engine: AsyncEngine | None = None
    before_subscribe: list[Hook] = field(default_factory=list)
    on_start: list[Hook] = field(default_factory=list)
    on_stop: list[Hook] = field(default_factory=list)
    # More of what readiness waits for, by name: "ok", or what is missing.
    ready_checks: dict[str, Callable[[], str]] = field(default_factory=dict)
    started: bool = False

    @classmethod
    def create(
        cls, service: str, settings: ServiceSettings, *, database: bool = False
    ) -> ServiceRuntime:
        """Configure logs and traces and build the broker (and engine when ``database``)."""
        configure_logging(service, settings.log_level)
        provider = setup_tracing(service, settings)
        broker = make_broker(service, settings, provider)
        consumers = Consumers(
            broker, service, DeadLetters(broker, service), max_deliver=settings.handler_max_deliver
        )
        engine = None
        if database:
            if not settings.database_url:
                raise ConfigurationError(f"{service} keeps state: set DATABASE_URL")
            engine = make_engine(settings.database_url)
        return cls(service, settings, broker, consumers, provider, engine)

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        """Connect, declare streams, start the use cases and subscribers; undo on stop."""
        await self.broker.connect()
        await ensure_streams(jetstream(self.broker))
        for hook in self.before_subscribe:
            await hook()
        await self.broker.start()
        loops = [asyncio.create_task(loop()) for loop in self.consumers.loops]
        for hook in self.on_start:
            await hook()
        self.started = True
        log.info("%s started", self.service, extra={"subscriptions": self.consumers.patterns})
        try:
            yield
        finally:
            self.started = False
            log.info("%s stopping", self.service)
            for hook in reversed(self.on_stop):
                await hook()
            for task in loops:
                task.cancel()
            if loops:
                await asyncio.wait(loops, timeout=_LOOP_STOP_S)
            await self.broker.stop()
            if self.engine is not None:
                await self.engine.dispose()
            self.tracer_provider.shutdown()
            log.info("%s stopped", self.service)

    async def readiness(self) -> dict[str, str]:
        """Each dependency and whether it answers; every value is "ok" when ready."""
        checks: dict[str, str] = {"started": "ok" if self.started else "starting"}
        checks.update((name, check()) for name, check in self.ready_checks.items())
        try:
            await asyncio.wait_for(self.broker.connection.flush(), timeout=2.0)
            checks["nats"] = "ok"
        except Exception as exc:
            checks["nats"] = f"unreachable: {type(exc).__name__}"
        if self.engine is not None:
            try:
                async with asyncio.timeout(2.0), self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                checks["database"] = "ok"
            except Exception as exc:
                checks["database"] = f"unreachable: {type(exc).__name__}"
        return checks

    def app(self, title: str | None = None, version: str = "1") -> FastAPI:
        """A FastAPI app that runs the service in its lifespan and serves the ops endpoints."""
        app = FastAPI(
            title=title or f"foxtrot-{self.service}", version=version, lifespan=self.lifespan
        )

        @app.get("/healthz", tags=["ops"], summary="The process is alive")
        async def healthz() -> dict[str, str]:
            return {"status": "ok", "service": self.service}

        @app.get("/readyz", tags=["ops"], summary="Broker and database reachable")
        async def readyz(response: Response) -> dict[str, object]:
            checks = await self.readiness()
            ready = all(v == "ok" for v in checks.values())
            response.status_code = 200 if ready else 503
            return {"status": "ready" if ready else "not ready", "checks": checks}

        @app.get("/subscriptions", tags=["ops"], summary="Subjects this service consumes")
        async def subscriptions() -> dict[str, list[str]]:
            return {
                "subscriptions": list(self.consumers.patterns),
                "dead_letter_subject": [self.consumers.dead_letters.subject],
            }

        @app.get("/metrics", tags=["ops"], summary="Prometheus metrics")
        async def metrics() -> Response:
            return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

        return app


class _Server(uvicorn.Server):
    """uvicorn, except that a graceful stop on SIGTERM/SIGINT exits 0 instead of re-raising
    the signal, so supervisors see an orderly stop as success."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.started:
            # Still starting (e.g. waiting for NATS): nothing to drain, so stop right away
            # rather than ignore the signal until start-up ends.
            log.warning("signal %d during start-up: stopping without waiting", sig)
            raise SystemExit(128 + sig)
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {
            sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run the app until SIGTERM or SIGINT, then stop gracefully and exit 0."""
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=10,
        access_log=False,
    )
    server = _Server(config)
    server.run()
    if not server.started:
        raise SystemExit(1)


def run_service(
    create_app: Callable[[S], FastAPI],
    settings: S,
    migrations: tuple[str, str] | None = None,
) -> None:
    """A service's ``main``: ``migrate`` applies its Alembic migrations (``(script
    location, schema)``) and exits; no argument serves until SIGTERM."""
    arguments = sys.argv[1:]
    if arguments == ["migrate"] and migrations is not None:
        if not settings.database_url:
            raise SystemExit("set DATABASE_URL to migrate")
        upgrade_schema(settings.database_url, *migrations)
        return
    if arguments:
        usage = " [migrate]" if migrations is not None else ""
        raise SystemExit(f"usage: python -m foxtrot.<service>{usage}")
    serve(create_app(settings), settings)
