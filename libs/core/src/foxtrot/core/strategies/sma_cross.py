"""SMA crossover: long when the fast average crosses above the slow one, flat when below."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from foxtrot.core.data import Bar
from foxtrot.core.enums import OrderSide, OrderType
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.indicators import SimpleMovingAverage
from foxtrot.core.orders import OrderSpec

__all__ = ["SmaCross", "SmaCrossConfig"]


@dataclass(frozen=True, slots=True)
class SmaCrossConfig:
    """Parameters of one SMA-crossover instance."""

    strategy_id: StrategyId
    account_id: AccountId
    instrument_id: InstrumentId
    bar_spec: str = "1m"
    fast_period: int = 10
    slow_period: int = 30
    trade_size: Decimal = Decimal("0.01")

    def __post_init__(self) -> None:
        if not 0 < self.fast_period < self.slow_period:
            raise ValueError(
                f"need 0 < fast_period < slow_period, was {self.fast_period}/{self.slow_period}"
            )
        if not self.trade_size > 0:
            raise ValueError(f"trade_size must be positive, was {self.trade_size}")


class SmaCross:
    """Long-or-flat SMA crossover that trades one order at a time.

    It asks for a market order when the fast SMA crosses the slow one: buy ``trade_size``
    when flat on an upward cross, sell the whole position when long on a downward cross.
    While an order is in flight it asks for nothing. The position comes from fills, so a
    denied or rejected order leaves it unchanged. Client order ids are derived from the
    bar's time, so replaying the same bars asks for the same orders.
    """

    def __init__(self, config: SmaCrossConfig) -> None:
        self.config = config
        self.fast = SimpleMovingAverage(config.fast_period)
        self.slow = SimpleMovingAverage(config.slow_period)
        self.position = Decimal(0)
        self.pending: ClientOrderId | None = None
        self._was_above: bool | None = None

    def on_bar(self, bar: Bar) -> OrderSpec | None:
        """Update the averages and return the order to submit, if any."""
        cfg = self.config
        if bar.instrument_id != cfg.instrument_id or bar.spec != cfg.bar_spec:
            return None
        self.fast.update(bar.close)
        self.slow.update(bar.close)
        fast, slow = self.fast.value, self.slow.value
        if fast is None or slow is None or fast == slow:
            return None
        above = fast > slow
        crossed = self._was_above is not None and above != self._was_above
        self._was_above = above
        if not crossed or self.pending is not None:
            return None
        if above and self.position == 0:
            return self._order(OrderSide.BUY, cfg.trade_size, bar.ts_event)
        if not above and self.position > 0:
            return self._order(OrderSide.SELL, self.position, bar.ts_event)
        return None

    def on_fill(self, side: OrderSide, quantity: Decimal) -> None:
        """Book a fill of one of this strategy's orders."""
        self.position += quantity * side.sign

    def on_order_closed(self, client_order_id: str) -> None:
        """Forget an in-flight order that ended (filled, denied, rejected, canceled)."""
        if client_order_id == self.pending:
            self.pending = None

    def _order(self, side: OrderSide, quantity: Decimal, ts: int) -> OrderSpec:
        cfg = self.config
        cid = ClientOrderId(f"{cfg.strategy_id}-{ts}")
        self.pending = cid
        return OrderSpec(
            client_order_id=cid,
            strategy_id=cfg.strategy_id,
            account_id=cfg.account_id,
            instrument_id=cfg.instrument_id,
            side=side,
            order_type=OrderType.MARKET,
            quantity=quantity,
        )
