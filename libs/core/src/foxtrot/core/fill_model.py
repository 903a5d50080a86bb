"""How the simulated venue turns market data into liquidity, and what a fill costs.

The venue sees four kinds of market data, and each offers liquidity differently:

- an **L2 book** is standing liquidity: every level on each side, at its size;
- an **L1 quote** is standing liquidity: the best bid and ask, at their sizes;
- a **trade** is a passing event: its size at its price, once;
- a **bar** is a passing event: ``volume x bar_volume_share`` at the open for takers, and
  for resting limits the same pool at their limit (or at the open, when the bar opens
  through them).

Our own fills consume what they take: standing liquidity stays consumed until the next
book or quote replaces it, so two orders never take the same size twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from foxtrot.core.enums import OrderSide

__all__ = ["FillModel", "Level", "Liquidity", "bar_path", "round_down", "within"]

_ZERO = Decimal(0)
_BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class FillModel:
    """The simulated venue's assumptions about slippage and queue position.

    - ``slippage_bps``: how far a taker fill against L1, trades or bars lands beyond the
      price the data shows, with chance ``prob_slippage`` (a fill walking an L2 book pays
      the book's own slippage instead). Rounded outward to a whole tick when the venue
      knows the instrument's tick size.
    - ``prob_fill_at_limit``: the chance that a resting limit fills when the market only
      touches its price (a trade or bar at exactly the limit) rather than going through it:
      our place in the queue at that price is unknown.
    - ``bar_volume_share``: the share of a bar's volume our orders may take in that bar.
    """

    slippage_bps: Decimal = _ZERO
    prob_slippage: float = 0.0
    prob_fill_at_limit: float = 1.0
    bar_volume_share: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        for name in ("prob_slippage", "prob_fill_at_limit"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], was {getattr(self, name)}")
        if self.slippage_bps < 0:
            raise ValueError(f"slippage_bps must not be negative, was {self.slippage_bps}")
        if not 0 < self.bar_volume_share <= 1:
            raise ValueError(f"bar_volume_share must be within (0, 1], was {self.bar_volume_share}")

    def slipped(
        self, price: Decimal, side: OrderSide, rng: random.Random, tick: Decimal | None
    ) -> Decimal:
        """The price a taker on ``side`` gets when the data shows ``price``."""
        if not self.slippage_bps or not rng.random() < self.prob_slippage:
            return price
        move = price * self.slippage_bps / _BPS
        if tick is not None:
            move = max(tick, (move / tick).to_integral_value(ROUND_CEILING) * tick)
        return price + move if side is OrderSide.BUY else price - move

    def fills_at_touch(self, rng: random.Random) -> bool:
        """Whether a resting limit fills when the market only touches its price."""
        return self.prob_fill_at_limit >= 1.0 or rng.random() < self.prob_fill_at_limit


@dataclass(slots=True)
class Level:
    """A price and the size still available there to our orders."""

    price: Decimal
    size: Decimal


@dataclass(slots=True)
class Liquidity:
    """What one piece of market data offers: asks serve buyers, bids serve sellers.

    ``standing`` is True for books and quotes (a new order may trade against it on
    arrival) and False for trades and bars (only orders already there when it passes).
    ``low`` and ``high`` are the lowest and highest prices the data reached: what tells a
    resting limit it was traded through (a trade's price, a bar's range). ``open`` is set
    for bars: a resting limit the bar opens through fills at the open.
    """

    asks: list[Level] = field(default_factory=list)
    bids: list[Level] = field(default_factory=list)
    standing: bool = False
    from_book: bool = False
    low: Decimal | None = None
    high: Decimal | None = None
    open: Decimal | None = None

    def reached(self, side: OrderSide) -> Decimal | None:
        """The best price the other side offered an order on ``side``: the lowest ask or
        trade for a buyer, the highest bid or trade for a seller."""
        if self.standing:
            levels = self.side_for(side)
            return levels[0].price if levels else None
        return self.low if side is OrderSide.BUY else self.high

    def side_for(self, side: OrderSide) -> list[Level]:
        """The levels an order on ``side`` trades against, best first."""
        return self.asks if side is OrderSide.BUY else self.bids

    def available(self, side: OrderSide, limit: Decimal | None) -> Decimal:
        """Size an order on ``side`` could take now at ``limit`` or better."""
        return sum(
            (lv.size for lv in self.side_for(side) if within(lv.price, side, limit)),
            _ZERO,
        )


def within(price: Decimal, side: OrderSide, limit: Decimal | None) -> bool:
    """True when ``price`` is at ``limit`` or better for an order on ``side`` (any price
    is, without a limit)."""
    if limit is None:
        return True
    return price <= limit if side is OrderSide.BUY else price >= limit


def bar_path(open_: Decimal, high: Decimal, low: Decimal, close: Decimal) -> tuple[Decimal, ...]:
    """The order in which a bar is assumed to have visited its prices: the open, then the
    extreme nearer the open, then the other extreme, then the close."""
    if high - open_ <= open_ - low:
        return (open_, high, low, close)
    return (open_, low, high, close)


def round_down(quantity: Decimal, lot: Decimal | None) -> Decimal:
    """``quantity`` cut down to a whole number of lots (unchanged when the lot is unknown)."""
    if lot is None:
        return quantity
    return (quantity / lot).to_integral_value(ROUND_FLOOR) * lot
