"""Feeds against real NATS JetStream: started, stopped and deleted at run time, handled in
order, acknowledged when their owner says so."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from prometheus_client import CollectorRegistry

from foxtrot.common.broker import jetstream, make_broker
from foxtrot.common.consumers import Consumers, Delivery
from foxtrot.common.dead_letters import DeadLetters
from foxtrot.common.feeds import Feed
from foxtrot.common.settings import ServiceSettings
from foxtrot.common.streams import DEAD_LETTERS, StreamSpec, ensure_streams
from foxtrot.common.testkit.infrastructure import Infrastructure

pytestmark = pytest.mark.integration


@dataclass
class Rig:
    broker: NatsBroker
    consumers: Consumers
    js: JetStreamContext
    stream: StreamSpec
    subject: str
    feeds: list[Feed[str]] = field(default_factory=list)

    async def publish(self, *texts: str) -> None:
        for text in texts:
            await self.js.publish(self.subject, text.encode(), stream=self.stream.name)

    def feed(
        self,
        handle: Callable[[str, Delivery], Awaitable[None]],
        durable: str = "feed",
        **options: object,
    ) -> Feed[str]:
        # A short ack wait: what a stopped feed handled but never acknowledged comes again
        # after it (a crashed owner's restart waits as long).
        options.setdefault("ack_wait_s", 1.0)
        feed = self.consumers.feed(
            self.subject,
            stream=self.stream,
            durable=durable,
            decode=_decode,
            handle=handle,
            **options,  # type: ignore[arg-type]
        )
        self.feeds.append(feed)
        return feed


def _decode(data: bytes) -> str:
    text = data.decode()
    if text.startswith("bad"):
        raise ValueError(f"cannot read {text!r}")
    return text


@pytest.fixture
async def rig(infrastructure: Infrastructure) -> AsyncIterator[Rig]:
    token = uuid.uuid4().hex[:10]
    service = f"test_{token}"
    registry = CollectorRegistry()
    broker = make_broker(
        service, ServiceSettings(nats_url=infrastructure.nats_url), registry=registry
    )
    consumers = Consumers(
        broker, service, DeadLetters(broker, service, registry), max_deliver=3, retry_delay_s=0.01
    )
    stream = StreamSpec(f"FOXTROT_TEST_{token.upper()}", (f"test.{token}.>",), max_age_s=600)
    await broker.connect()
    js = jetstream(broker)
    await ensure_streams(js, (stream, DEAD_LETTERS))
    rig = Rig(broker, consumers, js, stream, f"test.{token}.feed")
    yield rig
    for feed in rig.feeds:  # a failed test leaves its feeds running
        await feed.stop()
    await js.delete_stream(stream.name)
    await broker.stop()


class Seen:
    """A handler that keeps what it was given and says when it has ``n`` of them."""

    def __init__(self) -> None:
        self.items: list[tuple[str, int]] = []
        self.changed = asyncio.Event()

    async def __call__(self, item: str, delivery: Delivery) -> None:
        self.items.append((item, delivery.stream_seq))
        self.changed.set()

    async def wait_for(self, n: int) -> list[str]:
        async with asyncio.timeout(10):
            while len(self.items) < n:
                self.changed.clear()
                await self.changed.wait()
        return [item for item, _ in self.items]


async def test_a_feed_hands_over_messages_in_order_with_their_stream_sequence(rig: Rig) -> None:
    seen = Seen()
    feed = rig.feed(seen)
    assert await feed.start() is False  # created now
    await rig.publish("a", "bad-1", "b", "c")
    assert await seen.wait_for(3) == ["a", "b", "c"]
    assert [seq for _, seq in seen.items] == [1, 3, 4]  # the undecodable one was passed over
    assert feed.handled_seq == 4
    await feed.stop()


async def test_what_was_not_acknowledged_comes_again_after_a_stop(rig: Rig) -> None:
    seen = Seen()
    feed = rig.feed(seen)
    await feed.start()
    await rig.publish("a", "b")
    await seen.wait_for(2)
    await feed.acknowledge()  # a and b are saved
    await rig.publish("c")
    await seen.wait_for(3)
    await feed.stop()  # c was handled but never acknowledged

    again = Seen()
    restarted = rig.feed(again)
    assert await restarted.start() is True
    assert await again.wait_for(1) == ["c"]
    await restarted.stop()


async def test_messages_up_to_after_seq_are_passed_over_on_an_existing_consumer(rig: Rig) -> None:
    seen = Seen()
    feed = rig.feed(seen)
    await feed.start()
    await rig.publish("a", "b", "c")
    await seen.wait_for(3)
    await feed.stop()  # nothing acknowledged: all three come again

    again = Seen()
    restarted = rig.feed(again)
    await restarted.start(after_seq=2)  # the owner's state holds a and b
    assert await again.wait_for(1) == ["c"]
    await restarted.acknowledge()
    await restarted.delete()

    fresh = Seen()
    recreated = rig.feed(fresh)
    assert await recreated.start(after_seq=3) is False  # a new consumer ignores after_seq
    assert await fresh.wait_for(3) == ["a", "b", "c"]
    await recreated.stop()


async def test_a_failing_handler_is_retried_in_place_so_order_holds(rig: Rig) -> None:
    seen = Seen()
    failures = {"b": 2}

    async def flaky(item: str, delivery: Delivery) -> None:
        if failures.get(item, 0) > 0:
            failures[item] -= 1
            raise RuntimeError("not now")
        await seen(item, delivery)

    feed = rig.feed(flaky)
    await feed.start()
    await rig.publish("a", "b", "c")
    assert await seen.wait_for(3) == ["a", "b", "c"]
    await feed.stop()


async def test_a_handler_that_keeps_failing_is_dead_lettered_and_passed_over(rig: Rig) -> None:
    seen = Seen()

    async def broken_on_b(item: str, delivery: Delivery) -> None:
        if item == "b":
            raise RuntimeError("never")
        await seen(item, delivery)

    dead = await rig.broker.connection.subscribe(f"dlq.v1.{rig.consumers.service}")
    feed = rig.feed(broken_on_b)
    await feed.start()
    await rig.publish("a", "b", "c")
    assert await seen.wait_for(2) == ["a", "c"]
    letter = await dead.next_msg(timeout=5)
    assert letter.data == b"b"
    await feed.stop()


async def test_a_feed_of_new_messages_skips_what_the_stream_held_before(rig: Rig) -> None:
    await rig.publish("old")
    seen = Seen()
    feed = rig.feed(seen, durable="new-only", deliver=DeliverPolicy.NEW, auto_ack=True)
    await feed.start()
    await rig.publish("new")
    assert await seen.wait_for(1) == ["new"]
    await rig.broker.connection.flush()  # the acknowledgement is on its way
    info = await rig.js.consumer_info(rig.stream.name, "new-only")
    assert info.num_ack_pending == 0  # auto_ack
    await feed.delete()


async def test_after_its_reader_died_a_feed_resumes_in_order_right_after_what_was_saved(
    rig: Rig,
) -> None:
    seen = Seen()
    dead = rig.feed(seen, ack_wait_s=60.0)
    await dead.start()
    await rig.publish("a", "b", "c")
    await seen.wait_for(3)
    # The process dies: nothing acknowledged, nothing given back (its owner had saved "a").
    assert dead._task is not None
    dead._task.cancel()
    dead._fetched = []
    await dead.stop()
    await rig.publish("d")

    again = Seen()
    restarted = rig.feed(again, ack_wait_s=60.0)
    assert await restarted.start(after_seq=1) is True
    # At once and in order, not after the 60 s ack wait with "d" first.
    assert await again.wait_for(3) == ["b", "c", "d"]
    await restarted.stop()


async def test_an_outage_holds_the_message_however_long_it_lasts_and_loses_nothing(
    rig: Rig,
) -> None:
    """NATS or PostgreSQL not answering is no fault of the message: it is not counted
    towards the dead letters (max_deliver is 3 here), and order holds."""
    seen = Seen()
    outage = {"left": 6}

    async def publishing(item: str, delivery: Delivery) -> None:
        if item == "fill" and outage["left"] > 0:
            outage["left"] -= 1
            raise TimeoutError("nats: timeout")
        await seen(item, delivery)

    dead = await rig.broker.connection.subscribe(f"dlq.v1.{rig.consumers.service}")
    feed = rig.feed(publishing)
    await feed.start()
    await rig.publish("bar", "fill", "next")
    assert await seen.wait_for(3) == ["bar", "fill", "next"]
    assert outage["left"] == 0
    with pytest.raises(TimeoutError):
        await dead.next_msg(timeout=0.3)
    await feed.stop()
