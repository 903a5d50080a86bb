"""A stand-in for NatsBroker's publish and request, for tests of code that only sends:
it records what is published and asked, and answers requests as told."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from faststream.nats import NatsBroker

__all__ = ["Published", "Reply", "StandInBroker"]


@dataclass(frozen=True)
class Published:
    message: bytes
    subject: str
    headers: dict[str, str] | None
    stream: str | None


@dataclass(frozen=True)
class Reply:
    body: bytes


@dataclass
class StandInBroker:
    """Records publishes and requests. A request on a subject in ``by_subject`` gets that
    answer; any other gets ``reply``, or has it raised if it is an exception (a
    NoRespondersError: nobody listens; a TimeoutError: nobody answered in time)."""

    reply: bytes | Exception = b""
    by_subject: dict[str, bytes] = field(default_factory=dict)
    published: list[Published] = field(default_factory=list)
    requests: list[tuple[bytes, str, float]] = field(default_factory=list)

    async def publish(
        self,
        message: bytes,
        subject: str,
        *,
        headers: dict[str, str] | None = None,
        stream: str | None = None,
    ) -> None:
        self.published.append(Published(message, subject, headers, stream))

    async def request(self, message: bytes, subject: str, *, timeout: float) -> Reply:
        self.requests.append((message, subject, timeout))
        if subject in self.by_subject:
            return Reply(self.by_subject[subject])
        if isinstance(self.reply, Exception):
            raise self.reply
        return Reply(self.reply)

    def as_nats(self) -> NatsBroker:
        """Typed as the broker it stands in for."""
        return cast(NatsBroker, self)
