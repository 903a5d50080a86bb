"""Consumers against real NATS JetStream: bad input is dead-lettered, never lost."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry

from foxtrot.common.broker import jetstream, make_broker
from foxtrot.common.consumers import Consumers, Delivery, Settle
from foxtrot.common.dead_letters import (
    KIND_HEADER,
    REASON_HEADER,
    SOURCE_SUBJECT_HEADER,
    DeadLetters,
)
from foxtrot.common.errors import MalformedMessage
from foxtrot.common.messages.v1 import OrdersQuery, QueryFailed, TradeTick
from foxtrot.common.settings import ServiceSettings
from foxtrot.common.streams import DEAD_LETTERS, StreamSpec, ensure_streams
from foxtrot.common.testkit.infrastructure import Infrastructure

pytestmark = pytest.mark.integration


@dataclass
class Rig:
    """A service's consumers on a throwaway stream; register subscriptions, then start()."""

    broker: NatsBroker
    consumers: Consumers
    registry: CollectorRegistry
    js: JetStreamContext
    stream: StreamSpec
    prefix: str
    service: str
    loops: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> Rig:
        await self.broker.start()
        return self

    def dead_letter_count(self, pattern: str, kind: str) -> float:
        value = self.registry.get_sample_value(
            "foxtrot_dead_letters_total",
            {"service": self.service, "subscription": pattern, "kind": kind},
        )
        return value or 0.0


@pytest.fixture
async def rig(infrastructure: Infrastructure) -> AsyncIterator[Rig]:
    token = uuid.uuid4().hex[:10]
    service = f"test_{token}"
    registry = CollectorRegistry()
    broker = make_broker(
        service, ServiceSettings(nats_url=infrastructure.nats_url), registry=registry
    )
    consumers = Consumers(
        broker, service, DeadLetters(broker, service, registry), max_deliver=3, retry_delay_s=0.05
    )
    stream = StreamSpec(f"FOXTROT_TEST_{token.upper()}", (f"test.{token}.>",), max_age_s=600)
    await broker.connect()
    js = jetstream(broker)
    await ensure_streams(js, (stream, DEAD_LETTERS))
    rig = Rig(broker, consumers, registry, js, stream, f"test.{token}", service)
    yield rig
    for loop in rig.loops:
        loop.cancel()
    await asyncio.gather(*rig.loops, return_exceptions=True)
    await js.delete_stream(stream.name)
    await broker.stop()


async def _dead_letters_for(
    js: JetStreamContext, service: str, count: int, timeout: float = 10.0
) -> list[Msg]:
    sub = await js.subscribe(f"dlq.v1.{service}", stream=DEAD_LETTERS.name, ordered_consumer=True)
    got: list[Msg] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(got) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            assert remaining > 0, f"only {len(got)} of {count} dead letters arrived"
            got.append(await sub.next_msg(timeout=remaining))
    finally:
        await sub.unsubscribe()
    return got


def _trade(price: str = "100.5") -> bytes:
    return TradeTick(
        instrument_id="BTCUSDT.BINANCE",
        price=price,
        size="1",
        aggressor_side="BUYER",
        trade_id="t1",
        ts_event=1,
        ts_init=2,
    ).to_json()


async def test_garbage_on_a_durable_subject_is_dead_lettered_with_its_reason_and_acked(
    rig: Rig,
) -> None:
    handled: list[TradeTick] = []

    async def handle(trade: TradeTick, _: Delivery) -> None:
        handled.append(trade)

    r = await _registered(rig, handle)
    garbage = b"\xff\x00 not json"
    await r.js.publish(f"{r.prefix}.trades", garbage)
    await r.js.publish(f"{r.prefix}.trades", _trade())
    [letter] = await _dead_letters_for(r.js, r.service, 1)
    assert letter.data == garbage
    assert letter.headers is not None
    assert letter.headers[SOURCE_SUBJECT_HEADER] == f"{r.prefix}.trades"
    assert letter.headers[KIND_HEADER] == "malformed"
    assert "Invalid JSON" in letter.headers[REASON_HEADER]
    await _until(lambda: len(handled) == 1)
    assert r.dead_letter_count(f"{r.prefix}.*", "malformed") == 1
    info = await r.js.consumer_info(r.stream.name, "durable-test")
    assert info.num_ack_pending == 0
    assert info.num_pending == 0


async def test_a_json_float_price_is_dead_lettered_with_the_field_named(rig: Rig) -> None:
    async def handle(trade: TradeTick, _: Delivery) -> None:
        raise AssertionError("must not be called")

    r = await _registered(rig, handle)
    await r.js.publish(f"{r.prefix}.trades", _trade().replace(b'"100.5"', b"100.5"))
    [letter] = await _dead_letters_for(r.js, r.service, 1)
    assert letter.headers is not None
    assert "price" in letter.headers[REASON_HEADER]
    assert "not a JSON number" in letter.headers[REASON_HEADER]


async def test_a_handler_that_keeps_failing_is_retried_then_dead_lettered(rig: Rig) -> None:
    attempts: list[int] = []

    async def handle(trade: TradeTick, delivery: Delivery) -> None:
        attempts.append(delivery.num_delivered)
        raise RuntimeError("database is down")

    r = await _registered(rig, handle)
    await r.js.publish(f"{r.prefix}.trades", _trade())
    [letter] = await _dead_letters_for(r.js, r.service, 1)
    assert attempts == [1, 2, 3]
    assert letter.headers is not None
    assert letter.headers[KIND_HEADER] == "handler_failed"
    assert "RuntimeError: database is down" in letter.headers[REASON_HEADER]
    assert r.dead_letter_count(f"{r.prefix}.*", "handler_failed") == 1


async def test_a_handler_that_fails_once_succeeds_on_redelivery(rig: Rig) -> None:
    attempts: list[int] = []

    async def handle(trade: TradeTick, delivery: Delivery) -> None:
        attempts.append(delivery.num_delivered)
        if delivery.num_delivered == 1:
            raise RuntimeError("transient")

    r = await _registered(rig, handle)
    await r.js.publish(f"{r.prefix}.trades", _trade())
    await _until(lambda: attempts == [1, 2])
    await asyncio.sleep(0.3)
    assert r.dead_letter_count(f"{r.prefix}.*", "handler_failed") == 0


async def test_a_handler_can_declare_input_malformed_after_decoding(rig: Rig) -> None:
    async def handle(trade: TradeTick, delivery: Delivery) -> None:
        raise MalformedMessage(delivery.subject, "unknown venue in subject")

    r = await _registered(rig, handle)
    await r.js.publish(f"{r.prefix}.trades", _trade())
    [letter] = await _dead_letters_for(r.js, r.service, 1)
    assert letter.headers is not None
    assert letter.headers[REASON_HEADER] == "unknown venue in subject"


async def test_a_bad_query_gets_an_error_reply_and_a_dead_letter(rig: Rig) -> None:
    async def respond(query: OrdersQuery) -> QueryFailed:
        return QueryFailed(error=f"limit {query.limit}")

    rig.consumers.respond(
        f"qry.{rig.prefix}",
        decode=OrdersQuery.model_validate_json,
        respond=respond,
        error_reply=lambda e: QueryFailed(error=e),
    )
    r = await rig.start()
    good = await r.broker.request(b'{"limit": 5}', f"qry.{r.prefix}", timeout=5)
    assert QueryFailed.model_validate_json(good.body).error == "limit 5"
    bad = await r.broker.request(b'{"limit": "many"}', f"qry.{r.prefix}", timeout=5)
    assert QueryFailed.model_validate_json(bad.body).error.startswith("bad request")
    [letter] = await _dead_letters_for(r.js, r.service, 1)
    assert letter.data == b'{"limit": "many"}'
    assert r.dead_letter_count(f"qry.{r.prefix}", "malformed") == 1


async def _registered(
    rig: Rig,
    handle: Callable[[TradeTick, Delivery], Awaitable[None]],
) -> Rig:
    rig.consumers.durable(
        f"{rig.prefix}.*",
        stream=rig.stream,
        durable="durable-test",
        decode=TradeTick.from_json,
        handle=handle,
    )
    return await rig.start()


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_durable_subscription_handles_its_stream_in_order(rig: Rig) -> None:
    seen: list[str] = []

    async def handle(trade: TradeTick, _: Delivery) -> None:
        # Uneven awaits, as real handlers have: concurrent handling would reorder these.
        await asyncio.sleep(0.002 if int(trade.trade_id) % 3 == 0 else 0)
        seen.append(trade.trade_id)

    r = await _registered(rig, handle)
    for n in range(100):
        await r.js.publish(
            f"{r.prefix}.trades",
            TradeTick(
                instrument_id="BTCUSDT.BINANCE",
                price="100",
                size="1",
                aggressor_side="BUYER",
                trade_id=str(n),
                ts_event=n,
                ts_init=n,
            ).to_json(),
        )
    await _until(lambda: len(seen) == 100, timeout=30)
    assert seen == [str(n) for n in range(100)]


async def test_a_stopped_batch_loop_lets_the_connection_drain_at_once(
    rig: Rig, infrastructure: Infrastructure
) -> None:
    # The loop is stopped while its pull request waits at the server, and a message
    # published then is delivered to that request with nobody left to read it. The
    # connection's drain at stop must not wait for it (it waited 30 s, past a pod's grace).
    registry = CollectorRegistry()
    broker = make_broker(
        rig.service, ServiceSettings(nats_url=infrastructure.nats_url), registry=registry
    )
    consumers = Consumers(broker, rig.service, DeadLetters(broker, rig.service, registry))
    handled: list[int] = []

    async def handle(trades: list[TradeTick]) -> None:
        handled.append(len(trades))

    consumers.ordered_batches(
        f"{rig.prefix}.*",
        stream=rig.stream,
        durable="batches-stop-test",
        decode=TradeTick.from_json,
        handle=handle,
    )
    await broker.start()
    (run,) = consumers.loops
    loop = asyncio.create_task(run())
    await rig.js.publish(f"{rig.prefix}.trades", _trade())
    await _until(lambda: handled == [1])
    await asyncio.sleep(0.2)  # the loop's next pull request is at the server now
    loop.cancel()
    await asyncio.wait([loop], timeout=5)
    await rig.js.publish(f"{rig.prefix}.trades", _trade())
    await asyncio.sleep(0.2)
    started = time.monotonic()
    await broker.stop()
    assert time.monotonic() - started < 5


async def _ordered(rig: Rig, handle: Callable[[list[TradeTick]], Awaitable[Settle | None]]) -> None:
    rig.consumers.ordered_batches(
        f"{rig.prefix}.*",
        stream=rig.stream,
        durable="settle-test",
        decode=TradeTick.from_json,
        handle=handle,
    )
    await rig.start()
    for run in rig.consumers.loops:
        task = asyncio.create_task(run())
        rig.loops.append(task)


async def _unacked(rig: Rig) -> int:
    info = await rig.js.consumer_info(rig.stream.name, "settle-test")
    return int(info.num_ack_pending or 0) + int(info.num_pending or 0)


async def test_a_batch_is_handled_while_the_one_before_settles_and_acked_after(rig: Rig) -> None:
    handled: list[str] = []
    release = asyncio.Event()

    async def handle(trades: list[TradeTick]) -> Settle:
        handled.extend(str(t.price) for t in trades)

        async def settle() -> None:
            await release.wait()

        return settle

    await _ordered(rig, handle)
    await rig.js.publish(f"{rig.prefix}.trades", _trade("1"))
    await _until(lambda: handled == ["1"])
    await rig.js.publish(f"{rig.prefix}.trades", _trade("2"))
    # The second batch is handled although the first has not settled: neither is acked.
    await _until(lambda: handled == ["1", "2"])
    assert await _unacked(rig) == 2
    release.set()
    await _until_async(lambda: _unacked(rig), 0)


async def test_a_settle_that_fails_has_its_batch_delivered_again(rig: Rig) -> None:
    handled: list[str] = []
    failures = [RuntimeError("database down")]

    async def handle(trades: list[TradeTick]) -> Settle:
        handled.extend(str(t.price) for t in trades)

        async def settle() -> None:
            if failures:
                raise failures.pop()

        return settle

    await _ordered(rig, handle)
    await rig.js.publish(f"{rig.prefix}.trades", _trade("7"))
    await _until(lambda: handled == ["7", "7"])
    await _until_async(lambda: _unacked(rig), 0)
    assert rig.dead_letter_count(f"{rig.prefix}.*", "handler_failed") == 0


async def _until_async(value: Callable[[], Awaitable[int]], want: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (got := await value()) != want:
        assert time.monotonic() < deadline, f"still {got}, want {want}"
        await asyncio.sleep(0.05)


async def test_following_two_patterns_takes_only_theirs_in_stream_order(rig: Rig) -> None:
    """On any server: one before NATS 2.10 ignores ``filter_subjects`` and sends the whole
    stream, and a message on a subject neither pattern names must not reach the handler
    (nor be dead-lettered as if it were malformed)."""
    seen: list[tuple[str, str]] = []
    done = asyncio.Event()

    async def handle(trade: TradeTick, delivery: Delivery) -> None:
        seen.append((delivery.subject, str(trade.price)))
        if len(seen) == 3:
            done.set()

    await rig.start()
    after = await rig.consumers.last_seq(rig.stream)
    for subject, price in (("a", "1"), ("other", "2"), ("b", "3"), ("other", "4"), ("a", "5")):
        await rig.js.publish(f"{rig.prefix}.{subject}", _trade(price))
    await rig.consumers.follow(
        (f"{rig.prefix}.a", f"{rig.prefix}.b"),
        stream=rig.stream,
        after_seq=after,
        decode=TradeTick.model_validate_json,
        handle=handle,
    )
    await asyncio.wait_for(done.wait(), 10)
    await asyncio.sleep(0.3)  # time for anything that should not come
    assert seen == [(f"{rig.prefix}.a", "1"), (f"{rig.prefix}.b", "3"), (f"{rig.prefix}.a", "5")]
    for pattern in (f"{rig.prefix}.a", f"{rig.prefix}.b"):
        assert rig.dead_letter_count(pattern, "malformed") == 0
