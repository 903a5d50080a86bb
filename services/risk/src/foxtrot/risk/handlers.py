"""Risk's subscriptions: orders and order lists to judge, modifies to pass on, and market
data to value orders."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

from foxtrot.common import subjects
from foxtrot.common.consumers import Consumers, Delivery
from foxtrot.common.messages.v1 import (
    Bar,
    Message,
    ModifyOrder,
    QuoteTick,
    SubmitOrder,
    SubmitOrderList,
    TradeBatch,
)
from foxtrot.common.publishing import (
    Outgoing,
    PipelinedPublisher,
    Publisher,
    derived_id,
    now_ns,
)
from foxtrot.common.streams import COMMANDS, EVENTS, MARKET_DATA
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.risk import Denial
from foxtrot.risk.service import RiskGate

__all__ = ["register"]

log = logging.getLogger(__name__)
M = TypeVar("M", bound=Message)


def register(
    consumers: Consumers,
    gate: RiskGate,
    publish: Publisher,
    approve: PipelinedPublisher,
) -> None:
    """Subscribe the risk gate to its subjects. Approved orders go out through ``approve``,
    many at a time; everything else through ``publish``."""

    async def deny(
        order: SubmitOrder, denial: Denial, now: int, cause: Message, suffix: str
    ) -> None:
        event = gate.denied(order, denial, now, cause).model_copy(
            update={"message_id": derived_id(cause.message_id, suffix)}
        )
        await publish(subjects.order_events(order.strategy_id), event, EVENTS)

    async def on_submits(commands: list[SubmitOrder]) -> None:
        # Judged one by one in stream order; the approved ones go out at once (in order, on
        # one connection), and every acknowledgement is awaited together.
        now = now_ns()
        approved: list[Outgoing] = []
        denials: list[Awaitable[None]] = []
        for command in commands:
            denial = gate.check(command)
            if denial is None:
                message = _approved(command, now)
                approved.append(
                    (subjects.EXEC_SUBMIT_ORDER, message.to_json(), str(message.message_id))
                )
                continue
            denials.append(deny(command, denial, now, command, "denied"))
            log.info(
                "denied %s: %s",
                command.client_order_id,
                denial.message,
                extra={"client_order_id": command.client_order_id, "reason_code": denial.code},
            )
        await asyncio.gather(approve.publish(approved), *denials)

    async def on_submit_list(command: SubmitOrderList, _: Delivery) -> None:
        now = now_ns()
        denial = gate.check_list(command)
        if denial is not None:
            for index, member in enumerate(command.orders):
                await deny(member, denial, now, command, f"denied-{index}")
            log.info(
                "denied order list %s: %s",
                command.order_list_id,
                denial.message,
                extra={"order_list_id": command.order_list_id, "reason_code": denial.code},
            )
            return
        await publish(subjects.EXEC_SUBMIT_ORDER_LIST, _approved(command, now), COMMANDS)

    async def on_modify(command: ModifyOrder, _: Delivery) -> None:
        # Pre-trade checks of modifies come with the risk issue; until then they pass.
        await publish(subjects.EXEC_MODIFY_ORDER, _approved(command, now_ns()), COMMANDS)

    async def on_trades(batch: TradeBatch, _: Delivery) -> None:
        gate.on_price(InstrumentId.parse(batch.instrument_id), batch.trades[-1].price)

    async def on_bar(bar: Bar, _: Delivery) -> None:
        gate.on_price(InstrumentId.parse(bar.instrument_id), bar.close)

    async def on_quote(quote: QuoteTick, _: Delivery) -> None:
        mid = (quote.bid_price + quote.ask_price) / 2
        gate.on_price(InstrumentId.parse(quote.instrument_id), mid)

    consumers.ordered_batches(
        subjects.RISK_SUBMIT_ORDER,
        stream=COMMANDS,
        durable="risk-submit-order",
        decode=SubmitOrder.from_json,
        handle=on_submits,
        max_batch=200,
    )
    consumers.durable(
        subjects.RISK_SUBMIT_ORDER_LIST,
        stream=COMMANDS,
        durable="risk-submit-order-list",
        decode=SubmitOrderList.from_json,
        handle=on_submit_list,
    )
    consumers.durable(
        subjects.RISK_MODIFY_ORDER,
        stream=COMMANDS,
        durable="risk-modify-order",
        decode=ModifyOrder.from_json,
        handle=on_modify,
    )
    consumers.latest(
        subjects.MD_ALL_TRADE_BATCHES,
        stream=MARKET_DATA,
        decode=TradeBatch.from_json,
        handle=on_trades,
    )
    consumers.latest(subjects.MD_ALL_BARS, stream=MARKET_DATA, decode=Bar.from_json, handle=on_bar)
    consumers.latest(
        subjects.MD_ALL_QUOTES, stream=MARKET_DATA, decode=QuoteTick.from_json, handle=on_quote
    )


def _approved(command: M, now: int) -> M:
    """The command as risk passes it on to execution: a new id caused by the original."""
    return command.model_copy(
        update={
            "message_id": derived_id(command.message_id, "approved"),
            "causation_id": command.message_id,
            "ts_init": now,
        }
    )
