"""Execution's subscriptions: approved orders, cancels, market data and state queries."""

from __future__ import annotations

from foxtrot.common import subjects
from foxtrot.common.consumers import Consumers, Delivery
from foxtrot.common.messages.v1 import (
    Bar,
    CancelOrder,
    OrdersQuery,
    PositionsQuery,
    QueryFailed,
    SubmitOrder,
    TradeBatch,
)
from foxtrot.common.streams import COMMANDS, MARKET_DATA
from foxtrot.execution.service import ExecutionService

__all__ = ["register"]


def register(consumers: Consumers, service: ExecutionService) -> None:
    """Subscribe execution to its subjects."""

    async def on_submit(command: SubmitOrder, delivery: Delivery) -> None:
        await service.submit(command, delivery.subject)

    async def on_cancel(command: CancelOrder, delivery: Delivery) -> None:
        await service.cancel(command, delivery.subject)

    async def on_trades(batch: TradeBatch, _: Delivery) -> None:
        for trade in batch.to_core():
            await service.on_trade(trade)

    async def on_bar(bar: Bar, _: Delivery) -> None:
        await service.on_bar(bar.to_core())

    consumers.durable(
        subjects.EXEC_SUBMIT_ORDER,
        stream=COMMANDS,
        durable="execution-submit-order",
        decode=SubmitOrder.from_json,
        handle=on_submit,
    )
    consumers.durable(
        subjects.EXEC_CANCEL_ORDER,
        stream=COMMANDS,
        durable="execution-cancel-order",
        decode=CancelOrder.from_json,
        handle=on_cancel,
    )
    consumers.latest(
        subjects.MD_ALL_TRADE_BATCHES,
        stream=MARKET_DATA,
        decode=TradeBatch.from_json,
        handle=on_trades,
    )
    consumers.latest(subjects.MD_ALL_BARS, stream=MARKET_DATA, decode=Bar.from_json, handle=on_bar)
    consumers.respond(
        subjects.QRY_EXEC_ORDERS,
        decode=OrdersQuery.model_validate_json,
        respond=service.query_orders,
        error_reply=lambda error: QueryFailed(error=error),
    )
    consumers.respond(
        subjects.QRY_EXEC_POSITIONS,
        decode=PositionsQuery.model_validate_json,
        respond=service.query_positions,
        error_reply=lambda error: QueryFailed(error=error),
    )
