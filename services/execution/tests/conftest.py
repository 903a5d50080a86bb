"""Fixtures for execution's integration tests: a fresh schema and a JetStream publisher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.streams import EVENTS, ensure_streams
from foxtrot.common.testkit.infrastructure import Infrastructure
from foxtrot.common.testkit.schemas import fresh_schema
from foxtrot.execution.app import MIGRATIONS, SCHEMA

Publish = Callable[[str, bytes, str], Awaitable[None]]


@pytest.fixture
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    async with fresh_schema(infrastructure.database_url, MIGRATIONS, SCHEMA) as engine:
        yield engine


@pytest.fixture
async def publish(nats_client: NatsClient) -> Publish:
    js = nats_client.jetstream()
    await ensure_streams(js)

    async def publish(subject: str, payload: bytes, message_id: str) -> None:
        await js.publish(subject, payload, headers={"Nats-Msg-Id": message_id}, stream=EVENTS.name)

    return publish
