"""Publishing v1 messages to JetStream with ``Nats-Msg-Id`` set for server-side dedup."""

from __future__ import annotations

import asyncio
import time

from faststream.nats import NatsBroker
from nats.js.client import JetStreamContext
from opentelemetry import propagate

from foxtrot.common.broker import jetstream
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
    """Publishes encoded events into a JetStream stream many at a time: each publish is
    sent at once, in call order, and its acknowledgement awaited afterwards, so a batch of
    events costs one round trip rather than one each. It writes to the connection directly
    (FastStream's per-message middlewares cost more than the publish itself at this rate)
    and carries the current trace context in the headers itself."""

    def __init__(self, broker: NatsBroker, stream: StreamSpec, ack_timeout_s: float = 10.0) -> None:
        self.broker = broker
        self.stream = stream
        self.ack_timeout_s = ack_timeout_s
        self._js: JetStreamContext | None = None

    async def __call__(self, subject: str, payload: bytes, message_id: str) -> None:
        if self._js is None:
            self._js = jetstream(self.broker)
        headers = {"Nats-Msg-Id": message_id}
        propagate.inject(headers)
        ack = await self._js.publish_async(
            subject, payload, stream=self.stream.name, headers=headers
        )
        await asyncio.wait_for(ack, self.ack_timeout_s)
