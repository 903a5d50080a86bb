"""``/v1/backtests``: run a backtest on the platform and fetch its result and report.

The strategy service runs backtests in worker processes: ``POST`` answers 202 at once with
the backtest queued, ``GET /v1/backtests/{id}`` shows its status and, when done, its
statistics; ``/result`` is the whole result (orders, fills, equity curve) as JSON and
``/report`` the HTML report with its plots.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import HTMLResponse

from foxtrot.backtest.spec import BacktestSpec
from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    BacktestQuery,
    BacktestReply,
    BacktestsQuery,
    BacktestsReply,
    BacktestStatus,
    BacktestView,
    RunBacktest,
)
from foxtrot.gateway.api.deps import BrokerDep, OperatorDep, SettingsDep
from foxtrot.gateway.service import ask

router = APIRouter(prefix="/v1/backtests", tags=["backtests"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a backtest: strategy and config, data, instruments, venue, balances, limits",
)
async def run_backtest(
    spec: BacktestSpec, operator: OperatorDep, broker: BrokerDep, settings: SettingsDep
) -> BacktestView:
    request = RunBacktest(spec=spec.model_dump(mode="json"), requested_by=operator)
    reply = await ask(
        broker,
        "strategy",
        subjects.STRATEGY_RUN_BACKTEST,
        request,
        BacktestReply,
        settings.control_timeout_s,
    )
    return reply.backtest


@router.get("", summary="Backtests, newest first")
async def list_backtests(
    broker: BrokerDep,
    settings: SettingsDep,
    backtest_status: Annotated[BacktestStatus | None, Query(alias="status")] = None,
    strategy_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_ns: Annotated[int | None, Query(ge=0)] = None,
) -> list[BacktestView]:
    query = BacktestsQuery(
        status=backtest_status, strategy_id=strategy_id, limit=limit, before_ns=before_ns
    )
    reply = await ask(
        broker,
        "strategy",
        subjects.QRY_STRATEGY_BACKTESTS,
        query,
        BacktestsReply,
        settings.query_timeout_s,
    )
    return list(reply.backtests)


@router.get("/{backtest_id}", summary="One backtest: status, error, statistics")
async def get_backtest(backtest_id: UUID, broker: BrokerDep, settings: SettingsDep) -> BacktestView:
    reply = await _fetch(broker, settings, backtest_id, "none", 0)
    return reply.backtest


@router.get("/{backtest_id}/result", summary="The whole result as JSON")
async def backtest_result(
    backtest_id: UUID, broker: BrokerDep, settings: SettingsDep
) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(await _content(broker, settings, backtest_id, "result"))
    return result


@router.get(
    "/{backtest_id}/report", summary="The HTML report with its plots", response_class=HTMLResponse
)
async def backtest_report(
    backtest_id: UUID, broker: BrokerDep, settings: SettingsDep
) -> HTMLResponse:
    return HTMLResponse(await _content(broker, settings, backtest_id, "html"))


async def _fetch(
    broker: BrokerDep,
    settings: SettingsDep,
    backtest_id: UUID,
    content: Literal["none", "result", "html"],
    offset: int,
) -> BacktestReply:
    query = BacktestQuery(backtest_id=backtest_id, content=content, offset=offset)
    return await ask(
        broker,
        "strategy",
        subjects.QRY_STRATEGY_BACKTEST,
        query,
        BacktestReply,
        settings.query_timeout_s,
    )


async def _content(
    broker: BrokerDep,
    settings: SettingsDep,
    backtest_id: UUID,
    content: Literal["result", "html"],
) -> str:
    """The content page by page (a NATS message is limited in size), put together."""
    pages: list[str] = []
    offset: int | None = 0
    while offset is not None:
        reply = await _fetch(broker, settings, backtest_id, content, offset)
        if reply.content is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"backtest {backtest_id} has no {content} (it is {reply.backtest.status})",
            )
        pages.append(reply.content)
        offset = reply.next_offset
    return "".join(pages)
