"""Market data's replay of a recorded or synthetic feed, and how records go on the wire."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Iterable
from pathlib import Path

from foxtrot.common.market_files.formats import detect_format, read_records
from foxtrot.common.publishing import Publisher, now_ns
from foxtrot.common.streams import MARKET_DATA
from foxtrot.core import data as core
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.adapters.synthetic import synthetic_bars
from foxtrot.market_data.bars import BarBuilder
from foxtrot.market_data.config import MarketDataSettings
from foxtrot.market_data.outbox import Outbox, Record, TickSubjects
from foxtrot.market_data.quality import QualityWatch
from foxtrot.market_data.window import within

__all__ = ["Replayer", "open_replay"]

log = logging.getLogger(__name__)


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


class Replayer:
    """Publishes records at their recorded pace times ``speed`` (0: as fast as possible).

    Message ids derive from the record, so replaying the same file again within the
    stream's duplicate window publishes nothing twice. Trades go out in batches (see
    :mod:`foxtrot.market_data.outbox`): everything gathered goes out before each wait for
    the pace, and every ``flush_every`` records when there is no wait.
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
        tick_subjects: TickSubjects | None = None,
        flush_every: int = 500,
    ) -> None:
        self.publish = publish
        self.records = records
        self.speed = speed
        self.limit = limit
        self.source = source
        self.bars = bars
        self.quality = quality
        self.flush_every = flush_every
        self.out = Outbox(self._emit, tick_subjects, source)
        self.published = 0

    async def run(self) -> None:
        """Replay until the records (or the limit) run out."""
        first_ts: int | None = None
        wall_start = time.monotonic()
        unsent = 0
        for record in self.records:
            if self.limit is not None and self.published >= self.limit:
                break
            if self.speed > 0:
                first_ts = record.ts_event if first_ts is None else first_ts
                due = wall_start + (record.ts_event - first_ts) / 1e9 / self.speed
                delay = due - time.monotonic()
                if delay > 0:
                    await self.out.flush(now_ns())
                    unsent = 0
                    await asyncio.sleep(delay)
            now = now_ns()
            self._add(record, now)
            self.published += 1
            if self.quality is not None:
                await _check(self.quality, record)
            if self.bars is not None:
                for bar in self._bars_of(record, self.bars):
                    self.out.record(bar, now, None)
            unsent += 1
            if unsent >= self.flush_every:
                await self.out.flush(now)
                unsent = 0
        if self.bars is not None:
            now = now_ns()
            for bar in self.bars.finish():
                self.out.record(bar, now, None)
        await self.out.flush(now_ns())
        log.info(
            "replay finished: %d records published",
            self.published,
            extra={"published": self.published},
        )

    def _add(self, record: Record, now: int) -> None:
        if isinstance(record, core.TradeTick):
            tick = dataclasses.replace(record, ts_init=now)
            self.out.trade(tick, str(tick.instrument_id), None)
        else:
            self.out.record(record, now, None)

    @staticmethod
    def _bars_of(record: Record, bars: BarBuilder) -> list[core.Bar]:
        # Bars are built from trades and quotes; a file's bars and book batches pass through.
        if isinstance(record, core.TradeTick):
            return bars.on_trade(record)
        if isinstance(record, core.QuoteTick):
            return bars.on_quote(record)
        return []

    async def _emit(
        self, subject: str, payload: bytes, message_id: str | None, traceparent: str | None
    ) -> None:
        await self.publish.raw(subject, payload, message_id, MARKET_DATA)


async def _check(quality: QualityWatch, record: Record) -> None:
    """Run the quality rules on a trade or quote."""
    if isinstance(record, core.TradeTick):
        await quality.on_trade(record)
    elif isinstance(record, core.QuoteTick):
        await quality.on_quote(record)
