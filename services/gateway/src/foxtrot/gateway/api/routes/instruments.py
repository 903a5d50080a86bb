"""``/v1/instruments``: each instrument's trading rules, as market data knows them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import InstrumentsQuery, InstrumentsReply
from foxtrot.gateway.api.deps import BrokerDep, SettingsDep
from foxtrot.gateway.service import ask, validated

router = APIRouter(prefix="/v1/instruments", tags=["market data"])


@router.get("", summary="Instruments by id: tick and lot size, quantity limits, precision")
async def list_instruments(
    broker: BrokerDep,
    settings: SettingsDep,
    venue: Annotated[str | None, Query(examples=["BINANCE"])] = None,
    instrument_id: Annotated[str | None, Query(examples=["BTCUSDT.BINANCE"])] = None,
    after: Annotated[str | None, Query(description="page cursor: a reply's next_after")] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 1000,
) -> InstrumentsReply:
    query = validated(
        InstrumentsQuery, venue=venue, instrument_id=instrument_id, after=after, limit=limit
    )
    return await ask(
        broker,
        "market_data",
        subjects.QRY_MD_INSTRUMENTS,
        query,
        InstrumentsReply,
        settings.query_timeout_s,
    )
