"""v1 order events, published on evt.v1.order.{strategy_id} and told apart by ``type``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from foxtrot.common.messages.v1.envelope import Message
from foxtrot.common.messages.v1.types import (
    DecimalStr,
    InstrumentIdStr,
    PositiveDecimalStr,
    Token,
)
from foxtrot.core import events as core
from foxtrot.core.enums import LiquiditySide, OrderSide

__all__ = [
    "ORDER_EVENT_ADAPTER",
    "OrderAccepted",
    "OrderCanceled",
    "OrderDenied",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderSubmitted",
    "order_event_from_core",
]


class _OrderEvent(Message):
    client_order_id: str = Field(min_length=1, max_length=64)
    strategy_id: Token
    instrument_id: InstrumentIdStr


class OrderDenied(_OrderEvent):
    """Risk refused the order; it never reached a venue."""

    type: Literal["OrderDenied"] = "OrderDenied"
    reason_code: str = Field(description="stable code, e.g. MAX_ORDER_NOTIONAL")
    reason: str = Field(description="what was expected and what was found")


class OrderSubmitted(_OrderEvent):
    """Execution sent the order to its venue."""

    type: Literal["OrderSubmitted"] = "OrderSubmitted"


class OrderAccepted(_OrderEvent):
    """The venue accepted the order; it is working."""

    type: Literal["OrderAccepted"] = "OrderAccepted"
    venue_order_id: str


class OrderRejected(_OrderEvent):
    """The venue refused the order."""

    type: Literal["OrderRejected"] = "OrderRejected"
    reason_code: str
    reason: str


class OrderCanceled(_OrderEvent):
    """The order stopped working."""

    type: Literal["OrderCanceled"] = "OrderCanceled"


class OrderExpired(_OrderEvent):
    """The order's time in force ran out."""

    type: Literal["OrderExpired"] = "OrderExpired"


class OrderFilled(_OrderEvent):
    """Some or all of the order traded."""

    type: Literal["OrderFilled"] = "OrderFilled"
    venue_order_id: str | None = None
    trade_id: str = Field(min_length=1, max_length=128)
    side: OrderSide
    last_qty: PositiveDecimalStr
    last_px: PositiveDecimalStr
    commission: DecimalStr
    commission_currency: Token
    liquidity_side: LiquiditySide


OrderEvent = Annotated[
    OrderDenied
    | OrderSubmitted
    | OrderAccepted
    | OrderRejected
    | OrderCanceled
    | OrderExpired
    | OrderFilled,
    Field(discriminator="type"),
]
ORDER_EVENT_ADAPTER: TypeAdapter[OrderEvent] = TypeAdapter(OrderEvent)

_FROM_CORE: dict[type[core.OrderEvent], type[_OrderEvent]] = {
    core.OrderDenied: OrderDenied,
    core.OrderSubmitted: OrderSubmitted,
    core.OrderAccepted: OrderAccepted,
    core.OrderRejected: OrderRejected,
    core.OrderCanceled: OrderCanceled,
    core.OrderExpired: OrderExpired,
    core.OrderFilled: OrderFilled,
}


def order_event_from_core(event: core.OrderEvent, **envelope: Any) -> OrderEvent:
    """Wrap a domain order event for the wire."""
    fields = {name: getattr(event, name) for name in event.__dataclass_fields__}
    fields["instrument_id"] = str(event.instrument_id)
    wire = _FROM_CORE[type(event)](**fields, **envelope)
    return wire  # type: ignore[return-value]
