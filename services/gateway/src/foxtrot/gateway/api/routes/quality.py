"""``/v1/quality``: market data quality per instrument."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import QualityQuery, QualityReply
from foxtrot.gateway.api.deps import BrokerDep, SettingsDep
from foxtrot.gateway.service import ask, validated

router = APIRouter(prefix="/v1/quality", tags=["market data"])


@router.get("", summary="Quality status (OK, DEGRADED, STALE) and issue counts per instrument")
async def quality(
    broker: BrokerDep,
    settings: SettingsDep,
    instrument_id: Annotated[str | None, Query(examples=["BTCUSDT.BINANCE"])] = None,
) -> QualityReply:
    query = validated(QualityQuery, instrument_id=instrument_id)
    return await ask(
        broker,
        "market_data",
        subjects.QRY_MD_QUALITY,
        query,
        QualityReply,
        settings.query_timeout_s,
    )
