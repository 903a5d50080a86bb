"""``/v1/bars``: stored bars of one instrument and spec, paged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import BarsQuery, BarsReply
from foxtrot.gateway.api.deps import BrokerDep, SettingsDep
from foxtrot.gateway.service import ask, validated

router = APIRouter(prefix="/v1/bars", tags=["market data"])


@router.get("", summary="Bars, oldest first; follow next_after_ts to page")
async def list_bars(
    broker: BrokerDep,
    settings: SettingsDep,
    instrument_id: Annotated[str, Query(examples=["BTC-PERP.FTX"])],
    spec: Annotated[str, Query(examples=["1m"])],
    start_ns: Annotated[int | None, Query(ge=0, description="closing at or after")] = None,
    end_ns: Annotated[int | None, Query(ge=0, description="closing before")] = None,
    after_ts: Annotated[int | None, Query(ge=0, description="page cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> BarsReply:
    query = validated(
        BarsQuery,
        instrument_id=instrument_id,
        spec=spec,
        start_ns=start_ns,
        end_ns=end_ns,
        after_ts=after_ts,
        limit=limit,
    )
    return await ask(
        broker, "market_data", subjects.QRY_MD_BARS, query, BarsReply, settings.query_timeout_s
    )
