"""Pre-trade risk rules: small pure functions that return a Denial or pass (None)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from foxtrot.core.orders import OrderSpec

__all__ = [
    "DEFAULT_RULES",
    "Denial",
    "DenialCode",
    "PreTradeContext",
    "RiskLimits",
    "check_max_order_notional",
    "check_max_order_quantity",
    "check_reference_price_known",
    "evaluate",
]


class DenialCode:
    """The reason codes risk puts on OrderDenied."""

    MAX_ORDER_QUANTITY: Final = "MAX_ORDER_QUANTITY"
    MAX_ORDER_NOTIONAL: Final = "MAX_ORDER_NOTIONAL"
    NO_REFERENCE_PRICE: Final = "NO_REFERENCE_PRICE"
    INVALID_ORDER: Final = "INVALID_ORDER"


@dataclass(frozen=True, slots=True)
class Denial:
    """Why an order was refused: a stable code and a message for people."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Per-order limits; None switches a limit off."""

    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PreTradeContext:
    """What the rules may look at besides the order: limits and the last known price."""

    limits: RiskLimits
    last_price: Decimal | None

    def reference_price(self, order: OrderSpec) -> Decimal | None:
        """The order's own limit price, else the last traded price of its instrument."""
        return order.price if order.price is not None else self.last_price


Rule = Callable[[OrderSpec, PreTradeContext], Denial | None]


def check_max_order_quantity(order: OrderSpec, ctx: PreTradeContext) -> Denial | None:
    """Deny an order larger than the max order quantity."""
    limit = ctx.limits.max_order_quantity
    if limit is not None and order.quantity > limit:
        return Denial(
            DenialCode.MAX_ORDER_QUANTITY,
            f"quantity must be at most {limit}, was {order.quantity}",
        )
    return None


def check_reference_price_known(order: OrderSpec, ctx: PreTradeContext) -> Denial | None:
    """Deny when a notional limit is set but no price is known to value the order.

    Risk fails safe: an order it cannot value is refused, not waved through.
    """
    if ctx.limits.max_order_notional is not None and ctx.reference_price(order) is None:
        return Denial(
            DenialCode.NO_REFERENCE_PRICE,
            f"no price known for {order.instrument_id} to value a {order.order_type} order",
        )
    return None


def check_max_order_notional(order: OrderSpec, ctx: PreTradeContext) -> Denial | None:
    """Deny an order whose quantity times reference price exceeds the max notional."""
    limit = ctx.limits.max_order_notional
    price = ctx.reference_price(order)
    if limit is None or price is None:
        return None
    notional = order.quantity * price
    if notional > limit:
        return Denial(
            DenialCode.MAX_ORDER_NOTIONAL,
            f"notional must be at most {limit}, was {notional} ({order.quantity} x {price})",
        )
    return None


DEFAULT_RULES: Final[tuple[Rule, ...]] = (
    check_max_order_quantity,
    check_reference_price_known,
    check_max_order_notional,
)


def evaluate(
    order: OrderSpec, ctx: PreTradeContext, rules: Sequence[Rule] = DEFAULT_RULES
) -> Denial | None:
    """Run the rules in order and return the first denial, or None when all pass."""
    for rule in rules:
        denial = rule(order, ctx)
        if denial is not None:
            return denial
    return None
