"""Subscriptions that decode strictly and never lose a message.

Every handler gets a decoded model. Bytes that do not decode are dead-lettered with the
reason and acknowledged, so they neither crash the service nor block the stream. A handler
that raises is retried with back-off; after ``max_deliver`` deliveries its message is
dead-lettered too. Durable subscriptions acknowledge only after the handler returned, so a
handler that commits to PostgreSQL before returning has its effects and its acknowledgement
in that order, and a crash in between redelivers the message to an idempotent handler.
FastStream's automatic reply is off (``no_reply``): a responder sends exactly one reply
itself, which is all NATS lets it send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy
from opentelemetry import propagate, trace
from pydantic import BaseModel, ValidationError

from foxtrot.common.broker import inbox_prefix, jetstream
from foxtrot.common.dead_letters import DeadLetterKind, DeadLetters
from foxtrot.common.errors import MalformedMessage
from foxtrot.common.streams import StreamSpec
from foxtrot.common.subjects import matches

if TYPE_CHECKING:
    from foxtrot.common.feeds import Feed

__all__ = ["Consumers", "Delivery", "Settle", "describe_error", "stop_if_cancelled"]

T = TypeVar("T")
log = logging.getLogger(__name__)
_TRACER = trace.get_tracer(__name__)
_IDLE_FETCH_S = 5.0  # how long one pull request waits when nothing comes


def _durable_config(
    durable: str, pattern: str, ack_wait_s: float, max_ack_pending: int
) -> ConsumerConfig:
    """A durable consumer of every message on ``pattern``, each acknowledged explicitly."""
    return ConsumerConfig(
        durable_name=durable,
        filter_subject=pattern,
        ack_policy=JsAckPolicy.EXPLICIT,
        ack_wait=ack_wait_s,
        max_ack_pending=max_ack_pending,
        deliver_policy=DeliverPolicy.ALL,
    )


def _link(headers: Mapping[str, str] | None) -> trace.Link:
    """A link to the trace a message was published in (an invalid one if it carries none)."""
    context = propagate.extract(dict(headers or {}))
    return trace.Link(trace.get_current_span(context).get_span_context())


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where and how a message arrived."""

    subject: str
    headers: Mapping[str, str]
    num_delivered: int = 1
    stream_seq: int = 0  # its JetStream stream sequence, where the subscription knows it


Decoder = Callable[[bytes], T]
Handler = Callable[[T, Delivery], Awaitable[None]]
BatchHandler = Callable[[list[T]], Awaitable[object]]
# What must still happen before a batch is acknowledged (writes, publish acknowledgements),
# returned by an ordered_batches handler so that the next batch need not wait for it.
Settle = Callable[[], Awaitable[None]]
OrderedBatchHandler = Callable[[list[T]], Awaitable[Settle | None]]
Responder = Callable[[T], Awaitable[BaseModel]]


@dataclass(slots=True)
class _Subscription(Generic[T]):
    pattern: str
    decode: Decoder[T]
    handle: Handler[T]


@dataclass(slots=True)
class Consumers:
    """Registers one service's subscriptions on its broker."""

    broker: NatsBroker
    service: str
    dead_letters: DeadLetters
    max_deliver: int = 5
    retry_delay_s: float = 1.0
    patterns: list[str] = field(default_factory=list)
    # Fetch loops of ordered_batches, run by the service runtime once the broker is up.
    loops: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)

    def durable(
        self,
        pattern: str,
        *,
        stream: StreamSpec,
        durable: str,
        decode: Decoder[T],
        handle: Handler[T],
        ack_wait_s: float = 30.0,
    ) -> None:
        """A JetStream pull consumer shared by every replica of the service (work queue).

        Messages are fetched one at a time: FastStream runs the messages of a fetched batch
        as concurrent tasks whose middlewares await before the handler starts, so a batch
        could be handled out of stream order (seen: a trade handled before the three that
        preceded it). One per fetch keeps each replica in stream order and each message in
        its own trace. (:meth:`durable_batch` is for handlers that take a list.)
        """
        sub = _Subscription(pattern, decode, handle)
        config = _durable_config(durable, pattern, ack_wait_s, 1000)

        async def on_message(msg: NatsMessage) -> None:
            raw = msg.raw_message
            attempt = raw.metadata.num_delivered
            if await self._process(sub, msg.body, raw.subject, raw.headers or {}, attempt):
                await raw.ack()
            elif attempt >= self.max_deliver:
                await raw.term()
            else:
                await raw.nak(delay=self.retry_delay_s * attempt)

        self.broker.subscriber(
            pattern,
            stream=JStream(stream.name, declare=False),
            durable=durable,
            config=config,
            pull_sub=PullSub(batch_size=1, timeout=1.0),
            inbox_prefix=f"{inbox_prefix(self.service)}.".encode(),
            ack_policy=AckPolicy.MANUAL,
            no_reply=True,
        )(on_message)
        self.patterns.append(pattern)

    def feed(
        self,
        pattern: str,
        *,
        stream: StreamSpec,
        durable: str,
        decode: Decoder[T],
        handle: Handler[T],
        deliver: DeliverPolicy = DeliverPolicy.ALL,
        auto_ack: bool = False,
        ack_wait_s: float = 60.0,
    ) -> Feed[T]:
        """A durable pull consumer that its owner starts, stops and deletes at run time,
        with the owner deciding when to acknowledge (see :mod:`foxtrot.common.feeds`).
        Nothing happens until the feed is started. (Not in ``patterns``, which lists the
        subscriptions a service has for its whole life.)"""
        from foxtrot.common.feeds import Feed  # feeds builds on this module

        return Feed(
            self.broker,
            self.service,
            self.dead_letters,
            pattern,
            stream,
            durable,
            decode,
            handle,
            deliver=deliver,
            auto_ack=auto_ack,
            max_deliver=self.max_deliver,
            retry_delay_s=self.retry_delay_s,
            ack_wait_s=ack_wait_s,
        )

    def durable_batch(
        self,
        pattern: str,
        *,
        stream: StreamSpec,
        durable: str,
        decode: Decoder[T],
        handle: BatchHandler[T],
        batch_size: int = 500,
        ack_wait_s: float = 10.0,
    ) -> None:
        """Like :meth:`durable`, but the handler takes up to ``batch_size`` messages at once
        (for bulk writes). Bad items are dead-lettered one by one; if the handler raises, the
        whole batch is retried, and items that reached ``max_deliver`` are dead-lettered.

        ``ack_wait_s`` is short because a message the server hands to a fetch whose
        client-side timeout has just run out is only redelivered after it; it must still
        cover one batch's handling (a 500-row insert takes milliseconds)."""
        config = _durable_config(durable, pattern, ack_wait_s, batch_size * 4)

        async def on_batch(msg: NatsMessage) -> None:
            batch: list[Msg] = msg.raw_message  # type: ignore[assignment]  # a batch pull
            if handled := await self._handle_batch(pattern, decode, handle, batch):
                await self._settle(pattern, *handled)

        self.broker.subscriber(
            pattern,
            stream=JStream(stream.name, declare=False),
            durable=durable,
            config=config,
            pull_sub=PullSub(batch_size=batch_size, timeout=0.5, batch=True),
            inbox_prefix=f"{inbox_prefix(self.service)}.".encode(),
            ack_policy=AckPolicy.MANUAL,
            no_reply=True,
        )(on_batch)
        self.patterns.append(pattern)

    def ordered_batches(
        self,
        pattern: str,
        *,
        stream: StreamSpec,
        durable: str,
        decode: Decoder[T],
        handle: OrderedBatchHandler[T],
        max_batch: int = 200,
        ack_wait_s: float = 30.0,
    ) -> None:
        """A durable pull consumer whose handler takes, in stream order, every message
        waiting (up to ``max_batch``) as soon as one arrives: one message alone under light
        load, hundreds at once under heavy load, so a handler that commits per batch keeps
        both its latency and its throughput. Failures are handled as in :meth:`durable_batch`.

        The batch is acknowledged once the handler returns; a handler may instead return a
        ``Settle``: what must still be done before the batch is acknowledged (its writes,
        waiting for what it published to be stored). The loop then fetches and handles the
        next batch while that runs. One batch settles at a time, in stream order, and a
        settle that fails has its batch retried as a failed handler would.

        It runs its own fetch loop on nats-py rather than FastStream's batch pull, which
        waits out its timeout to fill a batch. Each batch gets one span in the first
        message's trace, linked to the trace of every other message in it."""
        config = _durable_config(durable, pattern, ack_wait_s, max_batch * 4)

        async def run() -> None:
            while True:
                try:
                    await consume()
                except Exception:
                    log.exception("fetching from %s failed; trying again in 1 s", pattern)
                    await asyncio.sleep(1.0)

        async def consume() -> None:
            js = jetstream(self.broker)
            pull = await js.pull_subscribe(
                pattern,
                durable=durable,
                stream=stream.name,
                config=config,
                inbox_prefix=f"{inbox_prefix(self.service)}.".encode(),
            )
            try:
                await fetch_and_handle(pull)
            finally:
                # A message or status that came after the last fetch would sit in the
                # subscription's queue, and the connection's drain at stop would wait for
                # someone to read it (30 s, longer than a pod's grace period).
                with contextlib.suppress(Exception):
                    await pull.unsubscribe()

        async def fetch_and_handle(pull: JetStreamContext.PullSubscription) -> None:
            settling: asyncio.Task[None] | None = None
            try:
                while True:
                    # A cancel the second fetch of a batch took for a timeout stops the
                    # loop here, once that batch is handled.
                    stop_if_cancelled()
                    batch = await fetch(pull)
                    if batch is None:
                        continue
                    # The first message's trace goes on through the batch (so a lone
                    # message keeps one trace end to end); every other message's is linked.
                    with _TRACER.start_as_current_span(
                        f"{pattern} process",
                        context=propagate.extract(dict(batch[0].headers or {})),
                        kind=trace.SpanKind.CONSUMER,
                        links=[_link(m.headers) for m in batch[1:]],
                        attributes={"messaging.batch.message_count": len(batch)},
                    ):
                        handled = await self._handle_batch(pattern, decode, handle, batch)
                    if handled is None:
                        continue
                    if settling is not None:
                        await settling
                    settling = asyncio.create_task(self._settle(pattern, *handled))
            finally:
                if settling is not None:  # a stop lets the batch in hand finish settling
                    with contextlib.suppress(Exception):
                        await settling

        async def fetch(pull: JetStreamContext.PullSubscription) -> list[Msg] | None:
            try:
                batch = await pull.fetch(1, timeout=_IDLE_FETCH_S)
            except NatsTimeoutError:
                stop_if_cancelled()
                return None
            waiting = batch[-1].metadata.num_pending
            if waiting:  # already in the stream: fetched without waiting
                with contextlib.suppress(NatsTimeoutError):
                    batch += await pull.fetch(min(waiting, max_batch - 1), timeout=1.0)
            return batch

        self.loops.append(run)
        self.patterns.append(pattern)

    async def _handle_batch(
        self,
        pattern: str,
        decode: Decoder[T],
        handle: Callable[[list[T]], Awaitable[object]],
        batch: list[Msg],
    ) -> tuple[Settle, list[Msg]] | None:
        """Decode a batch (dead-lettering what does not decode) and hand it over. The batch
        is acknowledged here unless the handler returned a Settle: then that and the
        messages to acknowledge after it are returned."""
        good: list[tuple[T, Msg]] = []
        for raw in batch:
            try:
                good.append((decode(raw.data), raw))
            except (ValidationError, ValueError) as exc:
                await self._dead_letter(
                    pattern,
                    raw.data,
                    raw.subject,
                    raw.headers or {},
                    DeadLetterKind.MALFORMED,
                    _describe(exc),
                )
                await raw.ack()
        if not good:
            return None
        messages = [raw for _, raw in good]
        try:
            settle = await handle([payload for payload, _ in good])
        except Exception as exc:
            await self._batch_failed(pattern, messages, exc)
            return None
        if callable(settle):
            return settle, messages
        for raw in messages:
            await raw.ack()
        return None

    async def _settle(self, pattern: str, settle: Settle, messages: list[Msg]) -> None:
        try:
            await settle()
        except Exception as exc:
            await self._batch_failed(pattern, messages, exc)
            return
        for raw in messages:
            await raw.ack()

    async def _batch_failed(self, pattern: str, messages: list[Msg], exc: Exception) -> None:
        """Retry a batch whose handling failed, later; dead-letter the messages that were
        delivered ``max_deliver`` times already."""
        log.error(
            "batch handler for %s failed on %d messages",
            pattern,
            len(messages),
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        for raw in messages:
            attempt = raw.metadata.num_delivered
            if attempt >= self.max_deliver:
                await self._dead_letter(
                    pattern,
                    raw.data,
                    raw.subject,
                    raw.headers or {},
                    DeadLetterKind.HANDLER_FAILED,
                    f"batch handler failed on delivery {attempt}: {type(exc).__name__}: {exc}",
                )
                await raw.term()
            else:
                await raw.nak(delay=self.retry_delay_s * attempt)

    def latest(
        self, pattern: str, *, stream: StreamSpec, decode: Decoder[T], handle: Handler[T]
    ) -> None:
        """Each subject's last stored message, then every new one: a live market view."""
        sub = _Subscription(pattern, decode, handle)

        async def on_message(msg: NatsMessage) -> None:
            raw = msg.raw_message
            await self._process(
                sub, msg.body, raw.subject, raw.headers or {}, 1, retry_in_place=True
            )

        self.broker.subscriber(
            pattern,
            stream=JStream(stream.name, declare=False),
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
            ack_policy=AckPolicy.MANUAL,
            no_reply=True,
        )(on_message)
        self.patterns.append(pattern)

    async def follow(
        self,
        patterns: Sequence[str],
        *,
        stream: StreamSpec,
        after_seq: int,
        decode: Decoder[T],
        handle: Handler[T],
    ) -> None:
        """Every message on any of ``patterns`` stored after stream sequence ``after_seq``,
        in stream order, then every new one: state rebuilt from a snapshot taken at
        ``after_seq`` and kept current. One ordered consumer for all the patterns, so it
        needs no acks, keeps their messages in the order they were stored and resumes by
        itself after a reconnect; a handler failure is logged and dead-lettered, not
        retried."""
        subs = [_Subscription(pattern, decode, handle) for pattern in patterns]

        async def on_message(raw: Msg) -> None:
            # Counted and dead-lettered under the pattern the message came by. A server
            # before NATS 2.10 ignores ``filter_subjects`` and sends the whole stream:
            # what no pattern names is not this subscription's, and is passed over.
            sub = next((s for s in subs if matches(s.pattern, raw.subject)), None)
            if sub is None:
                return
            await self._process(
                sub, raw.data, raw.subject, raw.headers or {}, 1, retry_in_place=True
            )

        await jetstream(self.broker).subscribe(
            patterns[0],
            stream=stream.name,
            cb=on_message,
            ordered_consumer=True,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=after_seq + 1,
                filter_subjects=list(patterns),
            ),
        )
        self.patterns.extend(patterns)

    async def last_seq(self, stream: StreamSpec) -> int:
        """The stream's last sequence number now (0 when empty)."""
        info = await jetstream(self.broker).stream_info(stream.name)
        return info.state.last_seq

    async def last_of_each(
        self, pattern: str, *, stream: StreamSpec, decode: Decoder[T]
    ) -> list[T]:
        """Each subject's last stored message, read now: state to have before subscribing.

        A message that does not decode is skipped with a warning (the live subscription
        dead-letters it)."""
        js = jetstream(self.broker)
        info = await js.stream_info(stream.name, subjects_filter=pattern)
        found: list[T] = []
        for subject in sorted(info.state.subjects or {}):
            raw = await js.get_last_msg(stream.name, subject)
            try:
                found.append(decode(raw.data or b""))
            except (ValidationError, ValueError) as exc:
                log.warning("skipped the last message on %s: %s", subject, _describe(exc))
        return found

    def respond(
        self,
        pattern: str,
        *,
        decode: Decoder[T],
        respond: Responder[T],
        error_reply: Callable[[str], BaseModel],
    ) -> None:
        """Request/reply, load-balanced over the service's replicas by a queue group."""

        async def on_message(msg: NatsMessage) -> None:
            raw = msg.raw_message
            try:
                request = decode(msg.body)
            except (ValidationError, ValueError) as exc:
                await self._dead_letter(
                    pattern,
                    msg.body,
                    raw.subject,
                    raw.headers or {},
                    DeadLetterKind.MALFORMED,
                    _describe(exc),
                )
                reply: BaseModel = error_reply(f"bad request: {_describe(exc)}")
            else:
                try:
                    reply = await respond(request)
                except Exception as exc:
                    log.exception("query on %s failed", raw.subject)
                    reply = error_reply(f"query failed: {exc}")
            if raw.reply:
                await self.broker.publish(reply.model_dump_json().encode(), raw.reply)

        self.broker.subscriber(
            pattern, queue=f"{self.service}-queries", ack_policy=AckPolicy.MANUAL, no_reply=True
        )(on_message)
        self.patterns.append(pattern)

    async def _process(
        self,
        sub: _Subscription[Any],
        data: bytes,
        subject: str,
        headers: Mapping[str, str],
        attempt: int,
        retry_in_place: bool = False,
    ) -> bool:
        """Decode and handle; True when the message is done with (handled or dead-lettered)."""
        try:
            payload = sub.decode(data)
        except (ValidationError, ValueError) as exc:
            await self._dead_letter(
                sub.pattern, data, subject, headers, DeadLetterKind.MALFORMED, _describe(exc)
            )
            return True
        delivery = Delivery(subject, headers, attempt)
        try:
            await sub.handle(payload, delivery)
        except MalformedMessage as exc:
            await self._dead_letter(
                sub.pattern, data, subject, headers, DeadLetterKind.MALFORMED, exc.reason
            )
            return True
        except Exception as exc:
            log.exception(
                "handler for %s failed (delivery %d of %d)", subject, attempt, self.max_deliver
            )
            if retry_in_place or attempt >= self.max_deliver:
                await self._dead_letter(
                    sub.pattern,
                    data,
                    subject,
                    headers,
                    DeadLetterKind.HANDLER_FAILED,
                    f"handler failed on delivery {attempt}: {type(exc).__name__}: {exc}",
                )
                return retry_in_place
            return False
        return True

    async def _dead_letter(
        self,
        pattern: str,
        data: bytes,
        subject: str,
        headers: Mapping[str, str],
        kind: str,
        reason: str,
    ) -> None:
        await self.dead_letters.send(
            data=data,
            source_subject=subject,
            subscription=pattern,
            kind=kind,
            reason=reason,
            headers=dict(headers),
        )


def stop_if_cancelled() -> None:
    """Raise CancelledError if this task is being cancelled. nats-py waits with wait_for,
    which on Python 3.11 can turn a cancel that meets its timeout into a timeout (and a
    handler's own wait_for can do the same): caught as an error and retried, a stop would
    never stop a consuming loop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def describe_error(exc: Exception) -> str:
    """What was wrong with a message, in one line (every field a validation error names)."""
    return _describe(exc)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors(include_url=False)[:10]
        ]
        return f"{exc.error_count()} validation error(s) for {exc.title}: " + "; ".join(parts)
    return f"{type(exc).__name__}: {exc}"
