"""Strategy's subscriptions: its bars and its own order events."""

from __future__ import annotations

from foxtrot.common import subjects
from foxtrot.common.consumers import Consumers, Delivery
from foxtrot.common.messages.v1 import ORDER_EVENT_ADAPTER, Bar, OrderEvent
from foxtrot.common.streams import EVENTS, MARKET_DATA
from foxtrot.core.identifiers import InstrumentId
from foxtrot.strategy.config import StrategySettings
from foxtrot.strategy.service import StrategyHost

__all__ = ["register"]


def register(consumers: Consumers, host: StrategyHost, settings: StrategySettings) -> None:
    """Subscribe the hosted strategy to its bars and order events."""

    async def on_bar(bar: Bar, _: Delivery) -> None:
        await host.on_bar(bar)

    async def on_order_event(event: OrderEvent, _: Delivery) -> None:
        await host.on_order_event(event)

    sid = settings.strategy_id
    instrument = InstrumentId.parse(settings.instrument_id)
    consumers.durable(
        subjects.bar(instrument, settings.bar_spec),
        stream=MARKET_DATA,
        durable=f"strategy-{sid}-bars",
        decode=Bar.from_json,
        handle=on_bar,
    )
    consumers.durable(
        subjects.order_events(sid),
        stream=EVENTS,
        durable=f"strategy-{sid}-orders",
        decode=ORDER_EVENT_ADAPTER.validate_json,
        handle=on_order_event,
    )
