"""Live venue feeds, run for the instruments this replica owns.

A replica connects to a venue only for the symbols whose ingest partition it leases: when
it takes a partition it subscribes that partition's symbols, when it gives one back it
unsubscribes them, so N replicas share a venue's symbols as they share the ingest.

The feed's trades and quotes are not published directly: they go to the ingest subjects
(``md.v1.ingest.trade|quote.{venue}.{symbol}``) like any external publisher's, with
message ids derived from the record so that a reconnect's repeats are dropped by the
ingest stream, and the partition worker validates, checks, aggregates and publishes them.
That way a replica that dies mid-bar hands over exactly what it had, as for any input.
Book deltas do not make bars; they are published straight to ``md.v1.book.*`` (a new owner
starts from a fresh REST snapshot). Depth gaps and disconnects are data quality issues.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any, Final

from nats.aio.client import Client as NatsClient

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import IngestQuote, IngestTrade
from foxtrot.common.publishing import DerivedIds, now_ns
from foxtrot.core import data as core
from foxtrot.core.book import OrderBookDeltas
from foxtrot.core.quality import QualityIssue, QualityIssueKind
from foxtrot.market_data.adapters.binance import BinanceFeed, FeedGap, GapKind, LiveRecord
from foxtrot.market_data.ingest import ALL
from foxtrot.market_data.outbox import publishable, record_key
from foxtrot.market_data.quality import QualityWatch

__all__ = ["VenueFeeds"]

log = logging.getLogger(__name__)
# Root of the ids of what a venue feed publishes to ingest.
_FEED_IDS: Final = uuid.UUID("0c6f7a0e-3b1d-4f55-8f63-2f1b7d9a4e10")


class VenueFeeds:
    """Feeds a venue's symbols into the ingest, for the partitions this replica holds."""

    def __init__(self, nc: NatsClient, symbols: Iterable[str], quality: QualityWatch) -> None:
        self.nc = nc
        self.symbols = tuple(symbols)
        self.quality = quality
        self._ids = DerivedIds(_FEED_IDS)
        self.feed: BinanceFeed

    @classmethod
    def binance(
        cls,
        nc: NatsClient,
        symbols: Iterable[str],
        quality: QualityWatch,
        **feed_options: Any,
    ) -> VenueFeeds:
        """Binance spot for ``symbols``; the feed starts with none subscribed (partitions
        decide), ``feed_options`` go to :class:`BinanceFeed` (venue, ws_url, rest_url...)."""
        venues = cls(nc, symbols, quality)
        venues.feed = BinanceFeed((), sink=venues.sink, on_gap=venues.on_gap, **feed_options)
        return venues

    def of_partition(self, partition: str) -> list[str]:
        """The configured symbols whose ingest lands on ``partition``."""
        if partition == ALL:
            return list(self.symbols)
        venue = self.feed.venue
        return [s for s in self.symbols if str(subjects.ingest_partition_of(venue, s)) == partition]

    async def on_acquire(self, partition: str) -> None:
        """Subscribe the partition's symbols."""
        symbols = self.of_partition(partition)
        if symbols:
            log.info("subscribing %s for partition %s", ",".join(symbols), partition)
            await self.feed.add_symbols(symbols)

    async def on_release(self, partition: str) -> None:
        """Unsubscribe the partition's symbols."""
        symbols = self.of_partition(partition)
        if symbols:
            await self.feed.remove_symbols(symbols)

    async def sink(self, record: LiveRecord) -> None:
        """Where the feed delivers: trades and quotes to ingest, books to md.v1.book."""
        instrument = record.instrument_id
        body: IngestTrade | IngestQuote
        if isinstance(record, core.TradeTick):
            subject = subjects.ingest_trade(instrument)
            body = IngestTrade(
                price=record.price,
                size=record.size,
                ts_event=record.ts_event,
                trade_id=record.trade_id,
                aggressor_side=record.aggressor_side,
            )
        elif isinstance(record, core.QuoteTick):
            subject = subjects.ingest_quote(instrument)
            body = IngestQuote(
                bid_price=record.bid_price,
                ask_price=record.ask_price,
                bid_size=record.bid_size,
                ask_size=record.ask_size,
                ts_event=record.ts_event,
            )
        else:
            await self._book(record)
            return
        await self.nc.publish(
            subject,
            body.model_dump_json().encode(),
            headers={"Nats-Msg-Id": self._ids(record_key(record))},
        )

    async def _book(self, book: OrderBookDeltas) -> None:
        subject, message = publishable(book, now_ns())
        await self.nc.publish(
            subject, message.to_json(), headers={"Nats-Msg-Id": str(message.message_id)}
        )

    async def on_gap(self, gap: FeedGap) -> None:
        """Depth gaps and disconnects are quality issues; trade id gaps the quality rules
        find by themselves in the ingested trades."""
        if gap.kind is GapKind.TRADE:
            return
        kind = (
            QualityIssueKind.SEQUENCE_GAP
            if gap.kind is GapKind.DEPTH
            else QualityIssueKind.TIME_GAP
        )
        issue = QualityIssue(
            gap.instrument_id,
            kind,
            kind.severity,
            gap.ts_end,
            f"{self.feed.venue} {gap.kind.value} gap: {gap.detail}",
            expected_seq=gap.from_id,
            found_seq=gap.to_id,
            gap_ns=gap.ts_end - gap.ts_start,
        )
        await self.quality.report([issue])
