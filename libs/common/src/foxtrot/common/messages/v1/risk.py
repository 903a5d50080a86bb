"""v1 risk messages: trading-state switches, limit changes, breaches, and the queries the
gateway asks risk (subjects ``cmd.v1.risk.*``, ``evt.v1.risk.*`` and ``qry.v1.risk.*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from foxtrot.common.messages.v1.envelope import Message
from foxtrot.common.messages.v1.types import DecimalStr, UnixNanos
from foxtrot.core.enums import RiskScope, TradingState
from foxtrot.core.risk import SWITCHABLE, InvalidLimit, RiskLimits

__all__ = [
    "DecisionView",
    "DecisionsQuery",
    "DecisionsReply",
    "LimitBreached",
    "LimitChangeView",
    "LimitChangesQuery",
    "LimitChangesReply",
    "LimitsQuery",
    "LimitsReply",
    "RiskStatusQuery",
    "RiskStatusReply",
    "RuleResult",
    "ScopeExposure",
    "SetRiskLimits",
    "SetTradingState",
    "TradingStateChanged",
    "TradingStateView",
    "TradingStatesQuery",
    "TradingStatesReply",
]

# A scope's key: an account id, a strategy id or an instrument id ("BTCUSDT.BINANCE").
ScopeKey = Field(pattern=r"^[A-Za-z0-9_\-/:.]+$", max_length=100)
Who = Field(min_length=1, max_length=100, description="who asked for the change")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SetTradingState(Message):
    """The kill switch: put a scope in a trading state. Subject:
    ``cmd.v1.risk.set_trading_state`` (from the gateway or any tool allowed to publish)."""

    type: Literal["SetTradingState"] = "SetTradingState"
    scope: RiskScope
    key: str = ScopeKey
    state: TradingState
    reason: str = Field(min_length=1, max_length=500)
    requested_by: str = Who


class TradingStateChanged(Message):
    """A scope's trading state changed (by a switch or by a breached limit). Subject:
    ``evt.v1.risk.{scope}.{key}``."""

    type: Literal["TradingStateChanged"] = "TradingStateChanged"
    scope: RiskScope
    key: str
    old_state: TradingState
    new_state: TradingState
    reason: str
    changed_by: str


class LimitBreached(Message):
    """A live limit was crossed; the scope was switched to ``action``. Subject:
    ``evt.v1.risk.{scope}.{key}``."""

    type: Literal["LimitBreached"] = "LimitBreached"
    scope: RiskScope
    key: str
    limit: str = Field(description="the limit's name, e.g. daily_loss_limit")
    threshold: DecimalStr
    value: DecimalStr = Field(description="what was measured: the loss or the drawdown")
    action: TradingState
    ts_cause: UnixNanos = Field(description="ts_init of the event that crossed the limit")


class SetRiskLimits(Message):
    """Change limits without a restart. Each value is a decimal, an integer, ``on`` / ``off``
    for a rule switch, a trading state for ``breach_action``, or null to switch the limit off.
    Subject: ``cmd.v1.risk.set_limits``. Every change is recorded with who, when, the old
    and the new value."""

    type: Literal["SetRiskLimits"] = "SetRiskLimits"
    changes: dict[str, str | None] = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=500)
    requested_by: str = Who

    @field_validator("changes")
    @classmethod
    def _known_limits(cls, changes: dict[str, str | None]) -> dict[str, str | None]:
        # Names and values are checked where the command is made (a 422 at the gateway, a
        # dead letter with the reason for a tool), not only when risk applies it.
        try:
            RiskLimits().changed(changes, SWITCHABLE)
        except InvalidLimit as exc:
            raise ValueError(str(exc)) from None
        return changes


class TradingStatesQuery(_Frozen):
    """Ask risk for the scopes that are not ACTIVE (every other scope is). Subject:
    ``qry.v1.risk.trading_states``."""


class TradingStateView(_Frozen):
    scope: RiskScope
    key: str
    state: TradingState
    reason: str
    changed_by: str
    ts_changed: UnixNanos


class TradingStatesReply(_Frozen):
    type: Literal["TradingStatesReply"] = "TradingStatesReply"
    states: tuple[TradingStateView, ...]


class LimitsQuery(_Frozen):
    """Ask risk for its limits in force. Subject: ``qry.v1.risk.limits``."""


class LimitsReply(_Frozen):
    type: Literal["LimitsReply"] = "LimitsReply"
    limits: dict[str, str | None] = Field(description="every limit by name; null is off")


class LimitChangesQuery(_Frozen):
    """Ask for the audit trail of limit changes, newest first. Subject:
    ``qry.v1.risk.limit_changes``."""

    name: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class LimitChangeView(_Frozen):
    name: str
    old_value: str | None
    new_value: str | None
    changed_by: str
    reason: str
    ts_changed: UnixNanos


class LimitChangesReply(_Frozen):
    type: Literal["LimitChangesReply"] = "LimitChangesReply"
    changes: tuple[LimitChangeView, ...]


class DecisionsQuery(_Frozen):
    """Ask for recorded decisions, newest first. Subject: ``qry.v1.risk.decisions``."""

    client_order_id: str | None = None
    strategy_id: str | None = None
    denied_only: bool = False
    before_id: int | None = Field(default=None, ge=1, description="page: decisions before")
    limit: int = Field(default=100, ge=1, le=1000)


class RuleResult(_Frozen):
    rule: str
    code: str | None = Field(description="null: passed")


class DecisionView(_Frozen):
    id: int
    client_order_id: str
    strategy_id: str
    account_id: str
    instrument_id: str
    command: str = Field(description="SubmitOrder or ModifyOrder")
    order: dict[str, object] = Field(description="the command as risk received it")
    approved: bool
    code: str | None
    reason: str | None
    rules: tuple[RuleResult, ...]
    latency_ns: int = Field(description="time the checks took")
    ts_decided: UnixNanos


class DecisionsReply(_Frozen):
    type: Literal["DecisionsReply"] = "DecisionsReply"
    decisions: tuple[DecisionView, ...]


class RiskStatusQuery(_Frozen):
    """Ask for live PnL, drawdown and exposure. Subject: ``qry.v1.risk.status``."""


class ScopeExposure(_Frozen):
    scope: RiskScope
    key: str
    state: TradingState
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr
    pnl: DecimalStr = Field(description="today's PnL: realised plus unrealised since the day began")
    peak_pnl: DecimalStr
    drawdown: DecimalStr = Field(description="peak PnL minus PnL now")
    gross_exposure: DecimalStr
    net_exposure: DecimalStr


class RiskStatusReply(_Frozen):
    type: Literal["RiskStatusReply"] = "RiskStatusReply"
    known: bool = Field(description="false until risk has positions, orders and balances")
    scopes: tuple[ScopeExposure, ...]
