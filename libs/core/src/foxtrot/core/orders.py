"""Orders and the state machine that every order event goes through.

An order's states and the events that move it (``Order.apply``; anything else is refused
with InvalidOrderTransition and changes nothing):

==========================  ===========================================  ====================
event                       allowed in                                   leads to
==========================  ===========================================  ====================
OrderDenied                 INITIALIZED                                  DENIED
OrderSubmitted              INITIALIZED                                  SUBMITTED
OrderRejected               SUBMITTED, TRIGGERED                         REJECTED
OrderAccepted               SUBMITTED                                    ACCEPTED
OrderTriggered              ACCEPTED, or pending on ACCEPTED             TRIGGERED
OrderPendingUpdate          working                                      PENDING_UPDATE
OrderPendingCancel          working, PENDING_UPDATE                      PENDING_CANCEL
OrderUpdated                INITIALIZED, working, pending                unchanged, or the
                                                                         working state under
                                                                         PENDING_UPDATE
OrderModifyRejected         PENDING_UPDATE (and, late, working or        the working state
                            PENDING_CANCEL: no change)
OrderCancelRejected         PENDING_CANCEL (and, late, working or        the working state
                            PENDING_UPDATE: no change)
OrderFilled                 SUBMITTED, working, pending                  FILLED when nothing
                                                                         is left, else
                                                                         PARTIALLY_FILLED
                                                                         (still pending if it
                                                                         was)
OrderCanceled               INITIALIZED, SUBMITTED, working, pending     CANCELED
OrderExpired                working, pending                             EXPIRED
==========================  ===========================================  ====================

"Working" is ACCEPTED, TRIGGERED or PARTIALLY_FILLED; "pending" is PENDING_UPDATE or
PENDING_CANCEL, under which the order remembers the working state it returns to. A fill
may race a cancel or modify request, and a venue may fill before its acknowledgement
reaches us, so fills are allowed from SUBMITTED and while pending; a venue's refusal of a
request can arrive after the order moved on, so a late one is recorded and changes
nothing. An order emulated locally is TRIGGERED when it is released to its venue, and the
venue may still refuse it (REJECTED). A contingent child is INITIALIZED until its parent
fills (which may update its quantity to what the parent filled), and is CANCELED from
there if the parent ends without a fill. DENIED, REJECTED,
FILLED, CANCELED and EXPIRED are terminal: nothing is accepted after them. An update may
not cut the quantity to what has filled or below.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from foxtrot.core.enums import OrderStatus
from foxtrot.core.errors import InvalidOrder, InvalidOrderTransition
from foxtrot.core.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
)
from foxtrot.core.identifiers import ClientOrderId, VenueOrderId
from foxtrot.core.order_spec import OrderSpec

__all__ = ["Order", "OrderSpec"]

_S = OrderStatus
_WORKING: Final = frozenset({_S.ACCEPTED, _S.TRIGGERED, _S.PARTIALLY_FILLED})
_PENDING: Final = frozenset({_S.PENDING_UPDATE, _S.PENDING_CANCEL})
_LIVE: Final = _WORKING | _PENDING
_ALLOWED_FROM: Final[dict[type[OrderEvent], frozenset[OrderStatus]]] = {
    OrderDenied: frozenset({_S.INITIALIZED}),
    OrderSubmitted: frozenset({_S.INITIALIZED}),
    OrderRejected: frozenset({_S.SUBMITTED, _S.TRIGGERED}),
    OrderAccepted: frozenset({_S.SUBMITTED}),
    OrderTriggered: frozenset({_S.ACCEPTED}) | _PENDING,
    OrderPendingUpdate: _WORKING,
    OrderPendingCancel: _WORKING | {_S.PENDING_UPDATE},
    OrderUpdated: _LIVE | {_S.INITIALIZED},
    OrderModifyRejected: _LIVE,
    OrderCancelRejected: _LIVE,
    OrderFilled: _LIVE | {_S.SUBMITTED},
    OrderCanceled: _LIVE | {_S.SUBMITTED, _S.INITIALIZED},
    OrderExpired: _LIVE,
}


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
    # Under PENDING_UPDATE / PENDING_CANCEL: the working state the order returns to.
    working_status: OrderStatus | None = None

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
        """Move the order to the state the event leads to (see the module's table), or raise
        InvalidOrderTransition, changing nothing, if the event is not allowed."""
        kind = type(event)
        allowed = _ALLOWED_FROM[kind]
        if self.status not in allowed:
            raise InvalidOrderTransition(
                f"order {self.client_order_id}: {kind.__name__} is not allowed in state "
                f"{self.status}; allowed in {sorted(allowed)}"
            )
        if event.client_order_id != self.spec.client_order_id:
            raise InvalidOrderTransition(
                f"event for order {event.client_order_id} applied to order {self.client_order_id}"
            )
        # The commonest events first, told apart by their exact type (events are final).
        if kind is OrderFilled:
            self._fill(event)  # type: ignore[arg-type]
        elif kind is OrderSubmitted:
            self.status = _S.SUBMITTED
            self.working_status = None
        elif kind is OrderAccepted:
            self.venue_order_id = event.venue_order_id  # type: ignore[union-attr]
            self.status = _S.ACCEPTED
        elif isinstance(event, OrderUpdated):
            self._update(event)
        elif isinstance(event, OrderTriggered):
            self._trigger(event)
        elif isinstance(event, OrderPendingUpdate | OrderPendingCancel):
            if self.status not in _PENDING:
                self.working_status = self.status
            self.status = (
                _S.PENDING_UPDATE if isinstance(event, OrderPendingUpdate) else _S.PENDING_CANCEL
            )
        elif isinstance(event, OrderModifyRejected):
            self._answered(_S.PENDING_UPDATE)
        elif isinstance(event, OrderCancelRejected):
            self._answered(_S.PENDING_CANCEL)
        else:
            self.status = _NEXT_STATUS[kind]
            self.working_status = None
        self.events.append(event)

    def _answered(self, pending: OrderStatus) -> None:
        """The venue answered a ``pending`` request (done or refused): the order works on
        as before. An answer to a request already overtaken changes nothing."""
        if self.status is pending:
            assert self.working_status is not None
            self.status, self.working_status = self.working_status, None

    def _trigger(self, event: OrderTriggered) -> None:
        spec = self.spec
        if not (spec.order_type.has_trigger_price or spec.order_type.is_trailing):
            raise InvalidOrderTransition(
                f"order {self.client_order_id}: a {spec.order_type} order has no trigger"
            )
        if self.status in _PENDING:
            if self.working_status is not _S.ACCEPTED:
                raise InvalidOrderTransition(
                    f"order {self.client_order_id}: OrderTriggered is only allowed while "
                    f"ACCEPTED, was {self.status} on {self.working_status}"
                )
            self.working_status = _S.TRIGGERED
        else:
            self.status = _S.TRIGGERED

    def _update(self, event: OrderUpdated) -> None:
        spec = self.spec
        quantity = event.quantity if event.quantity is not None else spec.quantity
        if not quantity > self.filled_qty:
            raise InvalidOrderTransition(
                f"order {self.client_order_id}: updated quantity {quantity} must exceed the "
                f"{self.filled_qty} already filled"
            )
        try:
            self.spec = dataclasses.replace(
                spec,
                quantity=quantity,
                price=event.price if event.price is not None else spec.price,
                trigger_price=(
                    event.trigger_price if event.trigger_price is not None else spec.trigger_price
                ),
            )
        except InvalidOrder as exc:
            raise InvalidOrderTransition(f"order {self.client_order_id}: {exc}") from exc
        self._answered(_S.PENDING_UPDATE)

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
        if self.leaves_qty == 0:
            self.status, self.working_status = _S.FILLED, None
        elif self.status in _PENDING:
            self.working_status = _S.PARTIALLY_FILLED  # still waiting for the venue's answer
        else:
            self.status = _S.PARTIALLY_FILLED


_NEXT_STATUS: Final[dict[type[OrderEvent], OrderStatus]] = {
    OrderDenied: _S.DENIED,
    OrderSubmitted: _S.SUBMITTED,
    OrderRejected: _S.REJECTED,
    OrderCanceled: _S.CANCELED,
    OrderExpired: _S.EXPIRED,
}
