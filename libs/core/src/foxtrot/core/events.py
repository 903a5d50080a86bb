"""Order events as the domain sees them; each one moves an order through its states."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from foxtrot.core.enums import LiquiditySide, OrderSide
from foxtrot.core.identifiers import (
    ClientOrderId,
    InstrumentId,
    StrategyId,
    TradeId,
    VenueOrderId,
)

__all__ = [
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
]


@dataclass(frozen=True, slots=True, kw_only=True)
class _OrderEventBase:
    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId
    ts_event: int


@dataclass(frozen=True, slots=True, kw_only=True)
class _Refusal(_OrderEventBase):
    reason_code: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDenied(_Refusal):
    """Risk refused the order before it reached a venue."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSubmitted(_OrderEventBase):
    """Execution sent the order to its venue."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted(_OrderEventBase):
    """The venue accepted the order and it is working."""

    venue_order_id: VenueOrderId


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(_Refusal):
    """The venue refused the order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPendingUpdate(_OrderEventBase):
    """Execution sent the venue a request to modify the working order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPendingCancel(_OrderEventBase):
    """Execution sent the venue a request to cancel the working order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdated(_OrderEventBase):
    """The venue (or the local emulator) changed the working order's quantity or prices;
    a field that is None stays as it was."""

    quantity: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderModifyRejected(_Refusal):
    """The venue refused a modify request; the order works on unchanged."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelRejected(_Refusal):
    """The venue refused a cancel request (it had filled already, say)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTriggered(_OrderEventBase):
    """A stop-limit, limit-if-touched or trailing-stop-limit order's trigger price was
    reached: it now works as a limit order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCanceled(_OrderEventBase):
    """The order stopped working at the venue's or the owner's request."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExpired(_OrderEventBase):
    """The order's time in force ran out."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled(_OrderEventBase):
    """Some or all of the order traded."""

    venue_order_id: VenueOrderId | None
    trade_id: TradeId
    side: OrderSide
    last_qty: Decimal
    last_px: Decimal
    commission: Decimal
    commission_currency: str
    liquidity_side: LiquiditySide


OrderEvent = (
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
    | OrderFilled
)
