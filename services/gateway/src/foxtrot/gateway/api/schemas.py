"""HTTP schemas: what people send and get back, kept apart from the wire messages."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from foxtrot.common.messages.v1 import AccountView
from foxtrot.common.messages.v1.types import (
    DecimalStr,
    InstrumentIdStr,
    NonNegativeDecimalStr,
    PositiveDecimalStr,
    Token,
)
from foxtrot.core.enums import (
    OrderSide,
    OrderType,
    RiskScope,
    TimeInForce,
    TradingState,
    TrailingOffsetType,
)

__all__ = [
    "ChangeAccepted",
    "LimitsChange",
    "OrderAccepted",
    "OrderChange",
    "OrderRequest",
    "PortfolioView",
    "StrategyPnl",
    "TradingStateRequest",
]


class OrderRequest(BaseModel):
    """A manual order; it goes through the same risk checks as a strategy's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instrument_id: InstrumentIdStr
    side: OrderSide
    order_type: OrderType = OrderType.MARKET
    quantity: PositiveDecimalStr = Field(examples=["0.01"])
    price: PositiveDecimalStr | None = Field(default=None, description="limit price")
    trigger_price: PositiveDecimalStr | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_time_ns: Annotated[int, Field(ge=0)] | None = None
    reduce_only: bool = False
    post_only: bool = False
    trailing_offset: PositiveDecimalStr | None = Field(
        default=None, description="trailing stops: how far the trigger trails the market"
    )
    trailing_offset_type: TrailingOffsetType = TrailingOffsetType.PRICE
    limit_offset: NonNegativeDecimalStr | None = Field(
        default=None, description="trailing stop-limits: how far the limit trails the trigger"
    )
    display_qty: PositiveDecimalStr | None = Field(
        default=None, description="iceberg: the quantity shown at a time"
    )
    client_order_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_\-:]+$",
        max_length=64,
        description="your id for the order; one is made if omitted",
    )
    strategy_id: Token = "manual"
    account_id: Token | None = None


class OrderAccepted(BaseModel):
    """The order was handed to risk; its fate arrives as order events."""

    client_order_id: str
    message_id: str
    status: str = "SUBMITTED_TO_RISK"


class OrderChange(BaseModel):
    """New quantity or prices for a working order; risk checks the change first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quantity: PositiveDecimalStr | None = None
    price: PositiveDecimalStr | None = Field(default=None, description="limit price")
    trigger_price: PositiveDecimalStr | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> OrderChange:
        if self.quantity is None and self.price is None and self.trigger_price is None:
            raise ValueError("give at least one of quantity, price and trigger_price")
        return self


class ChangeAccepted(BaseModel):
    """The modify or cancel was handed on; its outcome arrives as order events."""

    client_order_id: str
    message_id: str
    status: str


class StrategyPnl(BaseModel):
    """One strategy's PnL in one currency, summed over its positions."""

    strategy_id: str
    currency: str
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr = Field(description="over the positions with a mark price")
    commissions: DecimalStr
    open_positions: int
    unmarked_positions: int = Field(description="open positions with no price seen yet")


class PortfolioView(BaseModel):
    """Every strategy's PnL and every account's balances, at one glance."""

    strategies: list[StrategyPnl]
    accounts: list[AccountView]


class TradingStateRequest(BaseModel):
    """The kill switch: put an account, a strategy or an instrument in a trading state.

    Who asks comes from the ``X-Foxtrot-Operator`` header, not the body: risk records it with
    the change. Key and reason are checked against SetTradingState, the one place their rules
    live.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scope: RiskScope
    key: str = Field(
        examples=["sma-cross-1"],
        description="the account id, strategy id or instrument id (BTCUSDT.BINANCE)",
    )
    state: TradingState = Field(
        description="ACTIVE: trade; REDUCING: only orders that shrink a position; HALTED: none"
    )
    reason: str = Field(examples=["runaway strategy"], description="recorded with the change")


class LimitsChange(BaseModel):
    """New values for risk's limits, applied without a restart; who asks comes from the
    ``X-Foxtrot-Operator`` header."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    changes: dict[str, str | None] = Field(
        examples=[{"max_position": "2.5", "rule:price_collar": "off", "max_order_qty": None}],
        description=(
            "limit name to its new value as a string (never a JSON number): a decimal or an "
            "integer, on / off for a rule, a trading state for breach_action; null switches "
            "the limit off"
        ),
    )
    reason: str = Field(examples=["wider limits for the event"], description="recorded with it")


class StrategyRequest(BaseModel):
    """A new strategy instance: which strategy and its config (``strategy_id`` included)."""

    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(
        min_length=1,
        max_length=200,
        description="an entry point name (sma_cross) or a module:Class path",
        examples=["sma_cross"],
    )
    config: dict[str, Any] = Field(
        description="the strategy's config; strategy_id names the instance",
        examples=[{"strategy_id": "sma-2", "instrument_id": "BTC-PERP.FTX", "fast_period": 5}],
    )

    @model_validator(mode="after")
    def _named(self) -> StrategyRequest:
        if not isinstance(self.config.get("strategy_id"), str):
            raise ValueError("config.strategy_id must name the instance")
        return self
