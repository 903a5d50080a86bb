"""pytest fixtures for tests that need real NATS, PostgreSQL or the running platform."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError

from foxtrot.common.local.platform import LocalPlatform, PlatformConfig
from foxtrot.common.streams import STREAMS, ensure_streams
from foxtrot.common.testkit.infrastructure import Infrastructure, provision
from foxtrot.common.testkit.schemas import drop_schema

__all__ = ["clean_streams", "infrastructure", "nats_client", "platform_factory", "reset_streams"]

_KEY = pytest.StashKey[Infrastructure]()


@pytest.fixture(scope="session")
def infrastructure(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Infrastructure]:
    """Real NATS JetStream and PostgreSQL for this test session."""
    with provision(tmp_path_factory.mktemp("infrastructure")) as infra:
        request.config.stash[_KEY] = infra
        print(
            f"\nfoxtrot infrastructure: NATS from {infra.nats_source}, "
            f"PostgreSQL from {infra.database_source}"
        )
        yield infra


@pytest.fixture
async def nats_client(infrastructure: Infrastructure) -> AsyncIterator[NatsClient]:
    """A bare nats-py client with full rights."""
    client = await nats.connect(infrastructure.nats_url)
    try:
        yield client
    finally:
        await client.close()


async def reset_streams(client: NatsClient) -> None:
    """Delete and recreate Foxtrot's streams (and so every consumer on them), and delete
    market data's partition leases and checkpoints, which point into the old streams."""
    js = client.jetstream()
    for spec in STREAMS:
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(spec.name)
    for bucket in ("FOXTROT_MD_LEASES", "FOXTROT_MD_CHECKPOINTS"):
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(f"KV_{bucket}")
    await ensure_streams(js)


@pytest.fixture
async def clean_streams(nats_client: NatsClient) -> NatsClient:
    """Empty streams for this test."""
    await reset_streams(nats_client)
    return nats_client


@pytest.fixture(scope="module")
def platform_factory(
    infrastructure: Infrastructure,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., LocalPlatform]]:
    """Build LocalPlatforms on the session's infrastructure; stopped after the module.

    Streams are reset before each platform starts, so it sees only its own messages."""
    tmp_path = tmp_path_factory.mktemp("platform")
    started: list[LocalPlatform] = []

    def build(**overrides: object) -> LocalPlatform:
        config = PlatformConfig(
            state_dir=tmp_path / f"platform-{len(started)}",
            nats_url=infrastructure.nats_url,
            database_url=infrastructure.database_url,
            nats_url_for=infrastructure.nats_url_for,
        )
        for key, value in overrides.items():
            setattr(config, key, value)
        # build() may be called from a running loop; reset on a loop of its own.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _reset(infrastructure.nats_url)).result()
            # Risk's limits and trading states come from its schema, and the strategy
            # service's instances from its own: start each platform from what its settings
            # give, not from what a test before it set.
            for schema in ("risk", "strategy"):
                pool.submit(asyncio.run, drop_schema(infrastructure.database_url, schema)).result()
        platform = LocalPlatform(config)
        started.append(platform)
        return platform

    yield build
    for platform in started:
        platform.stop()


async def _reset(url: str) -> None:
    client = await nats.connect(url)
    try:
        await reset_streams(client)
    finally:
        await client.close()
