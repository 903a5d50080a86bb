"""Market data's subscriptions: plain-JSON input from external publishers."""

from __future__ import annotations

from foxtrot.common import subjects
from foxtrot.common.consumers import Consumers, Delivery
from foxtrot.common.messages.v1 import (
    Bar,
    BarsQuery,
    IngestBar,
    IngestTrade,
    QualityQuery,
    QualityReply,
    QueryFailed,
)
from foxtrot.common.streams import MARKET_DATA, MD_INGEST
from foxtrot.market_data.adapters.bar_store import BarStore
from foxtrot.market_data.quality import QualityWatch, quality_reply
from foxtrot.market_data.service import Ingestor

__all__ = ["register", "register_history", "register_quality"]


def register_history(consumers: Consumers, store: BarStore) -> None:
    """Write every published bar to the history (shared by replicas: each bar once) and
    answer history queries."""
    consumers.durable_batch(
        subjects.MD_ALL_BARS,
        stream=MARKET_DATA,
        durable="market-data-history-bars",
        decode=Bar.from_json,
        handle=store.insert,
        batch_size=500,
    )
    consumers.respond(
        subjects.QRY_MD_BARS,
        decode=BarsQuery.model_validate_json,
        respond=store.query,
        error_reply=lambda error: QueryFailed(error=error),
    )


def register_quality(consumers: Consumers, *watches: QualityWatch) -> None:
    """Answer quality status queries from what the watches have seen."""

    async def respond(query: QualityQuery) -> QualityReply:
        return quality_reply(query, *watches)

    consumers.respond(
        subjects.QRY_MD_QUALITY,
        decode=QualityQuery.model_validate_json,
        respond=respond,
        error_reply=lambda error: QueryFailed(error=error),
    )


def register(consumers: Consumers, ingestor: Ingestor) -> None:
    """Subscribe the ingestor to md.v1.ingest.*, shared by every replica."""

    async def on_trade(payload: IngestTrade, delivery: Delivery) -> None:
        await ingestor.trade(delivery.subject, payload)

    async def on_bar(payload: IngestBar, delivery: Delivery) -> None:
        await ingestor.bar(delivery.subject, payload)

    consumers.durable(
        subjects.INGEST_TRADES,
        stream=MD_INGEST,
        durable="market-data-ingest-trade",
        decode=IngestTrade.model_validate_json,
        handle=on_trade,
    )
    consumers.durable(
        subjects.INGEST_BARS,
        stream=MD_INGEST,
        durable="market-data-ingest-bar",
        decode=IngestBar.model_validate_json,
        handle=on_bar,
    )
