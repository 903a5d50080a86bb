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
    The cost of the open quantity is kept exactly, so the average never drifts by rounding.
    """

    strategy_id: StrategyId
    instrument_id: InstrumentId
    quantity: Decimal = Decimal(0)
    cost_open: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    commissions: Decimal = Decimal(0)
    ts_opened: int | None = None
    ts_last: int | None = None

    @property
    def avg_px_open(self) -> Decimal:
        """Average entry price of the open quantity (0 when flat)."""
        return self.cost_open / abs(self.quantity) if self.quantity else Decimal(0)

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
        return mark_price * self.quantity - self.cost_open * (1 if self.quantity > 0 else -1)

    def apply_fill(
        self, side: OrderSide, qty: Decimal, price: Decimal, commission: Decimal, ts: int
    ) -> PositionChange:
        """Book a fill and say whether it opened, changed or closed the position."""
        was_flat = self.quantity == 0
        signed = qty * side.sign
        self.commissions += commission
        if was_flat or (self.quantity > 0) == (signed > 0):
            self.quantity += signed
            self.cost_open += price * qty
        else:
            open_qty = abs(self.quantity)
            closing = min(qty, open_qty)
            direction = 1 if self.quantity > 0 else -1
            closed_cost = (
                self.cost_open if closing == open_qty else (self.cost_open * closing / open_qty)
            )
            self.realized_pnl += (price * closing - closed_cost) * direction
            self.cost_open -= closed_cost
            self.quantity += signed
            if qty > closing:  # crossed through zero: the rest opens at this price
                self.cost_open = price * (qty - closing)
                self.ts_opened = ts
        self.ts_last = ts
        if was_flat:
            self.ts_opened = ts
            return PositionChange.OPENED
        return PositionChange.CLOSED if self.quantity == 0 else PositionChange.CHANGED
