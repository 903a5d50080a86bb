"""PipelinedPublisher against real NATS JetStream: a batch is stored in order and
acknowledged as a whole; a stream that does not store it fails the batch."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NatsClient

from foxtrot.common.errors import PublishFailed
from foxtrot.common.publishing import PipelinedPublisher
from foxtrot.common.streams import StreamSpec

pytestmark = pytest.mark.integration


@pytest.fixture
async def stream(nats_client: NatsClient) -> AsyncIterator[StreamSpec]:
    name = f"PIPE{uuid.uuid4().hex[:8].upper()}"
    spec = StreamSpec(name, (f"pipe.{name}.>",), max_age_s=600)
    js = nats_client.jetstream()
    await js.add_stream(spec.config())
    yield spec
    await js.delete_stream(name)


async def test_a_batch_is_stored_in_order_and_acknowledged_once_for_all(
    nats_client: NatsClient, stream: StreamSpec
) -> None:
    publisher = PipelinedPublisher(lambda: nats_client, stream)
    subject = f"pipe.{stream.name}.a"
    ids = [str(uuid.uuid4()) for _ in range(50)]
    stored = await publisher.send([(subject, f"{i}".encode(), mid) for i, mid in enumerate(ids)])
    async with asyncio.timeout(5):
        await stored
    # A second send of the same ids is acknowledged (as duplicates) and stores nothing new.
    async with asyncio.timeout(5):
        await (await publisher.send([(subject, b"again", mid) for mid in ids]))
    js = nats_client.jetstream()
    assert (await js.stream_info(stream.name)).state.messages == 50
    sub = await js.subscribe(subject, stream=stream.name, ordered_consumer=True)
    got = [(await sub.next_msg(timeout=2)) for _ in ids]
    await sub.unsubscribe()
    assert [m.data for m in got] == [f"{i}".encode() for i in range(50)]
    assert [(m.headers or {}).get("Nats-Msg-Id") for m in got] == ids


async def test_a_subject_no_stream_captures_fails_the_batch(
    nats_client: NatsClient, stream: StreamSpec
) -> None:
    publisher = PipelinedPublisher(lambda: nats_client, stream)
    stored = await publisher.send([(f"nowhere.{uuid.uuid4().hex}", b"x", str(uuid.uuid4()))])
    with pytest.raises(PublishFailed, match="no stream answered"):
        async with asyncio.timeout(5):
            await stored


async def test_a_message_captured_by_another_stream_fails_the_batch(
    nats_client: NatsClient, stream: StreamSpec
) -> None:
    other = StreamSpec("NOT" + stream.name, stream.subjects, max_age_s=600)
    publisher = PipelinedPublisher(lambda: nats_client, other)  # expects the wrong stream
    stored = await publisher.send([(f"pipe.{stream.name}.a", b"x", str(uuid.uuid4()))])
    with pytest.raises(PublishFailed, match=other.name):
        async with asyncio.timeout(5):
            await stored


async def test_one_message_waits_for_its_own_acknowledgement(
    nats_client: NatsClient, stream: StreamSpec
) -> None:
    publisher = PipelinedPublisher(lambda: nats_client, stream)
    await publisher(f"pipe.{stream.name}.b", b"one", str(uuid.uuid4()))
    info = await nats_client.jetstream().stream_info(stream.name)
    assert info.state.messages == 1
