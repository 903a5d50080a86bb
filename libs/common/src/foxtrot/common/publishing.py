"""Publishing v1 messages to JetStream with ``Nats-Msg-Id`` set for server-side dedup."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence

from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.aio.msg import Msg
from opentelemetry import propagate

from foxtrot.common.errors import PublishFailed
from foxtrot.common.ids import DerivedIds, derived_id
from foxtrot.common.messages.v1 import Message
from foxtrot.common.streams import StreamSpec

__all__ = [
    "DerivedIds",
    "Outgoing",
    "PipelinedPublisher",
    "Publisher",
    "derived_id",
    "now_ns",
]


def now_ns() -> int:
    """Wall-clock UTC time in nanoseconds; services read the clock, the domain never does."""
    return time.time_ns()


class Publisher:
    """Publishes messages into a JetStream stream.

    With ``confirm`` (the default, for commands and events) each publish waits for the
    stream's acknowledgement. Without it (market data, where throughput matters and a
    lost tick is recovered from the venue, not retried) the message goes out as a plain
    NATS publish that the stream still captures and still deduplicates by ``Nats-Msg-Id``.
    """

    def __init__(self, broker: NatsBroker, confirm: bool = True) -> None:
        self.broker = broker
        self.confirm = confirm

    async def __call__(self, subject: str, message: Message, stream: StreamSpec) -> None:
        await self.raw(subject, message.to_json(), str(message.message_id), stream)

    async def raw(
        self, subject: str, payload: bytes, message_id: str | None, stream: StreamSpec | None
    ) -> None:
        """Publish bytes already encoded (an outbox's stored event) under ``message_id``;
        without one (or a stream), as a plain NATS message no stream keeps."""
        await self.broker.publish(
            payload,
            subject,
            headers={"Nats-Msg-Id": message_id} if message_id else None,
            stream=stream.name if self.confirm and stream and message_id else None,
        )


Outgoing = tuple[str, bytes, str]  # subject, payload, message id


class PipelinedPublisher:
    """Publishes encoded messages into a JetStream stream many at a time.

    ``send`` writes a batch of messages in order at once and returns one future for all of
    their acknowledgements, to await together or in the background: one round trip for
    the batch instead of one per message. It speaks to the NATS connection directly, with
    one reply subscription for every acknowledgement (on the service's own inbox prefix, as
    its NATS permissions require): FastStream's per-message middlewares, and nats-py's
    ``publish_async`` with a semaphore, a ``wait_for`` and a future per message, cost more
    than the publish itself at this rate. It carries the current trace context in the
    headers itself.
    """

    def __init__(
        self,
        connection: Callable[[], Client],
        stream: StreamSpec,
        ack_timeout_s: float = 10.0,
    ) -> None:
        self.connection = connection
        self.stream = stream
        self.ack_timeout_s = ack_timeout_s
        self._nc: Client | None = None
        self._prefix = ""
        self._next = 0
        # Per batch, on its own reply subject: the future and the acks still to come.
        self._waiting: dict[str, tuple[asyncio.Future[None], list[int]]] = {}

    async def __call__(self, subject: str, payload: bytes, message_id: str) -> None:
        """Publish one message and wait for the stream to acknowledge it."""
        await self.publish([(subject, payload, message_id)])

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        """Publish messages in order and wait, at most ``ack_timeout_s``, until the stream
        has stored every one."""
        await self.confirm(await self.send(messages))

    async def confirm(self, stored: asyncio.Future[None]) -> None:
        """Wait, at most ``ack_timeout_s``, for what ``send`` returned (cancelled after)."""
        async with asyncio.timeout(self.ack_timeout_s):
            await stored

    async def send(self, messages: Sequence[Outgoing]) -> asyncio.Future[None]:
        """Write messages in order (after those of earlier calls); the future resolves when
        the stream has stored every one, or fails with PublishFailed at the first it did not.
        Nothing times it out: wait for it with a deadline, and cancel it if that passes."""
        nc = self._nc or await self._start()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not messages:
            done.set_result(None)
            return done
        self._next += 1
        token = str(self._next)
        self._waiting[token] = (done, [len(messages)])
        done.add_done_callback(lambda _: self._waiting.pop(token, None))
        reply = self._prefix + token
        context: dict[str, str] = {"Nats-Expected-Stream": self.stream.name}
        propagate.inject(context)  # the same trace context for the whole batch
        try:
            for subject, payload, message_id in messages:
                headers = {"Nats-Msg-Id": message_id, **context}
                await nc.publish(subject, payload, reply=reply, headers=headers)
        except BaseException:
            done.cancel()  # nobody will wait for it: the caller gets the error instead
            raise
        return done

    async def _start(self) -> Client:
        nc = self.connection()
        self._prefix = f"{nc.new_inbox()}."
        await nc.subscribe(self._prefix + "*", cb=self._on_ack)
        self._nc = nc
        return nc

    async def _on_ack(self, msg: Msg) -> None:
        waiting = self._waiting.get(msg.subject[len(self._prefix) :])
        if waiting is None or waiting[0].done():
            return  # already failed or given up on
        done, remaining = waiting
        failure = self._failure(msg)
        if failure is not None:
            done.set_exception(failure)
            return
        remaining[0] -= 1
        if remaining[0] == 0:
            done.set_result(None)

    def _failure(self, msg: Msg) -> PublishFailed | None:
        if (msg.headers or {}).get("Status") == "503":
            return PublishFailed(f"no stream answered on {self.stream.name}")
        if b'"error"' not in msg.data:
            return None  # {"stream": ..., "seq": ...}: stored
        try:
            description = json.loads(msg.data)["error"].get("description")
        except (ValueError, KeyError, AttributeError):
            return PublishFailed(f"unreadable acknowledgement {msg.data[:200]!r}")
        return PublishFailed(f"{self.stream.name}: {description}")
