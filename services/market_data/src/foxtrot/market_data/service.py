"""Market data's replay of a recorded or synthetic feed, and how records go on the wire."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from prometheus_client import Counter

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    Bar,
    Message,
    OrderBookDeltas,
    QuoteTick,
    TradeTick,
)
from foxtrot.common.publishing import Publisher, derived_id, now_ns
from foxtrot.common.streams import MARKET_DATA
from foxtrot.core import data as core
from foxtrot.core.book import OrderBookDeltas as CoreOrderBookDeltas
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.adapters.files import detect_format, read_records
from foxtrot.market_data.adapters.synthetic import synthetic_bars
from foxtrot.market_data.bars import BarBuilder
from foxtrot.market_data.config import MarketDataSettings
from foxtrot.market_data.quality import QualityWatch
from foxtrot.market_data.window import within

__all__ = ["PUBLISHED", "RECORD_IDS", "Record", "Replayer", "open_replay", "publishable"]

log = logging.getLogger(__name__)
PUBLISHED = Counter(
    "foxtrot_market_data_published", "Market data messages published", ["kind", "source"]
)
Record = core.Bar | core.TradeTick | core.QuoteTick | CoreOrderBookDeltas


def open_replay(settings: MarketDataSettings) -> Iterable[Record]:
    """The records the settings ask to replay, from replay_start to replay_end."""
    instrument = InstrumentId.parse(settings.replay_instrument_id)
    records: Iterable[Record]
    if settings.replay_source == "synthetic":
        start = (now_ns() // 60_000_000_000 - settings.synthetic_count) * 60_000_000_000
        records = synthetic_bars(
            instrument,
            settings.replay_bar_spec,
            settings.synthetic_seed,
            settings.synthetic_count,
            settings.synthetic_start_price,
            start,
        )
    else:
        path = Path(settings.replay_source)
        kind = detect_format(path) if settings.replay_format == "auto" else settings.replay_format
        records = read_records(path, kind, instrument, settings.replay_bar_spec)
    return within(records, settings.replay_start, settings.replay_end)


# Root of market data records' message ids. An id is derived from what the record is
# (instrument and trade id; instrument, spec and close time; instrument, time and prices of a
# quote, as venues send several quotes in one millisecond; instrument, kind and sequence of a
# book batch), so a record replayed again, redelivered or re-sent by an external publisher
# carries the same id, and JetStream's duplicate window drops the copy.
RECORD_IDS: Final = uuid.UUID("3b0b8f4e-98a5-4d0e-a9a7-5a3f0c1f2d61")


def publishable(record: Record, ts_init: int) -> tuple[str, Message]:
    """The subject and wire message of a record; raises ValidationError if it is invalid."""
    if isinstance(record, core.Bar):
        key = f"bar:{record.instrument_id}:{record.spec}:{record.ts_event}"
        bar = Bar.from_core(record, message_id=derived_id(RECORD_IDS, key))
        return subjects.bar(record.instrument_id, record.spec), bar.model_copy(
            update={"ts_init": ts_init}
        )
    if isinstance(record, core.QuoteTick):
        key = (
            f"quote:{record.instrument_id}:{record.ts_event}:{record.bid_price}:"
            f"{record.ask_price}:{record.bid_size}:{record.ask_size}"
        )
        quote = QuoteTick(
            message_id=derived_id(RECORD_IDS, key),
            instrument_id=str(record.instrument_id),
            bid_price=record.bid_price,
            ask_price=record.ask_price,
            bid_size=record.bid_size,
            ask_size=record.ask_size,
            ts_event=record.ts_event,
            ts_init=ts_init,
        )
        return subjects.quote(record.instrument_id), quote
    if isinstance(record, CoreOrderBookDeltas):
        kind = "snapshot" if record.is_snapshot else "deltas"
        key = f"book:{record.instrument_id}:{kind}:{record.sequence}"
        book = OrderBookDeltas.from_core(record, message_id=derived_id(RECORD_IDS, key))
        return subjects.book(record.instrument_id), book.model_copy(update={"ts_init": ts_init})
    key = f"trade:{record.instrument_id}:{record.trade_id}"
    trade = TradeTick.from_core(record, message_id=derived_id(RECORD_IDS, key))
    return subjects.trade(record.instrument_id), trade.model_copy(update={"ts_init": ts_init})


class Replayer:
    """Publishes records at their recorded pace times ``speed`` (0: as fast as possible).

    Message ids derive from the record, so replaying the same file again within the
    stream's duplicate window publishes nothing twice.
    """

    def __init__(
        self,
        publish: Publisher,
        records: Iterable[Record],
        speed: float,
        limit: int | None,
        source: str,
        bars: BarBuilder | None = None,
        quality: QualityWatch | None = None,
    ) -> None:
        self.publish = publish
        self.records = records
        self.speed = speed
        self.limit = limit
        self.source = source
        self.bars = bars
        self.quality = quality
        self.published = 0

    async def run(self) -> None:
        """Replay until the records (or the limit) run out."""
        first_ts: int | None = None
        wall_start = time.monotonic()
        for record in self.records:
            if self.limit is not None and self.published >= self.limit:
                break
            if self.speed > 0:
                first_ts = record.ts_event if first_ts is None else first_ts
                due = wall_start + (record.ts_event - first_ts) / 1e9 / self.speed
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await self._send(record)
            self.published += 1
            if self.quality is not None:
                await _check(self.quality, record)
            if self.bars is not None:
                for bar in self._bars_of(record, self.bars):
                    await self._send(bar)
        if self.bars is not None:
            for bar in self.bars.finish():
                await self._send(bar)
        log.info(
            "replay finished: %d records published",
            self.published,
            extra={"published": self.published},
        )

    @staticmethod
    def _bars_of(record: Record, bars: BarBuilder) -> list[core.Bar]:
        # Bars are built from trades and quotes; a file's bars and book batches pass through.
        if isinstance(record, core.TradeTick):
            return bars.on_trade(record)
        if isinstance(record, core.QuoteTick):
            return bars.on_quote(record)
        return []

    async def _send(self, record: Record) -> None:
        await _emit(self.publish, record, now_ns(), self.source)


async def _emit(publish: Publisher, record: Record, now: int, source: str) -> None:
    """Publish a record as its wire message and count it by type and source."""
    subject, message = publishable(record, now)
    await publish(subject, message, MARKET_DATA)
    PUBLISHED.labels(message.type, source).inc()  # type: ignore[attr-defined]


async def _check(quality: QualityWatch, record: Record) -> None:
    """Run the quality rules on a trade or quote."""
    if isinstance(record, core.TradeTick):
        await quality.on_trade(record)
    elif isinstance(record, core.QuoteTick):
        await quality.on_quote(record)
