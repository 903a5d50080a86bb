"""The JetStream streams that hold Foxtrot's market data, commands, events and dead letters.

Every service calls :func:`ensure_streams` at start; the definitions live only here, so
replicas and services always agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

__all__ = [
    "COMMANDS",
    "DEAD_LETTERS",
    "EVENTS",
    "MARKET_DATA",
    "MD_INGEST",
    "STREAMS",
    "StreamSpec",
    "ensure_streams",
]

_DAY: Final = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """One stream: its name, the subjects it captures and how long it keeps them."""

    name: str
    subjects: tuple[str, ...]
    max_age_s: float
    max_bytes: int = -1
    duplicate_window_s: float = 120.0

    def config(self) -> StreamConfig:
        """The nats-py stream configuration."""
        return StreamConfig(
            name=self.name,
            subjects=list(self.subjects),
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=self.max_age_s,
            max_bytes=self.max_bytes,
            discard=DiscardPolicy.OLD,
            duplicate_window=self.duplicate_window_s,
        )


MARKET_DATA: Final = StreamSpec(
    "FOXTROT_MARKET_DATA",
    ("md.v1.trade.>", "md.v1.quote.>", "md.v1.bar.>", "md.v1.book.>"),
    max_age_s=1 * _DAY,
    max_bytes=2 * 1024**3,
)
MD_INGEST: Final = StreamSpec(
    "FOXTROT_MD_INGEST", ("md.v1.ingest.>",), max_age_s=1 * _DAY, max_bytes=1024**3
)
COMMANDS: Final = StreamSpec("FOXTROT_COMMANDS", ("cmd.v1.>",), max_age_s=7 * _DAY)
EVENTS: Final = StreamSpec("FOXTROT_EVENTS", ("evt.v1.>",), max_age_s=30 * _DAY)
DEAD_LETTERS: Final = StreamSpec("FOXTROT_DLQ", ("dlq.v1.>",), max_age_s=30 * _DAY)
STREAMS: Final = (MARKET_DATA, MD_INGEST, COMMANDS, EVENTS, DEAD_LETTERS)


async def ensure_streams(js: JetStreamContext, specs: tuple[StreamSpec, ...] = STREAMS) -> None:
    """Create each stream, or bring an existing one to its definition."""
    for spec in specs:
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(spec.config())
        else:
            await js.update_stream(spec.config())
