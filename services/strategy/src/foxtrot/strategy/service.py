"""Strategy's use cases: feed bars and order events to a strategy, submit what it asks for."""

from __future__ import annotations

import logging
from decimal import Decimal

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    Bar,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    SubmitOrder,
)
from foxtrot.common.publishing import Publisher, derived_id, now_ns
from foxtrot.common.streams import COMMANDS
from foxtrot.core.strategies.sma_cross import SmaCross

__all__ = ["StrategyHost"]

log = logging.getLogger(__name__)
_CLOSING = (OrderDenied, OrderRejected, OrderCanceled, OrderExpired)


class StrategyHost:
    """Runs one strategy instance against live messages.

    Each bar reaches the strategy once: a bar that comes again (a redelivery after a failed
    publish or a crash before the acknowledgement) or out of order is not shown to it a
    second time; the order that bar asked for is sent again instead, with the same message
    id, so JetStream drops it if the first send had got through.
    """

    def __init__(self, strategy: SmaCross, publish: Publisher) -> None:
        self.strategy = strategy
        self.publish = publish
        self._filled: dict[str, Decimal] = {}
        self._quantities: dict[str, Decimal] = {}
        self._last_bar_ts: int | None = None
        # The order still in flight and the time of the bar that asked for it.
        self._asked: tuple[int, SubmitOrder] | None = None

    async def on_bar(self, bar: Bar) -> None:
        """Show the strategy a bar and submit the order it asks for, if any."""
        if self._last_bar_ts is not None and bar.ts_event <= self._last_bar_ts:
            if self._asked is not None and self._asked[0] == bar.ts_event:
                await self.publish(subjects.RISK_SUBMIT_ORDER, self._asked[1], COMMANDS)
            return
        self._last_bar_ts = bar.ts_event
        spec = self.strategy.on_bar(bar.to_core())
        if spec is None:
            return
        self._quantities[spec.client_order_id] = spec.quantity
        now = now_ns()
        command = SubmitOrder.from_core(
            spec,
            **bar.caused(
                ts_event=now,
                ts_init=now,
                message_id=derived_id(bar.message_id, spec.client_order_id),
            ),
        )
        # Kept until the order is over, so that a redelivered bar can send it again.
        self._asked = (bar.ts_event, command)
        await self.publish(subjects.RISK_SUBMIT_ORDER, command, COMMANDS)
        log.info(
            "submitted %s %s %s",
            spec.side,
            spec.quantity,
            spec.instrument_id,
            extra={"client_order_id": spec.client_order_id},
        )

    async def on_order_event(self, event: OrderEvent) -> None:
        """Book fills and free the strategy when its in-flight order ends."""
        cid = event.client_order_id
        if isinstance(event, OrderFilled):
            self.strategy.on_fill(event.side, event.last_qty)
            self._filled[cid] = self._filled.get(cid, Decimal(0)) + event.last_qty
            if self._filled[cid] >= self._quantities.get(cid, event.last_qty):
                self._end(cid)
        elif isinstance(event, _CLOSING):
            if isinstance(event, OrderDenied | OrderRejected):
                log.warning("order %s refused: %s %s", cid, event.reason_code, event.reason)
            self._end(cid)

    def _end(self, client_order_id: str) -> None:
        self.strategy.on_order_closed(client_order_id)
        if self._asked is not None and self._asked[1].client_order_id == client_order_id:
            self._asked = None
        self._filled.pop(client_order_id, None)
        self._quantities.pop(client_order_id, None)
