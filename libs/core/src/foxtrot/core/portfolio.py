"""Net positions per strategy and instrument, with average entry price and PnL."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from foxtrot.core.enums import OrderSide, PositionSide
from foxtrot.core.identifiers import InstrumentId, StrategyId

__all__ = ["Position", "PositionChange"]


class PositionChange(StrEnum):
    """What a fill did to a position."""

    OPENED = "OPENED"
    CHANGED = "CHANGED"
    CLOSED = "CLOSED"


@dataclass(slots=True)
class Position:
    """A netting position: one signed quantity per strategy and instrument.

    Realised PnL is booked when a fill reduces the position, at the difference between the
    fill price and the average entry price. A fill that crosses through zero closes the old
    position and opens the rest at the fill price. Commissions are tracked apart from PnL.
    """

    strategy_id: StrategyId
    instrument_id: InstrumentId
    quantity: Decimal = Decimal(0)
    avg_px_open: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    commissions: Decimal = Decimal(0)
    ts_opened: int | None = None
    ts_last: int | None = None

    @property
    def side(self) -> PositionSide:
        """LONG, SHORT or FLAT from the sign of the quantity."""
        if self.quantity > 0:
            return PositionSide.LONG
        if self.quantity < 0:
            return PositionSide.SHORT
        return PositionSide.FLAT

    def unrealized_pnl(self, mark_price: Decimal) -> Decimal:
        """PnL of the open quantity if it were closed at ``mark_price``."""
        return (mark_price - self.avg_px_open) * self.quantity

    def apply_fill(
        self, side: OrderSide, qty: Decimal, price: Decimal, commission: Decimal, ts: int
    ) -> PositionChange:
        """Book a fill and say whether it opened, changed or closed the position."""
        was_flat = self.quantity == 0
        signed = qty * side.sign
        self.commissions += commission
        if was_flat or (self.quantity > 0) == (signed > 0):
            total = self.quantity + signed
            self.avg_px_open = (self.avg_px_open * abs(self.quantity) + price * qty) / abs(total)
            self.quantity = total
        else:
            closing = min(qty, abs(self.quantity))
            direction = 1 if self.quantity > 0 else -1
            self.realized_pnl += (price - self.avg_px_open) * closing * direction
            self.quantity += signed
            if self.quantity == 0:
                self.avg_px_open = Decimal(0)
            elif (self.quantity > 0) != (direction > 0):
                self.avg_px_open = price  # crossed through zero: the rest opens here
                self.ts_opened = ts
        self.ts_last = ts
        if was_flat:
            self.ts_opened = ts
            return PositionChange.OPENED
        return PositionChange.CLOSED if self.quantity == 0 else PositionChange.CHANGED
