"""Fixtures for execution's integration tests: a fresh schema and a JetStream publisher."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.publishing import PipelinedPublisher
from foxtrot.common.streams import EVENTS, ensure_streams
from foxtrot.common.testkit.infrastructure import Infrastructure
from foxtrot.common.testkit.schemas import fresh_schema
from foxtrot.execution.app import MIGRATIONS, SCHEMA
from foxtrot.execution.outbox import Send


@pytest.fixture
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    async with fresh_schema(infrastructure.database_url, MIGRATIONS, SCHEMA) as engine:
        yield engine


@pytest.fixture
async def publish(nats_client: NatsClient) -> Send:
    """What ExecutionService sends its events with: the real pipelined JetStream publisher."""
    await ensure_streams(nats_client.jetstream())
    return PipelinedPublisher(lambda: nats_client, EVENTS).send
