"""The strategy API: the base class strategies subclass, their config, and their runtime.

The live strategy service and the backtester host strategies through the same
:class:`StrategyRuntime`, so a strategy runs the same code in both.
"""

from foxtrot.core.strategy.config import StrategyConfig
from foxtrot.core.strategy.loading import (
    ENTRY_POINT_GROUP,
    StrategyNotFound,
    available_strategies,
    build_strategy,
    resolve_strategy,
    strategy_path,
)
from foxtrot.core.strategy.runtime import DataKind, StrategyRuntime, Subscription
from foxtrot.core.strategy.state import StrategyFaulted, StrategyState
from foxtrot.core.strategy.strategy import BarIndicator, Strategy

__all__ = [
    "ENTRY_POINT_GROUP",
    "BarIndicator",
    "DataKind",
    "Strategy",
    "StrategyConfig",
    "StrategyFaulted",
    "StrategyNotFound",
    "StrategyRuntime",
    "StrategyState",
    "Subscription",
    "available_strategies",
    "build_strategy",
    "resolve_strategy",
    "strategy_path",
]
