"""What a backtest leaves behind: its orders, fills, equity curve and positions."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from foxtrot.core.accounts import Balance
from foxtrot.core.events import OrderFilled
from foxtrot.core.orders import Order
from foxtrot.core.portfolio import Position

__all__ = ["BacktestResult", "EquityCurve", "StrategyOutcome"]


@dataclass(frozen=True, slots=True)
class EquityCurve:
    """The account's value after each record replayed, in the settlement currency.

    ``gross_exposure`` is the value of every open position (sum of |quantity| x price) at
    the same moments, so exposure and leverage can be read off it.
    """

    ts: npt.NDArray[np.int64]
    equity: npt.NDArray[np.float64]
    gross_exposure: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.ts)


@dataclass(frozen=True, slots=True)
class StrategyOutcome:
    """How one strategy instance ended the run."""

    strategy_id: str
    strategy_class: str
    config: dict[str, Any]
    state: str
    fault: str | None
    saved_state: dict[str, Any] | None


@dataclass(slots=True)
class BacktestResult:
    """Everything a run produced; statistics are computed from it on demand."""

    strategies: list[StrategyOutcome]
    orders: list[Order]
    fills: list[OrderFilled]
    positions: list[Position]
    balances: list[Balance]
    equity: EquityCurve
    settlement_currency: str
    starting_equity: Decimal
    records: int
    start_ns: int
    end_ns: int
    settings: dict[str, Any] = field(default_factory=dict)
