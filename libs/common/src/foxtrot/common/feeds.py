"""Durable pull consumers that their owner starts, stops and deletes while the service runs.

:class:`~foxtrot.common.consumers.Consumers` registers a service's subscriptions once,
before its broker starts. A service whose subscriptions change at run time (the strategy
service: each hosted instance reads the subjects its strategy subscribed to) uses a
:class:`Feed`: one durable JetStream pull consumer and the task that reads it.

- Messages are handled one at a time, in stream order.
- Bytes that do not decode are dead-lettered with the reason, as by ``Consumers``, and
  count as handled.
- A handler that raises is called again with the same message, after a back-off, so the
  messages after it wait and order holds; after ``max_deliver`` attempts the message is
  dead-lettered and passed over.
- Acknowledging is the owner's call: the consumer's ack policy is ``ALL`` and
  :meth:`Feed.acknowledge` acknowledges every message handled so far. An owner that keeps
  state acknowledges once that state is saved, so that after a crash the messages its saved
  state lacks come again. With ``auto_ack`` each message is acknowledged once handled.
- A message handled before (redelivered after the ack wait, or at or before the
  ``after_seq`` given to :meth:`Feed.start` when the consumer already existed) is not
  handed over again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError

from foxtrot.common.broker import inbox_prefix, jetstream
from foxtrot.common.consumers import (
    Decoder,
    Delivery,
    Handler,
    describe_error,
    stop_if_cancelled,
)
from foxtrot.common.dead_letters import DeadLetterKind, DeadLetters
from foxtrot.common.errors import InfrastructureError, MalformedMessage
from foxtrot.common.streams import StreamSpec

__all__ = ["Feed"]

T = TypeVar("T")
log = logging.getLogger(__name__)
_IDLE_FETCH_S = 5.0  # how long one pull request waits when nothing comes
_MAX_BATCH = 100  # messages fetched at once when the stream holds more
_MAX_BACKOFF_S = 30.0
# Failures of the infrastructure, not of the message: retried for as long as they last.
_OUTAGES: tuple[type[BaseException], ...] = (
    InfrastructureError,
    TimeoutError,  # nats-py's timeouts too
    ConnectionError,
    NatsError,
    OperationalError,  # PostgreSQL unreachable or gone away
    InterfaceError,
)


@dataclass(eq=False)
class Feed(Generic[T]):
    """One durable pull consumer on ``pattern``, read by a task of its own while started."""

    broker: NatsBroker
    service: str
    dead_letters: DeadLetters
    pattern: str
    stream: StreamSpec
    durable: str
    decode: Decoder[T]
    handle: Handler[T]
    deliver: DeliverPolicy = DeliverPolicy.ALL  # where a consumer created now begins
    auto_ack: bool = False
    max_deliver: int = 5
    retry_delay_s: float = 1.0
    ack_wait_s: float = 60.0
    max_ack_pending: int = 2000
    handled_seq: int = 0  # the stream sequence of the last message handled
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    _pull: JetStreamContext.PullSubscription | None = field(default=None, init=False, repr=False)
    _unacked: Msg | None = field(default=None, init=False, repr=False)
    _unacked_count: int = field(default=0, init=False, repr=False)
    _fetched: list[Msg] = field(default_factory=list, init=False, repr=False)
    _existed: bool | None = field(default=None, init=False, repr=False)
    _found: ConsumerInfo | None = field(default=None, init=False, repr=False)

    @property
    def running(self) -> bool:
        """Whether the feed is reading its consumer."""
        return self._task is not None and not self._task.done()

    @property
    def unacknowledged(self) -> int:
        """Messages handled since the last acknowledgement."""
        return self._unacked_count

    def config(self) -> ConsumerConfig:
        """The consumer's configuration when the feed creates it."""
        return ConsumerConfig(
            name=self.durable,
            durable_name=self.durable,
            filter_subject=self.pattern,
            ack_policy=AckPolicy.ALL,
            ack_wait=self.ack_wait_s,
            max_ack_pending=self.max_ack_pending,
            deliver_policy=self.deliver,
        )

    async def create(self) -> bool:
        """Create the consumer if it is missing, without reading it yet (so that nothing
        published from now on is missed); returns whether it existed."""
        if self._existed is None:
            js = jetstream(self.broker)
            try:
                self._found = await js.consumer_info(self.stream.name, self.durable)
                self._existed = True
            except NotFoundError:
                await js.add_consumer(self.stream.name, self.config())
                self._existed = False
        return self._existed

    async def start(self, after_seq: int = 0) -> bool:
        """Create the consumer if it is missing and read it; returns whether it existed
        before this feed first looked.

        Messages up to stream sequence ``after_seq`` (what the owner's saved state already
        holds) are passed over, but only on a consumer that existed: a new one (after its
        stream was recreated, say) begins where ``deliver`` says. An existing consumer with
        messages delivered but never acknowledged (its reader died) is made again to begin
        right after what was saved or acknowledged: the server would otherwise hand over
        newer messages first and those only after the ack wait, out of order."""
        if self.running:
            return bool(self._existed)
        existed = await self.create()
        found, self._found = self._found, None
        if existed and found is not None and found.num_ack_pending:
            floor = found.ack_floor.stream_seq if found.ack_floor is not None else 0
            after_seq = max(after_seq, floor or 0)
            await self._begin_after(after_seq)
        self._pull = await jetstream(self.broker).pull_subscribe_bind(
            durable=self.durable,
            stream=self.stream.name,
            inbox_prefix=f"{inbox_prefix(self.service)}.".encode(),
        )
        self.handled_seq = max(self.handled_seq, after_seq) if existed else 0
        self._task = asyncio.create_task(self._run(self._pull), name=f"feed-{self.durable}")
        return existed

    async def _begin_after(self, seq: int) -> None:
        js = jetstream(self.broker)
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(self.stream.name, self.durable)
        config = self.config()
        config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
        config.opt_start_seq = seq + 1
        await js.add_consumer(self.stream.name, config)

    async def stop(self) -> None:
        """Stop reading; the consumer stays, and so do the messages not acknowledged yet."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        # Fetched but not handled: back to the stream at once rather than after the ack wait.
        fetched, self._fetched = self._fetched, []
        for msg in fetched:
            if msg.metadata.sequence.stream > self.handled_seq:
                with contextlib.suppress(Exception):
                    await msg.nak()
        pull, self._pull = self._pull, None
        if pull is not None:
            # What came after the last fetch would otherwise keep the connection's drain
            # waiting at stop.
            with contextlib.suppress(Exception):
                await pull.unsubscribe()
        self._unacked = None
        self._unacked_count = 0

    async def delete(self) -> None:
        """Stop reading and delete the consumer: a later start begins where ``deliver`` says."""
        await self.stop()
        with contextlib.suppress(NotFoundError):
            await jetstream(self.broker).delete_consumer(self.stream.name, self.durable)
        self.handled_seq = 0
        self._existed = None

    async def acknowledge(self) -> None:
        """Acknowledge every message handled so far."""
        msg, self._unacked = self._unacked, None
        self._unacked_count = 0
        if msg is not None:
            await msg.ack()

    async def _run(self, pull: JetStreamContext.PullSubscription) -> None:
        while True:
            try:
                batch = await self._fetch(pull)
            except asyncio.CancelledError:
                raise
            except Exception:
                stop_if_cancelled()
                log.exception("fetching %s from %s failed; trying again in 1 s", *self._where())
                await asyncio.sleep(1.0)
                continue
            self._fetched = batch
            for index, msg in enumerate(batch):
                self._fetched = batch[index:]
                await self._one(msg)
            self._fetched = []

    def _where(self) -> tuple[str, str]:
        return self.durable, self.stream.name

    async def _fetch(self, pull: JetStreamContext.PullSubscription) -> list[Msg]:
        try:
            batch = await pull.fetch(1, timeout=_IDLE_FETCH_S)
        except NatsTimeoutError:
            stop_if_cancelled()
            return []
        waiting = batch[-1].metadata.num_pending
        if waiting:
            try:
                batch += await pull.fetch(min(waiting, _MAX_BATCH - 1), timeout=1.0)
            except NatsTimeoutError:
                self._fetched = batch  # a stop gives these back to the stream at once
                stop_if_cancelled()
        return batch

    async def _one(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        if seq > self.handled_seq:
            await self._handle(msg, seq)
            self.handled_seq = seq
        self._unacked = msg
        self._unacked_count += 1
        if self.auto_ack:
            await self.acknowledge()

    async def _handle(self, msg: Msg, seq: int) -> None:
        headers = dict(msg.headers or {})
        try:
            payload = self.decode(msg.data)
        except (ValidationError, ValueError) as exc:
            await self._dead_letter(msg, DeadLetterKind.MALFORMED, describe_error(exc))
            return
        attempt = 0
        outages = 0
        while True:
            attempt += 1
            delivery = Delivery(msg.subject, headers, msg.metadata.num_delivered, seq)
            try:
                await self.handle(payload, delivery)
                return
            except MalformedMessage as exc:
                await self._dead_letter(msg, DeadLetterKind.MALFORMED, exc.reason)
                return
            except _OUTAGES as exc:
                stop_if_cancelled()
                # NATS or PostgreSQL did not answer: nothing is wrong with the message, so
                # it is held (and the stream told so) and tried again for as long as that
                # lasts, rather than dead-lettered with what it carries (a fill, say).
                attempt -= 1
                outages += 1
                log.warning(
                    "handler for %s could not reach NATS or PostgreSQL (%s: %s); holding the "
                    "message, try %d",
                    msg.subject,
                    type(exc).__name__,
                    exc,
                    outages,
                )
                with contextlib.suppress(Exception):
                    await msg.in_progress()
                await asyncio.sleep(min(self.retry_delay_s * 2 ** min(outages, 10), _MAX_BACKOFF_S))
                continue
            except Exception as exc:
                stop_if_cancelled()
                log.exception(
                    "handler for %s failed (attempt %d of %d)",
                    msg.subject,
                    attempt,
                    self.max_deliver,
                )
                if attempt >= self.max_deliver:
                    reason = f"handler failed {attempt} times: {type(exc).__name__}: {exc}"
                    await self._dead_letter(msg, DeadLetterKind.HANDLER_FAILED, reason)
                    return
            await asyncio.sleep(min(self.retry_delay_s * attempt, _MAX_BACKOFF_S))

    async def _dead_letter(self, msg: Msg, kind: str, reason: str) -> None:
        await self.dead_letters.send(
            data=msg.data,
            source_subject=msg.subject,
            subscription=self.pattern,
            kind=kind,
            reason=reason,
            headers=dict(msg.headers or {}),
        )
