"""Execution's subscriptions: approved orders and lists, modifies, cancels, market data,
instrument definitions and state queries."""

from __future__ import annotations

import logging

from foxtrot.common import subjects
from foxtrot.common.consumers import Consumers, Delivery
from foxtrot.common.errors import ReconciliationFailed
from foxtrot.common.messages.v1 import (
    AccountsQuery,
    Bar,
    CancelOrder,
    Instrument,
    ModifyOrder,
    OrdersQuery,
    PositionsQuery,
    QueryFailed,
    QuoteTick,
    SubmitOrder,
    SubmitOrderList,
    TradeBatch,
)
from foxtrot.common.streams import COMMANDS, MARKET_DATA
from foxtrot.core.data import Bar as CoreBar
from foxtrot.core.data import QuoteTick as CoreQuote
from foxtrot.core.data import TradeTick as CoreTrade
from foxtrot.execution.service import ExecutionService

__all__ = ["register", "start"]

log = logging.getLogger(__name__)


async def start(consumers: Consumers, service: ExecutionService) -> None:
    """Before any command: the instruments and the market's latest state from the stream,
    then the books from the database, reconciled. A failed reconciliation stops the start."""
    for instrument in await consumers.last_of_each(
        subjects.MD_ALL_INSTRUMENTS, stream=MARKET_DATA, decode=Instrument.from_json
    ):
        await service.on_instrument(instrument.to_core())
    market: list[CoreQuote | CoreTrade | CoreBar] = []
    for quote in await consumers.last_of_each(
        subjects.MD_ALL_QUOTES, stream=MARKET_DATA, decode=QuoteTick.from_json
    ):
        market.append(quote.to_core())
    for batch in await consumers.last_of_each(
        subjects.MD_ALL_TRADE_BATCHES, stream=MARKET_DATA, decode=TradeBatch.from_json
    ):
        market.append(batch.to_core()[-1])
    for bar in await consumers.last_of_each(
        subjects.MD_ALL_BARS, stream=MARKET_DATA, decode=Bar.from_json
    ):
        market.append(bar.to_core())
    try:
        await service.start(market)
    except ReconciliationFailed as exc:
        log.critical("execution refuses to take commands: %s", exc)
        raise


def register(consumers: Consumers, service: ExecutionService) -> None:
    """Subscribe execution to its subjects."""

    async def on_submits(commands: list[SubmitOrder]) -> None:
        await service.submit_many(commands, subjects.EXEC_SUBMIT_ORDER)

    async def on_submit_list(command: SubmitOrderList, delivery: Delivery) -> None:
        await service.submit_list(command, delivery.subject)

    async def on_modify(command: ModifyOrder, delivery: Delivery) -> None:
        await service.modify(command, delivery.subject)

    async def on_cancel(command: CancelOrder, delivery: Delivery) -> None:
        await service.cancel(command, delivery.subject)

    async def on_quote(quote: QuoteTick, _: Delivery) -> None:
        await service.on_quote(quote.to_core())

    async def on_trades(batch: TradeBatch, _: Delivery) -> None:
        for trade in batch.to_core():
            await service.on_trade(trade)

    async def on_bar(bar: Bar, _: Delivery) -> None:
        await service.on_bar(bar.to_core())

    async def on_instrument(instrument: Instrument, _: Delivery) -> None:
        await service.on_instrument(instrument.to_core())

    # Orders come in batches (in stream order, one transaction each): under load that
    # shares one commit and one round of publishing among many orders.
    consumers.ordered_batches(
        subjects.EXEC_SUBMIT_ORDER,
        stream=COMMANDS,
        durable="execution-submit-order",
        decode=SubmitOrder.from_json,
        handle=on_submits,
        max_batch=200,
    )
    consumers.durable(
        subjects.EXEC_SUBMIT_ORDER_LIST,
        stream=COMMANDS,
        durable="execution-submit-order-list",
        decode=SubmitOrderList.from_json,
        handle=on_submit_list,
    )
    consumers.durable(
        subjects.EXEC_MODIFY_ORDER,
        stream=COMMANDS,
        durable="execution-modify-order",
        decode=ModifyOrder.from_json,
        handle=on_modify,
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
    consumers.latest(
        subjects.MD_ALL_QUOTES, stream=MARKET_DATA, decode=QuoteTick.from_json, handle=on_quote
    )
    consumers.latest(subjects.MD_ALL_BARS, stream=MARKET_DATA, decode=Bar.from_json, handle=on_bar)
    consumers.latest(
        subjects.MD_ALL_INSTRUMENTS,
        stream=MARKET_DATA,
        decode=Instrument.from_json,
        handle=on_instrument,
    )
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
    consumers.respond(
        subjects.QRY_EXEC_ACCOUNTS,
        decode=AccountsQuery.model_validate_json,
        respond=service.query_accounts,
        error_reply=lambda error: QueryFailed(error=error),
    )
