"""Publishing v1 messages to JetStream with ``Nats-Msg-Id`` set for server-side dedup."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.aio.msg import Msg
from opentelemetry import propagate

from foxtrot.common.errors import PublishFailed
from foxtrot.common.ids import DerivedIds, derived_id
from foxtrot.common.messages.v1 import Message
from foxtrot.common.streams import StreamSpec

__all__ = ["DerivedIds", "PipelinedPublisher", "Publisher", "derived_id", "now_ns"]


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


class PipelinedPublisher:
    """Publishes encoded messages into a JetStream stream many at a time.

    ``send`` writes one message and returns a future of the stream's acknowledgement, so a
    batch goes out in order at once and its acknowledgements are awaited together, or in
    the background: one round trip for the batch instead of one per message. It speaks to
    the NATS connection directly, with one reply subscription for every acknowledgement
    (on the service's own inbox prefix, as its NATS permissions require): FastStream's
    per-message middlewares, and nats-py's ``publish_async`` with a semaphore and a
    ``wait_for`` per message, cost more than the publish itself at this rate. It carries
    the current trace context in the headers itself.
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
        self._waiting: dict[str, asyncio.Future[None]] = {}

    async def __call__(self, subject: str, payload: bytes, message_id: str) -> None:
        """Publish one message and wait for the stream to acknowledge it."""
        ack = await self.send(subject, payload, message_id)
        async with asyncio.timeout(self.ack_timeout_s):
            await ack

    async def send(self, subject: str, payload: bytes, message_id: str) -> asyncio.Future[None]:
        """Write one message (messages go out in call order); the future resolves when the
        stream has stored it, or fails with PublishFailed. Nothing times it out: wait for it
        with a deadline, and cancel it if that passes."""
        nc = self._nc or await self._start()
        self._next += 1
        token = str(self._next)
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[token] = ack
        ack.add_done_callback(lambda _: self._waiting.pop(token, None))
        headers = {"Nats-Msg-Id": message_id, "Nats-Expected-Stream": self.stream.name}
        propagate.inject(headers)
        await nc.publish(subject, payload, reply=self._prefix + token, headers=headers)
        return ack

    async def _start(self) -> Client:
        nc = self.connection()
        self._prefix = f"{nc.new_inbox()}."
        await nc.subscribe(self._prefix + "*", cb=self._on_ack)
        self._nc = nc
        return nc

    async def _on_ack(self, msg: Msg) -> None:
        ack = self._waiting.get(msg.subject[len(self._prefix) :])
        if ack is None or ack.done():
            return  # already given up on
        status = (msg.headers or {}).get("Status")
        if status == "503":
            ack.set_exception(PublishFailed(f"no stream answered on {self.stream.name}"))
            return
        try:
            reply = json.loads(msg.data)
        except ValueError:
            ack.set_exception(PublishFailed(f"unreadable acknowledgement {msg.data[:200]!r}"))
            return
        error = reply.get("error")
        if error:
            ack.set_exception(PublishFailed(f"{self.stream.name}: {error.get('description')}"))
        else:
            ack.set_result(None)
