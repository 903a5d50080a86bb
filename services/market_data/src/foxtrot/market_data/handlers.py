"""Market data's subscriptions: plain-JSON input from external publishers."""

from __future__ import annotations

from foxtrot.common import subjects
from foxtrot.common.consumers import Consumers, Delivery
from foxtrot.common.messages.v1 import IngestBar, IngestTrade
from foxtrot.common.streams import MD_INGEST
from foxtrot.market_data.service import Ingestor

__all__ = ["register"]


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
        batch_size=256,
    )
    consumers.durable(
        subjects.INGEST_BARS,
        stream=MD_INGEST,
        durable="market-data-ingest-bar",
        decode=IngestBar.model_validate_json,
        handle=on_bar,
        batch_size=256,
    )
