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
from foxtrot.core.identifiers import InstrumentId

__all__ = [
    "ORDER_EVENT_ADAPTER",
    "OrderAccepted",
    "OrderCancelRejected",
    "OrderCanceled",
    "OrderDenied",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderModifyRejected",
    "OrderPendingCancel",
    "OrderPendingUpdate",
    "OrderRejected",
    "OrderSubmitted",
    "OrderTriggered",
    "OrderUpdated",
    "order_event_from_core",
    "order_event_to_core",
]


class _OrderEvent(Message):
    client_order_id: str = Field(min_length=1, max_length=64)
    strategy_id: Token
    instrument_id: InstrumentIdStr


class _Refusal(_OrderEvent):
    reason_code: str = Field(description="stable code, e.g. MAX_ORDER_NOTIONAL")
    reason: str = Field(description="what was expected and what was found")


class OrderDenied(_Refusal):
    """Risk refused the order; it never reached a venue."""

    type: Literal["OrderDenied"] = "OrderDenied"


class OrderSubmitted(_OrderEvent):
    """Execution sent the order to its venue."""

    type: Literal["OrderSubmitted"] = "OrderSubmitted"


class OrderAccepted(_OrderEvent):
    """The venue accepted the order; it is working."""

    type: Literal["OrderAccepted"] = "OrderAccepted"
    venue_order_id: str


class OrderRejected(_Refusal):
    """The venue refused the order."""

    type: Literal["OrderRejected"] = "OrderRejected"


class OrderPendingUpdate(_OrderEvent):
    """Execution sent the venue a request to modify the working order."""

    type: Literal["OrderPendingUpdate"] = "OrderPendingUpdate"


class OrderPendingCancel(_OrderEvent):
    """Execution sent the venue a request to cancel the working order."""

    type: Literal["OrderPendingCancel"] = "OrderPendingCancel"


class OrderUpdated(_OrderEvent):
    """The working order's quantity or prices changed; a null field did not change."""

    type: Literal["OrderUpdated"] = "OrderUpdated"
    quantity: PositiveDecimalStr | None = None
    price: PositiveDecimalStr | None = None
    trigger_price: PositiveDecimalStr | None = None


class OrderModifyRejected(_Refusal):
    """The venue refused a modify request; the order works on unchanged."""

    type: Literal["OrderModifyRejected"] = "OrderModifyRejected"


class OrderCancelRejected(_Refusal):
    """The venue refused a cancel request (the order had filled already, say)."""

    type: Literal["OrderCancelRejected"] = "OrderCancelRejected"


class OrderTriggered(_OrderEvent):
    """The order's trigger price was reached; a stop-limit, limit-if-touched or trailing
    stop-limit order now works as a limit order."""

    type: Literal["OrderTriggered"] = "OrderTriggered"


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
    | OrderPendingUpdate
    | OrderPendingCancel
    | OrderUpdated
    | OrderModifyRejected
    | OrderCancelRejected
    | OrderTriggered
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
    core.OrderPendingUpdate: OrderPendingUpdate,
    core.OrderPendingCancel: OrderPendingCancel,
    core.OrderUpdated: OrderUpdated,
    core.OrderModifyRejected: OrderModifyRejected,
    core.OrderCancelRejected: OrderCancelRejected,
    core.OrderTriggered: OrderTriggered,
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


_TO_CORE: dict[type[_OrderEvent], type[core.OrderEvent]] = {
    wire: domain for domain, wire in _FROM_CORE.items()
}


def order_event_to_core(event: OrderEvent) -> core.OrderEvent:
    """The domain's view of a wire order event (what a hosted strategy is shown)."""
    domain = _TO_CORE[type(event)]
    fields = {name: getattr(event, name) for name in domain.__dataclass_fields__}
    fields["instrument_id"] = InstrumentId.parse(event.instrument_id)
    return domain(**fields)
