"""What an order asks for: its type, prices, time in force, flags and contingency links.

Order types and the fields they take:

=======================  ===========  ==============  =================================
type                     price        trigger_price   trailing fields
=======================  ===========  ==============  =================================
MARKET                   none         none            none
LIMIT                    required     none            none
STOP_MARKET              none         required        none
STOP_LIMIT               required     required        none
MARKET_IF_TOUCHED        none         required        none
LIMIT_IF_TOUCHED         required     required        none
TRAILING_STOP_MARKET     none         optional (1)    trailing_offset
TRAILING_STOP_LIMIT      optional (2) optional (1)    trailing_offset and limit_offset
=======================  ===========  ==============  =================================

(1) the starting trigger; without one the trigger starts ``trailing_offset`` from the
market when the order starts working. (2) the limit follows the trigger at
``limit_offset``; a price given is only the starting limit.

Offsets are in ``trailing_offset_type`` units: a price distance, or basis points of the
reference price. ``display_qty`` makes a priced order an iceberg that shows only that much
at a time. Contingencies link orders of one list (``order_list_id``): an OTO parent
releases its children (``parent_order_id`` points back) as it fills; OCO members
(``linked_order_ids``) cancel each other. A bracket is an OTO entry whose two children, a
stop-loss and a take-profit, are OCO with each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from foxtrot.core.enums import (
    ContingencyType,
    OrderSide,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from foxtrot.core.errors import InvalidOrder
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId

__all__ = ["OrderSpec"]

_DAY_NS: Final = 86_400 * 1_000_000_000


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
    trailing_offset: Decimal | None = None
    trailing_offset_type: TrailingOffsetType = TrailingOffsetType.PRICE
    limit_offset: Decimal | None = None
    display_qty: Decimal | None = None
    contingency_type: ContingencyType = ContingencyType.NONE
    order_list_id: str | None = None
    linked_order_ids: tuple[ClientOrderId, ...] = ()
    parent_order_id: ClientOrderId | None = None

    def __post_init__(self) -> None:
        _check_quantities(self)
        _check_prices(self)
        _check_trailing(self)
        _check_time_in_force(self)
        _check_contingency(self)

    @property
    def is_contingent_child(self) -> bool:
        """True for an order released by its OTO parent's fills."""
        return self.parent_order_id is not None

    def expiry(self, working_since_ns: int) -> int | None:
        """When the order's time in force runs out if it started working at
        ``working_since_ns``: GTD at its expire time, DAY at the next 00:00 UTC."""
        if self.time_in_force is TimeInForce.GTD:
            return self.expire_time_ns
        if self.time_in_force is TimeInForce.DAY:
            return (working_since_ns // _DAY_NS + 1) * _DAY_NS
        return None

    def event_fields(self, ts_event: int) -> dict[str, Any]:
        """The fields every event of this order starts with."""
        return {
            "client_order_id": self.client_order_id,
            "strategy_id": self.strategy_id,
            "instrument_id": self.instrument_id,
            "ts_event": ts_event,
        }


def _check_quantities(spec: OrderSpec) -> None:
    if not spec.quantity > 0:
        raise InvalidOrder(f"quantity must be positive, was {spec.quantity}")
    if spec.display_qty is not None:
        if not spec.order_type.has_limit_price:
            raise InvalidOrder(f"display_qty needs a priced order, was {spec.order_type}")
        if not 0 < spec.display_qty <= spec.quantity:
            raise InvalidOrder(
                f"display_qty must be positive and at most the quantity {spec.quantity}, "
                f"was {spec.display_qty}"
            )


def _check_prices(spec: OrderSpec) -> None:
    kind = spec.order_type
    trails_limit = kind is OrderType.TRAILING_STOP_LIMIT
    if kind.has_limit_price and spec.price is None and not trails_limit:
        raise InvalidOrder(f"a {kind} order needs a price")
    if not kind.has_limit_price and spec.price is not None:
        raise InvalidOrder(f"a {kind} order takes no price, was {spec.price}")
    if spec.price is not None and not spec.price > 0:
        raise InvalidOrder(f"price must be positive, was {spec.price}")
    if kind.has_trigger_price and spec.trigger_price is None:
        raise InvalidOrder(f"a {kind} order needs a trigger price")
    if spec.trigger_price is not None:
        if not (kind.has_trigger_price or kind.is_trailing):
            raise InvalidOrder(f"a {kind} order takes no trigger price, was {spec.trigger_price}")
        if not spec.trigger_price > 0:
            raise InvalidOrder(f"trigger price must be positive, was {spec.trigger_price}")
    if spec.post_only and kind is not OrderType.LIMIT:
        raise InvalidOrder(f"post_only needs a LIMIT order, was {kind}")


def _check_trailing(spec: OrderSpec) -> None:
    kind = spec.order_type
    if kind.is_trailing:
        if spec.trailing_offset is None or not spec.trailing_offset > 0:
            raise InvalidOrder(f"a {kind} order needs a positive trailing_offset")
    elif spec.trailing_offset is not None:
        raise InvalidOrder(f"a {kind} order takes no trailing_offset")
    if kind is OrderType.TRAILING_STOP_LIMIT:
        if spec.limit_offset is None or spec.limit_offset < 0:
            raise InvalidOrder("a TRAILING_STOP_LIMIT order needs a limit_offset of 0 or more")
    elif spec.limit_offset is not None:
        raise InvalidOrder(f"a {kind} order takes no limit_offset")


def _check_time_in_force(spec: OrderSpec) -> None:
    tif = spec.time_in_force
    if (tif is TimeInForce.GTD) != (spec.expire_time_ns is not None):
        raise InvalidOrder("expire_time_ns is required with GTD and only with GTD")
    if spec.post_only and tif in (TimeInForce.IOC, TimeInForce.FOK):
        raise InvalidOrder(f"a post-only order rests on the book, so it cannot be {tif}")
    if spec.display_qty is not None and tif in (TimeInForce.IOC, TimeInForce.FOK):
        raise InvalidOrder(f"an iceberg rests on the book, so it cannot be {tif}")


def _check_contingency(spec: OrderSpec) -> None:
    kind = spec.contingency_type
    if spec.client_order_id in spec.linked_order_ids:
        raise InvalidOrder("an order cannot be linked to itself")
    if kind is ContingencyType.NONE:
        if spec.linked_order_ids:
            raise InvalidOrder("linked_order_ids needs a contingency_type of OCO or OTO")
    elif not spec.linked_order_ids:
        raise InvalidOrder(f"an {kind} order needs linked_order_ids")
    if (kind is not ContingencyType.NONE or spec.parent_order_id) and not spec.order_list_id:
        raise InvalidOrder("a contingent order needs an order_list_id")
    if spec.parent_order_id is not None and spec.parent_order_id == spec.client_order_id:
        raise InvalidOrder("an order cannot be its own parent")
