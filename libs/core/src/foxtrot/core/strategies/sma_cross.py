"""SMA crossover: long when the fast average crosses above the slow one, flat when below."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Self

from pydantic import Field, model_validator

from foxtrot.core.data import Bar
from foxtrot.core.enums import OrderSide
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.indicators import SMA
from foxtrot.core.strategy import Strategy, StrategyConfig

__all__ = ["SmaCross", "SmaCrossConfig"]


class SmaCrossConfig(StrategyConfig):
    """Parameters of one SMA-crossover instance."""

    instrument_id: str = Field(description="SYMBOL.VENUE of the instrument traded")
    bar_spec: str = Field(default="1m", description="the bars the averages are taken over")
    fast_period: int = Field(default=10, ge=1, description="bars in the fast average")
    slow_period: int = Field(default=30, ge=2, description="bars in the slow average")
    trade_size: Decimal = Field(default=Decimal("0.01"), gt=0, description="quantity bought")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> Self:
        if not self.fast_period < self.slow_period:
            raise ValueError(
                f"need fast_period < slow_period, was {self.fast_period}/{self.slow_period}"
            )
        InstrumentId.parse(self.instrument_id)
        return self


class SmaCross(Strategy[SmaCrossConfig]):
    """Long-or-flat SMA crossover.

    On a bar where the fast SMA crosses above the slow one it buys ``trade_size`` if flat;
    where it crosses below it sells the whole position if long. A cross is a change of
    sign of fast - slow, bars where the two are equal carrying the last sign on; while an
    order is still open it asks for nothing. The closes it needs to resume are saved, so a
    restart or reload picks up where it was.
    """

    config_class = SmaCrossConfig

    def __init__(self, config: SmaCrossConfig) -> None:
        super().__init__(config)
        self.instrument = InstrumentId.parse(config.instrument_id)
        self.fast = SMA(config.fast_period)
        self.slow = SMA(config.slow_period)
        self._closes: deque[float] = deque(maxlen=config.slow_period)
        self._was_above: bool | None = None

    def on_start(self) -> None:
        self.subscribe_bars(self.instrument, self.config.bar_spec)

    def on_bar(self, bar: Bar) -> None:
        close = float(bar.close)
        self._closes.append(close)
        fast_sma, slow_sma = self.fast, self.slow
        fast_sma.update(close)
        slow_sma.update(close)
        fast, slow = fast_sma.value, slow_sma.value
        if fast is None or slow is None or fast == slow:
            return
        above = fast > slow
        was_above, self._was_above = self._was_above, above
        if was_above is None or above == was_above or self.orders_open(self.instrument):
            return  # no cross, or an order of ours still open
        net = self.net_position(self.instrument)
        if above and net == 0:
            self.market(self.instrument, OrderSide.BUY, self.config.trade_size)
        elif not above and net > 0:
            self.market(self.instrument, OrderSide.SELL, net)

    def on_reset(self) -> None:
        self.fast.reset()
        self.slow.reset()
        self._closes.clear()
        self._was_above = None

    def on_save(self) -> Mapping[str, Any]:
        return {"closes": list(self._closes), "was_above": self._was_above}

    def on_load(self, state: Mapping[str, Any]) -> None:
        self.on_reset()
        for close in state.get("closes", ()):
            value = float(close)
            self._closes.append(value)
            self.fast.update(value)
            self.slow.update(value)
        was_above = state.get("was_above")
        self._was_above = None if was_above is None else bool(was_above)
