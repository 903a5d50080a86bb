"""The JetStream streams that hold Foxtrot's market data, commands, events and dead letters.

Every service calls :func:`ensure_streams` at start; the definitions live only here, so
replicas and services always agree on them.
"""

from __future__ import annotations

import logging
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
log = logging.getLogger(__name__)


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
    (
        "md.v1.trades.>",
        "md.v1.quote.>",
        "md.v1.bar.>",
        "md.v1.book.>",
        "md.v1.quality.>",
        "md.v1.instrument.>",
    ),
    max_age_s=1 * _DAY,
    max_bytes=2 * 1024**3,
)
MD_INGEST: Final = StreamSpec(
    "FOXTROT_MD_INGEST",
    ("md.v1.ingest.>", "md.v1.ingestp.>"),
    max_age_s=1 * _DAY,
    max_bytes=1024**3,
)
COMMANDS: Final = StreamSpec("FOXTROT_COMMANDS", ("cmd.v1.>",), max_age_s=7 * _DAY)
EVENTS: Final = StreamSpec("FOXTROT_EVENTS", ("evt.v1.>",), max_age_s=30 * _DAY)
DEAD_LETTERS: Final = StreamSpec("FOXTROT_DLQ", ("dlq.v1.>",), max_age_s=30 * _DAY)
STREAMS: Final = (MARKET_DATA, MD_INGEST, COMMANDS, EVENTS, DEAD_LETTERS)


async def ensure_streams(
    js: JetStreamContext, specs: tuple[StreamSpec, ...] = STREAMS, *, update: bool = False
) -> list[str]:
    """Create missing streams; with ``update``, bring existing ones to their definition.

    Services create but never update (their NATS users may not): an existing stream that
    differs is logged and listed, for an operator to apply with ``python -m
    foxtrot.common.streams`` as the admin user. Returns the differences found (and, with
    ``update``, applied).
    """
    found: list[str] = []
    for spec in specs:
        wanted = spec.config()
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(wanted)
            continue
        differences = _differences(info.config, wanted)
        found += [f"{spec.name}: {d}" for d in differences]
        if differences and update:
            await js.update_stream(wanted)
        elif differences:
            log.warning(
                "stream %s differs from its definition: %s", spec.name, "; ".join(differences)
            )
    return found


def _differences(current: StreamConfig, wanted: StreamConfig) -> list[str]:
    fields = (
        "subjects",
        "retention",
        "storage",
        "max_age",
        "max_bytes",
        "discard",
        "duplicate_window",
    )
    return [
        f"{name} is {getattr(current, name)!r}, defined as {getattr(wanted, name)!r}"
        for name in fields
        if getattr(current, name) != getattr(wanted, name)
    ]


async def _main(url: str) -> int:
    import nats

    client = await nats.connect(url)
    try:
        updated = await ensure_streams(client.jetstream(), update=True)
    finally:
        await client.close()
    print("\n".join(f"updated {u}" for u in updated) or "streams match their definitions")
    return 0


if __name__ == "__main__":
    import asyncio
    import os
    import sys

    # Usage: NATS_URL=nats://admin:...@host:4222 python -m foxtrot.common.streams
    sys.exit(asyncio.run(_main(os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))))
