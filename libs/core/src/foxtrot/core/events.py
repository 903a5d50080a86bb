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
    "OrderCanceled",
    "OrderDenied",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderSubmitted",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class _OrderEventBase:
    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId
    ts_event: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDenied(_OrderEventBase):
    """Risk refused the order before it reached a venue."""

    reason_code: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSubmitted(_OrderEventBase):
    """Execution sent the order to its venue."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted(_OrderEventBase):
    """The venue accepted the order and it is working."""

    venue_order_id: VenueOrderId


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(_OrderEventBase):
    """The venue refused the order."""

    reason_code: str
    reason: str


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
    | OrderCanceled
    | OrderExpired
    | OrderFilled
)
