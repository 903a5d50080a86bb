"""Where a hosted strategy is in its life, and why it stopped if it failed."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["StrategyFaulted", "StrategyState"]


class StrategyState(StrEnum):
    """A hosted strategy's state."""

    READY = "READY"  # built, not started
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    FAULTED = "FAULTED"  # raised from one of its handlers; sees nothing more until reset


class StrategyFaulted(Exception):
    """A strategy's own code raised: the strategy is faulted, its host keeps running."""

    def __init__(self, strategy_id: str, handler: str, error: str) -> None:
        super().__init__(f"strategy {strategy_id} raised in {handler}: {error}")
        self.strategy_id = strategy_id
        self.handler = handler
        self.error = error
