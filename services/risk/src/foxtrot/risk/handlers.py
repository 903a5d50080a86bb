"""Risk's subscriptions: orders to judge, and market data to value them."""

from __future__ import annotations

import logging

from foxtrot.common import subjects
from foxtrot.common.consumers import Consumers, Delivery
from foxtrot.common.messages.v1 import Bar, SubmitOrder, TradeBatch
from foxtrot.common.publishing import Publisher, derived_id, now_ns
from foxtrot.common.streams import COMMANDS, EVENTS, MARKET_DATA
from foxtrot.core.identifiers import InstrumentId
from foxtrot.risk.service import RiskGate

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(consumers: Consumers, gate: RiskGate, publish: Publisher) -> None:
    """Subscribe the risk gate to its subjects."""

    async def on_submit(command: SubmitOrder, _: Delivery) -> None:
        now = now_ns()
        denial = gate.check(command)
        if denial is not None:
            event = gate.denied(command, denial, now)
            await publish(
                subjects.order_events(command.strategy_id),
                event.model_copy(update={"message_id": derived_id(command.message_id, "denied")}),
                EVENTS,
            )
            log.info(
                "denied %s: %s",
                command.client_order_id,
                denial.message,
                extra={"client_order_id": command.client_order_id, "reason_code": denial.code},
            )
            return
        approved = command.model_copy(
            update={
                "message_id": derived_id(command.message_id, "approved"),
                "causation_id": command.message_id,
                "ts_init": now,
            }
        )
        await publish(subjects.EXEC_SUBMIT_ORDER, approved, COMMANDS)

    async def on_trades(batch: TradeBatch, _: Delivery) -> None:
        gate.on_price(InstrumentId.parse(batch.instrument_id), batch.trades[-1].price)

    async def on_bar(bar: Bar, _: Delivery) -> None:
        gate.on_price(InstrumentId.parse(bar.instrument_id), bar.close)

    consumers.durable(
        subjects.RISK_SUBMIT_ORDER,
        stream=COMMANDS,
        durable="risk-submit-order",
        decode=SubmitOrder.from_json,
        handle=on_submit,
    )
    consumers.latest(
        subjects.MD_ALL_TRADE_BATCHES,
        stream=MARKET_DATA,
        decode=TradeBatch.from_json,
        handle=on_trades,
    )
    consumers.latest(subjects.MD_ALL_BARS, stream=MARKET_DATA, decode=Bar.from_json, handle=on_bar)
