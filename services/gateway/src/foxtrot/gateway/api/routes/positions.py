"""``/v1/positions``: current positions with unrealised PnL."""

from __future__ import annotations

from fastapi import APIRouter

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import PositionsQuery, PositionsReply, PositionView
from foxtrot.gateway.api.deps import BrokerDep, SettingsDep
from foxtrot.gateway.service import ask

router = APIRouter(prefix="/v1/positions", tags=["positions"])


@router.get("", summary="Positions per strategy and instrument")
async def list_positions(
    broker: BrokerDep,
    settings: SettingsDep,
    strategy_id: str | None = None,
    instrument_id: str | None = None,
    include_flat: bool = True,
) -> list[PositionView]:
    query = PositionsQuery(
        strategy_id=strategy_id, instrument_id=instrument_id, include_flat=include_flat
    )
    reply = await ask(
        broker,
        "execution",
        subjects.QRY_EXEC_POSITIONS,
        query,
        PositionsReply,
        settings.query_timeout_s,
    )
    return list(reply.positions)
