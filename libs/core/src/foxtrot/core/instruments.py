"""Instruments: what a venue allows for prices and quantities, and the checks that say so.

Each check returns None when the value is acceptable, or a message that says what was
expected and what was found ("price must be a multiple of tick size 0.01, was 100.005"),
so market data can refuse bad ticks and risk can deny bad orders with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from foxtrot.core.errors import InvalidOrder
from foxtrot.core.identifiers import InstrumentId

__all__ = ["Instrument"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument and its venue's trading rules."""

    instrument_id: InstrumentId
    base_currency: str
    quote_currency: str
    tick_size: Decimal
    lot_size: Decimal
    min_quantity: Decimal
    max_quantity: Decimal | None = None
    min_notional: Decimal | None = None
    tradable: bool = True

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_size"):
            if not getattr(self, name) > 0:
                raise InvalidOrder(f"{name} must be positive, was {getattr(self, name)}")
        if self.min_quantity < 0:
            raise InvalidOrder(f"min_quantity must not be negative, was {self.min_quantity}")
        if self.max_quantity is not None and self.max_quantity < self.min_quantity:
            raise InvalidOrder(
                f"max_quantity must be at least min_quantity {self.min_quantity}, "
                f"was {self.max_quantity}"
            )

    @property
    def price_precision(self) -> int:
        """Decimal places of a price (from the tick size)."""
        return max(0, -self.tick_size.normalize().as_tuple().exponent)  # type: ignore[operator]

    @property
    def size_precision(self) -> int:
        """Decimal places of a quantity (from the lot size)."""
        return max(0, -self.lot_size.normalize().as_tuple().exponent)  # type: ignore[operator]

    def price_problem(self, price: Decimal) -> str | None:
        """Why ``price`` is not a valid price here, or None."""
        if not price > _ZERO:
            return f"price must be positive, was {price}"
        if price % self.tick_size:
            return f"price must be a multiple of tick size {self.tick_size}, was {price}"
        return None

    def quantity_problem(self, quantity: Decimal) -> str | None:
        """Why ``quantity`` is not a valid order or trade quantity here, or None."""
        if not quantity > _ZERO:
            return f"quantity must be positive, was {quantity}"
        if quantity % self.lot_size:
            return f"quantity must be a multiple of lot size {self.lot_size}, was {quantity}"
        if quantity < self.min_quantity:
            return f"quantity must be at least {self.min_quantity}, was {quantity}"
        if self.max_quantity is not None and quantity > self.max_quantity:
            return f"quantity must be at most {self.max_quantity}, was {quantity}"
        return None

    def notional_problem(self, price: Decimal, quantity: Decimal) -> str | None:
        """Why ``price x quantity`` is below the venue's minimum order value, or None."""
        if self.min_notional is None:
            return None
        notional = price * quantity
        if notional < self.min_notional:
            return (
                f"notional must be at least {self.min_notional} {self.quote_currency}, "
                f"was {notional} ({quantity} x {price})"
            )
        return None
