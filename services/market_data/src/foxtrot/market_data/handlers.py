"""Market data's FastStream subscriptions: bar history and queries (ingest: see ingest.py)."""

from __future__ import annotations

from foxtrot.common import subjects
from foxtrot.common.consumers import Consumers
from foxtrot.common.messages.v1 import (
    Bar,
    BarsQuery,
    QualityQuery,
    QualityReply,
    QueryFailed,
)
from foxtrot.common.streams import MARKET_DATA
from foxtrot.market_data.adapters.bar_store import BarStore
from foxtrot.market_data.quality import QualityWatch, quality_reply

__all__ = ["register_history", "register_quality"]


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
