"""v1 messages of the strategy service: control of its strategy instances and backtests
(request/reply on ``ctl.v1.strategy.*`` and ``qry.v1.strategy.*``) and the instances'
lifecycle events (``evt.v1.strategy.{strategy_id}``).

A request that cannot be served is answered with ``QueryFailed`` saying why (an unknown
strategy or instance, a config field that is wrong, an id already in use), as every query is.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from foxtrot.common.messages.v1.envelope import Message
from foxtrot.common.messages.v1.types import DecimalStr, Token, UnixNanos
from foxtrot.core.enums import PositionSide
from foxtrot.core.strategy.state import StrategyState

__all__ = [
    "AvailableStrategiesQuery",
    "AvailableStrategiesReply",
    "AvailableStrategy",
    "BacktestQuery",
    "BacktestReply",
    "BacktestStatus",
    "BacktestView",
    "BacktestsQuery",
    "BacktestsReply",
    "ReloadStrategy",
    "RemoveStrategy",
    "ResetStrategy",
    "RunBacktest",
    "StartStrategy",
    "StopStrategy",
    "StrategyFaulted",
    "StrategyInstanceReply",
    "StrategyInstanceView",
    "StrategyInstancesQuery",
    "StrategyInstancesReply",
    "StrategyPosition",
    "StrategyReloaded",
    "StrategyRemoved",
    "StrategyReset",
    "StrategyStarted",
    "StrategyStopped",
]

Who = Field(
    default="unknown", min_length=1, max_length=100, description="who asked (for the events)"
)
StrategyRef = Field(
    default=None,
    min_length=1,
    max_length=300,
    description="an entry point name of the foxtrot.strategies group (sma_cross) or a "
    "module:Class path",
    examples=["sma_cross", "my_package.strategies:Breakout"],
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- control: ctl.v1.strategy.* --------------------------------------------------------------


class StartStrategy(_Frozen):
    """Create a strategy instance and start it, or start an existing one again.
    Subject: ``ctl.v1.strategy.start``; reply: StrategyInstanceReply or QueryFailed.

    With ``strategy`` and ``config`` a new instance is created (its id is
    ``config.strategy_id``, or ``strategy_id``); the same request again only starts it, and a
    different strategy or config under an id in use is refused. With ``strategy_id`` alone an
    existing instance that is READY or STOPPED is started."""

    strategy_id: Token | None = Field(
        default=None, description="the instance; taken from config.strategy_id when omitted"
    )
    strategy: str | None = StrategyRef
    config: dict[str, Any] | None = Field(
        default=None, description="the strategy's config as plain JSON values"
    )
    requested_by: str = Who

    @model_validator(mode="after")
    def _names_an_instance(self) -> Self:
        if self.config is not None and self.strategy is None:
            raise ValueError("a config needs the strategy it configures (strategy)")
        if self.strategy is not None and self.config is None:
            raise ValueError("a new instance needs its config (config)")
        named = self.config.get("strategy_id") if self.config is not None else None
        if self.strategy_id is None and named is None:
            raise ValueError("name the instance: strategy_id, or config.strategy_id")
        if self.strategy_id is not None and named is not None and named != self.strategy_id:
            raise ValueError(
                f"strategy_id {self.strategy_id!r} and config.strategy_id {named!r} differ"
            )
        return self

    @property
    def instance_id(self) -> str:
        """The id of the instance asked for."""
        if self.strategy_id is not None:
            return self.strategy_id
        assert self.config is not None  # the validator said so
        return str(self.config["strategy_id"])


class StopStrategy(_Frozen):
    """Stop a running instance: its timers are cancelled and it sees nothing more; its
    orders stay as they are. Subject: ``ctl.v1.strategy.stop``."""

    strategy_id: Token
    requested_by: str = Who


class ReloadStrategy(_Frozen):
    """Import the instance's strategy code afresh (and take a new config, when given)
    without restarting the service: stop, save its state, rebuild, load the state, start
    again if it was running. Subject: ``ctl.v1.strategy.reload``."""

    strategy_id: Token
    config: dict[str, Any] | None = Field(
        default=None, description="a new config (same strategy_id); omitted: the current one"
    )
    requested_by: str = Who


class ResetStrategy(_Frozen):
    """Clear a fault (or forget what a stopped instance learnt): it becomes READY to start.
    Subject: ``ctl.v1.strategy.reset``."""

    strategy_id: Token
    requested_by: str = Who


class RemoveStrategy(_Frozen):
    """Delete a stopped (READY, STOPPED or FAULTED) instance and its saved state.
    Subject: ``ctl.v1.strategy.remove``."""

    strategy_id: Token
    requested_by: str = Who


class StrategyPosition(_Frozen):
    """A position as the instance sees it."""

    instrument_id: str
    side: PositionSide
    quantity: DecimalStr = Field(description="signed: negative when short")
    avg_px_open: DecimalStr
    realized_pnl: DecimalStr
    commissions: DecimalStr
    ts_last: UnixNanos | None = Field(default=None, description="time of its last fill")


class StrategyInstanceView(_Frozen):
    """A hosted strategy instance."""

    strategy_id: str
    strategy: str = Field(description="the strategy as it was named (entry point or path)")
    strategy_path: str = Field(description="its module:Class")
    config: dict[str, Any]
    state: StrategyState = Field(description="READY, RUNNING, STOPPED or FAULTED")
    desired_state: Literal["RUNNING", "STOPPED"] = Field(
        description="what it was last asked to be: RUNNING instances start with the service"
    )
    fault: str | None = Field(default=None, description="why it faulted: handler and error")
    positions: tuple[StrategyPosition, ...] = ()
    open_orders: int = Field(default=0, ge=0)
    subscriptions: tuple[str, ...] = Field(default=(), description="the subjects it reads")
    created_at_ns: UnixNanos
    started_at_ns: UnixNanos | None = None
    updated_at_ns: UnixNanos
    state_saved_at_ns: UnixNanos | None = None


class StrategyInstanceReply(_Frozen):
    """The instance a control request acted on, as it is now."""

    type: Literal["StrategyInstanceReply"] = "StrategyInstanceReply"
    instance: StrategyInstanceView


# --- queries: qry.v1.strategy.* --------------------------------------------------------------


class StrategyInstancesQuery(_Frozen):
    """Ask for the hosted instances. Subject: ``qry.v1.strategy.instances``."""

    strategy_id: Token | None = Field(default=None, description="one instance, or every one")
    state: StrategyState | None = None


class StrategyInstancesReply(_Frozen):
    """Instances that match a query, by id."""

    type: Literal["StrategyInstancesReply"] = "StrategyInstancesReply"
    instances: tuple[StrategyInstanceView, ...]


class AvailableStrategiesQuery(_Frozen):
    """Ask for the strategies installed packages offer under the ``foxtrot.strategies``
    entry point group. Subject: ``qry.v1.strategy.available``."""


class AvailableStrategy(_Frozen):
    """One strategy offered by name."""

    name: str
    path: str = Field(description="module:Class")
    description: str | None = Field(default=None, description="its docstring's first line")
    config_schema: dict[str, Any] | None = Field(
        default=None, description="JSON Schema of its config"
    )
    error: str | None = Field(default=None, description="why it could not be loaded")


class AvailableStrategiesReply(_Frozen):
    """The strategies that can be started by name."""

    type: Literal["AvailableStrategiesReply"] = "AvailableStrategiesReply"
    strategies: tuple[AvailableStrategy, ...]


# --- backtests -------------------------------------------------------------------------------


class BacktestStatus(StrEnum):
    """Where a backtest run by the strategy service is."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


class RunBacktest(_Frozen):
    """Run a backtest in one of the strategy service's worker processes. Subject:
    ``ctl.v1.strategy.run_backtest``; the reply (a BacktestReply) comes at once with the
    backtest's id, QUEUED, or FAILED with the error when the spec is invalid."""

    spec: dict[str, Any] = Field(
        description="a BacktestSpec (foxtrot.backtest.spec) as JSON: strategy, config, data, "
        "instruments, venue, starting_balances, risk_limits, start, end"
    )
    requested_by: str = Who


class BacktestView(_Frozen):
    """A backtest and, once it is done, its statistics."""

    backtest_id: UUID
    strategy: str
    strategy_id: str
    status: BacktestStatus
    error: str | None = None
    statistics: dict[str, Any] | None = None
    spec: dict[str, Any]
    requested_by: str
    created_at_ns: UnixNanos
    started_at_ns: UnixNanos | None = None
    finished_at_ns: UnixNanos | None = None
    elapsed_s: float | None = Field(default=None, description="how long the run took")
    records_per_s: float | None = None
    has_result: bool = Field(default=False, description="the result JSON can be fetched")
    has_report: bool = Field(default=False, description="the HTML report can be fetched")


class BacktestsQuery(_Frozen):
    """Ask for backtests, newest first (without their results). Subject:
    ``qry.v1.strategy.backtests``."""

    status: BacktestStatus | None = None
    strategy_id: Token | None = None
    limit: int = Field(default=50, ge=1, le=500)
    before_ns: UnixNanos | None = Field(
        default=None, description="page: only backtests created before this time"
    )


class BacktestsReply(_Frozen):
    """Backtests that match a query."""

    type: Literal["BacktestsReply"] = "BacktestsReply"
    backtests: tuple[BacktestView, ...]


class BacktestQuery(_Frozen):
    """Ask for one backtest and, with ``content``, a page of its result JSON or HTML report.
    Subject: ``qry.v1.strategy.backtest``. The content can be larger than a NATS message, so
    it comes in pages of text: ask again with ``offset`` = the reply's ``next_offset`` until
    that is null, and join the pages."""

    backtest_id: UUID
    content: Literal["none", "result", "html"] = "none"
    offset: int = Field(default=0, ge=0, description="first character of the page")
    max_chars: int = Field(default=200_000, ge=1_000, le=500_000)


class BacktestReply(_Frozen):
    """One backtest, with a page of the content asked for."""

    type: Literal["BacktestReply"] = "BacktestReply"
    backtest: BacktestView
    content: str | None = Field(default=None, description="this page of the content")
    offset: int = 0
    total_chars: int | None = Field(default=None, description="length of the whole content")
    next_offset: int | None = Field(default=None, description="null on the last page")


# --- events: evt.v1.strategy.{strategy_id} ---------------------------------------------------


class _StrategyEvent(Message):
    strategy_id: Token
    strategy_path: str = Field(description="the strategy's module:Class")


class StrategyStarted(_StrategyEvent):
    """An instance started (on request, or again when the service started)."""

    type: Literal["StrategyStarted"] = "StrategyStarted"
    requested_by: str


class StrategyStopped(_StrategyEvent):
    """An instance stopped on request."""

    type: Literal["StrategyStopped"] = "StrategyStopped"
    requested_by: str


class StrategyReloaded(_StrategyEvent):
    """An instance's code was imported afresh (and its config replaced, when asked)."""

    type: Literal["StrategyReloaded"] = "StrategyReloaded"
    config_changed: bool
    requested_by: str


class StrategyFaulted(_StrategyEvent):
    """An instance's own code raised: it sees nothing more until it is reset or reloaded;
    the other instances run on."""

    type: Literal["StrategyFaulted"] = "StrategyFaulted"
    handler: str = Field(description="the handler that raised, e.g. on_bar")
    error: str = Field(description="the exception and where it was raised")


class StrategyReset(_StrategyEvent):
    """An instance's fault was cleared (or what it learnt forgotten): it is READY."""

    type: Literal["StrategyReset"] = "StrategyReset"
    requested_by: str


class StrategyRemoved(_StrategyEvent):
    """An instance and its saved state were deleted."""

    type: Literal["StrategyRemoved"] = "StrategyRemoved"
    requested_by: str
