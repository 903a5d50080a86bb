"""The backtester's core: the loop that runs live code on a simulated clock, and its result.

File and history sources, the CLI, sweeps and reports live in ``foxtrot.backtest``
(libs/backtest); this package is pure, like the rest of libs/core.
"""

from foxtrot.core.backtest.engine import BacktestEngine, MarketRecord, StrategyFault
from foxtrot.core.backtest.result import BacktestResult, EquityCurve, StrategyOutcome
from foxtrot.core.backtest.statistics import RoundTrip, Statistics, compute_statistics

__all__ = [
    "BacktestEngine",
    "BacktestResult",
    "EquityCurve",
    "MarketRecord",
    "RoundTrip",
    "Statistics",
    "StrategyFault",
    "StrategyOutcome",
    "compute_statistics",
]
