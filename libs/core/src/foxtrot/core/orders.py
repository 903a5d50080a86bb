"""Orders and the state machine that every order event goes through."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from foxtrot.core.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from foxtrot.core.errors import InvalidOrder, InvalidOrderTransition
from foxtrot.core.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from foxtrot.core.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    VenueOrderId,
)

__all__ = ["Order", "OrderSpec"]

_S = OrderStatus
_FILLABLE: Final = frozenset(
    {
        _S.ACCEPTED,
        _S.TRIGGERED,
        _S.PARTIALLY_FILLED,
        _S.PENDING_UPDATE,
        _S.PENDING_CANCEL,
        _S.SUBMITTED,
    }
)
# Which states each event may arrive in. A fill may race a cancel or modify request, and a
# venue may fill before its acknowledgement reaches us, so fills are allowed from SUBMITTED.
_ALLOWED_FROM: Final[dict[type[OrderEvent], frozenset[OrderStatus]]] = {
    OrderDenied: frozenset({_S.INITIALIZED}),
    OrderSubmitted: frozenset({_S.INITIALIZED}),
    OrderRejected: frozenset({_S.SUBMITTED}),
    OrderAccepted: frozenset({_S.SUBMITTED}),
    OrderCanceled: frozenset(
        {
            _S.SUBMITTED,
            _S.ACCEPTED,
            _S.TRIGGERED,
            _S.PARTIALLY_FILLED,
            _S.PENDING_UPDATE,
            _S.PENDING_CANCEL,
        }
    ),
    OrderExpired: frozenset(
        {_S.ACCEPTED, _S.TRIGGERED, _S.PARTIALLY_FILLED, _S.PENDING_UPDATE, _S.PENDING_CANCEL}
    ),
    OrderFilled: _FILLABLE,
}


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """What a strategy or person asks for: the immutable part of an order."""

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    account_id: AccountId
    instrument_id: InstrumentId
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    time_in_force: TimeInForce = TimeInForce.GTC
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    expire_time_ns: int | None = None
    reduce_only: bool = False
    post_only: bool = False

    def __post_init__(self) -> None:
        if not self.quantity > 0:
            raise InvalidOrder(f"quantity must be positive, was {self.quantity}")
        if self.order_type.has_limit_price and self.price is None:
            raise InvalidOrder(f"a {self.order_type} order needs a price")
        if not self.order_type.has_limit_price and self.price is not None:
            raise InvalidOrder(f"a {self.order_type} order takes no price, was {self.price}")
        if self.price is not None and not self.price > 0:
            raise InvalidOrder(f"price must be positive, was {self.price}")
        if self.order_type.has_trigger_price and self.trigger_price is None:
            raise InvalidOrder(f"a {self.order_type} order needs a trigger price")
        if self.trigger_price is not None:
            if not (self.order_type.has_trigger_price or self.order_type.is_trailing):
                raise InvalidOrder(
                    f"a {self.order_type} order takes no trigger price, was {self.trigger_price}"
                )
            if not self.trigger_price > 0:
                raise InvalidOrder(f"trigger price must be positive, was {self.trigger_price}")
        if (self.time_in_force is TimeInForce.GTD) != (self.expire_time_ns is not None):
            raise InvalidOrder("expire_time_ns is required with GTD and only with GTD")
        if self.post_only and self.order_type is not OrderType.LIMIT:
            raise InvalidOrder(f"post_only needs a LIMIT order, was {self.order_type}")


@dataclass(slots=True)
class Order:
    """An order's current state, changed only by applying its events."""

    spec: OrderSpec
    status: OrderStatus = OrderStatus.INITIALIZED
    filled_qty: Decimal = Decimal(0)
    avg_px: Decimal | None = None
    venue_order_id: VenueOrderId | None = None
    events: list[OrderEvent] = field(default_factory=list)
    # Sum of price x quantity over fills, kept exact so avg_px never accumulates rounding.
    filled_notional: Decimal | None = None

    def __post_init__(self) -> None:
        if self.filled_notional is None:
            self.filled_notional = (self.avg_px or Decimal(0)) * self.filled_qty

    @property
    def client_order_id(self) -> ClientOrderId:
        """The id the order was submitted with."""
        return self.spec.client_order_id

    @property
    def leaves_qty(self) -> Decimal:
        """Quantity still to be filled."""
        return self.spec.quantity - self.filled_qty

    def apply(self, event: OrderEvent) -> None:
        """Move the order to the state the event leads to, or raise if the event is illegal."""
        allowed = _ALLOWED_FROM[type(event)]
        if self.status not in allowed:
            raise InvalidOrderTransition(
                f"order {self.client_order_id}: {type(event).__name__} is not allowed in state "
                f"{self.status}; allowed in {sorted(allowed)}"
            )
        if event.client_order_id != self.client_order_id:
            raise InvalidOrderTransition(
                f"event for order {event.client_order_id} applied to order {self.client_order_id}"
            )
        if isinstance(event, OrderFilled):
            self._fill(event)
        elif isinstance(event, OrderAccepted):
            self.venue_order_id = event.venue_order_id
            self.status = _S.ACCEPTED
        else:
            self.status = _NEXT_STATUS[type(event)]
        self.events.append(event)

    def _fill(self, fill: OrderFilled) -> None:
        if fill.last_qty <= 0:
            raise InvalidOrderTransition(f"fill quantity must be positive, was {fill.last_qty}")
        if fill.last_qty > self.leaves_qty:
            raise InvalidOrderTransition(
                f"order {self.client_order_id}: fill of {fill.last_qty} exceeds the "
                f"{self.leaves_qty} left to fill"
            )
        self.filled_notional = (self.filled_notional or Decimal(0)) + fill.last_px * fill.last_qty
        self.filled_qty += fill.last_qty
        self.avg_px = self.filled_notional / self.filled_qty
        if fill.venue_order_id is not None:
            self.venue_order_id = fill.venue_order_id
        self.status = _S.FILLED if self.leaves_qty == 0 else _S.PARTIALLY_FILLED


_NEXT_STATUS: Final[dict[type[OrderEvent], OrderStatus]] = {
    OrderDenied: _S.DENIED,
    OrderSubmitted: _S.SUBMITTED,
    OrderRejected: _S.REJECTED,
    OrderCanceled: _S.CANCELED,
    OrderExpired: _S.EXPIRED,
}
